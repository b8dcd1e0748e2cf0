"""Telemetry signs in to Application Insights with the app's managed identity when it has one."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("client_id", ["", "00000000-0000-0000-0000-0000000000aa"])
def test_azure_monitor_gets_the_managed_identity(monkeypatch, client_id):
    import azure.monitor.opentelemetry as monitor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    from shared.platform import logs
    from shared.platform.config import reset_settings

    seen = {}
    monkeypatch.setattr(monitor, "configure_azure_monitor", lambda **kwargs: seen.update(kwargs))
    monkeypatch.setattr(PsycopgInstrumentor, "instrument", lambda self, **kwargs: None)
    monkeypatch.setattr(RedisInstrumentor, "instrument", lambda self, **kwargs: None)
    for name, value in {
        "DATABASE_URL": "postgresql://x@localhost/x",
        "REDIS_URL": "redis://localhost",
        "AUTH_ISSUER": "i",
        "AUTH_AUDIENCE": "a",
        "AUTH_JWKS_URL": "https://issuer.example/jwks",
        "AZURE_CLIENT_ID": client_id,
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    logs._configure_telemetry("InstrumentationKey=00000000-0000-0000-0000-000000000000")
    reset_settings()
    credential = seen.get("credential")
    if client_id:
        assert type(credential).__name__ == "ManagedIdentityCredential"
    else:
        assert credential is None
    assert seen["logger_name"] == logs.LOGGER_NAME
