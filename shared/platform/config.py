"""One typed settings object, read from environment / app settings and validated at first use.

Names are the Azure app-setting names (see README, "Settings"). `get_settings()` validates once
per process and raises `SettingsError` naming every missing or bad setting. The model itself
lives in `shared.platform.settings_model`, imported on first use (pydantic-settings is slow to import).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError

    from shared.platform.settings_model import Settings


class SettingsError(RuntimeError):
    """A setting is missing or invalid; the message names it."""


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]).upper() or "settings"
        problems.append(f"{name}: {item['msg']}")
    return "invalid settings — " + "; ".join(problems)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    from pydantic import ValidationError

    from shared.platform.settings_model import Settings

    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
