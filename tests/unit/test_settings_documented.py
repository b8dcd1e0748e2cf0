"""Every setting the app reads has a safe local value in the sample and a row in the README."""

import json
import re
from pathlib import Path

from shared.platform.settings_model import Settings

ROOT = Path(__file__).resolve().parents[2]
HOST_SETTINGS = {
    "FUNCTIONS_WORKER_RUNTIME",
    "AzureWebJobsFeatureFlags",
    "AzureWebJobsStorage",
    "DEVHOST_FUNCTION_KEY",
    "DEVHOST_MASTER_KEY",
    "SANDBOX_WEBHOOK_URL",  # read by the dev host's sandbox gateway, not the app
}


def app_settings() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def test_sample_lists_exactly_the_settings_read():
    sample = set(json.loads((ROOT / "local.settings.sample.json").read_text())["Values"])
    assert sample == app_settings() | HOST_SETTINGS


def test_readme_table_documents_every_setting():
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Za-z_]+)(?:__\*)?", readme, flags=re.MULTILINE))
    missing = (app_settings() | HOST_SETTINGS) - documented
    assert not missing, f"README settings table lacks {sorted(missing)}"
