"""Database work Bicep cannot do, run by the azd postprovision hook as the Entra administrator:

    python -m infra.hooks.db_setup all        # principal, then migrations, then grants
    python -m infra.hooks.db_setup principal  # the app identity's PostgreSQL role only
    python -m infra.hooks.db_setup migrate    # migrations, then grants

Reads the azd outputs (POSTGRES_HOST, POSTGRES_DATABASE, POSTGRES_ADMIN_NAME,
POSTGRES_APP_ROLE, POSTGRES_APP_PRINCIPAL_ID) and an Entra access token for
https://ossrdbms-aad.database.windows.net in PGPASSWORD. Every step is idempotent.
Migrations and admin work connect on 5432, never through PgBouncer.
"""

from __future__ import annotations

import argparse
import os
import sys
from urllib.parse import quote

import psycopg
from psycopg import sql

from scripts.migrate import migrate_up
from shared.platform.settings_model import Settings

ROLE_EXISTS = "SELECT 1 FROM pg_roles WHERE rolname = %(role)s"
# Azure's function: a login role bound to the managed identity's object id ('service' type).
CREATE_ENTRA_PRINCIPAL = (
    "SELECT * FROM pgaadauth_create_principal_with_oid(%(role)s, %(object_id)s, 'service', false, false)"
)
# Data access only: the app never changes the schema. Default privileges cover tables that
# later migrations (run by this administrator) create; the hook re-grants after each run anyway.
GRANTS = [
    "GRANT CONNECT ON DATABASE {database} TO {role}",
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    # The weekly backup verification restores into a scratch database of its own, which it
    # creates, migrates and drops (docs/backups.md); it owns nothing else.
    "ALTER ROLE {role} CREATEDB",
    # Behind PgBouncer the app cannot send these at connect time (docs/database.md).
    "ALTER ROLE {role} SET statement_timeout = {timeout}",
    "ALTER ROLE {role} SET TimeZone = 'UTC'",
    "ALTER ROLE {role} SET jit = off",
]


def admin_url(database: str) -> str:
    user = quote(os.environ["POSTGRES_ADMIN_NAME"], safe="")
    token = quote(os.environ["PGPASSWORD"], safe="")
    return f"postgresql://{user}:{token}@{os.environ['POSTGRES_HOST']}:5432/{database}?sslmode=require"


def ensure_app_principal(url: str, role: str, object_id: str) -> bool:
    """Create the app identity's role if missing; True when it was created."""
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute(ROLE_EXISTS, {"role": role}).fetchone():
            return False
        conn.execute(CREATE_ENTRA_PRINCIPAL, {"role": role, "object_id": object_id})
        return True


def grant_app_role(url: str, role: str) -> None:
    timeout_ms = Settings.model_fields["database_statement_timeout_ms"].default
    with psycopg.connect(url, autocommit=True) as conn:
        names = {
            "database": sql.Identifier(conn.info.dbname),
            "role": sql.Identifier(role),
            "timeout": sql.Literal(f"{timeout_ms}ms"),
        }
        with conn.transaction():
            for statement in GRANTS:
                conn.execute(sql.SQL(statement).format(**names))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("all", "principal", "migrate"))
    step = parser.parse_args(argv).step
    role, database = os.environ["POSTGRES_APP_ROLE"], os.environ["POSTGRES_DATABASE"]
    if step in ("all", "principal"):
        created = ensure_app_principal(admin_url("postgres"), role, os.environ["POSTGRES_APP_PRINCIPAL_ID"])
        print(f"[souq] PostgreSQL role {role}: {'created' if created else 'exists'}")
    if step in ("all", "migrate"):
        print(f"[souq] applied {migrate_up(admin_url(database))} migration(s)")
        grant_app_role(admin_url(database), role)
        print(f"[souq] granted data access on {database} to {role}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
