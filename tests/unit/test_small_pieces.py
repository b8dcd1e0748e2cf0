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
