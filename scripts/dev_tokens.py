"""Local development signing keys and tokens.

A dev RSA key pair lives in the git-ignored `.local/devkeys/`; the dev host serves its public
half as a JWKS and the app validates dev tokens exactly like production ones (RS256 against a
JWKS URL). Nothing here is deployed (`.funcignore`), so production has no way to accept them.

    python -m scripts.dev_tokens --role customer [--sub ID] [--seller-id ID] [--email E]
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_DIR = Path(__file__).resolve().parent.parent / ".local" / "devkeys"
PRIVATE_KEY_FILE = KEY_DIR / "dev-signing-key.pem"
DEV_KEY_ID = "souq-dev-1"
DEV_ISSUER = "http://localhost:7071/dev"
DEV_AUDIENCE = "api://souq-local"
ROLES = ("customer", "seller", "pharmacist", "admin", "super_admin")


def load_or_create_private_key(key_file: Path = PRIVATE_KEY_FILE) -> rsa.RSAPrivateKey:
    if key_file.exists():
        stored = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        if not isinstance(stored, rsa.RSAPrivateKey):
            raise SystemExit(f"{key_file} is not an RSA key: delete it and a new one is made")
        return stored
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = key_file.with_suffix(".tmp")
    tmp.write_bytes(pem)
    tmp.chmod(0o600)
    tmp.replace(key_file)  # atomic: concurrent first runs never read half a key
    return load_or_create_private_key(key_file)


def dev_jwks() -> dict:
    """The public half of the dev key as a JWKS document."""
    public = load_or_create_private_key().public_key()
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
    jwk.update(kid=DEV_KEY_ID, use="sig", alg="RS256")
    return {"keys": [jwk]}


def mint_token(
    *,
    role: str,
    sub: str | None = None,
    seller_id: str | None = None,
    email: str | None = None,
    name: str | None = None,
    issuer: str = DEV_ISSUER,
    audience: str = DEV_AUDIENCE,
    ttl_seconds: int = 3600,
) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    now = int(time.time())
    subject = sub or str(uuid.uuid4())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        "roles": [role],
        "email": email or f"{subject[:8]}@example.test",
        "name": name or f"Dev {role.replace('_', ' ').title()}",
    }
    if seller_id:
        claims["seller_id"] = seller_id
    return jwt.encode(claims, load_or_create_private_key(), algorithm="RS256", headers={"kid": DEV_KEY_ID})


def main() -> None:
    parser = argparse.ArgumentParser(description="Print a signed dev token for the local app.")
    parser.add_argument("--role", default="customer", choices=ROLES)
    parser.add_argument("--sub", help="user id (token subject); random when omitted")
    parser.add_argument("--seller-id", help="seller id claim, for role=seller")
    parser.add_argument("--email")
    parser.add_argument("--name")
    parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    args = parser.parse_args()
    if args.role == "seller" and not args.seller_id:
        parser.error("--seller-id is required for role=seller")
    print(
        mint_token(
            role=args.role,
            sub=args.sub,
            seller_id=args.seller_id,
            email=args.email,
            name=args.name,
            ttl_seconds=args.ttl,
        )
    )


if __name__ == "__main__":
    main()
