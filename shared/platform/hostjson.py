"""host.json as the Functions host reads it: app settings named `AzureFunctionsJobHost__a__b`
(or `AzureFunctionsJobHost:a:b`) override `a.b` (case-insensitive keys), as the host's
configuration provider does. One reader for the dev host and the app (the consumer needs
`maxDequeueCount` to know which attempt the host poisons a message after)."""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

HOST_JSON = Path(__file__).resolve().parents[2] / "host.json"
HOST_OVERRIDE_PREFIX = "azurefunctionsjobhost"
_TIMESPAN = re.compile(
    r"^(?P<sign>-)?(?:(?P<days>\d+)\.)?(?P<h>\d{1,2}):(?P<m>\d{1,2})"
    r"(?::(?P<s>\d{1,2})(?:\.(?P<frac>\d{1,7}))?)?$"
)


def read_host_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {"version": "2.0"}
    return json.loads(path.read_text(encoding="utf-8-sig"))


def apply_host_overrides(config: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """A copy of `config` with every `AzureFunctionsJobHost__x__y` setting applied."""
    result = copy.deepcopy(dict(config))
    for name, value in sorted(environ.items()):
        parts = re.split(r"__|:", name)
        if len(parts) < 2 or parts[0].lower() != HOST_OVERRIDE_PREFIX:
            continue
        _set_path(result, parts[1:], value)
    return result


def _set_path(node: dict[str, Any], keys: list[str], value: str) -> None:
    for key in keys[:-1]:
        actual = _find_key(node, key) or key
        if not isinstance(node.get(actual), dict):
            node[actual] = {}
        node = node[actual]
    node[_find_key(node, keys[-1]) or keys[-1]] = value


def _find_key(node: Mapping[str, Any], key: str) -> str | None:
    return next((k for k in node if k.lower() == key.lower()), None)


def config_get(config: Mapping[str, Any], *path: str, default: Any = None) -> Any:
    """Case-insensitive nested lookup, like .NET configuration keys."""
    node: Any = config
    for key in path:
        if not isinstance(node, Mapping):
            return default
        actual = _find_key(node, key)
        if actual is None:
            return default
        node = node[actual]
    return node


def parse_timespan(value: Any) -> timedelta:
    """A .NET TimeSpan string: `[d.]hh:mm[:ss[.fffffff]]`, or a bare number of days."""
    text = str(value).strip()
    if text.isdigit():
        return timedelta(days=int(text))  # TimeSpan.Parse("2") is two days, not seconds
    match = _TIMESPAN.match(text)
    if not match:
        raise ValueError(f"'{value}' is not a TimeSpan (expected hh:mm:ss)")
    parts = match.groupdict()
    span = timedelta(
        days=int(parts["days"] or 0),
        hours=int(parts["h"]),
        minutes=int(parts["m"]),
        seconds=int(parts["s"] or 0),
        microseconds=int((parts["frac"] or "0").ljust(7, "0")) // 10,
    )
    return -span if parts["sign"] else span


def _as_int(value: Any, name: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"host.json {name} must be an integer, got '{value}'") from None


@dataclass(frozen=True)
class QueueOptions:
    """`extensions.queues` of host.json with the host's defaults."""

    batch_size: int = 16
    new_batch_threshold: int = 8
    max_polling_interval: timedelta = timedelta(minutes=1)
    visibility_timeout: timedelta = timedelta(0)
    max_dequeue_count: int = 5
    message_encoding: str = "base64"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> QueueOptions:
        def get(key: str) -> Any:
            return config_get(config, "extensions", "queues", key)

        batch = _as_int(get("batchSize") or 16, "batchSize")
        if not 1 <= batch <= 32:  # the storage service hands out at most 32 per receive
            raise ValueError(f"host.json batchSize must be 1..32, got {batch}")
        threshold = get("newBatchThreshold")
        threshold = batch // 2 if threshold is None else _as_int(threshold, "newBatchThreshold")
        encoding = str(get("messageEncoding") or "base64").lower()
        if encoding not in ("base64", "none"):
            raise ValueError(f"host.json messageEncoding must be base64 or none, got {encoding}")
        return cls(
            batch_size=batch,
            new_batch_threshold=threshold,
            max_polling_interval=parse_timespan(get("maxPollingInterval") or "00:01:00"),
            visibility_timeout=parse_timespan(get("visibilityTimeout") or "00:00:00"),
            max_dequeue_count=_as_int(get("maxDequeueCount") or 5, "maxDequeueCount"),
            message_encoding=encoding,
        )


@dataclass(frozen=True)
class HostConfig:
    raw: dict[str, Any]
    route_prefix: str
    queues: QueueOptions
    function_timeout: timedelta | None

    @classmethod
    def from_dict(cls, config: Mapping[str, Any], environ: Mapping[str, str]) -> HostConfig:
        raw = apply_host_overrides(config, environ)
        prefix = config_get(raw, "extensions", "http", "routePrefix", default="api")
        timeout = config_get(raw, "functionTimeout")
        span = parse_timespan(timeout) if timeout not in (None, "", "-1") else None
        return cls(
            raw=raw,
            route_prefix=str(prefix).strip("/"),
            queues=QueueOptions.from_config(raw),
            function_timeout=span if span and span > timedelta(0) else None,
        )

    @classmethod
    def load(cls, path: Path, environ: Mapping[str, str] = os.environ) -> HostConfig:
        return cls.from_dict(read_host_json(path), environ)
