"""Files the client sends straight to private Blob storage, never through the API.

- `upload_url`: a write-only URL for one blob, valid at most five minutes, with the headers the
  client must send (`x-ms-blob-type: BlockBlob`). Create-only permission: it writes a new blob
  and cannot overwrite one, so a file checked by `inspect_upload` is the file people read later.
- `read_url`: a read-only URL for one blob, valid at most five minutes, served with the content
  type verified from the file's bytes (never the one the client claimed).
- `inspect_upload`: the blob exists, is within the size limit and is one of the allowed kinds by
  its magic bytes; only its properties and its first bytes are read.

How URLs are signed follows the connection (see shared.storage): with a connection string
(Azurite locally) an account-key SAS; with `<connection>__blobServiceUri` and a managed
identity (Azure, where the account's shared keys are off) a user-delegation SAS, its key asked
from Entra and reused until shortly before it expires. `UPLOADS_PUBLIC_BLOB_ENDPOINT` rewrites
the URLs' endpoint when the one the app uses is not the one clients reach.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit

from shared.storage import StorageNotConfigured, blob_service_client, connection_string_for

if TYPE_CHECKING:
    from azure.storage.blob import UserDelegationKey

MAX_URL_SECONDS = 300
CLOCK_SKEW = timedelta(minutes=1)  # a SAS valid from a minute ago: clocks differ a little
DELEGATION_KEY_LIFETIME = timedelta(hours=1)
DELEGATION_KEY_REFRESH_BEFORE = timedelta(minutes=10)

PDF, JPEG, PNG, WEBP = "application/pdf", "image/jpeg", "image/png", "image/webp"
SNIFF_BYTES = 16  # every signature below is within the first 12 bytes


def sniff_type(head: bytes, allowed: Iterable[str]) -> str | None:
    """The allowed content type these first bytes are, by magic number; None when none."""
    found = None
    if head.startswith(b"%PDF-"):
        found = PDF
    elif head.startswith(b"\xff\xd8\xff"):
        found = JPEG
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        found = PNG
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        found = WEBP
    return found if found in set(allowed) else None


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: datetime
    method: Literal["GET", "PUT"]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Inspection:
    """What `inspect_upload` found: `problem` is None when the blob is acceptable."""

    problem: Literal["missing", "empty", "too_large", "wrong_type"] | None
    size: int = 0
    content_type: str | None = None


def url_lifetime(seconds: int) -> timedelta:
    return timedelta(seconds=max(1, min(seconds, MAX_URL_SECONDS)))


async def upload_url(
    container: str, blob_name: str, *, seconds: int, now: datetime, connection: str = "AzureWebJobsStorage"
) -> SignedUrl:
    """A URL that creates this one blob (and nothing else), valid for `seconds` (≤ 300)."""
    from azure.storage.blob import BlobSasPermissions

    expires_at = now + url_lifetime(seconds)
    sas = await _sign(connection, container, blob_name, BlobSasPermissions(create=True), now, expires_at, {})
    headers = {"x-ms-blob-type": "BlockBlob"}
    return SignedUrl(_blob_url(connection, container, blob_name, sas), expires_at, "PUT", headers)


async def read_url(
    container: str,
    blob_name: str,
    *,
    seconds: int,
    now: datetime,
    content_type: str,
    connection: str = "AzureWebJobsStorage",
) -> SignedUrl:
    """A URL that reads this one blob, valid for `seconds` (≤ 300), served as `content_type`."""
    from azure.storage.blob import BlobSasPermissions

    expires_at = now + url_lifetime(seconds)
    served = {"content_type": content_type, "content_disposition": "inline"}
    sas = await _sign(connection, container, blob_name, BlobSasPermissions(read=True), now, expires_at, served)
    return SignedUrl(_blob_url(connection, container, blob_name, sas), expires_at, "GET")


async def inspect_upload(
    container: str,
    blob_name: str,
    *,
    max_bytes: int,
    allowed_types: Iterable[str],
    connection: str = "AzureWebJobsStorage",
) -> Inspection:
    """Reads the blob's properties and at most its first SNIFF_BYTES bytes."""
    from azure.core.exceptions import ResourceNotFoundError

    blob = blob_service_client(connection).get_blob_client(container, blob_name)
    try:
        size = (await blob.get_blob_properties()).size
        if size == 0:
            return Inspection("empty")
        if size > max_bytes:
            return Inspection("too_large", size)
        head = await (await blob.download_blob(offset=0, length=min(SNIFF_BYTES, size))).readall()
    except ResourceNotFoundError:
        return Inspection("missing")
    content_type = sniff_type(head, allowed_types)
    return Inspection(None if content_type else "wrong_type", size, content_type)


_containers_made: set[tuple[str, str]] = set()


async def ensure_container(container: str, connection: str = "AzureWebJobsStorage") -> None:
    """Creates the container if it is missing (Azurite, tests); once per process. In Azure the
    containers come from infra/ and the app's identity may not create them."""
    from azure.core.exceptions import ResourceExistsError

    if (connection, container) in _containers_made:
        return
    with contextlib.suppress(ResourceExistsError):
        await blob_service_client(connection).create_container(container)
    _containers_made.add((connection, container))


# -- signing


async def _sign(
    connection: str,
    container: str,
    blob_name: str,
    permission: Any,
    now: datetime,
    expires_at: datetime,
    served: dict[str, str],
) -> str:
    from azure.storage.blob import generate_blob_sas

    common = {"permission": permission, "start": now - CLOCK_SKEW, "expiry": expires_at, **served}
    account_name, account_key = _account_key(connection)
    if account_key:
        return generate_blob_sas(account_name, container, blob_name, account_key=account_key, **common)
    key = await _delegation_key(connection, now)
    return generate_blob_sas(account_name, container, blob_name, user_delegation_key=key, **common)


def _account_key(connection: str) -> tuple[str, str | None]:
    """(account name, account key) from a connection string; (name from the service URI, None)
    for an Entra connection."""
    conn_str = connection_string_for(connection)
    if conn_str:
        parts = dict(p.split("=", 1) for p in conn_str.split(";") if "=" in p)
        if not parts.get("AccountKey"):
            raise StorageNotConfigured(f"{connection} has no AccountKey to sign URLs with")
        return parts["AccountName"], parts["AccountKey"]
    return (urlsplit(_service_uri(connection)).hostname or "").split(".")[0], None


_delegation_keys: dict[str, tuple[datetime, UserDelegationKey]] = {}


async def _delegation_key(connection: str, now: datetime) -> UserDelegationKey:
    """A user-delegation key from Entra (the app's managed identity needs a role with
    generateUserDelegationKey: Storage Blob Data Owner/Contributor), reused while it lasts."""
    cached = _delegation_keys.get(connection)
    if cached and cached[0] - DELEGATION_KEY_REFRESH_BEFORE > now:
        return cached[1]
    expires = now + DELEGATION_KEY_LIFETIME
    key = await blob_service_client(connection).get_user_delegation_key(now - CLOCK_SKEW, expires)
    _delegation_keys[connection] = (expires, key)
    return key


def _service_uri(connection: str) -> str:
    uri = os.environ.get(f"{connection}__blobServiceUri")
    if not uri:
        raise StorageNotConfigured(f"set {connection} (connection string) or {connection}__blobServiceUri")
    return uri


def _blob_url(connection: str, container: str, blob_name: str, sas: str) -> str:
    """The blob's URL as clients reach it: UPLOADS_PUBLIC_BLOB_ENDPOINT when set, else the
    connection's own endpoint."""
    from shared.platform.config import get_settings

    endpoint = get_settings().uploads_public_blob_endpoint or blob_service_client(connection).url
    return f"{endpoint.rstrip('/')}/{quote(container)}/{quote(blob_name)}?{sas}"
