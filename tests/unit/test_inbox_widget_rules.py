"""The chat widget's rules and visitor tokens, without a database."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from shared.inbox import rules_widget as rules
from shared.platform.errors import DependencyUnavailable, Unauthorized

NOW = datetime(2026, 3, 1, 12, 0, 30, 250000, tzinfo=UTC)
SECRET = b"site-widget-secret"
CONNECTION = uuid.UUID("11111111-2222-4333-8444-555555555555")


# --- identity verification ------------------------------------------------------------------


def test_identity_signature_is_hex_hmac_sha256_of_the_identifier():
    expected = hmac.new(SECRET, b"customer-42", hashlib.sha256).hexdigest()
    assert rules.identity_signature(SECRET, "customer-42") == expected
    assert rules.identity_matches(SECRET, "customer-42", expected)
    assert rules.identity_matches(SECRET, "customer-42", expected.upper())  # hex case does not matter


@pytest.mark.parametrize(
    ("secret", "identifier", "signature"),
    [
        (SECRET, "customer-43", rules.identity_signature(SECRET, "customer-42")),  # another identifier
        (b"another-secret", "customer-42", rules.identity_signature(SECRET, "customer-42")),
        (SECRET, "customer-42", "0" * 64),
        (None, "customer-42", rules.identity_signature(SECRET, "customer-42")),  # no secret: never
        (b"", "customer-42", rules.identity_signature(b"", "customer-42")),
    ],
)
def test_identity_does_not_match(secret, identifier, signature):
    assert not rules.identity_matches(secret, identifier, signature)


def test_identity_signature_of_arabic_identifier_uses_utf8():
    identifier = "عميل-٤٢"
    expected = hmac.new(SECRET, identifier.encode("utf-8"), hashlib.sha256).hexdigest()
    assert rules.identity_matches(SECRET, identifier, expected)


# --- subjects and claims --------------------------------------------------------------------


def test_subjects_keep_anonymous_and_verified_visitors_apart():
    visitor = uuid.uuid4()
    assert rules.anonymous_subject(visitor) == f"visitor:{visitor}"
    assert not rules.is_verified_subject(rules.anonymous_subject(visitor))
    assert rules.is_verified_subject(rules.verified_subject("visitor:x"))  # a prefix inside stays the user's


def test_message_keys_are_per_visitor_and_give_back_the_client_id():
    client = uuid.uuid4()
    mine = rules.message_key(rules.anonymous_subject(uuid.uuid4()), client)
    theirs = rules.message_key(rules.anonymous_subject(uuid.uuid4()), client)
    assert mine != theirs  # the same client id from two visitors: two messages
    assert len(rules.message_key(rules.verified_subject("x" * 200), client)) <= 200  # the column's limit
    assert rules.client_id_of(mine) == client
    assert rules.client_id_of(None) is None
    assert rules.client_id_of("m_123") is None
    assert rules.client_id_of("w:abc:not-a-uuid") is None


def test_claims_round_trip_through_the_payload():
    claims = rules.new_claims(CONNECTION, rules.verified_subject("c-1"), now=NOW, days=90)
    assert claims.verified and claims.expires_at == NOW.replace(microsecond=0) + timedelta(days=90)
    payload = rules.claims_payload(claims, NOW)
    assert payload["aud"] == f"widget:{CONNECTION}" and payload["iss"] == "souq-widget"
    assert rules.claims_from_payload(payload) == claims


@pytest.mark.parametrize(
    "change",
    [
        {"ver": True},  # an anonymous subject claiming to be verified
        {"sub": "user:someone"},  # a verified subject without the flag
        {"sub": "admin:1", "ver": False},
        {"cid": "not-a-uuid"},
        {"exp": "soon"},
        {"sub": 7},
    ],
)
def test_claims_of_another_shape_are_refused(change):
    claims = rules.new_claims(CONNECTION, rules.anonymous_subject(uuid.uuid4()), now=NOW, days=1)
    assert rules.claims_from_payload(rules.claims_payload(claims, NOW) | change) is None


def test_each_connection_has_its_own_signing_key():
    other = uuid.uuid4()
    assert rules.token_key("s", CONNECTION) != rules.token_key("s", other)
    assert rules.token_key("s", CONNECTION) != rules.token_key("t", CONNECTION)
    assert len(rules.token_key("s", CONNECTION)) == 32


# --- the send limit -------------------------------------------------------------------------


def test_rate_window_is_the_fixed_minute_now_falls_in():
    start = rules.rate_window_start(NOW)
    assert start == datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    assert rules.rate_window_start(NOW + timedelta(seconds=29)) == start
    assert rules.rate_window_start(NOW + timedelta(seconds=30)) == start + timedelta(minutes=1)


def test_retry_after_counts_whole_seconds_to_the_next_window_at_least_one():
    start = rules.rate_window_start(NOW)
    assert rules.retry_after_seconds(NOW, start) == 30  # 29.75 s rounded up
    assert rules.retry_after_seconds(start + timedelta(seconds=59, microseconds=999), start) == 1
    assert rules.retry_after_seconds(start + timedelta(seconds=75), start) == 1


# --- polling --------------------------------------------------------------------------------


def test_a_poll_reads_from_the_lookback_before_its_cursor():
    assert rules.poll_from(None) is None
    assert rules.poll_from(NOW) == NOW - rules.POLL_LOOKBACK
    assert timedelta(seconds=5) < rules.POLL_LOOKBACK  # longer than the statement timeout


def test_the_poll_cursor_only_moves_forward():
    older = NOW - timedelta(seconds=3)
    assert rules.next_poll_cursor(None, None) is None
    assert rules.next_poll_cursor(None, older) == older
    assert rules.next_poll_cursor(NOW, older) == NOW
    assert rules.next_poll_cursor(older, NOW) == NOW
    assert rules.next_poll_cursor(NOW, None) == NOW


def test_the_widget_polls_within_the_two_second_promise():
    assert rules.POLL_INTERVAL_MS <= 1000


# --- visitor tokens (shared.inbox.widget_tokens) --------------------------------------------


@pytest.fixture
def tokens(minimal_settings):
    minimal_settings.setenv("WIDGET_TOKEN_SECRET", "unit-widget-secret")
    from shared.inbox import widget_tokens

    return widget_tokens


def _claims(days: int = 1, subject: str | None = None) -> rules.VisitorClaims:
    return rules.new_claims(CONNECTION, subject or rules.anonymous_subject(uuid.uuid4()), now=NOW, days=days)


def test_an_issued_token_verifies_to_its_claims(tokens):
    claims = _claims()
    assert tokens.verify(tokens.issue(claims, NOW), now=NOW) == claims


def test_an_expired_token_is_refused_by_the_injected_clock(tokens):
    token = tokens.issue(_claims(days=1), NOW)
    with pytest.raises(Unauthorized) as refused:
        tokens.verify(token, now=NOW + timedelta(days=1, seconds=1))
    assert refused.value.code == "visitor_token_expired"


def _forge(payload: dict, key: bytes | str, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def test_forged_and_foreign_tokens_are_refused(tokens):
    claims = _claims()
    payload = rules.claims_payload(claims, NOW)
    other = uuid.uuid4()
    forged = [
        _forge(payload, b"guessed-key-of-32-bytes-or-more!"),
        _forge(payload | {"cid": str(other)}, rules.token_key("unit-widget-secret", CONNECTION)),  # moved widget
        _forge(payload | {"aud": f"widget:{other}"}, rules.token_key("unit-widget-secret", CONNECTION)),
        _forge(payload | {"iss": "someone"}, rules.token_key("unit-widget-secret", CONNECTION)),
        _forge(payload | {"ver": True}, rules.token_key("unit-widget-secret", CONNECTION)),
        jwt.encode(payload, None, algorithm="none"),
        tokens.issue(claims, NOW)[:-2] + "AA",
        "not-a-jwt",
    ]
    for token in forged:
        with pytest.raises(Unauthorized) as refused:
            tokens.verify(token, now=NOW)
        assert refused.value.code == "visitor_token_invalid", token


def test_bearer_visitor_token_needs_the_bearer_scheme(tokens):
    assert tokens.bearer_visitor_token("Bearer abc") == "abc"
    for header in (None, "", "Basic abc", "Bearer  "):
        with pytest.raises(Unauthorized):
            tokens.bearer_visitor_token(header)


def test_no_secret_is_a_local_stand_in_but_a_503_where_deployed(minimal_settings):
    from shared.inbox import widget_tokens
    from shared.platform.config import reset_settings

    minimal_settings.delenv("WIDGET_TOKEN_SECRET", raising=False)
    minimal_settings.setenv("SOUQ_ENV", "test")
    reset_settings()
    assert widget_tokens.signing_secret() == widget_tokens.LOCAL_SECRET
    minimal_settings.setenv("SOUQ_ENV", "production")
    minimal_settings.setenv("PAYMENT_GATEWAY", "moyasar")
    reset_settings()
    with pytest.raises(DependencyUnavailable):
        widget_tokens.signing_secret()
    # a reference Azure could not resolve is passed on as its text: never a key
    minimal_settings.setenv("WIDGET_TOKEN_SECRET", "@Microsoft.KeyVault(VaultName=kv;SecretName=widget-token-secret)")
    reset_settings()
    with pytest.raises(DependencyUnavailable):
        widget_tokens.signing_secret()
