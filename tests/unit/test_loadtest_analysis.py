"""The load suite's plan and judgement without a run: stages and fault windows scale with the
mode, and the figures and verdicts come out of a made-up request log as they should."""

from __future__ import annotations

import pytest

from loadtest import analysis
from loadtest.analysis import Window
from loadtest.plan import QUICK_SECONDS, Plan, plan_for, users_at
from loadtest.report import Outcome, render


def test_quick_is_the_full_run_in_three_minutes_with_the_same_users():
    quick, full = plan_for("quick"), plan_for("full")
    assert quick.seconds == QUICK_SECONDS and quick.stages[-1].end == QUICK_SECONDS
    assert [s.users for s in full.stages] == [100, 100, 200, 200, 200]  # seed 004
    assert [s.users for s in quick.stages] == [s.users for s in full.stages]
    assert [s.users for s in plan_for("quick", peak=100).stages] == [50, 50, 100, 100, 100]
    assert [s.hot for s in quick.stages] == [False, False, False, False, True]
    ratio = full.seconds / quick.seconds
    assert [f.start for f in full.faults] == [pytest.approx(f.start * ratio, abs=0.5) for f in quick.faults]


def test_faults_fall_inside_the_holds_and_never_in_the_hot_phase():
    plan = plan_for("quick")
    for fault in plan.faults:
        stage = plan.stage_at(fault.start)
        assert stage is not None and stage.name.startswith("hold") and fault.end < plan.stages[-1].end - 40
    assert plan_for("quick", faults=False).faults == [] and plan_for("smoke").faults == []


def test_users_ramp_linearly_and_hold():
    plan = plan_for("quick", peak=200)
    assert [users_at(plan, t) for t in (0, 15, 30, 45, 75, 100, 179)] == [0, 49, 100, 100, 149, 200, 200]


def test_the_plan_travels_as_json():
    plan = plan_for("quick")
    assert Plan.from_json(plan.to_json()) == plan


def req(t: float, name: str, status: int = 200, ms: float = 10.0, **extra) -> dict:
    return {"t": t, "name": name, "status": status, "ms": ms} | extra


def test_failures_inside_a_window_or_its_grace_are_not_outside():
    pg = Window("postgresql", 100.0, 110.0)  # + 5 s grace
    log = [req(105, "POST /api/orders", 503, retry_after="5"), req(114, "GET /x", 503), req(116, "GET /x", 500)]
    assert [r["t"] for r in analysis.failures_outside(log, [pg])] == [116]
    assert analysis.window_counts(log, pg)["503 with Retry-After"] == 1
    assert analysis.window_counts(log, pg)["other 5xx"] == 1


def answer(sent: float, name: str, status: int, ms: float = 20.0, *, named: str | None = "postgresql"):
    unavailable = status == 503
    return analysis.ProbeAnswer(
        name, sent, sent + ms / 1000, status, "5" if unavailable else None, named if unavailable else None, unavailable
    )


def test_the_probe_judges_postgresql_down_on_its_own_answers():
    pg = Window("postgresql", 100.0, 106.0)
    probe = [answer(100.5, analysis.PROBE_WRITE, 503), answer(101, analysis.PROBE_READ, 503)]
    probe += [answer(101.5, analysis.PROBE_CATALOG, 200), answer(105.99, analysis.PROBE_WRITE, 503)]  # ends after
    down = analysis.probe_while_down(probe, pg)
    assert (down.answers, down.refused_db, down.ok, down.other, down.holds) == (3, 2, 1, {}, True)
    longer = Window("postgresql", 100.0, 110.0)
    slow = analysis.probe_while_down([*probe, answer(102, analysis.PROBE_WRITE, 503, ms=5000)], longer)
    assert not slow.holds  # waited for the pool timeout: the app did not know sooner
    unnamed = analysis.probe_while_down([*probe, answer(102, analysis.PROBE_READ, 503, named=None)], pg)
    assert unnamed.other == {"GET /api/threads 503": 1} and not unnamed.holds
    assert not analysis.probe_while_down([answer(101, analysis.PROBE_CATALOG, 200)], pg).holds  # no evidence


def test_the_first_probe_write_after_postgresql_is_back():
    probe = [answer(105, analysis.PROBE_WRITE, 503), answer(109, analysis.PROBE_READ, 200)]
    probe += [answer(113, analysis.PROBE_WRITE, 201, ms=500), answer(115, analysis.PROBE_WRITE, 201)]
    assert analysis.probe_write_after(probe, 110.0) == pytest.approx(3.5)
    assert analysis.probe_write_after(probe, 120.0) is None


def order(t: float, status: int, *, hot: bool = False, code: str | None = None) -> dict:
    return {"t": t, "event": "order", "status": status, "hot": hot, "code": code}


def test_hot_refusals_count_only_while_units_were_left():
    log = [order(1, 201), order(2, 201, hot=True), order(3, 409, hot=True, code="insufficient_stock")]
    sold_out = analysis.reservations(log, [], hot_taken=1, hot_stock=1)
    assert (sold_out.ok, sold_out.refused_with_stock, sold_out.rate) == (2, 0, 1.0)
    left = analysis.reservations(log, [], hot_taken=1, hot_stock=5)
    assert left.refused_with_stock == 1 and left.refusals == {"409 insufficient_stock": 1}


def test_orders_refused_while_a_dependency_was_down_are_not_reservation_failures():
    log = [order(1, 201), order(105, 503), order(200, 503)]
    counted = analysis.reservations(log, [Window("postgresql", 100, 106)], hot_taken=0, hot_stock=10)
    assert (counted.ok, counted.refused_with_stock) == (1, 1)


def orders_at(start: float, per_second: int, ms: float) -> list[dict]:
    """5 s of orders at `per_second`, each taking `ms`."""
    return [req(start + i / per_second, "POST /api/orders", 201, ms=ms) for i in range(5 * per_second)]


def test_the_knee_is_where_p95_crosses_500_ms_for_good():
    warm_up = orders_at(0, 4, 3000)  # cold pools: left out
    log = warm_up + orders_at(10, 2, 50) + orders_at(15, 3, 800) + orders_at(20, 4, 90) + orders_at(25, 6, 700)
    log += orders_at(30, 8, 900) + [req(36 + i / 20, "POST /api/orders (hot)", 409, ms=10) for i in range(100)]
    knee = analysis.knee(log, [], bucket=5.0, users_at=lambda t: 7)  # the hot SKU's refusals do not count
    assert knee is not None and knee.crossed and (knee.rate, knee.p95_ms, knee.users) == (6.0, 700, 7)
    calm = analysis.knee(orders_at(0, 1, 1) + orders_at(10, 2, 50), [], bucket=5.0, users_at=lambda t: 3)
    assert calm is not None and not calm.crossed and calm.rate == 2.0


def test_the_printout_passes_a_clean_run_and_fails_a_5xx():
    log = [req(1, "GET /api/categories"), order(2, 201), {"t": 3, "event": "approved", "order": "o", "webhook": 200}]
    reservations = analysis.reservations(log, [], hot_taken=0, hot_stock=1)
    outcome = Outcome([], reservations, 0, 0, 1, 1, 100.0, None, messages={"posted": 1}, probe=[])
    lines, failed = render(log, outcome)
    assert failed == 0 and any("messages task: {'posted': 1}" in line for line in lines)
    lines, failed = render([*log, req(4, "GET /api/products?q=", 500)], outcome)
    assert failed == 1 and any(line.startswith("FAIL  5xx outside") for line in lines)


def test_payments_paid_only_after_the_sweep_pass_and_say_so():
    log = [order(2, 201), {"t": 3, "event": "approved", "order": "o", "webhook": 200}]
    reservations = analysis.reservations(log, [], hot_taken=0, hot_stock=1)
    outcome = Outcome([], reservations, 0, 0, 3, 3, 100.0, None, messages={}, probe=[], paid_by_sweep=2)
    lines, failed = render(log, outcome)
    assert failed == 0 and any("3 of 3 approved" in line and "2 only once the payment sweep" in line for line in lines)
