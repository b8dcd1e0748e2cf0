"""The load suite's smoke run (make test): `python -m loadtest --smoke` drives the dev host with
20 Locust users for 20 s (the full mix, no faults) on a database of its own, and every target it
prints passes: reservations, 0 oversold, a clean consistency report, 0 5xx, payments processed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ("reservations where stock existed", "oversold units", "consistency report", "5xx outside", "payments:")

pytestmark = pytest.mark.slow


def test_the_smoke_run_passes_every_target(server_url):
    env = os.environ | {"DATABASE_URL": server_url}
    done = subprocess.run(
        [sys.executable, "-m", "loadtest", "--smoke"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    output = done.stdout + done.stderr
    verdicts = [line for line in output.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert done.returncode == 0 and not [v for v in verdicts if v.startswith("FAIL")], output
    assert all(any(target in v for v in verdicts) for target in TARGETS), output
    assert "POST /api/orders " in output and "PUT /api/sellers/{seller}/offers/{variant}" in output, output
