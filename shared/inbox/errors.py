"""Every error code the inbox domain answers with. The values are the API's and never change."""

from __future__ import annotations

from enum import StrEnum


class InboxError(StrEnum):
    CONNECTION_NOT_FOUND = "connection_not_found"
    CONNECTION_EXISTS = "connection_exists"
    SELLER_NOT_FOUND = "seller_not_found"
    CONVERSATION_NOT_FOUND = "conversation_not_found"
    VERSION_CONFLICT = "conversation_version_conflict"
    NOT_ACTIVE = "conversation_not_active"
    NOT_CLOSED = "conversation_not_closed"
    NOT_SNOOZED = "conversation_not_snoozed"
    # reopening while the contact already has an active conversation (named in the problem)
    ACTIVE_CONVERSATION_EXISTS = "active_conversation_exists"
    OUTSIDE_MESSAGING_WINDOW = "outside_messaging_window"
    CONNECTION_INACTIVE = "connection_inactive"
    # webhooks
    WEBHOOK_UNAUTHENTICATED = "webhook_unauthenticated"
    VERIFICATION_FAILED = "webhook_verification_failed"
    # single fields
    SNOOZE_IN_PAST = "in_past"
    SNOOZE_TOO_FAR = "too_far"
    SECRETS_MISSING = "secrets_missing"
    NO_SELLER = "no_seller"
