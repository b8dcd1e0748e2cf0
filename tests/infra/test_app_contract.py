"""The app settings the template writes are exactly what the app reads in Azure, and every
queue the functions bind to exists (with its poison twin) before the app starts.

Both lists are derived at test time: the required settings from shared/platform/settings_model.py,
the queues from the bindings in functions/*.py, so a new setting or queue fails here until
the template provides it.
"""

import re

import pytest

from shared.platform.settings_model import Settings
from tests.infra.bicep import INFRA, PARAMETER_FILES, ROOT, Unknown, main_scope, module_scope

QUEUE_BINDING = re.compile(r"""queue_name\s*=\s*["']([^"']+)["']""")
# What the deployed app needs beyond the model's required fields: Entra everywhere, host
# storage through the managed identity, telemetry with the identity.
ENTRA_MODE = {
    "DATABASE_AUTH": "entra",
    "REDIS_AUTH": "entra",
    "AzureWebJobsStorage__credential": "managedidentity",
}
ENTRA_MODE_PRESENT = {
    "AZURE_CLIENT_ID",
    "DATABASE_ENTRA_USER",
    "AzureWebJobsStorage__clientId",
    "AzureWebJobsStorage__queueServiceUri",
    "AzureWebJobsStorage__blobServiceUri",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
}
# Read by the Functions host or the Application Insights agent, not by the settings model.
HOST_SETTINGS = (
    {"AzureWebJobsFeatureFlags", "AzureWebJobsStorage__tableServiceUri"} | set(ENTRA_MODE) | ENTRA_MODE_PRESENT
)
# Flex Consumption rejects or ignores these: the runtime lives in functionAppConfig, and a
# storage connection string would carry a key.
FORBIDDEN_ON_FLEX = {
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_EXTENSION_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "AzureWebJobsStorage",
}

files = pytest.mark.parametrize("parameter_file", PARAMETER_FILES, ids=lambda p: p.name)


def template_settings(parameter_file) -> dict:
    """Name → evaluated value of every app setting the function app gets."""
    main = main_scope(parameter_file)
    function_app = module_scope(main, "functionApp")
    return {**function_app.lookup("appSettings"), **function_app.lookup("hostSettings")}


def required_settings() -> set[str]:
    required = {name.upper() for name, field in Settings.model_fields.items() if field.is_required()}
    return required | set(ENTRA_MODE) | ENTRA_MODE_PRESENT | set(queue_settings(function_sources()))


def function_sources() -> str:
    return "\n".join(path.read_text() for path in sorted((ROOT / "functions").glob("*.py")))


def queue_settings(source: str) -> list[str]:
    """Settings naming a queue: `%SETTING%` in a binding, and every `*_QUEUE` field of the
    settings model (the app also produces to queues it does not bind)."""
    bound = [name.strip("%") for name in QUEUE_BINDING.findall(source) if name.startswith("%")]
    return bound + [name.upper() for name in Settings.model_fields if name.endswith("_queue")]


def bound_queues(source: str, settings: dict) -> set[str]:
    """Queue names the app uses: queue settings through the app settings, literal bindings as is."""
    names = {settings.get(name, f"<{name} not set>") for name in queue_settings(source)}
    return names | {name for name in QUEUE_BINDING.findall(source) if not name.startswith("%")}


@files
def test_every_setting_the_app_requires_is_written(parameter_file):
    missing = required_settings() - set(template_settings(parameter_file))
    assert not missing, f"the template does not set {sorted(missing)}"


@files
def test_every_setting_written_is_one_the_app_or_host_reads(parameter_file):
    known = {name.upper() for name in Settings.model_fields} | HOST_SETTINGS
    unknown = set(template_settings(parameter_file)) - known
    assert not unknown, f"the template writes settings nothing reads (typo?): {sorted(unknown)}"
    assert not FORBIDDEN_ON_FLEX & set(template_settings(parameter_file))


@files
def test_settings_select_entra_everywhere(parameter_file):
    settings = template_settings(parameter_file)
    assert {name: settings[name] for name in ENTRA_MODE} == ENTRA_MODE
    assert settings["REDIS_URL"].startswith("rediss://") and settings["REDIS_URL"].endswith(":${redis.outputs.port}")
    # clustered Redis: all cache keys (and the scripts' keys) in one hash slot
    assert settings["REDIS_KEY_PREFIX"].startswith("{") and "}" in settings["REDIS_KEY_PREFIX"]
    assert "sslmode=require" in settings["DATABASE_URL"]
    assert "Authorization=AAD" in settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]


@files
def test_written_settings_validate_against_the_settings_model(parameter_file):
    stand_ins = {
        "AUTH_JWKS_URL": "https://login.example.com/keys",
        "AUTH_ISSUER": "https://login.example.com/",
        "AUTH_AUDIENCE": "api://souq",
    }
    values = {
        name: stand_ins.get(name, "deploy-time-value") if isinstance(value, Unknown) or "${" in str(value) else value
        for name, value in template_settings(parameter_file).items()
    }
    settings = Settings(
        **{name.lower(): value for name, value in values.items() if name.lower() in Settings.model_fields}
    )
    assert settings.database_auth == "entra" and settings.redis_auth == "entra"


@files
def test_every_bound_queue_and_its_poison_twin_is_created(parameter_file):
    settings = template_settings(parameter_file)
    storage = module_scope(main_scope(parameter_file), "storage")
    created = set(storage.lookup("queueNames"))
    queues = bound_queues(function_sources(), settings)
    assert queues and queues <= created, f"queues bound but not created: {sorted(queues - created)}"
    poison = storage.template["resources"]["poisonQueues"]["config"]
    assert poison["loop_type"]["detail"]["array_name"] == "queueNames"
    assert poison["config"]["name"] == "${queue}-poison"


def test_a_new_queue_binding_without_a_queue_is_caught():
    source = function_sources() + '\n@bp.queue_trigger(arg_name="m", queue_name="%PRESCRIPTION_REVIEW_QUEUE%")\n'
    settings = template_settings(INFRA / "main.parameters.json")
    created = set(module_scope(main_scope(INFRA / "main.parameters.json"), "storage").lookup("queueNames"))
    assert "PRESCRIPTION_REVIEW_QUEUE" in queue_settings(source)
    assert not bound_queues(source, settings) <= created


def test_key_vault_secret_settings_become_key_vault_references():
    scope = module_scope(main_scope(INFRA / "main.parameters.json"), "functionApp")
    secret = scope.template["variables"]["secretSettings"]["value"]["config"]
    assert secret["value"] == "@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${item.secret})"
    site = scope.template["resources"]["site"]["config"]["properties"]
    assert site["keyVaultReferenceIdentity"] == "identityId"
