"""Users and addresses without I/O: how mobiles and emails are normalised, which languages a
profile may choose, the field limits, and which address is the default."""

from __future__ import annotations

from typing import Literal

DEFAULT_PHONE_REGION = "SA"  # local numbers like 0501234567 are read as Saudi numbers
DEFAULT_COUNTRY = "SA"

Language = Literal["en", "ar"]
LANGUAGES: tuple[Language, ...] = ("en", "ar")

# Field limits (the database's column types allow at least these).
# Saudi mobile numbers, local (05…) or international (+9665…): every match is a valid number
# (checked against phonenumbers' metadata in tests/unit/test_users_rules.py), stored as E.164.
SAUDI_MOBILE_PATTERN = r"^(\+966|0)5([013-689][0-9]|7[0-8])[0-9]{6}$"
# A plain ASCII address (dot-atoms, a dotted domain, a letters-only top-level domain), short
# enough for every column and mail system: every match passes email-validator's syntax check.
EMAIL_PATTERN = (
    r"^[A-Za-z0-9_%+-]{1,32}(\.[A-Za-z0-9_%+-]{1,15}){0,2}"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?\.){1,3}[A-Za-z]{2,24}$"
)
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
    """The address with its domain lower-cased (domains are case-insensitive, local parts are
    not). EMAIL_PATTERN has already refused everything else, so no further check can disagree
    with the document."""
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def clears_other_defaults(*, asked: bool | None) -> bool:
    """Making an address the default takes it from every other address of the user."""
    return asked is True


def promotes_newest_after_delete(*, was_default: bool) -> bool:
    """Deleting the default hands it to the newest remaining address (if any): the default
    moves, it never disappears while the user has an address."""
    return was_default
