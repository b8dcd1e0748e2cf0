import pytest

from shared.platform.config import SettingsError, get_settings, reset_settings

BASE = {
    "DATABASE_URL": "postgresql://u@h/db",
    "REDIS_URL": "redis://h:6379/0",
    "AUTH_ISSUER": "https://login.example/tenant/v2.0",
    "AUTH_AUDIENCE": "api://souq",
    "AUTH_JWKS_URL": "https://login.example/keys",
}


@pytest.fixture
def env(monkeypatch):
    for name in [*list(BASE), "SOUQ_ENV", "DATABASE_POOL_MAX", "DATABASE_POOL_MIN", "DATABASE_AUTH", "PAYMENT_GATEWAY"]:
        monkeypatch.delenv(name, raising=False)

    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        reset_settings()

    yield apply
    reset_settings()


def test_defaults_match_the_issue(env):
    env(**BASE)
    settings = get_settings()
    assert (
        settings.database_pool_max,
        settings.database_connect_timeout_seconds,
        settings.database_idle_seconds,
        settings.database_max_lifetime_seconds,
    ) == (10, 2.0, 30.0, 1800.0)
    assert settings.souq_env == "production" and settings.database_auth == "password"


def test_missing_settings_are_named(env):
    env(REDIS_URL="redis://h")
    with pytest.raises(SettingsError) as error:
        get_settings()
    for name in ("DATABASE_URL", "AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_JWKS_URL"):
        assert name in str(error.value)


@pytest.mark.parametrize(
    "overrides,named",
    [
        ({"DATABASE_POOL_MAX": "0"}, "DATABASE_POOL_MAX"),
        ({"DATABASE_AUTH": "kerberos"}, "DATABASE_AUTH"),
        ({"AUTH_JWKS_URL": "http://idp.example/keys"}, "AUTH_JWKS_URL"),
        ({"AUTH_JWKS_URL": "http://localhost:7071/.dev/jwks.json"}, "AUTH_JWKS_URL must be https in production"),
        ({"DATABASE_POOL_MIN": "5", "DATABASE_POOL_MAX": "2"}, "DATABASE_POOL_MIN must not exceed"),
    ],
)
def test_bad_settings_are_named(env, overrides, named):
    env(**(BASE | overrides))
    with pytest.raises(SettingsError, match=named):
        get_settings()


def test_local_dev_may_use_a_localhost_jwks(env):
    env(**(BASE | {"SOUQ_ENV": "local", "AUTH_JWKS_URL": "http://localhost:7071/.dev/jwks.json"}))
    assert get_settings().auth_jwks_url == "http://localhost:7071/.dev/jwks.json"
