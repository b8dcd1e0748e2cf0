"""Where the machine's CPU went during a run: every second, the cores busy on the whole machine
(/proc/stat) and the CPU time of each of the run's own processes (the dev host, Locust,
PostgreSQL with its backends, Redis, Azurite; /proc/<pid>/stat). Linux only; elsewhere the
samples stay empty and the printout says so.

The suite needs it to tell the app's limits from the machine's: a 2-core machine shared with
the load generator, the servers and other sessions saturates long before seed 004's 200 users,
and the printout proves it with these figures rather than loosening a check."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import cpu_seconds, proc_stat

PROC = Path("/proc")
INTERVAL_SECONDS = 1.0


@dataclass(frozen=True)
class CpuSample:
    """Cores busy over the second before `t`: the machine's and each process group's."""

    t: float
    machine: float
    groups: dict[str, float]


def machine_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies of all cores since boot."""
    try:
        fields = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def process_seconds(pid: int) -> float:
    """A process's user+system CPU; 0 for one that exited meanwhile (the groups add theirs up)."""
    seconds = cpu_seconds(pid)
    return 0.0 if math.isnan(seconds) else seconds


def pid_in(path: Path) -> list[int]:
    """The pid on the first line of a pid file (postmaster.pid, redis.pid); none if absent."""
    try:
        return [int(path.read_text().split("\n", 1)[0].strip())]
    except (OSError, ValueError):
        return []


def with_children(pids: list[int]) -> list[int]:
    """The pids and their direct children (a postmaster's backends)."""
    return [found for pid in pids for found in children_of(pid)]


def children_of(pid: int) -> list[int]:
    found = [pid]
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                if int(proc_stat(entry.name)[1][1]) == pid:  # the parent's pid
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


@dataclass
class CpuSampler:
    """`groups`: a name → a function giving the pids to count (found again every second, as
    PostgreSQL's backends come and go)."""

    groups: dict[str, Callable[[], list[int]]]
    samples: list[CpuSample] = field(default_factory=list)
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> CpuSampler:
        threading.Thread(target=self._run, name="cpu-sampler", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _totals(self) -> dict[str, float]:
        totals = {}
        for name, pids in self.groups.items():
            totals[name] = sum(process_seconds(pid) for pid in pids())
        return totals

    def _run(self) -> None:
        before, seconds, at = machine_ticks(), self._totals(), time.time()
        while before is not None and not self._stop.wait(INTERVAL_SECONDS):
            now, after, totals = time.time(), machine_ticks(), self._totals()
            if after is None:
                return
            busy = (after[0] - before[0]) / max(1, after[1] - before[1]) * self.cores
            spent = {k: max(0.0, totals[k] - seconds.get(k, 0.0)) / (now - at) for k in totals}
            self.samples.append(CpuSample(now, round(busy, 3), {k: round(v, 3) for k, v in spent.items()}))
            before, seconds, at = after, totals, now
