"""The faults of a run, on the run's own servers: each goes down at its time and comes back at
its end; what actually happened (down, back: when the server answered again) is recorded."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from loadtest.analysis import Window
from loadtest.plan import Fault
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
    servers: Servers, fault: Fault, started: float, windows: list[Window], say: Callable[[str], None]
) -> None:
    time.sleep(max(0.0, started + fault.start - time.time()))
    down_at = time.time()
    take_down(servers, fault.kind)
    say(f"fault: {fault.kind} down (stopping took {time.time() - down_at:.1f} s)")
    time.sleep(max(0.0, started + fault.end - time.time()))
    restarting = time.time()
    bring_back(servers, fault.kind)
    windows.append(Window(fault.kind, down_at, time.time()))
    say(
        f"fault: {fault.kind} back after {time.time() - down_at:.1f} s (starting took {time.time() - restarting:.1f} s)"
    )


def start_faults(
    servers: Servers, faults: list[Fault], started: float, say: Callable[[str], None]
) -> tuple[list[threading.Thread], list[Window]]:
    windows: list[Window] = []
    threads = [
        threading.Thread(
            target=run_fault, args=(servers, f, started, windows, say), name=f"fault-{f.kind}", daemon=True
        )
        for f in faults
    ]
    for thread in threads:
        thread.start()
    return threads, windows
