"""Timer schedules (NCRONTAB, TimeSpan), the timer scheduler and host.json settings."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from devhost.settings import SettingMissing, apply_local_settings, read_local_settings, resolve_expression
from devhost.timers import CronSchedule, IntervalSchedule, TimerJob, TimerScheduler, parse_schedule
from shared.platform.hostjson import HostConfig, QueueOptions, apply_host_overrides, parse_timespan

AT = datetime(2026, 11, 21, 20, 31, 7, tzinfo=UTC)


def test_ncrontab_moves_seconds_last_for_croniter() -> None:
    assert CronSchedule("0 */5 * * * *").croniter_form() == "*/5 * * * * 0"


def test_every_five_minutes() -> None:
    schedule = parse_schedule("0 */5 * * * *")
    assert schedule.next_after(AT) == datetime(2026, 11, 21, 20, 35, 0, tzinfo=UTC)
    assert schedule.description == "0 */5 * * * * UTC"


def test_every_ten_seconds() -> None:
    schedule = parse_schedule("*/10 * * * * *")
    first = schedule.next_after(AT)
    assert first == datetime(2026, 11, 21, 20, 31, 10, tzinfo=UTC)
    assert schedule.next_after(first) == first + timedelta(seconds=10)


def test_schedule_is_utc_whatever_the_input_zone() -> None:
    plus_two = AT.astimezone(timezone(timedelta(hours=2)))
    assert parse_schedule("0 0 21 * * *").next_after(plus_two) == datetime(2026, 11, 21, 21, tzinfo=UTC)


def test_day_of_month_and_day_of_week_both_apply() -> None:
    # NCrontab ANDs them: the 13th that is a Friday (2027-08-13), not every Friday
    nxt = parse_schedule("0 0 0 13 * 5").next_after(AT)
    assert (nxt.day, nxt.weekday()) == (13, 4)


def test_timespan_schedule_is_a_fixed_interval() -> None:
    schedule = parse_schedule("00:00:10")
    assert isinstance(schedule, IntervalSchedule)
    assert schedule.next_after(AT) == AT + timedelta(seconds=10)


def test_schedule_from_app_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SCHEDULE", "0 0 * * * *")
    assert parse_schedule("%MY_SCHEDULE%").next_after(AT) == datetime(2026, 11, 21, 21, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["* * * * *", "0 */5 * * * * *", "61 * * * * *", "00:00:00"])
def test_invalid_schedules_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_schedule(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("00:00:02", timedelta(seconds=2)),
        ("00:01:00", timedelta(minutes=1)),
        ("1.02:03:04", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("00:00:00.5", timedelta(milliseconds=500)),
        ("01:30", timedelta(hours=1, minutes=30)),
        ("2", timedelta(days=2)),
    ],
)
def test_parse_timespan(text: str, expected: timedelta) -> None:
    assert parse_timespan(text) == expected


def test_host_overrides_are_case_insensitive_and_nested() -> None:
    config = {"extensions": {"queues": {"visibilityTimeout": "00:00:30", "batchSize": 16}}}
    env = {
        "AzureFunctionsJobHost__extensions__queues__visibilityTimeout": "00:00:01",
        "azurefunctionsjobhost__Extensions__Queues__MAXDEQUEUECOUNT": "2",
        "AzureFunctionsJobHost__extensions__http__routePrefix": "v1",
        "UNRELATED": "x",
    }
    result = apply_host_overrides(config, env)
    queues = result["extensions"]["queues"]
    assert queues["visibilityTimeout"] == "00:00:01"
    assert queues["MAXDEQUEUECOUNT"] == "2"
    assert result["extensions"]["http"]["routePrefix"] == "v1"
    assert config["extensions"]["queues"]["visibilityTimeout"] == "00:00:30"  # input untouched
    options = QueueOptions.from_config(result)
    assert options.visibility_timeout == timedelta(seconds=1)
    assert options.max_dequeue_count == 2
    assert options.batch_size == 16


def test_host_config_defaults() -> None:
    config = HostConfig.from_dict({"version": "2.0"}, {})
    assert config.route_prefix == "api"
    assert config.queues == QueueOptions()
    assert config.queues.max_polling_interval == timedelta(minutes=1)
    assert config.queues.new_batch_threshold == 8
    assert config.function_timeout is None


def test_repo_host_json_loads() -> None:
    config = HostConfig.load(Path(__file__).resolve().parents[2] / "host.json", {})
    assert config.queues.message_encoding == "base64"
    assert config.function_timeout is None or config.function_timeout > timedelta(0)


def test_local_settings_never_override_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "local.settings.json"
    path.write_text(json.dumps({"IsEncrypted": False, "Values": {"A": "file", "B": "file", "C": True}}))
    environ = {"A": "env"}
    applied = apply_local_settings(read_local_settings(path), environ)
    assert environ == {"A": "env", "B": "file", "C": "true"}
    assert sorted(applied) == ["B", "C"]
    assert read_local_settings(tmp_path / "absent.json") == {}


def test_binding_expressions() -> None:
    env = {"DOMAIN_EVENTS_QUEUE": "domain-events"}
    assert resolve_expression("%DOMAIN_EVENTS_QUEUE%", env) == "domain-events"
    assert resolve_expression("%domain_events_queue%-poison", env) == "domain-events-poison"
    assert resolve_expression("plain", env) == "plain"
    with pytest.raises(SettingMissing, match="MISSING_QUEUE"):
        resolve_expression("%MISSING_QUEUE%", env)


class AlwaysDue:
    """A schedule whose next run is always now: the scheduler fires once per loop turn, so due
    runs pass without waiting for a clock. `passed` is set after `runs` due moments."""

    description = "always due"

    def __init__(self, runs: int) -> None:
        self.runs, self.asked = runs, 0
        self.passed = asyncio.Event()

    def next_after(self, moment: datetime) -> datetime:
        self.asked += 1
        if self.asked > self.runs:
            self.passed.set()
        return moment


@pytest.mark.asyncio
async def test_scheduler_skips_a_due_run_while_the_previous_one_runs() -> None:
    started: list[bool] = []
    release, second_run = asyncio.Event(), asyncio.Event()

    async def run(due: datetime | None, past_due: bool) -> None:
        started.append(past_due)
        if len(started) == 2:
            second_run.set()
        await release.wait()

    schedule = AlwaysDue(runs=6)
    scheduler = TimerScheduler([TimerJob("slow", schedule, run, run_on_startup=True)])
    scheduler.start()
    async with asyncio.timeout(10):  # only turns a hang into a failure
        await schedule.passed.wait()  # 6 due runs passed while the startup run blocks
        assert started == [False]
        release.set()
        await second_run.wait()  # the schedule goes on once the long run is over
    await scheduler.stop()
