"""Agents' actions on a conversation (close, snooze, reopen, assign) and the timers that wake
snoozed conversations and close quiet ones.

Each action is one conditional UPDATE on the version the agent read and a status it may leave,
with its history row in the same transaction; no match is explained afterwards (stale version
→ 409 naming the current one, wrong status → 409). Reopening a CLOSED conversation while the
contact has another active one is refused by the partial unique index itself: the violation is
caught in a savepoint and answered 409 naming the active conversation.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from shared.data import db
from shared.inbox import repo_conversations, rules
from shared.inbox.models import ConversationRow
from shared.inbox.models_api import AssignRequest, CloseRequest, ReopenRequest, SnoozeRequest
from shared.platform.auth import Principal

TIMER_BATCH = 500
HISTORY_ACTION = {"close": "closed", "snooze": "snoozed", "reopen": "reopened", "assign": "assigned"}

ActionBody = CloseRequest | SnoozeRequest | ReopenRequest | AssignRequest


def _params(action: str, body: ActionBody, now: datetime) -> dict[str, Any]:
    if isinstance(body, CloseRequest):
        return {"reason": body.reason}
    if isinstance(body, SnoozeRequest):
        rules.check_snooze_until(body.until, now)
        return {"until": body.until}
    if isinstance(body, AssignRequest):
        return {"assignee_id": body.agent}
    return {}


async def act(
    principal: Principal, conversation_id: UUID, action: str, body: ActionBody, now: datetime
) -> ConversationRow:
    """Runs `action` on the conversation at `body.version`; the changed conversation."""
    scope = rules.agent_scope(principal)
    actor = rules.agent_id(principal)
    async with db.transaction() as conn:
        current = await repo_conversations.conversation_in_scope(conn, conversation_id, scope.seller_id)
        if current is None:
            raise rules.conversation_not_found(conversation_id)
        own = _params(action, body, now)  # after the 404: a missing conversation is missing whatever the body
        params = {"id": conversation_id, "version": body.version, "now": now, "actor_id": actor} | own
        changed = await _apply(conn, action, params, current)
        if changed is None:
            raise rules.action_refused(action, current, body.version)
        detail = {k: str(v) for k, v in params.items() if k in ("reason", "until", "assignee_id")}
        await repo_conversations.add_history(
            conn, current, HISTORY_ACTION[action], actor, to_status=changed.status, detail=detail, now=now
        )
    return changed


async def _apply(conn: Any, action: str, params: dict[str, Any], current: ConversationRow) -> ConversationRow | None:
    from psycopg import errors as pg_errors

    if action != "reopen":
        return await repo_conversations.apply_action(conn, action, params)
    try:
        async with conn.transaction():  # a savepoint: the index's refusal leaves the transaction usable
            return await repo_conversations.apply_action(conn, action, params)
    except pg_errors.UniqueViolation:
        active = await repo_conversations.active_of_contact(conn, current.connection_id, current.contact_id)
        if active is None:  # it closed meanwhile: the agent may simply try again
            raise rules.action_refused(action, current, -1) from None
        raise rules.active_conversation_exists(active) from None


async def wake_snoozed(now: datetime) -> int:
    """SNOOZED conversations past snoozed_until → OPEN; safe to run twice at once."""
    woke = 0
    while True:
        async with db.transaction() as conn:
            batch = await repo_conversations.wake_due(conn, now, TIMER_BATCH)
        woke += len(batch)
        if len(batch) < TIMER_BATCH:
            return woke


async def auto_close(now: datetime, after_hours: int) -> int:
    """OPEN conversations quiet for `after_hours` → CLOSED (reason inactive); 0 hours: off."""
    if after_hours <= 0:
        return 0
    closed = 0
    while True:
        async with db.transaction() as conn:
            batch = await repo_conversations.auto_close_quiet(
                conn, now - timedelta(hours=after_hours), now, TIMER_BATCH
            )
        closed += len(batch)
        if len(batch) < TIMER_BATCH:
            return closed
