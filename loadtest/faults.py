"""The faults of a run, on the run's own servers: each goes down at its time and comes back at
its end; what actually happened (down, back: when the server answered again) is recorded.
While PostgreSQL is down and until a write succeeds after it is back, the probe
(loadtest.probe) sends its own requests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from loadtest.analysis import Window
from loadtest.plan import Fault
from loadtest.probe import Probe
from loadtest.services import Servers


def take_down(servers: Servers, kind: str) -> None:
    if kind == "redis" and servers.redis:
        servers.redis.kill()
    elif kind == "postgresql" and servers.cluster:
        servers.cluster.control("-m", "fast", "stop")
    elif kind == "azurite" and servers.azurite:
        servers.azurite.stop()


def bring_back(servers: Servers, kind: str) -> None:
    """Returns once the server accepts connections again."""
    if kind == "redis" and servers.redis:
        servers.redis.start()
    elif kind == "postgresql" and servers.cluster:
        servers.cluster.control("start")  # pg_ctl -w: waits until it accepts connections
    elif kind == "azurite" and servers.azurite:
        servers.azurite.start()


def run_fault(
    servers: Servers,
    fault: Fault,
    started: float,
    windows: list[Window],
    say: Callable[[str], None],
    probe: Probe | None = None,
) -> None:
    time.sleep(max(0.0, started + fault.start - time.time()))
    down_at = time.time()
    take_down(servers, fault.kind)
    say(f"fault: {fault.kind} down (stopping took {time.time() - down_at:.1f} s)")
    if probe is not None:
        probe.start()
    time.sleep(max(0.0, started + fault.end - time.time()))
    restarting = time.time()
    bring_back(servers, fault.kind)
    back_at = time.time()
    windows.append(Window(fault.kind, down_at, back_at))
    say(f"fault: {fault.kind} back after {back_at - down_at:.1f} s (starting took {back_at - restarting:.1f} s)")
    if probe is not None:
        probe.finish(back_at)


def start_faults(
    servers: Servers, faults: list[Fault], started: float, say: Callable[[str], None], probe: Probe | None = None
) -> tuple[list[threading.Thread], list[Window]]:
    """A thread per fault; `probe` runs through PostgreSQL's."""
    windows: list[Window] = []
    threads = [
        threading.Thread(
            target=run_fault,
            args=(servers, f, started, windows, say, probe if f.kind == "postgresql" else None),
            name=f"fault-{f.kind}",
            daemon=True,
        )
        for f in faults
    ]
    for thread in threads:
        thread.start()
    return threads, windows
