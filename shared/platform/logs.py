"""Structured logs: one JSON object per line locally, the Functions logger in Azure.

Every record carries the invocation id, function name and user id of the invocation it
belongs to (context variables set by `shared.platform.http` / `shared.platform.jobs`). SQL is never logged
with parameter values. With APPLICATIONINSIGHTS_CONNECTION_STRING set, OpenTelemetry
(azure-monitor-opentelemetry) is configured on first use, not at import, to keep cold start
small.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from shared.platform.config import get_settings

LOGGER_NAME = "souq"
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
    if settings.log_format != "azure":  # in Azure the worker forwards records to the host
        logger.addHandler(_stream_handler(settings.log_format))
        logger.propagate = False
    if settings.applicationinsights_connection_string:
        _configure_telemetry(settings.applicationinsights_connection_string)


def _stream_handler(log_format: str) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(InvocationContextFilter())
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(invocation_id)s %(function_name)s %(user_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(invocation_id)s] %(name)s %(message)s"))
    return handler


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
