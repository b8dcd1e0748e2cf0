"""Bearer tokens through a real endpoint: only RS256/ES256 tokens from the configured issuer."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from scripts.dev_tokens import DEV_AUDIENCE, DEV_ISSUER, DEV_KEY_ID, load_or_create_private_key
from shared.platform import auth
from tests.support import FakeClock, call, token

CLAIMS = {"iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "sub": "someone", "roles": ["customer"]}


def signed(claims: dict, *, key=None, algorithm: str = "RS256", kid: str = DEV_KEY_ID) -> str:
    now = int(time.time())
    body = {"iat": now, "nbf": now, "exp": now + 300} | claims
    return jwt.encode(body, key or load_or_create_private_key(), algorithm=algorithm, headers={"kid": kid})


def unsigned(claims: dict) -> str:
    return jwt.encode(claims | {"exp": int(time.time()) + 300}, key=None, algorithm="none")


async def get_me_with(authorization: str | None) -> tuple[int, dict]:
    headers = {"Authorization": authorization} if authorization is not None else {}
    status, _, body = await call("get_me", "GET", "me", headers=headers)
    return status, body


async def test_valid_dev_token_is_accepted(app_env):
    status, body = await get_me_with(f"Bearer {token(sub='valid-user')}")
    assert status == 200 and body["id"] == "valid-user"


@pytest.mark.parametrize(
    "authorization,code",
    [
        (None, "missing_token"),
        ("Basic dXNlcjpwYXNz", "missing_token"),
        ("Bearer not.a.jwt", "invalid_token"),
    ],
)
async def test_missing_or_malformed_tokens_are_401(app_env, authorization, code):
    status, body = await get_me_with(authorization)
    assert status == 401 and body["code"] == code and body["type"].endswith(code)


@pytest.mark.parametrize(
    "make_token,code",
    [
        (lambda: unsigned(CLAIMS), "invalid_token"),
        (
            lambda: jwt.encode(
                CLAIMS | {"exp": int(time.time()) + 300}, "s" * 32, algorithm="HS256", headers={"kid": DEV_KEY_ID}
            ),
            "invalid_token",
        ),
        (lambda: signed(CLAIMS | {"exp": int(time.time()) - 120}), "token_expired"),
        (lambda: signed(CLAIMS | {"nbf": int(time.time()) + 600}), "invalid_token"),
        (lambda: signed(CLAIMS | {"aud": "api://someone-else"}), "invalid_token"),
        (lambda: signed(CLAIMS | {"iss": "https://evil.example"}), "invalid_token"),
        (lambda: signed(CLAIMS, key=rsa.generate_private_key(public_exponent=65537, key_size=2048)), "invalid_token"),
        (lambda: signed(CLAIMS, kid="rotated-away"), "unknown_signing_key"),
        (lambda: signed(CLAIMS, key=ec.generate_private_key(ec.SECP256R1()), algorithm="ES256"), "invalid_token"),
        (lambda: signed(CLAIMS | {"roles": ["seller"]}), "invalid_token"),
    ],
)
async def test_forged_expired_or_foreign_tokens_are_401(app_env, make_token, code):
    status, body = await get_me_with(f"Bearer {make_token()}")
    assert status == 401 and body["code"] == code


async def test_leeway_accepts_a_token_that_expired_seconds_ago(app_env):
    status, _ = await get_me_with(f"Bearer {signed(CLAIMS | {'exp': int(time.time()) - 5})}")
    assert status == 200


async def test_unknown_kid_refetches_the_jwks_at_most_once_per_interval(app_env, monkeypatch):
    fetches = []
    original = auth.JwksCache._fetch

    async def counting_fetch(self):
        fetches.append(1)
        return await original(self)

    monkeypatch.setattr(auth.JwksCache, "_fetch", counting_fetch)
    for _ in range(5):
        status, _ = await get_me_with(f"Bearer {signed(CLAIMS, kid='nobody-knows')}")
        assert status == 401
    assert len(fetches) == 1


async def test_maintenance_endpoint_needs_an_admin_role(app_env):
    status, _, body = await call(
        "relay_outbox_now", "POST", "ops/outbox/relay", headers={"Authorization": f"Bearer {token('customer')}"}
    )
    assert status == 403 and body["code"] == "forbidden"


async def test_a_verified_token_is_remembered_only_until_it_expires(app_env, monkeypatch):
    expires_at = int(time.time()) + 300
    fresh = signed(CLAIMS | {"exp": expires_at})
    clock = FakeClock(expires_at - 1.0)  # the cache's clock: a second before exp
    monkeypatch.setattr(auth, "token_clock", clock)
    assert (await get_me_with(f"Bearer {fresh}"))[0] == 200
    decodes = []
    original = auth.decode
    monkeypatch.setattr(auth, "decode", lambda token, key: decodes.append(1) or original(token, key))
    assert (await get_me_with(f"Bearer {fresh}"))[0] == 200 and decodes == []  # served from the cache
    clock.now = expires_at  # exp reached: the cache lets go and the token is verified again
    assert (await get_me_with(f"Bearer {fresh}"))[0] == 200 and decodes == [1]  # (PyJWT's clock: still valid)
