"""The suite's printout: p50/p95 per endpoint, each fault window with its counts, the order
knee against the database floor, and one PASS/FAIL line per target."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from loadtest import analysis
from loadtest.analysis import Knee, ProbeAnswer, Reservations, Verdicts, Window
from loadtest.capacity import Capacity, capacity_lines, load_verdict, mean_busy
from loadtest.cpu import CpuSample


@dataclass(frozen=True)
class Outcome:
    """What the run found besides the request log."""

    windows: list[Window]
    reservations: Reservations
    oversold: int
    violations: int | None  # None: the consistency report could not be read
    approved: int
    paid: int
    floor_rate: float | None  # orders/s of bench.orders' floor (pgbench, the app's SQL)
    knee: Knee | None
    messages: dict[str, int]  # the messages task's steps: how many of each were done
    probe: list[ProbeAnswer]  # the PostgreSQL fault's probe (loadtest.probe)
    cpu: list[CpuSample] = field(default_factory=list)  # loadtest.cpu
    capacity: Capacity | None = None
    peak_users: int | None = None  # None: the smoke run (its 20 users are not a load to judge)
    paid_by_sweep: int = 0  # PAID only after the payment sweep queued their events again


def endpoint_table(requests: Sequence[dict]) -> list[str]:
    lines = [f"{'endpoint':<48} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'non-2xx':>8}  first non-2xx"]
    refusals = analysis.first_refusals(requests)
    for name, count, p50, p95, bad in analysis.per_endpoint(requests):
        lines.append(f"{name:<48} {count:>8} {p50:>8.0f} {p95:>8.0f} {bad:>8}  {refusals.get(name, '')}")
    return lines


def window_lines(
    requests: Sequence[dict], windows: Sequence[Window], probe: Sequence[ProbeAnswer], verdicts: Verdicts
) -> list[str]:
    lines = []
    for w in sorted(windows, key=lambda w: w.down_at):
        counts = analysis.window_counts(requests, w)
        lines.append(
            f"fault {w.kind}: down {w.back_at - w.down_at:.1f} s (+{w.until - w.back_at:g} s after) · {counts}"
        )
        if w.kind == "redis":
            verdicts.check(
                counts["other 5xx"] + counts["503 with Retry-After"] + counts["connection errors"] == 0,
                "Redis killed: no failed request (the cache is bypassed)",
            )
        elif w.kind == "postgresql":
            lines += postgresql_verdicts(counts, w, probe, verdicts)
    return lines


def postgresql_verdicts(
    counts: dict[str, int], window: Window, probe: Sequence[ProbeAnswer], verdicts: Verdicts
) -> list[str]:
    """Judged on the probe's answers; the users' requests in the window may not fail otherwise."""
    down = analysis.probe_while_down(probe, window)
    users_failed = counts["other 5xx"] + counts["connection errors"]
    verdicts.check(
        down.holds and users_failed == 0,
        f"PostgreSQL down: every failure is a 503 with Retry-After (probe: {down.refused_db} of "
        f"{down.answers} answers while down were 503 naming postgresql, slowest {down.slowest_503_ms:.0f} ms "
        f"(< {analysis.POOL_TIMEOUT_MS:.0f}); {down.ok} catalog reads 200 from the cache; "
        f"other: {down.other or 'none'}; users' requests in the window: {users_failed} other 5xx or connection errors)",
    )
    back = analysis.probe_write_after(probe, window.back_at)
    verdicts.check(
        back is not None and back <= analysis.POSTGRES_BACK_WITHIN_SECONDS,
        f"PostgreSQL back: the probe's first write succeeded {_seconds(back)} after it answered again (target ≤ 5 s)",
    )
    return [f"postgresql probe (sent +s from back: status, ms): {probe_timeline(probe, window.back_at)}"]


def probe_timeline(probe: Sequence[ProbeAnswer], back_at: float) -> str:
    """The probe's writes, as evidence: when each was sent relative to PostgreSQL answering
    again, what it got and how long it took."""
    writes = [a for a in probe if a.name == analysis.PROBE_WRITE]
    return ", ".join(f"{a.sent - back_at:+.1f}: {a.status} {a.ms:.0f}" for a in writes[:30]) or "no answers"


def webhook_lines(log: Sequence[dict], windows: Sequence[Window], outcome: Outcome, verdicts: Verdicts) -> None:
    for w in (w for w in windows if w.kind == "azurite"):
        statuses = [e.get("webhook") for e in log if e.get("event") == "approved" and w.holds(e["t"])]
        refused = sum(1 for s in statuses if s == 503)
        other = sum(1 for s in statuses if s is not None and s != 503 and not 200 <= s < 300)
        verdicts.check(
            other == 0, f"Azurite down: webhook intake answered 503 ({refused} of {len(statuses)}), no other error"
        )
    swept = f"; {outcome.paid_by_sweep} only once the payment sweep queued their events again"
    verdicts.check(
        outcome.paid == outcome.approved,
        f"payments: {outcome.paid} of {outcome.approved} approved orders PAID after the run "
        f"(nothing lost{swept if outcome.paid_by_sweep else ''})",
    )


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f} s"


def knee_line(knee: Knee | None, floor_rate: float | None, cpu: Sequence[CpuSample] = ()) -> str:
    if knee is None:
        return "order knee: not enough orders to tell"
    fraction = f" = {knee.rate / floor_rate:.3f} × the database floor ({floor_rate:.0f} orders/s)" if floor_rate else ""
    where = "crosses 500 ms at" if knee.crossed else "stays under 500 ms up to"
    busy = mean_busy(cpu, knee.start, knee.end)
    machine = f" · the machine's CPU {busy:.2f} cores busy then" if busy is not None else ""
    return (
        f"order p95 {where} {knee.rate:.1f} orders/s{fraction} · p95 {knee.p95_ms:.0f} ms · "
        f"{knee.requests_rate:.1f} requests/s on this one instance · {knee.users} users{machine}"
    )


def render(log: Sequence[dict], outcome: Outcome) -> tuple[list[str], int]:
    """The printout and how many targets failed."""
    requests = analysis.requests_of(log)
    verdicts = Verdicts()
    lines = [*endpoint_table(requests), "", *window_lines(requests, outcome.windows, outcome.probe, verdicts)]
    if outcome.messages:
        lines.append(f"messages task: {outcome.messages}")
    lines.append(knee_line(outcome.knee, outcome.floor_rate, outcome.cpu))
    lines += capacity_lines(outcome.capacity)
    r = outcome.reservations
    verdicts.check(
        r.rate > analysis.SUCCESS_TARGET,
        f"reservations where stock existed: {r.rate:.4%} ({r.ok} placed, {r.refused_with_stock} refused; "
        f"hot SKU {r.hot_ok} placed, {r.hot_refused} refused after it sold out) (target > 99.9 %)"
        + (f"; refusals: {r.refusals}" if r.refusals else ""),
    )
    verdicts.check(outcome.oversold == 0, f"oversold units: {outcome.oversold} (target 0)")
    verdicts.check(outcome.violations == 0, f"consistency report after the run: {outcome.violations} violations")
    outside = analysis.failures_outside(requests, outcome.windows)
    verdicts.check(
        not outside,
        f"5xx outside fault windows: {len(outside)} (target 0)"
        + (f"; first: {outside[0]['name']} {outside[0]['status']}" if outside else ""),
    )
    webhook_lines(log, outcome.windows, outcome, verdicts)
    if outcome.peak_users is not None:
        verdicts.check(*load_verdict(outcome.peak_users, outcome.capacity))
    return [*lines, "", *verdicts.lines], verdicts.failed
