"""The error codes the users domain answers with (listed in the OpenAPI document)."""

from __future__ import annotations

from enum import StrEnum


class UserError(StrEnum):
    ADDRESS_NOT_FOUND = "address_not_found"
