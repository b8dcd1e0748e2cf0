"""The pooled httpx client outbound API calls share (payment gateways, channel APIs): one per
event loop, so a new loop (in tests, after a restart) gets its own. httpx loads on first use."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

_client: httpx.AsyncClient | None = None
_client_loop: asyncio.AbstractEventLoop | None = None


def pooled_client() -> httpx.AsyncClient:
    import httpx

    global _client, _client_loop
    loop = asyncio.get_running_loop()
    if _client is None or _client_loop is not loop:
        _client = httpx.AsyncClient(limits=httpx.Limits(max_connections=50, max_keepalive_connections=10))
        _client_loop = loop
    return _client
