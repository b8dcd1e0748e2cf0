"""Cold start: what importing the app costs on top of the Functions SDK.

    python -m bench.coldstart [--runs 7]

Runs `python -X importtime -c "import function_app"` and the same for `azure.functions`
alone, several times each, interleaved (the machine is shared: interleaving keeps drift out
of the difference), and prints the medians and the difference. Target: ≤ 250 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 250.0


def import_time_ms(module: str) -> tuple[float, list[tuple[int, str]]]:
    """Cumulative import time of `module` in a fresh interpreter, and its direct imports by cost."""
    env = os.environ | {"PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    entries = []  # (cumulative µs, nesting depth, name)
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, raw_name = line[len("import time:") :].split("|")
        depth = (len(raw_name) - len(raw_name.lstrip())) // 2
        entries.append((int(cumulative), depth, raw_name.strip()))
    total = next(us for us, _, name in entries if name == module)
    direct = [(us, name) for us, depth, name in entries if depth == 1]
    return total / 1000, sorted(direct, reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    sdk, app = [], []
    for _ in range(args.runs):
        sdk.append(import_time_ms("azure.functions")[0])
        total, breakdown = import_time_ms("function_app")
        app.append(total)
    sdk_ms, app_ms = statistics.median(sdk), statistics.median(app)
    print(f"import azure.functions : {sdk_ms:8.1f} ms (median of {args.runs})")
    print(f"import function_app    : {app_ms:8.1f} ms (median of {args.runs})")
    verdict = "within" if app_ms - sdk_ms <= TARGET_MS else "OVER"
    print(f"function_app adds      : {app_ms - sdk_ms:8.1f} ms  ({verdict} the {TARGET_MS:.0f} ms target)")
    print("largest direct imports of function_app (last run):")
    for us, name in breakdown[:8]:
        print(f"  {us / 1000:8.1f} ms  {name}")


if __name__ == "__main__":
    main()
