"""The issue's rule "zero consistency violations after every test", enforced: after each test
that had its own database (`database_url`), the consistency checks run against it and any
violation fails the test (reported as an error at teardown). Tests that break an invariant on
purpose say so with `@pytest.mark.inconsistent_on_purpose`."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg.rows import class_row

from shared.ops.models import Violation
from shared.ops.repo import CHECK_QUERIES as CHECKS
from tests.inbox_channels import fake_channels  # noqa: F401 - fixtures
from tests.inbox_support import inbox_env  # noqa: F401 - fixtures
from tests.payments_support import sandbox, sandbox_server  # noqa: F401 - fixtures
from tests.support import create_database, drop_database, unique

REPORTED_VIOLATIONS = 20

# Tests that migrate down leave no orders or offers to check.
TABLES_PRESENT = "SELECT to_regclass('orders') IS NOT NULL AND to_regclass('offers') IS NOT NULL"


def violations_in(database_url: str) -> list[Violation]:
    with psycopg.connect(database_url) as conn:
        if not conn.execute(TABLES_PRESENT).fetchone()[0]:
            return []
        cursor = conn.cursor(row_factory=class_row(Violation))
        return [
            v for query in CHECKS.values() for v in cursor.execute(query, {"limit": REPORTED_VIOLATIONS}).fetchall()
        ]


@pytest.fixture(autouse=True)
def consistent_after_test(request: pytest.FixtureRequest) -> Iterator[None]:
    if "database_url" not in request.fixturenames or request.node.get_closest_marker("inconsistent_on_purpose"):
        yield
        return
    # Requested here so that the database is dropped only after this fixture's check.
    database_url = request.getfixturevalue("database_url")
    yield
    violations = violations_in(database_url)
    if violations:
        lines = "\n".join(
            f"  {v.kind} {v.entity_id} {v.field}: expected {v.expected}, actual {v.actual}" for v in violations
        )
        pytest.fail(f"consistency violations after the test:\n{lines}", pytrace=False)


@pytest.fixture
def order_queue(app_env, monkeypatch: pytest.MonkeyPatch) -> str:
    """This test's own ORDER_EVENTS_QUEUE (not created: the relay creates it on first send)."""
    from shared.platform.config import reset_settings

    name = unique("order-events")
    monkeypatch.setenv("ORDER_EVENTS_QUEUE", name)
    reset_settings()
    return name


@pytest.fixture
def fresh_database(server_url: str) -> Iterator[str]:
    """An empty database, no migration applied (tests of the migrations themselves)."""
    name = unique("souq_fresh").replace("-", "_")
    url = create_database(server_url, name)
    yield url
    drop_database(server_url, name)
