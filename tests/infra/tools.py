"""The checkov tool venv (.venv-infra), created from requirements-infra.txt on first use.

checkov pins dozens of packages that conflict with the app's (requirements-dev.txt), so it
gets its own virtualenv; the marker file records which requirements it was built from.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INFRA_VENV = ROOT / ".venv-infra"
REQUIREMENTS = ROOT / "requirements-infra.txt"
MARKER = INFRA_VENV / ".installed"


def checkov_executable() -> Path:
    """Path to checkov in the tool venv, (re)building the venv when the requirements changed."""
    wanted = REQUIREMENTS.read_text()
    if not (MARKER.exists() and MARKER.read_text() == wanted):
        print(f"[souq] installing checkov into {INFRA_VENV.name} (requirements-infra.txt)", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(INFRA_VENV)
        subprocess.run(
            [
                str(INFRA_VENV / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                str(REQUIREMENTS),
            ],
            check=True,
        )
        MARKER.write_text(wanted)
    return INFRA_VENV / "bin" / "checkov"


def run_checkov() -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(checkov_executable()), "-d", "infra", "--framework", "bicep", "--skip-download", "--compact"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
