"""What the machine could carry, from the run's CPU samples (loadtest.cpu) and request log,
without I/O: the CPU each request served cost the run's processes, what other processes
(other sessions on the machine) left free, and from both the request rate this machine carries
at most, against the rate seed 004's 200 users offer. Like bench.orders' database floor, it is
measured on the run itself, so a load the machine cannot carry is proven, not assumed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from loadtest.cpu import CpuSample
from loadtest.plan import SEED_PEAK_USERS


@dataclass(frozen=True)
class Capacity:
    cores: int
    busy: float  # machine cores busy on average while the load ran
    groups: dict[str, float]  # cores each of the run's process groups took on average
    ms_per_request: dict[str, float]  # CPU ms per request served, by group
    # requests each user sent per second: a lower bound of what a user offers, as users wait for
    # each answer before their 1-3 s pause (a slower host makes them send fewer)
    per_user_rps: float

    @property
    def others(self) -> float:
        """Cores other processes (other sessions) took."""
        return max(0.0, self.busy - sum(self.groups.values()))

    @property
    def ms_total(self) -> float:
        return sum(self.ms_per_request.values())

    @property
    def carried_rps(self) -> float:
        """Requests/s the cores other processes left would carry at the measured cost."""
        return (self.cores - self.others) / (self.ms_total / 1000) if self.ms_total else float("inf")

    @property
    def seed_rps(self) -> float:
        return SEED_PEAK_USERS * self.per_user_rps

    @property
    def seed_cores(self) -> float:
        """Cores seed 004's 200 users would take: the run's processes plus the others."""
        return self.seed_rps * self.ms_total / 1000 + self.others


def mean_busy(samples: Sequence[CpuSample], start: float, end: float) -> float | None:
    inside = [s.machine for s in samples if start <= s.t <= end]
    return sum(inside) / len(inside) if inside else None


def capacity(
    samples: Sequence[CpuSample], requests: Sequence[dict], cores: int, users_at: Callable[[float], int]
) -> Capacity | None:
    """Over the load (first to last request); `users_at(epoch seconds)` the users running then."""
    if not requests:
        return None
    start, end = min(r["t"] for r in requests), max(r["t"] for r in requests)
    inside = [s for s in samples if start <= s.t <= end]
    if not inside:
        return None
    seconds = end - start
    names = list(inside[0].groups)
    groups = {n: sum(s.groups.get(n, 0.0) for s in inside) / len(inside) for n in names}
    user_seconds = sum(users_at(start + i + 0.5) for i in range(int(seconds)))
    return Capacity(
        cores=cores,
        busy=sum(s.machine for s in inside) / len(inside),
        groups=groups,
        ms_per_request={n: groups[n] * seconds / len(requests) * 1000 for n in names},
        per_user_rps=len(requests) / user_seconds if user_seconds else 0.0,
    )


def capacity_lines(found: Capacity | None) -> list[str]:
    if found is None:
        return ["CPU: no samples (not Linux, or no load)"]
    spent = ", ".join(f"{n} {v:.2f}" for n, v in found.groups.items())
    costs = ", ".join(f"{n} {v:.1f}" for n, v in found.ms_per_request.items())
    return [
        f"CPU under load: {found.busy:.2f} of {found.cores} cores busy on average: {spent}, "
        f"other processes {found.others:.2f}",
        f"CPU per request served (ms): {costs} = {found.ms_total:.1f}: the {found.cores - found.others:.2f} cores "
        f"other processes left carry at most {found.carried_rps:.0f} requests/s; seed 004's {SEED_PEAK_USERS} users "
        f"offer at least {found.seed_rps:.0f} requests/s (as many as this run's users sent: "
        f"{found.per_user_rps:.2f} per user per second, fewer the slower the answers), which would take "
        f"{found.seed_cores:.1f} cores of this machine's {found.cores}",
    ]


def load_verdict(peak: int, found: Capacity | None) -> tuple[bool, str]:
    """A run below seed 004's 200 users passes only if the machine is proven unable to carry them."""
    if peak >= SEED_PEAK_USERS:
        return True, f"load: seed 004's {SEED_PEAK_USERS} users at the peak"
    if found is None:
        return False, f"load: peak {peak} users, not seed 004's {SEED_PEAK_USERS}, and no CPU figures to justify it"
    return found.seed_cores > found.cores, (
        f"load: peak {peak} users, not seed 004's {SEED_PEAK_USERS}: at the measured {found.ms_total:.0f} ms CPU "
        f"per request, {SEED_PEAK_USERS} users would take {found.seed_cores:.1f} of this machine's {found.cores} "
        f"cores (more than it has: the smaller load is what one instance on it carries)"
    )
