import json
import logging


def test_json_logs_carry_invocation_context(capsys, minimal_settings):
    from shared.platform import logs
    from shared.platform.config import reset_settings

    monkeypatch = minimal_settings
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    reset_settings()
    monkeypatch.setattr(logs, "_configured", False)
    logger = logging.getLogger(logs.LOGGER_NAME)
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "filters", [])
    monkeypatch.setattr(logger, "propagate", logger.propagate)
    logs.configure_logging()
    logs.invocation_id_var.set("inv-1")
    logs.user_id_var.set("user-9")
    logs.get_logger("t").info("hello %s", "world", extra={"duration_ms": 1.5})
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["message"] == "hello world" and line["invocation_id"] == "inv-1"
    assert line["user_id"] == "user-9" and line["duration_ms"] == 1.5 and line["level"] == "INFO"


async def test_the_background_relay_knows_its_own_task_and_takes_one_more_round_per_commit(monkeypatch):
    import asyncio

    from shared.events import relay

    seen: list[bool] = []
    started, release = asyncio.Event(), asyncio.Event()

    async def relaying() -> int:
        seen.append(relay.in_background_relay())
        started.set()
        await release.wait()
        return 0

    monkeypatch.setattr(relay, "relay_after_commit", relaying)
    monkeypatch.setattr(relay, "_background_relay", None)
    relay.relay_soon()
    await started.wait()
    relay.relay_soon()  # a commit while it runs: one more round, not a second task
    assert not relay.in_background_relay()  # the caller's task is not the relay's
    release.set()
    await relay.wait_for_background_relay()
    assert seen == [True, True]
