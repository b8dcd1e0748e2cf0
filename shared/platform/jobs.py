"""The wrapper for timer and queue triggers: log context, duration, error classification.

Terminal errors (a bad payload) are the service's business: it records and drops them.
Everything else re-raises so the host retries (queues: then `<queue>-poison`).
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Awaitable, Callable
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
        log.info("%s finished: %s", fn.__name__, result, extra={"duration_ms": elapsed_ms})
        # None: non-HTTP triggers have no return binding

    return run
