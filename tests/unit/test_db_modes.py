"""Connection settings per mode, without connecting."""

import pytest

from shared.data import db
from shared.platform.settings_model import Settings

BASE = {
    "database_url": "postgresql://u@h/db",
    "redis_url": "redis://h",
    "auth_issuer": "i",
    "auth_audience": "a",
    "auth_jwks_url": "https://idp.example/keys",
}


def test_direct_connections_carry_statement_timeout_and_application_name():
    kwargs = db.connection_kwargs(Settings(**BASE, database_statement_timeout_ms=1234))
    assert kwargs["options"] == "-c statement_timeout=1234 -c TimeZone=UTC -c jit=off"
    assert kwargs["application_name"] == "souq-api" and kwargs["autocommit"] is True
    assert "prepare_threshold" not in kwargs and "credential" not in kwargs


def test_pgbouncer_mode_has_no_prepared_statements_and_no_startup_options():
    kwargs = db.connection_kwargs(Settings(**BASE, database_pgbouncer=True))
    assert kwargs["prepare_threshold"] is None and "options" not in kwargs


def test_entra_mode_uses_a_token_per_connection(monkeypatch):
    monkeypatch.setattr(db, "_entra_credential", lambda settings: "credential")
    settings = Settings(**BASE, database_auth="entra", database_entra_user="souq-api-identity")
    kwargs = db.connection_kwargs(settings)
    assert kwargs["credential"] == "credential" and kwargs["user"] == "souq-api-identity"
    from azure_postgresql_auth.psycopg3 import AsyncEntraConnection

    assert db._connection_class(settings) is AsyncEntraConnection


@pytest.mark.parametrize(
    "sqlstate,unavailable",
    [
        (None, True),
        ("08006", True),
        ("57P01", True),
        ("53300", True),
        ("57014", True),
        ("23505", False),
        ("40001", False),
    ],
)
def test_which_server_errors_mean_unavailable(sqlstate, unavailable):
    import psycopg

    error = psycopg.OperationalError("x")
    error.sqlstate = sqlstate  # psycopg sets it from the server's answer
    assert db.is_unavailable(error) is unavailable
