"""Every error code the threads domain answers with. The values are the API's and never change."""

from __future__ import annotations

from enum import StrEnum


class ThreadError(StrEnum):
    THREAD_NOT_FOUND = "thread_not_found"
    PRODUCT_NOT_FOUND = "thread_product_not_found"
    SELLER_NOT_FOUND = "thread_seller_not_found"
    MESSAGE_NOT_FOUND = "message_not_found"
    REPLY_NOT_IN_THREAD = "reply_not_in_thread"
    NOT_YOUR_MESSAGE = "not_your_message"
    EDIT_WINDOW_CLOSED = "edit_window_closed"
    MESSAGE_DELETED = "message_deleted"
    NOT_EDITABLE = "message_not_editable"
    ATTACHMENT_NOT_FOUND = "attachment_not_found"
    ATTACHMENT_NOT_READY = "attachment_not_ready"
    ATTACHMENT_USED = "attachment_already_used"
    FILE_MISSING = "attachment_file_missing"
    FILE_EMPTY = "attachment_file_empty"
    FILE_TOO_LARGE = "attachment_file_too_large"
    FILE_TYPE_NOT_ALLOWED = "attachment_file_type_not_allowed"
    NO_SELLER = "no_seller"
    ALREADY_REPORTED = "message_already_reported"
