"""Cold start stays small: heavy SDKs load on first use, not when the worker imports the app.
(A module list, not a timing: bench/coldstart.py measures the milliseconds.)"""

import json
import subprocess
import sys

DEFERRED = ["psycopg", "psycopg_pool", "jwt", "cryptography", "redis", "azure.storage.queue", "azure.identity",
            "azure.monitor.opentelemetry", "phonenumbers", "email_validator", "pydantic_settings", "httpx"]


def test_importing_the_app_loads_none_of_the_heavy_sdks():
    script = f"import json, sys, function_app; print(json.dumps([m for m in {DEFERRED!r} if m in sys.modules]))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                       check=True).stdout)
    assert loaded == []
