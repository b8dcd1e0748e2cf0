"""Settings the way the Functions host sees them.

* `local.settings.json` `Values` become environment variables, but never override a variable
  that is already set (Core Tools: the real environment wins).
* `host.json` is read by `shared.platform.hostjson` (the app reads it too).
* `%NAME%` binding expressions resolve from app settings (the environment).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

_EXPRESSION = re.compile(r"%([^%]+)%")


class SettingMissing(LookupError):
    """A `%NAME%` binding expression names an app setting that is not set."""

    def __init__(self, name: str, expression: str) -> None:
        super().__init__(f"app setting '{name}' (used by '{expression}') is not set")
        self.name = name


def read_local_settings(path: Path) -> dict[str, str]:
    """`Values` of local.settings.json as strings; empty when the file is absent."""
    if not path.is_file():
        return {}
    document = json.loads(path.read_text(encoding="utf-8-sig"))
    values = document.get("Values") or {}
    return {str(k): _setting_text(v) for k, v in values.items()}


def _setting_text(value: Any) -> str:
    # Core Tools hands every value to the worker as a string; JSON true -> "true".
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def apply_local_settings(values: Mapping[str, str], environ: MutableMapping[str, str]) -> list[str]:
    """Copy `values` into `environ` without overriding; returns the names it set."""
    applied = []
    for name, value in values.items():
        if name not in environ:
            environ[name] = value
            applied.append(name)
    return applied


def resolve_expression(value: str, environ: Mapping[str, str] = os.environ) -> str:
    """Replace each `%NAME%` with the app setting NAME; SettingMissing names the gap."""

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in environ:
            return environ[name]
        # the host's settings are case-insensitive (Windows heritage)
        found = next((v for k, v in environ.items() if k.lower() == name.lower()), None)
        if found is None:
            raise SettingMissing(name, value)
        return found

    return _EXPRESSION.sub(lookup, value)
