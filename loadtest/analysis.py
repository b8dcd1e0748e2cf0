"""What a load run saw, without I/O: the request log (one dict per line Locust wrote), the fault
windows the run went through, and the figures and pass/fail lines the suite prints."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

ORDER_P95_TARGET_MS = 500.0
SUCCESS_TARGET = 0.999
POSTGRES_BACK_WITHIN_SECONDS = 5.0
WARM_UP_SECONDS = 10.0  # first requests: pools, caches and plans still cold
GRACE_SECONDS = {"redis": 0.0, "postgresql": POSTGRES_BACK_WITHIN_SECONDS, "azurite": 2.0}
POOL_TIMEOUT_MS = 5000.0  # DATABASE_POOL_TIMEOUT_SECONDS: a 503 this slow waited for the pool
PROBE_WRITE = "POST /api/orders"
PROBE_READ = "GET /api/threads"  # a read only PostgreSQL answers (no cache)
PROBE_CATALOG = "GET /api/products?category="  # may be served from the cache: a 200 is fine


@dataclass(frozen=True)
class Window:
    """A fault as it happened: down at `down_at`, back (the server answering) at `back_at` (epoch s)."""

    kind: str
    down_at: float
    back_at: float

    @property
    def until(self) -> float:
        return self.back_at + GRACE_SECONDS.get(self.kind, 0.0)

    def holds(self, t: float) -> bool:
        return self.down_at <= t <= self.until


@dataclass
class Verdicts:
    lines: list[str] = field(default_factory=list)
    failed: int = 0

    def check(self, ok: bool, text: str) -> None:
        self.lines.append(f"{'PASS' if ok else 'FAIL'}  {text}")
        self.failed += not ok


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


def requests_of(log: Iterable[dict]) -> list[dict]:
    return [r for r in log if "name" in r]


def first_refusals(requests: Sequence[dict]) -> dict[str, str]:
    """Each endpoint's first non-2xx answer as `status code` (what to look at first)."""
    found: dict[str, str] = {}
    for r in requests:
        if not 200 <= r["status"] < 300 and r["name"] not in found:
            found[r["name"]] = f"{r['status']} {r.get('code') or r.get('error') or ''}".strip()
    return found


def per_endpoint(requests: Sequence[dict]) -> list[tuple[str, int, float, float, int]]:
    """(endpoint, count, p50 ms, p95 ms, non-2xx) for every endpoint, busiest first."""
    by_name: dict[str, list[dict]] = defaultdict(list)
    for r in requests:
        by_name[r["name"]].append(r)
    rows = []
    for name, found in by_name.items():
        times = [r["ms"] for r in found]
        bad = sum(1 for r in found if not 200 <= r["status"] < 300)
        rows.append((name, len(found), percentile(times, 0.5), percentile(times, 0.95), bad))
    return sorted(rows, key=lambda row: -row[1])


def is_server_failure(r: dict) -> bool:
    return r["status"] >= 500 or r["status"] == 0


def failures_outside(requests: Sequence[dict], windows: Sequence[Window]) -> list[dict]:
    return [r for r in requests if is_server_failure(r) and not any(w.holds(r["t"]) for w in windows)]


def window_counts(requests: Sequence[dict], window: Window) -> dict[str, int]:
    inside = [r for r in requests if window.holds(r["t"])]
    counts = {
        "requests": len(inside),
        "2xx": sum(1 for r in inside if 200 <= r["status"] < 300),
        "4xx": sum(1 for r in inside if 400 <= r["status"] < 500),
        "503 with Retry-After": sum(1 for r in inside if r["status"] == 503 and r.get("retry_after")),
        "other 5xx": sum(1 for r in inside if r["status"] >= 500 and not (r["status"] == 503 and r.get("retry_after"))),
        "connection errors": sum(1 for r in inside if r["status"] == 0),
    }
    for r in inside:  # which dependency each 503 named: PoolTimeouts under load name postgresql too
        if r["status"] == 503:
            key = f"503 {r.get('dependency') or '?'}"
            counts[key] = counts.get(key, 0) + 1
    return counts


@dataclass(frozen=True)
class ProbeAnswer:
    """One answer to the PostgreSQL fault's probe (loadtest.probe); times in epoch seconds."""

    name: str
    sent: float
    answered: float
    status: int  # 0: no answer (connection error or timeout)
    retry_after: str | None = None
    dependency: str | None = None
    problem_json: bool = False

    @property
    def ms(self) -> float:
        return (self.answered - self.sent) * 1000

    @property
    def unavailable(self) -> bool:
        """503 with Retry-After, a problem naming PostgreSQL."""
        return self.status == 503 and bool(self.retry_after) and self.problem_json and self.dependency == "postgresql"


@dataclass(frozen=True)
class DownProbe:
    """The probe's answers sent and answered while PostgreSQL was down."""

    answers: int
    ok: int  # 2xx: catalog reads served from the cache
    refused_db: int  # 503 with Retry-After naming postgresql, of requests that need the database
    slowest_503_ms: float
    other: dict[str, int]  # anything else, by `name status`

    @property
    def holds(self) -> bool:
        return self.refused_db > 0 and not self.other and self.slowest_503_ms < POOL_TIMEOUT_MS


def probe_while_down(answers: Sequence[ProbeAnswer], window: Window) -> DownProbe:
    inside = [a for a in answers if a.sent >= window.down_at and a.answered <= window.back_at]
    refused = [a for a in inside if a.unavailable]
    other: dict[str, int] = defaultdict(int)
    for a in inside:
        if not a.unavailable and not (200 <= a.status < 300 and a.name == PROBE_CATALOG):
            other[f"{a.name} {a.status}"] += 1
    return DownProbe(
        answers=len(inside),
        ok=sum(1 for a in inside if 200 <= a.status < 300 and a.name == PROBE_CATALOG),
        refused_db=sum(1 for a in refused if a.name != PROBE_CATALOG),
        slowest_503_ms=max((a.ms for a in refused), default=0.0),
        other=dict(other),
    )


def probe_write_after(answers: Sequence[ProbeAnswer], t: float) -> float | None:
    """Seconds from `t` (PostgreSQL answering again) to the first successful write's answer."""
    done = [a.answered for a in answers if a.name == PROBE_WRITE and 200 <= a.status < 300 and a.answered >= t]
    return min(done) - t if done else None


@dataclass(frozen=True)
class Reservations:
    ok: int
    refused_with_stock: int
    hot_ok: int
    hot_refused: int
    refusals: dict[str, int] = field(default_factory=dict)  # the refused-with-stock ones by `status code`

    @property
    def rate(self) -> float:
        attempts = self.ok + self.refused_with_stock
        return self.ok / attempts if attempts else float("nan")


def reservations(log: Iterable[dict], windows: Sequence[Window], *, hot_taken: int, hot_stock: int) -> Reservations:
    """Orders where stock existed: every mix order (its offers never run out) and the hot SKU's
    while units were left (a refusal of it counts as a failure only if units were left at the
    end). Orders refused because a dependency was down (5xx in a fault window) are not counted."""
    orders = [e for e in log if e.get("event") == "order" and not (e["status"] >= 500 and _inside(e, windows))]
    mix_ok = sum(1 for e in orders if not e["hot"] and e["status"] == 201)
    mix_refused = sum(1 for e in orders if not e["hot"] and e["status"] != 201)
    hot_ok = sum(1 for e in orders if e["hot"] and e["status"] == 201)
    hot_refused = sum(1 for e in orders if e["hot"] and e["status"] != 201)
    left = hot_taken < hot_stock
    refused = [e for e in orders if e["status"] != 201 and (not e["hot"] or left)]
    by_answer: dict[str, int] = defaultdict(int)
    for e in refused:
        by_answer[f"{e['status']} {e.get('code') or ''}".strip()] += 1
    return Reservations(
        mix_ok + hot_ok, mix_refused + (hot_refused if left else 0), hot_ok, hot_refused, dict(by_answer)
    )


def _inside(event: dict, windows: Sequence[Window]) -> bool:
    return any(w.holds(event["t"]) for w in windows)


@dataclass(frozen=True)
class Knee:
    crossed: bool
    rate: float  # orders/s where p95 first exceeds the target, or the highest rate seen under it
    p95_ms: float
    requests_rate: float  # all requests/s in that bucket (the instance's load at the knee)
    users: int
    start: float = 0.0  # the bucket's time span (epoch seconds)
    end: float = 0.0


def knee(
    requests: Sequence[dict], windows: Sequence[Window], *, bucket: float, users_at: Callable[[float], int]
) -> Knee | None:
    """Order arrival rate against order p95 per `bucket` seconds (the warm-up and fault windows
    left out; the mix's orders, not the hot SKU's, mostly refusals once it sold out): the lowest
    rate from which every busier bucket's p95 is over 500 ms, else the highest rate seen (under it)."""
    if not requests:
        return None
    start = min(r["t"] for r in requests)
    buckets: dict[int, list[dict]] = defaultdict(list)
    for r in requests:
        if not _inside(r, windows) and r["t"] - start >= WARM_UP_SECONDS:
            buckets[int((r["t"] - start) // bucket)].append(r)
    points = []
    for index, found in buckets.items():
        orders = [r["ms"] for r in found if r["name"] == PROBE_WRITE]  # the mix's orders, not the hot SKU's
        if len(orders) >= 5:
            points.append((len(orders) / bucket, percentile(orders, 0.95), len(found) / bucket, index))
    if not points:
        return None
    busiest_first = sorted(points, reverse=True)
    crossed = list(itertools.takewhile(lambda p: p[1] > ORDER_P95_TARGET_MS, busiest_first))
    rate, p95, all_rate, index = crossed[-1] if crossed else busiest_first[0]
    at = start + index * bucket
    return Knee(bool(crossed), rate, p95, all_rate, users_at(index * bucket + bucket / 2), at, at + bucket)
