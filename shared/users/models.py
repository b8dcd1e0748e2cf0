"""Users and addresses: rows read from PostgreSQL and the bodies the API accepts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, field_validator, model_validator

from shared.platform.base_model import AppModel

DEFAULT_PHONE_REGION = "SA"  # local numbers like 0501234567 are read as Saudi numbers


def to_e164(value: str) -> str:
    import phonenumbers  # imported on first use: a large module, kept out of cold start

    try:
        number = phonenumbers.parse(value, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalised_email(value: str) -> str:
    # email-validator is what pydantic's EmailStr uses; imported on first use, not at import
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(f"not a valid email address: {error}") from None


Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=320), AfterValidator(normalised_email)]
Mobile = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), AfterValidator(to_e164)]
Text = lambda max_length: Annotated[  # noqa: E731 - a short type factory
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)
]
CountryCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$")]
PostalCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9 -]{3,10}$")]
Language = Literal["en", "ar"]


class UserProfile(AppModel):
    id: str
    email: str | None
    full_name: str | None
    mobile: str | None
    preferred_language: Language
    created_at: datetime
    updated_at: datetime


class ProfilePatch(AppModel):
    model_config = ConfigDict(extra="forbid")

    full_name: Text(200) | None = None
    email: Email | None = None
    mobile: Mobile | None = None
    preferred_language: Language | None = None

    @model_validator(mode="after")
    def _language_not_null(self) -> ProfilePatch:
        if "preferred_language" in self.model_fields_set and self.preferred_language is None:
            raise ValueError("preferred_language cannot be null")
        return self


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

    label: Text(50) | None = None
    first_name: Text(100)
    last_name: Text(100)
    mobile: Mobile
    street: Text(200)
    building: Text(50) | None = None
    floor: Text(20) | None = None
    apartment: Text(20) | None = None
    district: Text(100) | None = None
    city: Text(100)
    region: Text(100) | None = None
    postal_code: PostalCode | None = None
    country: CountryCode = "SA"
    is_default: bool = False


REQUIRED_ADDRESS_FIELDS = frozenset(name for name, info in AddressFields.model_fields.items() if info.is_required()) | {
    "country",
    "is_default",
}


class AddressPatch(AppModel):
    """Every field optional; a required one may be changed but not cleared."""

    model_config = ConfigDict(extra="forbid")

    label: Text(50) | None = None
    first_name: Text(100) | None = None
    last_name: Text(100) | None = None
    mobile: Mobile | None = None
    street: Text(200) | None = None
    building: Text(50) | None = None
    floor: Text(20) | None = None
    apartment: Text(20) | None = None
    district: Text(100) | None = None
    city: Text(100) | None = None
    region: Text(100) | None = None
    postal_code: PostalCode | None = None
    country: CountryCode | None = None
    # Only `true`: the default moves by choosing another address, never to none.
    is_default: Literal[True] | None = None

    @field_validator(*sorted(REQUIRED_ADDRESS_FIELDS))
    @classmethod
    def _required_not_cleared(cls, value: object) -> object:
        # runs only for fields present in the body (defaults are not validated)
        if value is None:
            raise ValueError("cannot be null")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> AddressPatch:
        if not self.model_fields_set:
            raise ValueError("at least one field is required")
        return self


class PageQuery(AppModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=100)


class AddressPage(AppModel):
    items: list[Address]
    next_cursor: str | None
