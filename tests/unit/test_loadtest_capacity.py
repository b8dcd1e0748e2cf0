"""The load suite's machine figures without a run: from made-up CPU samples and requests, the
CPU each request cost, what other processes left, and what seed 004's 200 users would take."""

from __future__ import annotations

import pytest

from loadtest.capacity import capacity, capacity_lines, load_verdict, mean_busy
from loadtest.cpu import CpuSample


def test_capacity_from_the_samples_and_the_requests():
    # 10 s of 50 requests/s from 20 users; the dev host took 0.5 core, Locust 0.25, and the
    # machine was 1.75 of 2 cores busy: other processes took 1 core.
    requests = [{"t": 100 + i / 50} for i in range(500)]
    samples = [CpuSample(100 + s, 1.75, {"dev host": 0.5, "Locust": 0.25}) for s in range(11)]
    found = capacity(samples, requests, 2, users_at=lambda t: 20)
    assert found is not None
    assert found.ms_per_request == pytest.approx({"dev host": 10.0, "Locust": 5.0}, rel=0.01)
    assert found.others == pytest.approx(1.0)
    assert found.carried_rps == pytest.approx(1.0 / 0.015, rel=0.01)  # the one core left, 15 ms each
    assert found.per_user_rps == pytest.approx(500 / (20 * 9), rel=0.01)
    assert found.seed_cores == pytest.approx(found.seed_rps * 0.015 + 1.0, rel=0.01)
    assert "would take" in capacity_lines(found)[1]


def test_no_samples_no_figures():
    assert capacity([], [{"t": 1}], 2, users_at=lambda t: 1) is None
    assert capacity_lines(None) == ["CPU: no samples (not Linux, or no load)"]
    assert mean_busy([CpuSample(5, 1.5, {})], 0, 10) == 1.5 and mean_busy([], 0, 10) is None


def test_a_load_below_the_seed_passes_only_when_the_machine_cannot_carry_the_seed():
    requests = [{"t": 100 + i / 50} for i in range(500)]
    busy = [CpuSample(100 + s, 1.75, {"dev host": 0.5, "Locust": 0.25}) for s in range(11)]
    found = capacity(busy, requests, 2, users_at=lambda t: 20)  # 200 users would take ~9 cores
    assert load_verdict(200, None)[0] and load_verdict(100, found)[0]
    assert not load_verdict(100, None)[0]
    idle = [CpuSample(100 + s, 0.3, {"dev host": 0.02, "Locust": 0.01}) for s in range(11)]
    light = capacity(idle, requests, 2, users_at=lambda t: 20)  # 200 users: about half a core
    assert light is not None and light.seed_cores < 2 and not load_verdict(100, light)[0]
