"""Connection management for admins and sellers: create with secrets, rotate secrets, list
(never the secrets themselves, only which are set), and re-seal every row under the current
key of CHANNEL_SECRETS_KEY after a key rotation."""

from __future__ import annotations

from uuid import UUID

from shared.data import db
from shared.inbox import connections, repo_connections, rules, secrets
from shared.inbox.errors import InboxError
from shared.inbox.models import ConnectionRow
from shared.inbox.models_api import (
    REQUIRED_SECRETS,
    ChannelSecrets,
    ConnectionOut,
    ConnectionPage,
    ConnectionsQuery,
    CreateConnection,
    RekeyResult,
    RotateSecrets,
)
from shared.platform.auth import Principal
from shared.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from shared.platform.pagination import OLDEST_FIRST, after_created, cut_page, fetch_size

REKEY_BATCH = 100


def _secrets_of(kind: str, given: ChannelSecrets) -> dict[str, str]:
    values = {name: value for name, value in given.model_dump().items() if value is not None}
    missing = [name for name in REQUIRED_SECRETS[kind] if name not in values]
    if missing:
        errors = [FieldError(f"secrets/{name}", f"{kind} needs it", InboxError.SECRETS_MISSING) for name in missing]
        raise ValidationFailed(f"{kind} connections need {', '.join(REQUIRED_SECRETS[kind])}", errors=errors)
    return values


def connection_out(row: ConnectionRow) -> ConnectionOut:
    names = sorted(connections.opened_secrets(row))
    return ConnectionOut(
        id=row.id,
        kind=row.kind,
        external_id=row.external_id,
        display_name=row.display_name,
        seller_id=row.seller_id,
        active=row.active,
        secrets_set=names,
        secrets_key_id=row.secrets_key_id,
        secrets_updated_at=row.secrets_updated_at,
        webhook_path=f"/api/webhooks/telegram/{row.id}" if row.kind == "TELEGRAM" else _webhook_path(row.kind),
        version=row.version,
        created_at=row.created_at,
    )


def _webhook_path(kind: str) -> str | None:
    return "/api/webhooks/meta" if kind in ("MESSENGER", "INSTAGRAM") else None


async def create(principal: Principal, body: CreateConnection) -> ConnectionOut:
    """Sellers create their own seller's connections; admins any seller's or the platform's."""
    scope = rules.agent_scope(principal)
    seller_id = scope.seller_id if scope.seller_id is not None else body.seller_id
    values = _secrets_of(body.kind, body.secrets)
    from psycopg.errors import ForeignKeyViolation

    try:
        async with db.transaction() as conn:
            row = await connections.create_connection_in(
                conn,
                kind=body.kind,
                external_id=body.external_id,
                display_name=body.display_name,
                seller_id=seller_id,
                channel_secrets=values,
            )
    except ForeignKeyViolation:
        raise NotFound(f"no seller {seller_id}", code=InboxError.SELLER_NOT_FOUND) from None
    if row is None:
        raise Conflict(f"a {body.kind} connection {body.external_id} exists already", code=InboxError.CONNECTION_EXISTS)
    return connection_out(row)


async def rotate(principal: Principal, connection_id: UUID, body: RotateSecrets) -> ConnectionOut:
    """New secrets replace the old ones (all of the kind's required ones, at the read version)."""
    scope = rules.agent_scope(principal)
    async with db.transaction() as conn:
        row = await repo_connections.connection(conn, connection_id)
        if row is None or not rules.owns_connection(scope, row):
            raise rules.connection_not_found(connection_id)
        sealed = secrets.seal(row.id, _secrets_of(row.kind, body.secrets))
        updated = await repo_connections.update_secrets(conn, row.id, body.version, (sealed.key_id, sealed.blob))
    if updated is None:
        raise Conflict(
            f"the connection is at version {row.version}, not {body.version}",
            code=InboxError.VERSION_CONFLICT,
            extra={"current_version": row.version},
        )
    connections.forget_connection(updated)
    return connection_out(updated)


async def list_connections(principal: Principal, query: ConnectionsQuery) -> ConnectionPage:
    scope = rules.agent_scope(principal)
    after = after_created(query.cursor, OLDEST_FIRST)
    async with db.connection(read_only=True) as conn:
        rows = await repo_connections.list_connections(conn, scope.seller_id, after, fetch_size(query.limit))
    items, next_cursor = cut_page(
        rows, query.limit, order=OLDEST_FIRST, key_of=lambda r: (r.created_at.isoformat(), str(r.id))
    )
    return ConnectionPage(items=[connection_out(r) for r in items], next_cursor=next_cursor)


async def rekey() -> RekeyResult:
    """Re-seal every connection still under an older key with the current one."""
    key_id, resealed = secrets.current_key_id(), 0
    while True:
        async with db.transaction() as conn:
            batch = await repo_connections.sealed_under_other_keys(conn, key_id, REKEY_BATCH)
            for row in batch:
                sealed = secrets.seal(row.id, connections.opened_secrets(row))
                await repo_connections.update_secrets(conn, row.id, row.version, (sealed.key_id, sealed.blob))
        resealed += len(batch)
        if len(batch) < REKEY_BATCH:
            return RekeyResult(resealed=resealed, key_id=key_id)
