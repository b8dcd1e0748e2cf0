"""The run's timeline without I/O: the user stages (seed 004's 0 → 100 → 200, scaled to the
run's peak, then the hot-SKU phase), the fault windows inside them, and how `--quick` and
`--smoke` scale them. Times are seconds from the start of the load."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Literal

Mode = Literal["full", "quick", "smoke"]
FaultKind = Literal["redis", "postgresql", "azurite"]

FULL_SECONDS = 900  # 15 minutes
QUICK_SECONDS = 180  # --quick: the same run in 3 minutes
SMOKE_USERS, SMOKE_SECONDS = 20, 20  # make test: 20 users, 20 s, no faults, no hot phase
POSTGRES_BACK_WITHIN_SECONDS = 5.0  # success again this soon after PostgreSQL is back


@dataclass(frozen=True)
class Stage:
    """Until `end`, ramp (or hold) to `users` at `spawn_rate` users/s; `hot`: every user orders
    the hot SKU."""

    name: str
    end: float
    users: int
    spawn_rate: float
    hot: bool = False


@dataclass(frozen=True)
class Fault:
    """`kind` goes down at `start` and is brought back at `end`."""

    kind: FaultKind
    start: float
    end: float


@dataclass(frozen=True)
class Plan:
    mode: Mode
    seconds: float
    stages: list[Stage]
    faults: list[Fault] = field(default_factory=list)

    def stage_at(self, elapsed: float) -> Stage | None:
        return next((stage for stage in self.stages if elapsed < stage.end), None)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data = json.loads(text)
        stages = [Stage(**s) for s in data["stages"]]
        return cls(
            mode=data["mode"], seconds=data["seconds"], stages=stages, faults=[Fault(**f) for f in data["faults"]]
        )


# Fractions of the run: ramp to half the peak, hold it (Redis killed in it), ramp to the peak,
# hold it (PostgreSQL restarted, then Azurite stopped), hot SKU at the peak. Seed 004's peak is
# 200 users, quick and full. On a machine other work keeps busy, `--users 100` is what one dev
# host carries, and the printout proves it from the run's own CPU figures (loadtest.capacity)
# instead of judging the targets on a saturated machine.
SEED_PEAK_USERS = 200
STAGE_SHARES = [("ramp to {half}", 1 / 6, 0.5), ("hold {half}", 1 / 6, 0.5), ("ramp to {peak}", 1 / 6, 1.0)]
HOLD_PEAK_SHARE = 1 / 4
FAULT_SHARES: list[tuple[FaultKind, float, float]] = [
    ("redis", 0.20, 0.28),
    ("postgresql", 0.55, 0.58),
    ("azurite", 0.64, 0.70),
]


def stages_for(seconds: float, peak: int = SEED_PEAK_USERS) -> list[Stage]:
    stages, end, users_before = [], 0.0, 0
    for name, share, fraction in STAGE_SHARES:
        users, length = round(peak * fraction), share * seconds
        end += length
        rate = max(abs(users - users_before) / length, 1.0) if users != users_before else 100.0
        stages.append(Stage(name.format(half=round(peak / 2), peak=peak), round(end, 1), users, round(rate, 2)))
        users_before = users
    end += HOLD_PEAK_SHARE * seconds
    stages.append(Stage(f"hold {peak}", round(end, 1), peak, 100.0))
    stages.append(Stage("hot SKU", float(seconds), peak, 100.0, hot=True))
    return stages


def faults_for(seconds: float) -> list[Fault]:
    return [Fault(kind, round(start * seconds, 1), round(end * seconds, 1)) for kind, start, end in FAULT_SHARES]


def plan_for(mode: Mode, *, faults: bool = True, peak: int | None = None) -> Plan:
    """`peak`: the most users at once (default seed 004's 200)."""
    if mode == "smoke":
        return Plan("smoke", SMOKE_SECONDS, [Stage("smoke", SMOKE_SECONDS, SMOKE_USERS, SMOKE_USERS)])
    seconds = QUICK_SECONDS if mode == "quick" else FULL_SECONDS
    stages = stages_for(seconds, peak or SEED_PEAK_USERS)
    return Plan(mode, seconds, stages, faults_for(seconds) if faults else [])


def users_at(plan: Plan, elapsed: float) -> int:
    """Users running `elapsed` seconds in (ramps are linear at their spawn rate)."""
    users, start = 0, 0.0
    for stage in plan.stages:
        if elapsed < stage.end:
            ramped = users + math.copysign(stage.spawn_rate * (elapsed - start), stage.users - users)
            return int(min(max(ramped, min(users, stage.users)), max(users, stage.users)))
        users, start = stage.users, stage.end
    return users
