"""Security and resilience rules checkov does not cover, evaluated on the parsed templates with
each parameter file's values (production rules on the production file)."""

import re

import pytest

from tests.infra.bicep import INFRA, PARAMETER_FILES, ROOT, Scope, main_scope, module_scope, resource_properties

EXTENSION = re.compile(r'CREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?"?(\w+)', re.IGNORECASE)
# Named by the issue for catalog search and query statistics, whether or not a migration uses them yet.
REQUIRED_EXTENSIONS = {"pg_trgm", "unaccent", "pg_stat_statements"}

files = pytest.mark.parametrize("parameter_file", PARAMETER_FILES, ids=lambda p: p.name)


def production_files():
    chosen = [f for f in PARAMETER_FILES if main_scope(f).lookup("souqEnv") == "production"]
    assert chosen, "no production parameter file in infra/"
    return chosen


def postgres(parameter_file):
    return module_scope(main_scope(parameter_file), "postgres")


@files
def test_postgres_is_entra_only(parameter_file):
    server = resource_properties(postgres(parameter_file), "server")
    assert server["authConfig"]["activeDirectoryAuth"] == "Enabled"
    assert server["authConfig"]["passwordAuth"] == "Disabled"
    assert server["version"] == "16"
    admin = postgres(parameter_file).template["resources"]["administrator"]["config"]
    assert admin["name"] == "adminObjectId" and admin["properties"]["principalName"] == "adminName"


@files
def test_postgres_allow_lists_every_extension_the_migrations_create(parameter_file):
    created = {
        name.lower()
        for sql in (ROOT / "migrations").glob("*.sql")
        if "rollback" not in sql.name
        for name in EXTENSION.findall(sql.read_text())
    }
    configuration = postgres(parameter_file).lookup("serverConfiguration")
    allowed = {name.strip().lower() for name in configuration["azure.extensions"].split(",")}
    assert created | REQUIRED_EXTENSIONS <= allowed, (created | REQUIRED_EXTENSIONS) - allowed
    assert configuration["pg_stat_statements.track"] in {"top", "all"}
    assert configuration["require_secure_connection"] == "on"


@pytest.mark.parametrize("parameter_file", production_files(), ids=lambda p: p.name)
def test_production_postgres_is_resilient_and_pooled(parameter_file):
    scope = postgres(parameter_file)
    server = resource_properties(scope, "server")
    assert server["highAvailability"]["mode"] == "ZoneRedundant"
    assert server["backup"] == {"backupRetentionDays": 35, "geoRedundantBackup": "Enabled"}
    assert scope.lookup("serverConfiguration")["pgbouncer.enabled"] == "true"
    assert server["network"]["publicNetworkAccess"] == "Disabled"


@files
def test_pgbouncer_is_never_requested_on_burstable(parameter_file):
    scope = main_scope(parameter_file)
    if scope.lookup("postgresSkuTier") == "Burstable":
        assert scope.lookup("postgresPgBouncer") is False, "Burstable has no PgBouncer"


@files
def test_redis_is_tls_only_keyless_and_single_endpoint(parameter_file):
    scope = module_scope(main_scope(parameter_file), "redis")
    cluster, database = resource_properties(scope, "cluster"), resource_properties(scope, "database")
    assert cluster["minimumTlsVersion"] == "1.2"
    assert database["accessKeysAuthentication"] == "Disabled"
    assert database["clientProtocol"] == "Encrypted"
    assert database["clusteringPolicy"] == "EnterpriseCluster"  # redis-py's plain client
    assert resource_properties(scope, "appAccess")["user"]["objectId"] == scope.lookup("appPrincipalId")


@files
def test_storage_is_keyless_and_private(parameter_file):
    scope = module_scope(main_scope(parameter_file), "storage")
    account = resource_properties(scope, "storage")
    assert account["allowSharedKeyAccess"] is False
    assert account["allowBlobPublicAccess"] is False
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["supportsHttpsTrafficOnly"] is True
    container = scope.template["resources"]["containers"]["config"]["config"]
    assert container["properties"]["publicAccess"] == "None"
    assert {"backups", "prescriptions", "attachments"} <= set(scope.lookup("containerNames"))


@pytest.mark.parametrize("parameter_file", production_files(), ids=lambda p: p.name)
def test_production_networking_is_private(parameter_file):
    scope = main_scope(parameter_file)
    assert scope.lookup("privateNetworking") is True
    storage = resource_properties(module_scope(scope, "storage"), "storage")
    assert storage["publicNetworkAccess"] == "Disabled" and storage["networkAcls"]["defaultAction"] == "Deny"
    assert module_scope(scope, "storage").lookup("skuName") != "Standard_LRS"
    vault = resource_properties(module_scope(scope, "keyVault"), "vault")
    assert vault["networkAcls"]["defaultAction"] == "Deny"
    kinds = {e["kind"] for e in scope.lookup("privateEndpoints")}
    assert {"blob", "queue", "vault", "redisEnterprise"} <= kinds


@files
def test_key_vault_is_rbac_with_purge_protection(parameter_file):
    vault = resource_properties(module_scope(main_scope(parameter_file), "keyVault"), "vault")
    assert vault["enableRbacAuthorization"] is True
    assert vault["enablePurgeProtection"] is True
    assert vault["enableSoftDelete"] is True


@files
def test_monitoring_has_local_auth_disabled(parameter_file):
    scope = module_scope(main_scope(parameter_file), "monitoring")
    assert resource_properties(scope, "applicationInsights")["DisableLocalAuth"] is True
    assert resource_properties(scope, "workspace")["features"]["disableLocalAuth"] is True


def test_function_app_is_flex_consumption_python_311_https_only():
    scope = module_scope(main_scope(INFRA / "main.parameters.json"), "functionApp")
    site = resource_properties(scope, "site")
    assert site["httpsOnly"] is True
    assert site["siteConfig"]["ftpsState"] == "Disabled"
    assert site["functionAppConfig"]["runtime"] == {"name": "python", "version": "3.11"}
    assert site["functionAppConfig"]["deployment"]["storage"]["authentication"]["type"] == "UserAssignedIdentity"
    plan = scope.template["resources"]["plan"]["config"]
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    assert all(resource_properties(scope, name)["allow"] is False for name in ("ftpPublishing", "scmPublishing"))


@pytest.mark.parametrize("parameter_file", PARAMETER_FILES, ids=lambda p: p.name)
def test_blob_cors_admits_only_the_named_origins_and_upload_methods(parameter_file):
    scope = module_scope(main_scope(parameter_file), "storage")
    assert resource_properties(scope, "blobService")["cors"] == {"corsRules": []}  # none named: no browser
    named = Scope(scope.template, scope.values | {"browserOrigins": ["https://shop.example.sa"]}, scope.path)
    [rule] = resource_properties(named, "blobService")["cors"]["corsRules"]
    assert rule["allowedOrigins"] == ["https://shop.example.sa"]
    assert set(rule["allowedMethods"]) == {"GET", "HEAD", "PUT", "OPTIONS"}  # never DELETE or POST
