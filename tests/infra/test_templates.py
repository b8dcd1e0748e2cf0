"""Every template parses; modules exist; every resource is tagged; TLS >= 1.2; no secret leaves
through an output."""

import json
import re

import pytest

from tests.infra.bicep import INFRA, MAIN, bicep_files, main_scope, parse

TLS_KEYS = {"minTlsVersion", "minimumTlsVersion", "scmMinTlsVersion", "ssl_min_protocol_version"}
TLS_OK = {"1.2", "1.3", "TLS1_2", "TLS1_3", "TLSv1.2", "TLSv1.3"}
SECRET_NAME = re.compile(r"password|secret|accesskey|apikey|token|connectionstring|sas", re.IGNORECASE)
SECRET_FUNCTIONS = re.compile(r'"type": "list_func"|list(Keys|Secrets|ConnectionStrings|AccountSas)\(', re.IGNORECASE)


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: str(p.relative_to(INFRA)))
def test_template_parses(path):
    parsed = parse(path)
    assert parsed.get("resources") or parsed.get("modules")


def test_every_module_path_exists():
    for name, module in parse(MAIN)["modules"].items():
        assert (MAIN.parent / module["detail"]["path"]).is_file(), name


def _body(resource: dict) -> dict:
    config = resource["config"]
    while "loop_type" in config or ("condition" in config and "config" in config):
        config = config["config"]
    return config


def test_every_top_level_resource_is_tagged():
    untagged = [
        f"{path.name}:{name}"
        for path in bicep_files()
        for name, resource in parse(path).get("resources", {}).items()
        if not resource.get("existing") and "location" in _body(resource) and "tags" not in _body(resource)
    ]
    assert not untagged, f"resources without tags (azd-env-name): {untagged}"


def test_main_tags_everything_with_the_azd_environment():
    scope = main_scope(INFRA / "main.parameters.json")
    assert scope.lookup("tags") == {"azd-env-name": "${AZURE_ENV_NAME}"}


def _walk(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key), key, value
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, path)


def test_tls_is_at_least_1_2_wherever_it_is_set():
    found = {}
    for path in bicep_files():
        for _, key, value in _walk(parse(path)):
            if key.strip("'") in TLS_KEYS:
                found.setdefault(path.name, []).append(value)
    assert all(v in TLS_OK for values in found.values() for v in values), found
    assert {"storage.bicep", "function-app.bicep", "redis.bicep", "postgres.bicep"} <= set(found)


def test_no_output_carries_a_secret():
    for path in bicep_files():
        for name, output in parse(path).get("outputs", {}).items():
            assert not SECRET_NAME.search(name), f"{path.name}: output {name} looks like a secret"
            assert not SECRET_FUNCTIONS.search(json.dumps(output)), f"{path.name}: output {name} reads keys"
            assert not any(d.get("type") == "secure" for d in output.get("decorators", [])), name


def test_no_key_or_connection_string_with_a_key_anywhere():
    for path in bicep_files():
        text = path.read_text()
        assert not SECRET_FUNCTIONS.search(text), f"{path.name} reads keys"
        assert "AccountKey=" not in text and "SharedAccessSignature" not in text, path.name
