"""The wrapper for timer and queue triggers: log context, duration, error classification.

Terminal errors (a bad payload) are the service's business: it records and drops them.
Everything else re-raises so the host retries (queues: then `<queue>-poison`).

A run whose summary says it did nothing (every count zero, every list empty) is logged at
debug level: a 10-second timer must not fill a person's console with "sent 0".
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sized
from decimal import Decimal
from typing import Any

from shared.platform import logs

log = logs.get_logger("jobs")


def background_job(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[None]]:
    """Keeps the trigger's own signature (the worker binds arguments by name); declare a
    `context` parameter so logs carry the host's invocation id."""

    @functools.wraps(fn)
    async def run(*args: Any, **kwargs: Any) -> None:
        logs.configure_logging()
        context = kwargs.get("context")
        logs.invocation_id_var.set(getattr(context, "invocation_id", None) or str(uuid.uuid4()))
        logs.function_name_var.set(fn.__name__)
        started = time.perf_counter()
        try:
            result = await fn(*args, **kwargs)  # a summary for the log, e.g. {"sent": 12}
        except Exception:
            log.exception("%s failed; the host will retry", fn.__name__)
            raise
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        level = logging.DEBUG if did_nothing(result) else logging.INFO
        log.log(level, "%s finished: %s", fn.__name__, result, extra={"duration_ms": elapsed_ms})
        # None: non-HTTP triggers have no return binding

    return run


def did_nothing(summary: object) -> bool:
    """True for a summary mapping whose values are all zero, empty or None (`{"sent": 0}`);
    False for anything else, including no summary at all (nothing says the run was idle)."""
    return isinstance(summary, Mapping) and all(_is_nothing(value) for value in summary.values())


def _is_nothing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):  # a flag is news either way, not a count
        return False
    if isinstance(value, (int, float, Decimal)):
        return value == 0
    if isinstance(value, Mapping):
        return did_nothing(value)
    return isinstance(value, Sized) and len(value) == 0
