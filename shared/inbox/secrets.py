"""Channel secrets at rest: AES-GCM (`cryptography`) under keys from CHANNEL_SECRETS_KEY.

The setting is a key ring, `id:base64key[,id:base64key...]` (32-byte keys): the first encrypts,
every one decrypts. Each ciphertext is stored with its key's id, so a key is rotated by putting
a new one first, re-encrypting (`POST /api/inbox/connections/rekey`, or any secrets rotation)
and then dropping the old one. The connection's id is the associated data: a ciphertext copied
onto another connection does not decrypt. Secrets are never returned by the API.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from uuid import UUID

NONCE_BYTES = 12
KEY_BYTES = 32


class SecretsKeyError(RuntimeError):
    """CHANNEL_SECRETS_KEY is missing or malformed, or names no key for a stored ciphertext."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    blob: bytes  # nonce || ciphertext+tag


@lru_cache(maxsize=4)
def parse_key_ring(setting: str) -> tuple[tuple[str, bytes], ...]:
    """[(key id, key)], the current (encrypting) key first."""
    ring = []
    for item in filter(None, (part.strip() for part in setting.split(","))):
        key_id, _, encoded = item.partition(":")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise SecretsKeyError(f"CHANNEL_SECRETS_KEY: key {key_id!r} is not base64") from None
        if not key_id or len(key) != KEY_BYTES:
            raise SecretsKeyError(f"CHANNEL_SECRETS_KEY: each entry is id:base64 of {KEY_BYTES} bytes")
        ring.append((key_id, key))
    if not ring:
        raise SecretsKeyError("CHANNEL_SECRETS_KEY is not set")
    return tuple(ring)


def _ring() -> tuple[tuple[str, bytes], ...]:
    from shared.platform.config import get_settings

    return parse_key_ring(get_settings().channel_secrets_key)


def current_key_id() -> str:
    return _ring()[0][0]


def seal(connection_id: UUID, secrets: dict[str, str]) -> Sealed:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key_id, key = _ring()[0]
    nonce = os.urandom(NONCE_BYTES)
    plain = json.dumps(secrets, separators=(",", ":"), sort_keys=True).encode()
    return Sealed(key_id, nonce + AESGCM(key).encrypt(nonce, plain, str(connection_id).encode()))


def open_sealed(connection_id: UUID, sealed: Sealed) -> dict[str, str]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    keys = dict(_ring())
    if sealed.key_id not in keys:
        raise SecretsKeyError(f"CHANNEL_SECRETS_KEY holds no key {sealed.key_id!r} (rotated out too early?)")
    nonce, body = sealed.blob[:NONCE_BYTES], sealed.blob[NONCE_BYTES:]
    plain = AESGCM(keys[sealed.key_id]).decrypt(nonce, body, str(connection_id).encode())
    data = json.loads(plain)
    return {str(name): str(value) for name, value in data.items()}


def new_key_entry(key_id: str) -> str:
    """A fresh ring entry for CHANNEL_SECRETS_KEY (scripts, docs)."""
    return f"{key_id}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"
