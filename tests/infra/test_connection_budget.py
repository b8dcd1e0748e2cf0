"""Scale-out cannot exhaust PostgreSQL: for each parameter file, every instance's pool at its
ceiling (maximumInstanceCount x DATABASE_POOL_MAX) fits the SKU's user connections minus an
admin reserve, or the app goes through PgBouncer (6432) and PgBouncer's own limits fit.
DATABASE_POOL_MAX is derived from the HTTP concurrency per instance that the plan is given
explicitly (Flex Consumption's default for Python is 1 request per instance)."""

import json
from dataclasses import dataclass

import pytest

from tests.infra.bicep import INFRA, PARAMETER_FILES, main_scope, module_scope, resource_properties

LIMITS = json.loads((INFRA / "postgres-max-connections.json").read_text())


@dataclass
class Budget:
    sku: str
    concurrency: int  # HTTP requests one instance serves at once
    pool_max: int  # DATABASE_POOL_MAX
    demand: int  # client connections all instances may open
    server_capacity: int  # connections left for the app on the server
    pgbouncer: dict | None  # PgBouncer settings when the app goes through it
    app_port: str
    pgbouncer_setting: str

    def problems(self) -> list[str]:
        if self.pgbouncer is None:
            fits = self.demand <= self.server_capacity
            return (
                [] if fits else [f"{self.demand} connections > {self.server_capacity} on {self.sku}; enable PgBouncer"]
            )
        issues = []
        if self.demand > int(self.pgbouncer["pgbouncer.max_client_conn"]):
            issues.append(f"{self.demand} clients > pgbouncer.max_client_conn")
        if int(self.pgbouncer["pgbouncer.default_pool_size"]) > self.server_capacity:
            issues.append(f"pgbouncer.default_pool_size > {self.server_capacity} on {self.sku}")
        return issues


def http_concurrency(scope) -> int:
    """perInstanceConcurrency as the function app's plan receives it."""
    site = resource_properties(module_scope(scope, "functionApp"), "site")
    return site["functionAppConfig"]["scaleAndConcurrency"]["triggers"]["http"]["perInstanceConcurrency"]


def budget_for(scope) -> Budget:
    sku = scope.lookup("postgresSkuName")
    settings = scope.lookup("appSettings")
    configuration = module_scope(scope, "postgres").lookup("serverConfiguration")
    capacity = LIMITS["maxConnections"][sku] - LIMITS["reservedBySystem"] - LIMITS["reservedForAdmin"]
    on = configuration.get("pgbouncer.enabled") == "true"
    pool_max = int(settings["DATABASE_POOL_MAX"])
    return Budget(
        sku=sku,
        concurrency=http_concurrency(scope),
        pool_max=pool_max,
        demand=scope.lookup("functionMaximumInstanceCount") * pool_max,
        server_capacity=capacity,
        pgbouncer=configuration if on else None,
        app_port=settings["DATABASE_URL"].split(":")[2].split("/")[0],
        pgbouncer_setting=settings["DATABASE_PGBOUNCER"],
    )


@pytest.mark.parametrize("parameter_file", PARAMETER_FILES, ids=lambda p: p.name)
def test_connection_budget_fits(parameter_file):
    budget = budget_for(main_scope(parameter_file))
    assert not budget.problems(), budget.problems()


@pytest.mark.parametrize("parameter_file", PARAMETER_FILES, ids=lambda p: p.name)
def test_app_uses_pgbouncer_exactly_when_it_is_on(parameter_file):
    budget = budget_for(main_scope(parameter_file))
    expected = ("6432", "true") if budget.pgbouncer else ("5432", "false")
    assert (budget.app_port, budget.pgbouncer_setting) == expected


@pytest.mark.parametrize("parameter_file", PARAMETER_FILES, ids=lambda p: p.name)
def test_every_sku_used_has_a_known_limit(parameter_file):
    assert main_scope(parameter_file).lookup("postgresSkuName") in LIMITS["maxConnections"]


@pytest.mark.parametrize("parameter_file", PARAMETER_FILES, ids=lambda p: p.name)
def test_http_concurrency_is_explicit_and_the_pool_follows_it(parameter_file):
    """Set from the parameter (never the platform's default of 1 for Python), and the pool holds
    a connection for every other concurrent request, at least 2."""
    scope = main_scope(parameter_file)
    budget = budget_for(scope)
    assert budget.concurrency == scope.lookup("httpPerInstanceConcurrency") > 1
    assert budget.pool_max == min(100, max(2, (budget.concurrency + 1) // 2))


def test_a_budget_that_does_not_fit_is_reported():
    scope = main_scope(INFRA / "main.parameters.json")
    scope.values.update(functionMaximumInstanceCount=100, httpPerInstanceConcurrency=20)
    assert budget_for(scope).pool_max == 10 and budget_for(scope).problems()


def test_more_concurrency_means_a_bigger_pool_and_can_break_the_budget():
    scope = main_scope(INFRA / "main.parameters.json")
    scope.values.update(httpPerInstanceConcurrency=40)
    assert budget_for(scope).pool_max == 20 and budget_for(scope).problems()


def test_pgbouncer_requested_on_burstable_is_not_used():
    scope = main_scope(INFRA / "main.parameters.json")
    scope.values.update(postgresPgBouncer=True, postgresSkuTier="Burstable")
    assert budget_for(scope).pgbouncer is None and budget_for(scope).app_port == "5432"
