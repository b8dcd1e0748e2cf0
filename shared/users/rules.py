"""Users and addresses without I/O: how mobiles and emails are normalised, which languages a
profile may choose, the field limits, and which address is the default."""

from __future__ import annotations

from typing import Literal

DEFAULT_PHONE_REGION = "SA"  # local numbers like 0501234567 are read as Saudi numbers
DEFAULT_COUNTRY = "SA"

Language = Literal["en", "ar"]
LANGUAGES: tuple[Language, ...] = ("en", "ar")

# Field limits (the database's column types allow at least these).
EMAIL_MAX_LENGTH = 320
MOBILE_MAX_LENGTH = 32
FULL_NAME_MAX_LENGTH = 200
COUNTRY_CODE_PATTERN = r"^[A-Za-z]{2}$"
POSTAL_CODE_PATTERN = r"^[A-Za-z0-9 -]{3,10}$"
PAGE_LIMIT_DEFAULT = 20
PAGE_LIMIT_MAX = 100
CURSOR_MAX_LENGTH = 200

# The address fields a patch may change but never clear (the rest may be set to null).
REQUIRED_ADDRESS_FIELDS = frozenset({"first_name", "last_name", "mobile", "street", "city", "country", "is_default"})


def to_e164(value: str) -> str:
    """A mobile number in E.164 (`+966501234567`); ValueError when it is not a valid number."""
    import phonenumbers  # imported on first use: a large module, kept out of cold start

    try:
        number = phonenumbers.parse(value, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalised_email(value: str) -> str:
    """The address as email-validator normalises it (domain lower-cased); ValueError if invalid."""
    # email-validator is what pydantic's EmailStr uses; imported on first use, not at import
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(f"not a valid email address: {error}") from None


def clears_other_defaults(*, asked: bool | None) -> bool:
    """Making an address the default takes it from every other address of the user."""
    return asked is True


def promotes_newest_after_delete(*, was_default: bool) -> bool:
    """Deleting the default hands it to the newest remaining address (if any): the default
    moves, it never disappears while the user has an address."""
    return was_default
