"""Logs: one format per destination, chosen by LOG_FORMAT.

- `auto` (the default): readable lines when stderr is a terminal (`make run`), one JSON object
  per line when it is not (a file, a pipe, a log collector) or when running in Azure.
- `text` / `json`: that format, wherever the lines go.
- `azure`: no handler of ours; the worker forwards records to the Functions host.

The dev host formats its own lines with the same choice (`console_handler`), so a console
never mixes plain lines and JSON. Every record carries the invocation id, function name and
user id of the invocation it belongs to (context variables set by `shared.platform.http` /
`shared.platform.jobs`). SQL is never logged with parameter values. With
APPLICATIONINSIGHTS_CONNECTION_STRING set, OpenTelemetry (azure-monitor-opentelemetry) is
configured on first use, not at import, to keep cold start small.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from typing import TextIO

from shared.platform.config import get_settings

LOGGER_NAME = "souq"
# Set by App Service / Functions on every instance in Azure, never locally.
AZURE_MARKER = "WEBSITE_INSTANCE_ID"
READABLE_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)-7s %(name)s: %(message)s"
READABLE_TIME = "%H:%M:%S"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(invocation_id)s %(function_name)s %(user_id)s"
invocation_id_var: ContextVar[str | None] = ContextVar("invocation_id", default=None)
function_name_var: ContextVar[str | None] = ContextVar("function_name", default=None)
user_id_var: ContextVar[str | None] = ContextVar("user_id", default=None)

_configured = False


class InvocationContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.invocation_id = invocation_id_var.get()
        record.function_name = function_name_var.get()
        record.user_id = user_id_var.get()
        return True


def get_logger(name: str = "") -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)


def configure_logging() -> None:
    """Idempotent; called on the first invocation of any function."""
    global _configured
    if _configured:
        return
    _configured = True
    settings = get_settings()
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(settings.log_level.upper())
    logger.addFilter(InvocationContextFilter())
    log_format = choose_format(settings.log_format)
    if log_format != "azure":  # in Azure the worker forwards records to the host
        logger.addHandler(console_handler(log_format))
        logger.propagate = False
    if settings.applicationinsights_connection_string:
        _configure_telemetry(settings.applicationinsights_connection_string)


def choose_format(setting: str, *, stream: TextIO | None = None, environ: Mapping[str, str] = os.environ) -> str:
    """The format for lines written to `stream` (default stderr): `auto` becomes `text` on a
    terminal and `json` elsewhere or in Azure; any other setting is taken as given."""
    if setting != "auto":
        return setting
    if environ.get(AZURE_MARKER):
        return "json"
    return "text" if _is_terminal(stream or sys.stderr) else "json"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def console_handler(log_format: str, stream: TextIO | None = None) -> logging.Handler:
    """A stderr handler writing `json` objects or, for any other format, readable lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(InvocationContextFilter())
    handler.setFormatter(_json_formatter() if log_format == "json" else ReadableFormatter())
    return handler


def _json_formatter() -> logging.Formatter:
    from pythonjsonlogger.core import RESERVED_ATTRS
    from pythonjsonlogger.json import JsonFormatter

    renamed = {"asctime": "time", "levelname": "level", "name": "logger"}
    # uvicorn adds its message again with terminal colour codes: not a field anyone wants
    return JsonFormatter(JSON_FIELDS, rename_fields=renamed, reserved_attrs=[*RESERVED_ATTRS, "color_message"])


class ReadableFormatter(logging.Formatter):
    """`14:28:10.139 INFO    souq.http: GET /api/me -> 200 (3.1 ms) [6496e81d]`: the time, level,
    logger and message, then the duration and the invocation id's first block when known."""

    def __init__(self) -> None:
        super().__init__(READABLE_FORMAT, datefmt=READABLE_TIME)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        duration = getattr(record, "duration_ms", None)
        if duration is not None:
            line += f" ({duration} ms)"
        invocation_id = getattr(record, "invocation_id", None)
        if invocation_id:
            line += f" [{str(invocation_id).split('-')[0]}]"
        return line


def _configure_telemetry(connection_string: str) -> None:
    from azure.monitor.opentelemetry import configure_azure_monitor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    options = {}
    client_id = get_settings().azure_client_id
    if client_id:
        # Application Insights has local (key) auth disabled in Azure: the app's identity signs in.
        from azure.identity import ManagedIdentityCredential

        options["credential"] = ManagedIdentityCredential(client_id=client_id)
    configure_azure_monitor(connection_string=connection_string, logger_name=LOGGER_NAME, **options)
    # Spans carry the statement text with placeholders, never parameter values.
    PsycopgInstrumentor().instrument(enable_commenter=False)
    RedisInstrumentor().instrument()
