"""azure.yaml, the postprovision hook, the CI/CD workflow and docs/deploy.md hang together."""

import subprocess
import uuid

import psycopg
import pytest
import yaml

from infra.hooks import db_setup
from tests.infra.bicep import PARAMETER_FILES, ROOT, main_scope

WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"


def test_azure_yaml_deploys_the_python_function_app_and_runs_the_hook():
    config = yaml.safe_load((ROOT / "azure.yaml").read_text())
    assert config["services"]["api"] == {"project": ".", "language": "python", "host": "function"}
    assert (ROOT / config["infra"]["path"] / f"{config['infra']['module']}.bicep").is_file()
    hook = ROOT / config["hooks"]["postprovision"]["posix"]["run"]
    assert hook.is_file() and hook.stat().st_mode & 0o111, "hook missing or not executable"
    subprocess.run(["bash", "-n", str(hook)], check=True)


def test_workflow_runs_tests_then_provision_then_migrate_then_deploy():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    jobs = workflow["jobs"]
    assert [jobs[name].get("needs") for name in ("provision", "migrate", "deploy")] == ["test", "provision", "migrate"]
    steps = {name: " ".join(str(step.get("run", "")) for step in job["steps"]) for name, job in jobs.items()}
    assert "make test" in steps["test"]
    assert "azd provision" in steps["provision"] and jobs["provision"]["env"]["SOUQ_DB_SETUP"] == "principal"
    assert "postprovision.sh" in steps["migrate"]
    assert "azd deploy" in steps["deploy"]
    assert workflow["permissions"]["id-token"] == "write"  # OIDC, no stored secret


def test_workflow_can_select_every_parameter_file():
    text = WORKFLOW.read_text()
    for parameter_file in PARAMETER_FILES:
        assert parameter_file.name == "main.parameters.json" or f"infra/{parameter_file.name}" in text


def test_deploy_doc_covers_the_issue_and_every_sku_used():
    doc = DEPLOY_DOC.read_text()
    for heading in ("Prerequisites", "azd up", "post-provision", "Rotating secrets", "Scaling", "Cost", "CI/CD"):
        assert heading.lower() in doc.lower(), heading
    for parameter_file in PARAMETER_FILES:
        scope = main_scope(parameter_file)
        for sku in (scope.lookup("postgresSkuName"), scope.lookup("redisSkuName")):
            assert sku in doc, f"docs/deploy.md does not price {sku} ({parameter_file.name})"


@pytest.fixture
def app_role(database_url):
    role = f"souq_app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" NOLOGIN')
    yield role
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP OWNED BY "{role}"')
        conn.execute(f'DROP ROLE "{role}"')


def test_grants_give_the_app_role_data_access_now_and_for_later_migrations(database_url, app_role):
    assert db_setup.ensure_app_principal(database_url, app_role, "unused") is False  # exists: no-op
    db_setup.grant_app_role(database_url, app_role)
    db_setup.grant_app_role(database_url, app_role)  # idempotent
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE later_migration (id int)")
        check = "SELECT has_table_privilege(%s, %s, %s)"
        for table in ("users", "later_migration"):
            assert conn.execute(check, (app_role, table, "INSERT,SELECT,UPDATE,DELETE")).fetchone()[0]
        assert not conn.execute(check, (app_role, "users", "TRUNCATE")).fetchone()[0]
        settings = conn.execute(
            "SELECT setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = %s",
            (app_role,),
        ).fetchone()[0]
        assert "statement_timeout=5000ms" in settings and "TimeZone=UTC" in settings and "jit=off" in settings
