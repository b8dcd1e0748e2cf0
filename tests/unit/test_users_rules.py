"""shared.users.rules without a database: mobiles, emails, languages, limits and which address
is the default."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.users import rules
from shared.users.models import AddressFields, AddressPatch, PageQuery, ProfilePatch

ADDRESS = {"first_name": "a", "last_name": "b", "mobile": "0501234567", "street": "s", "city": "c"}


@pytest.mark.parametrize(
    "raw,e164",
    [
        ("0501234567", "+966501234567"),
        ("+966 50 123 4567", "+966501234567"),
        ("+971501234567", "+971501234567"),
    ],
)
def test_mobiles_normalise_to_e164(raw, e164):
    assert rules.to_e164(raw) == e164


@pytest.mark.parametrize("raw", ["12345", "abc", "+966"])
def test_invalid_mobiles_are_rejected(raw):
    with pytest.raises(ValueError):
        rules.to_e164(raw)


def test_emails_keep_their_local_part_and_lower_case_their_domain():
    assert rules.normalised_email("Sara@EXAMPLE.com") == "Sara@example.com"


def test_the_languages_a_profile_may_choose():
    assert rules.LANGUAGES == ("en", "ar")
    assert ProfilePatch(preferred_language="ar").preferred_language == "ar"
    with pytest.raises(ValidationError):
        ProfilePatch.model_validate({"preferred_language": "fr"})


def test_a_profile_language_may_be_changed_or_left_out_but_not_cleared():
    assert ProfilePatch.model_validate({"full_name": None}).preferred_language is None  # left out: kept
    with pytest.raises(ValidationError) as raised:
        ProfilePatch.model_validate({"preferred_language": None})
    assert [e["loc"] for e in raised.value.errors()] == [("preferred_language",)]


def test_only_asking_for_the_default_takes_it_from_the_other_addresses():
    assert rules.clears_other_defaults(asked=True) is True
    assert rules.clears_other_defaults(asked=False) is False
    assert rules.clears_other_defaults(asked=None) is False


def test_deleting_the_default_promotes_another_and_deleting_any_other_does_not():
    assert rules.promotes_newest_after_delete(was_default=True) is True
    assert rules.promotes_newest_after_delete(was_default=False) is False


def test_required_address_fields_are_those_an_address_cannot_lack():
    required = {name for name, info in AddressFields.model_fields.items() if info.is_required()}
    assert required | {"country", "is_default"} == rules.REQUIRED_ADDRESS_FIELDS
    for name in rules.REQUIRED_ADDRESS_FIELDS:  # may be changed, never cleared
        with pytest.raises(ValidationError) as raised:
            AddressPatch.model_validate({name: None})
        assert [e["loc"] for e in raised.value.errors()] == [(name,)]
    assert AddressPatch.model_validate({"region": None}).region is None


def test_address_defaults_country_and_uppercases_it():
    assert AddressFields(**ADDRESS).country == rules.DEFAULT_COUNTRY == "SA"
    assert AddressFields(**ADDRESS, country="ae").country == "AE"


@pytest.mark.parametrize(
    "field,value",
    [
        ("street", "x" * 201),
        ("first_name", "   "),
        ("postal_code", "12"),
        ("country", "SAU"),
        ("mobile", "0" * 33),
        ("mobile", "+14155552671"),  # a valid number, but not a Saudi mobile
        ("mobile", " 0501234567"),  # the pattern takes no padding
    ],
)
def test_address_field_limits(field, value):
    with pytest.raises(ValidationError):
        AddressFields.model_validate(ADDRESS | {field: value})


def test_page_limits():
    assert PageQuery().limit == rules.PAGE_LIMIT_DEFAULT == 20
    assert PageQuery(limit=rules.PAGE_LIMIT_MAX).limit == 100
    for limit in (0, rules.PAGE_LIMIT_MAX + 1):
        with pytest.raises(ValidationError):
            PageQuery(limit=limit)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(rules.SAUDI_MOBILE_PATTERN, fullmatch=True))
def test_every_number_the_mobile_pattern_admits_is_a_valid_number(number):
    assert rules.to_e164(number).startswith("+9665")


@settings(max_examples=300, deadline=None)
@given(st.from_regex(rules.EMAIL_PATTERN, fullmatch=True))
def test_every_address_the_email_pattern_admits_is_taken_with_its_domain_lower_cased(address):
    profile = ProfilePatch.model_validate_json(json.dumps({"email": address}), strict=True)
    local, domain = address.rsplit("@", 1)
    assert profile.email == f"{local}@{domain.lower()}" and len(address) <= 254


@pytest.mark.parametrize(
    "address", ["a@b", "a..b@c.co", ".a@b.co", "a@-b.co", "a@b.c0", " a@b.co", "a@b.co ", "é@b.co"]
)
def test_addresses_outside_the_pattern_are_refused(address):
    with pytest.raises(ValidationError):
        ProfilePatch.model_validate({"email": address})
