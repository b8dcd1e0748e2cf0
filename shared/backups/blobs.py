"""The backup container: block blobs written block by block (stage_block, then one
commit_block_list), read back as a stream of chunks, listed, and deleted. Nothing is ever held
whole in memory or on local disk: Flex Consumption instances have little of either."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from shared import uploads
from shared.backups import rules
from shared.backups.models import Manifest
from shared.storage import blob_service_client

if TYPE_CHECKING:
    from azure.storage.blob.aio import BlobClient, ContainerClient

CONNECTION = "AzureWebJobsStorage"
DELETES_AT_ONCE = 16


async def container(name: str) -> ContainerClient:
    await uploads.ensure_container(name, CONNECTION)
    return blob_service_client(CONNECTION).get_container_client(name)


class BlockBlobWriter:
    """One blob, staged block by block; nothing is visible until `commit`, so a run that dies
    leaves only uncommitted blocks, which the service discards after a week."""

    def __init__(self, blob: BlobClient) -> None:
        self._blob = blob
        self._block_ids: list[str] = []

    async def stage(self, data: bytes) -> None:
        block_id = rules.block_id(len(self._block_ids))
        self._block_ids.append(block_id)
        await self._blob.stage_block(block_id, data, length=len(data))

    async def commit(self) -> None:
        from azure.storage.blob import BlobBlock

        await self._blob.commit_block_list([BlobBlock(block_id=b) for b in self._block_ids])


async def writer(container_name: str, blob_name: str) -> BlockBlobWriter:
    return BlockBlobWriter((await container(container_name)).get_blob_client(blob_name))


async def blob_names(container_name: str) -> list[str]:
    client = await container(container_name)
    return [blob.name async for blob in client.list_blobs()]


async def write_manifest(container_name: str, manifest: Manifest) -> None:
    """Written last, once: it is what makes the backup exist."""
    client = await container(container_name)
    body = manifest.model_dump_json(indent=2).encode()
    await client.upload_blob(rules.manifest_blob_name(manifest.backup_id), body, overwrite=False)


async def read_manifest(container_name: str, backup_id: str) -> Manifest | None:
    from azure.core.exceptions import ResourceNotFoundError

    blob = (await container(container_name)).get_blob_client(rules.manifest_blob_name(backup_id))
    try:
        body = await (await blob.download_blob()).readall()
    except ResourceNotFoundError:
        return None
    return Manifest.model_validate_json(body)


async def chunks(container_name: str, blob_name: str) -> AsyncIterator[bytes]:
    blob = (await container(container_name)).get_blob_client(blob_name)
    downloader = await blob.download_blob(max_concurrency=1)
    async for chunk in downloader.chunks():
        yield chunk


async def delete_blobs(container_name: str, names: list[str]) -> list[str]:
    """Deletes each blob; returns those that could not be (an immutability policy still holding
    them, say), so a later run tries again."""
    client = await container(container_name)
    failed: list[str] = []

    async def delete(name: str) -> None:
        try:
            await client.delete_blob(name)
        except Exception:  # noqa: BLE001 - reported back and logged by the caller, retried next run
            failed.append(name)

    for start in range(0, len(names), DELETES_AT_ONCE):
        await asyncio.gather(*(delete(name) for name in names[start : start + DELETES_AT_ONCE]))
    return failed
