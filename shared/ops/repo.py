"""SQL the operations endpoints run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.data import db
from shared.platform.base_model import AppModel

if TYPE_CHECKING:
    from psycopg import AsyncConnection


class ServerFacts(AppModel):
    alive: int
    server_connections: int
    max_connections: int
    uptime_seconds: float
    server_version: str


SELECT_SERVER_FACTS = """
SELECT 1 AS alive,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS server_connections,
       current_setting('max_connections')::int AS max_connections,
       extract(epoch FROM now() - pg_postmaster_start_time())::float8 AS uptime_seconds,
       current_setting('server_version') AS server_version
"""


async def server_facts(conn: AsyncConnection) -> ServerFacts:
    facts = await db.fetch_one(conn, SELECT_SERVER_FACTS, None, ServerFacts)
    assert facts is not None
    return facts
