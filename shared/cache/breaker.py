"""A per-process circuit breaker for the Redis cache (see docs/cache.md, "Redis down or slow").

closed: calls go through; `failures` consecutive failures open it.
open: no call goes through for `cooldown` seconds (a dead Redis is not hammered and requests
  do not each pay a timeout); then it is half-open.
half_open: exactly one trial call goes through; success closes it, failure opens it again.
Pure state and an injectable clock, so the state machine is tested without Redis or sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    def __init__(self, *, failures: int, cooldown: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.failures_to_open = failures
        self.cooldown = cooldown
        self._clock = clock
        self._state = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_running = False

    @property
    def state(self) -> str:
        if self._state == OPEN and self._clock() - self._opened_at >= self.cooldown:
            return HALF_OPEN  # the cooldown is over: the next call is the trial
        return self._state

    def allow(self) -> bool:
        """May a Redis call go through now? In half-open, only the first caller gets True."""
        state = self.state
        if state == CLOSED:
            return True
        if state == OPEN or self._trial_running:
            return False
        self._state, self._trial_running = HALF_OPEN, True
        return True

    def record_success(self) -> None:
        self._state, self._failures, self._trial_running = CLOSED, 0, False

    def record_failure(self) -> None:
        self._failures += 1
        if self._state == HALF_OPEN or self._failures >= self.failures_to_open:
            self._state, self._opened_at, self._trial_running = OPEN, self._clock(), False

    def abandon(self) -> None:
        """A call ended with no verdict (it was cancelled): let the next caller be the trial."""
        self._trial_running = False
