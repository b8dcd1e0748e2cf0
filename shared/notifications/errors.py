"""The error codes the notifications domain answers with (listed in the OpenAPI document)."""

from __future__ import annotations

from enum import StrEnum


class NotificationError(StrEnum):
    NO_SELLER = "no_seller"
