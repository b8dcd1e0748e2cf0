"""The event envelope every queue message carries, and the errors consumers raise."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.platform.base_model import AppModel

if TYPE_CHECKING:
    from psycopg import AsyncConnection


class EventEnvelope(AppModel):
    event_id: UUID
    event_type: str
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]
    occurred_at: datetime


class OutboxRow(EventEnvelope):
    id: int


class ClaimedEvent(OutboxRow):
    """An event under a relay's lease: `claimed_until` is the same for the whole claim, so it
    also tells this relay's claim from a later one."""

    claimed_until: datetime


class AggregateNotVisible(RuntimeError):
    """The event names a row this consumer cannot see (yet): retry later."""


class MalformedEvent(ValueError):
    """A message no retry can fix; on a poisoning queue it is raised so the host poisons it."""


# What to do once the handler's transaction has committed (e.g. call a gateway), or None.
AfterCommit = Callable[[], Awaitable[object]]
EventHandler = Callable[["AsyncConnection", EventEnvelope], Awaitable[AfterCommit | None]]


@dataclass(frozen=True)
class Consumer:
    """An idempotent handler. `name` is recorded with every event it processed
    (`processed_events`), so it is part of the data: never rename it, or every redelivered
    event would be processed again."""

    name: str
    handle: EventHandler
