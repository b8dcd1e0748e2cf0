"""Unit-test fixtures: no I/O, so the settings only need to parse."""

import pytest

# Enough for the settings model to validate; nothing is ever connected to.
MINIMAL_SETTINGS = {
    "DATABASE_URL": "postgresql://x",
    "REDIS_URL": "redis://x",
    "AUTH_ISSUER": "i",
    "AUTH_AUDIENCE": "a",
    "AUTH_JWKS_URL": "https://idp.example/keys",
    "LOG_FORMAT": "json",
}


@pytest.fixture
def minimal_settings(monkeypatch):
    """The settings above (plus whatever a test sets after), read afresh and forgotten after."""
    from shared.platform.config import reset_settings

    for name, value in MINIMAL_SETTINGS.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    yield monkeypatch
    reset_settings()
