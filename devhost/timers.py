"""Timer triggers: NCRONTAB / TimeSpan schedules and a singleton scheduler.

The host's NCRONTAB has six fields, seconds first (`{s} {m} {h} {dom} {mon} {dow}`), in
UTC; croniter wants the seconds last. A TimeSpan schedule (`hh:mm:ss`) is a fixed interval.
Like the host's singleton lock, a timer never overlaps itself: a due run is skipped (and
logged) while the previous run is still going.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from azure.functions.timer import TimerRequest
from croniter import croniter

from devhost.settings import resolve_expression
from shared.platform.hostjson import parse_timespan

log = logging.getLogger("devhost.timers")

# How late a run may start before the host would call it past due.
PAST_DUE_TOLERANCE = timedelta(seconds=1)


class Schedule(Protocol):
    @property
    def description(self) -> str: ...

    def next_after(self, moment: datetime) -> datetime: ...


@dataclass(frozen=True)
class CronSchedule:
    expression: str

    @property
    def description(self) -> str:
        return f"{self.expression} UTC"

    def croniter_form(self) -> str:
        second, *rest = self.expression.split()
        return " ".join([*rest, second])

    def next_after(self, moment: datetime) -> datetime:
        # NCrontab requires day-of-month AND day-of-week to match (croniter's default is OR)
        it = croniter(self.croniter_form(), moment.astimezone(UTC), day_or=False)
        return it.get_next(datetime).astimezone(UTC)


@dataclass(frozen=True)
class IntervalSchedule:
    interval: timedelta

    @property
    def description(self) -> str:
        return f"every {self.interval}"

    def next_after(self, moment: datetime) -> datetime:
        return moment.astimezone(UTC) + self.interval


def parse_schedule(expression: str, environ: Mapping[str, str] = os.environ) -> Schedule:
    """NCRONTAB (6 fields) or TimeSpan; `%NAME%` resolves from app settings first."""
    text = resolve_expression(expression, environ).strip()
    if ":" in text and " " not in text:
        interval = parse_timespan(text)
        if interval <= timedelta(0):
            raise ValueError(f"timer interval must be positive: '{text}'")
        return IntervalSchedule(interval)
    fields = text.split()
    if len(fields) != 6:
        raise ValueError(f"NCRONTAB needs 6 fields ({{second}} {{minute}} ...): '{text}'")
    schedule = CronSchedule(" ".join(fields))
    if not croniter.is_valid(schedule.croniter_form()):
        raise ValueError(f"invalid NCRONTAB expression '{text}'")
    return schedule


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def timer_request(schedule: Schedule, due: datetime | None, past_due: bool) -> TimerRequest:
    """The TimerRequest the worker would build from the host's timer info."""
    now = datetime.now(UTC)
    last = due or now
    return TimerRequest(
        past_due=past_due,
        schedule_status={
            "Last": iso_utc(last),
            "Next": iso_utc(schedule.next_after(now)),
            "LastUpdated": iso_utc(now),
        },
        schedule={"AdjustForDST": isinstance(schedule, CronSchedule)},
    )


# Runs one timer function; given the scheduled moment (None for manual runs) and past_due.
TimerRunner = Callable[[datetime | None, bool], Awaitable[None]]


@dataclass
class TimerJob:
    name: str
    schedule: Schedule
    run: TimerRunner
    run_on_startup: bool = False


class TimerScheduler:
    """One loop per timer function; `stop()` cancels loops and waits for running jobs."""

    def __init__(self, jobs: list[TimerJob]) -> None:
        self._jobs = jobs
        self._loops: list[asyncio.Task[None]] = []
        self._running: dict[str, asyncio.Task[None]] = {}

    def start(self) -> None:
        for job in self._jobs:
            self._loops.append(asyncio.create_task(self._loop(job), name=f"timer:{job.name}"))

    async def stop(self) -> None:
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        running = [t for t in self._running.values() if not t.done()]
        await asyncio.gather(*running, return_exceptions=True)
        self._loops.clear()

    async def _loop(self, job: TimerJob) -> None:
        if job.run_on_startup:
            self._fire(job, datetime.now(UTC), past_due=False)
        due = job.schedule.next_after(datetime.now(UTC))
        while True:
            await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
            late = datetime.now(UTC) - due > PAST_DUE_TOLERANCE
            self._fire(job, due, past_due=late)
            due = job.schedule.next_after(max(due, datetime.now(UTC)))

    def _fire(self, job: TimerJob, due: datetime, past_due: bool) -> None:
        previous = self._running.get(job.name)
        if previous is not None and not previous.done():
            log.warning("Timer '%s' still running; skipping the run due %s", job.name, iso_utc(due))
            return
        self._running[job.name] = asyncio.create_task(self._guarded(job, due, past_due), name=f"timer-run:{job.name}")

    @staticmethod
    async def _guarded(job: TimerJob, due: datetime, past_due: bool) -> None:
        try:
            await job.run(due, past_due)
        except Exception:  # the invoker already logged it; the schedule must go on
            log.debug("timer %s failed", job.name, exc_info=True)
