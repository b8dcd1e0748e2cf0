"""Users and addresses: rows read from PostgreSQL and the bodies the API accepts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from shared.platform.base_model import NOT_BLANK, NOT_SENT, AppModel, PatchModel
from shared.users import rules
from shared.users.rules import Language

# The patterns are the contract: what matches is accepted (and normalised), nothing else.
Email = Annotated[str, StringConstraints(pattern=rules.EMAIL_PATTERN), AfterValidator(rules.normalised_email)]
Mobile = Annotated[str, StringConstraints(pattern=rules.SAUDI_MOBILE_PATTERN), AfterValidator(rules.to_e164)]
# Trimmed, non-empty text up to a length (the number in the name).
Text20 = Annotated[str, Field(max_length=20), NOT_BLANK]
Text50 = Annotated[str, Field(max_length=50), NOT_BLANK]
Text100 = Annotated[str, Field(max_length=100), NOT_BLANK]
Text200 = Annotated[str, Field(max_length=200), NOT_BLANK]
CountryCode = Annotated[str, StringConstraints(to_upper=True, pattern=rules.COUNTRY_CODE_PATTERN)]
PostalCode = Annotated[str, StringConstraints(pattern=rules.POSTAL_CODE_PATTERN)]


class UserProfile(AppModel):
    id: str
    email: str | None
    full_name: str | None
    mobile: str | None
    preferred_language: Language
    created_at: datetime
    updated_at: datetime


class ProfilePatch(PatchModel):
    """Any subset; a profile always has a language, so it may be changed but not cleared."""

    full_name: Text200 | None = None
    email: Email | None = None
    mobile: Mobile | None = None
    preferred_language: Language = NOT_SENT


class Address(AppModel):
    id: UUID
    label: str | None
    first_name: str
    last_name: str
    mobile: str
    street: str
    building: str | None
    floor: str | None
    apartment: str | None
    district: str | None
    city: str
    region: str | None
    postal_code: str | None
    country: str
    is_default: bool
    created_at: datetime
    updated_at: datetime


class AddressFields(AppModel):
    model_config = ConfigDict(extra="forbid")

    label: Text50 | None = None
    first_name: Text100
    last_name: Text100
    mobile: Mobile
    street: Text200
    building: Text50 | None = None
    floor: Text20 | None = None
    apartment: Text20 | None = None
    district: Text100 | None = None
    city: Text100
    region: Text100 | None = None
    postal_code: PostalCode | None = None
    country: CountryCode = rules.DEFAULT_COUNTRY
    is_default: bool = False


class AddressPatch(PatchModel):
    """Every field optional; a required one (rules.REQUIRED_ADDRESS_FIELDS) may be changed but
    not cleared: its type has no null."""

    label: Text50 | None = None
    first_name: Text100 = NOT_SENT
    last_name: Text100 = NOT_SENT
    mobile: Mobile = NOT_SENT
    street: Text200 = NOT_SENT
    building: Text50 | None = None
    floor: Text20 | None = None
    apartment: Text20 | None = None
    district: Text100 | None = None
    city: Text100 = NOT_SENT
    region: Text100 | None = None
    postal_code: PostalCode | None = None
    country: CountryCode = NOT_SENT
    # Only `true`: the default moves by choosing another address, never to none.
    is_default: Literal[True] = NOT_SENT


class PageQuery(AppModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(
        default=None,
        max_length=rules.CURSOR_MAX_LENGTH,
        json_schema_extra={"format": "cursor", "pattern": r"^[A-Za-z0-9_-]*$"},
    )
    limit: int = Field(default=rules.PAGE_LIMIT_DEFAULT, ge=1, le=rules.PAGE_LIMIT_MAX)


class AddressPage(AppModel):
    items: list[Address]
    next_cursor: str | None
