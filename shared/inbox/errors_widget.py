"""Every error code the chat widget answers with (shared.inbox.widget). The values are the API's
and never change; the OpenAPI document lists them with the inbox's (error_code_catalog)."""

from __future__ import annotations

from enum import StrEnum


class WidgetError(StrEnum):
    WIDGET_NOT_FOUND = "widget_not_found"
    WIDGET_NOT_CONFIGURED = "widget_not_configured"
    VISITOR_TOKEN_MISSING = "visitor_token_missing"
    VISITOR_TOKEN_INVALID = "visitor_token_invalid"
    VISITOR_TOKEN_EXPIRED = "visitor_token_expired"
    IDENTITY_NOT_VERIFIED = "identity_not_verified"
    SENDING_TOO_FAST = "sending_too_fast"
