"""A console a person can read: one log format per destination, and idle timer runs at debug."""

import contextlib
import io
import json
import logging
from collections.abc import Iterator

import pytest

from shared.platform import jobs, logs


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("setting", "stream", "environ", "chosen"),
    [
        ("auto", Terminal(), {}, "text"),  # make run in a terminal
        ("auto", io.StringIO(), {}, "json"),  # a file or a pipe: a collector reads it
        ("auto", Terminal(), {"WEBSITE_INSTANCE_ID": "abc"}, "json"),  # in Azure
        ("text", io.StringIO(), {}, "text"),  # asked for
        ("json", Terminal(), {}, "json"),  # asked for
        ("azure", Terminal(), {}, "azure"),  # the Functions logger's business
    ],
)
def test_the_format_follows_the_setting_and_the_destination(setting, stream, environ, chosen):
    assert logs.choose_format(setting, stream=stream, environ=environ) == chosen


def test_a_closed_or_plain_stream_is_no_terminal():
    closed = io.StringIO()
    closed.close()
    assert logs.choose_format("auto", stream=closed, environ={}) == "json"


def emit(log_format: str, **extra) -> str:
    stream = io.StringIO()
    logger = logging.getLogger("souq.test_console_logs")
    logger.addHandler(handler := logs.console_handler(log_format, stream))
    logger.propagate, logger.level = False, logging.INFO
    token = logs.invocation_id_var.set("6496e81d-453b-48a0-a9e9-417d40ff118e")
    try:
        logger.info("GET %s -> %s", "/api/me", 200, extra=extra)
    finally:
        logs.invocation_id_var.reset(token)
        logger.removeHandler(handler)
    return stream.getvalue()


def test_readable_lines_carry_time_level_logger_message_duration_and_short_invocation_id():
    line = emit("text", duration_ms=3.1).rstrip("\n")
    time, rest = line.split(" ", 1)
    assert len(time) == len("14:28:10.139") and time[2] == ":" and "\n" not in line
    assert rest == "INFO    souq.test_console_logs: GET /api/me -> 200 (3.1 ms) [6496e81d]"


def test_json_lines_are_one_object_with_the_context_and_without_uvicorns_colour_copy():
    record = json.loads(emit("json", duration_ms=3.1, color_message="\x1b[36mGET\x1b[0m"))
    assert record["message"] == "GET /api/me -> 200" and record["level"] == "INFO"
    assert record["invocation_id"] == "6496e81d-453b-48a0-a9e9-417d40ff118e" and record["duration_ms"] == 3.1
    assert "color_message" not in record


@pytest.mark.parametrize(
    ("summary", "idle"),
    [
        ({"sent": 0}, True),
        ({"orders_expired": 0, "orphan_units_released": 0, "batches": 0}, True),
        ({"missing": [], "note": "", "last": None, "by_kind": {"a": 0}}, True),
        ({}, True),
        ({"sent": 3}, False),
        ({"orders_expired": 0, "batches": 1}, False),
        ({"by_kind": {"a": 0, "b": 2}}, False),
        ({"ok": False}, False),  # a flag is news, not a count
        ({"outcome": "processed"}, False),
        (None, False),  # no summary: nothing says the run was idle
        (0, False),
    ],
)
def test_a_run_did_nothing_when_every_count_is_zero_and_every_list_empty(summary, idle):
    assert jobs.did_nothing(summary) is idle


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def collected(logger_name: str) -> Iterator[list[logging.LogRecord]]:
    """Every record of `logger_name`, debug included, while the block runs."""
    handler, logger = Collect(), logging.getLogger(logger_name)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


@pytest.fixture
def job_records(monkeypatch):
    monkeypatch.setattr(logs, "configure_logging", lambda: None)  # no settings needed here
    with collected("souq.jobs") as records:
        yield records


@pytest.mark.parametrize(("sent", "level"), [(0, logging.DEBUG), (4, logging.INFO)])
async def test_a_timer_run_that_did_nothing_logs_at_debug(job_records, sent, level):
    @jobs.background_job
    async def relay_outbox(timer: object, context: object) -> dict:
        return {"sent": sent}

    await relay_outbox(timer=None, context=None)
    [record] = job_records
    assert record.levelno == level and record.getMessage() == f"relay_outbox finished: {{'sent': {sent}}}"


@pytest.mark.parametrize(
    ("setting", "formatter"),
    [("json", "JsonFormatter"), ("text", "ReadableFormatter"), ("azure", "ReadableFormatter")],
)
def test_the_dev_host_writes_its_own_lines_in_the_apps_format(monkeypatch, setting, formatter):
    from devhost.__main__ import configure_console

    calls = []
    monkeypatch.setattr(logging, "basicConfig", lambda **kwargs: calls.append(kwargs))
    monkeypatch.setattr("sys.stderr", Terminal())  # azure: the dev host is that logger; auto picks text
    configure_console({"LOG_FORMAT": setting})
    [handler] = calls[0]["handlers"]
    assert type(handler.formatter).__name__ == formatter


def test_the_default_is_auto():
    from shared.platform.settings_model import Settings

    assert Settings.model_fields["log_format"].default == "auto"


@pytest.mark.parametrize(("scheduled", "levels"), [(True, [logging.DEBUG] * 2), (False, [logging.INFO] * 2)])
async def test_the_dev_host_leaves_a_scheduled_runs_outcome_to_the_app(scheduled, levels):
    from datetime import UTC, datetime

    import azure.functions as func

    from devhost.host import DevHost
    from shared.platform.hostjson import HostConfig

    app = func.FunctionApp()

    @app.timer_trigger(schedule="*/10 * * * * *", arg_name="timer")
    async def tick(timer: func.TimerRequest) -> None:
        return None

    host = DevHost(app, HostConfig.from_dict({}, {}), environ={}, enable_timers=False, enable_queues=False)
    with collected("devhost.invoke") as records:
        await host.run_timer(host.specs[0], datetime.now(UTC) if scheduled else None, past_due=False)
    assert [r.levelno for r in records] == levels  # Executing, Executed
