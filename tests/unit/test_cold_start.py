"""Cold start stays small: heavy SDKs load on first use, not when the worker imports the app,
and no app model builds its validator at import. (Structure, not timing: bench/coldstart.py
measures the milliseconds.)"""

import json
import subprocess
import sys

DEFERRED = [
    "psycopg",
    "psycopg_pool",
    "jwt",
    "cryptography",
    "redis",
    "azure.storage.queue",
    "azure.identity",
    "azure.monitor.opentelemetry",
    "phonenumbers",
    "pydantic_settings",
    "httpx",
]


def test_importing_the_app_loads_none_of_the_heavy_sdks():
    script = f"import json, sys, function_app; print(json.dumps([m for m in {DEFERRED!r} if m in sys.modules]))"
    loaded = json.loads(
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    )
    assert loaded == []


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_app_model_builds_its_validator_on_first_use_not_at_import():
    from pydantic import BaseModel

    import function_app  # noqa: F401 - registers every module's models
    from shared.platform.base_model import AppModel

    ours = [
        m
        for m in _subclasses(BaseModel)
        if m.__module__.startswith(("shared.", "functions.")) and m.__module__ != "shared.platform.settings_model"
    ]
    assert len(ours) > 50
    assert [m.__qualname__ for m in ours if not issubclass(m, AppModel)] == []
    assert AppModel.model_config.get("defer_build") is True
