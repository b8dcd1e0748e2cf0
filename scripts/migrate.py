"""Apply or roll back the numbered SQL migrations in `migrations/` with yoyo-migrations.

    python -m scripts.migrate up|down|status [--database URL]

`up` applies everything pending; `down` rolls back every applied migration (or `--count N`).
yoyo takes a lock table around each run, so concurrent runs (two deploys, parallel tests)
apply each migration exactly once. The URL defaults to DATABASE_URL.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from yoyo import get_backend, read_migrations
from yoyo.backends import DatabaseBackend

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
LOCK_TIMEOUT_SECONDS = 60


def yoyo_url(database_url: str) -> str:
    """yoyo picks its driver from the scheme: psycopg 3 is `postgresql+psycopg`."""
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    return database_url


@contextmanager
def locked_backend(database_url: str) -> Iterator[DatabaseBackend]:
    """A yoyo backend holding yoyo's lock; its connection is closed afterwards."""
    backend = get_backend(yoyo_url(database_url))
    try:
        with backend.lock(LOCK_TIMEOUT_SECONDS):
            yield backend
    finally:
        backend.connection.close()


def migrate_up(database_url: str) -> int:
    with locked_backend(database_url) as backend:
        pending = backend.to_apply(read_migrations(str(MIGRATIONS_DIR)))
        backend.apply_migrations(pending)
    return len(pending)


def available_migrations() -> list[str]:
    """The ids of every migration this code has (a backup's restore needs all of its own)."""
    return [m.id for m in read_migrations(str(MIGRATIONS_DIR))]


def migrate_exactly(database_url: str, migration_ids: list[str]) -> int:
    """Applies the named migrations and no other (a backup's list: its schema, not the newest).
    Ids this code does not have are refused before anything is applied."""
    wanted = set(migration_ids)
    with locked_backend(database_url) as backend:
        migrations = read_migrations(str(MIGRATIONS_DIR))
        unknown = wanted - {m.id for m in migrations}
        if unknown:
            raise ValueError(f"unknown migrations: {', '.join(sorted(unknown))}")
        pending = backend.to_apply(migrations.filter(lambda m: m.id in wanted))
        backend.apply_migrations(pending)
    return len(pending)


def migrate_down(database_url: str, count: int | None = None) -> int:
    with locked_backend(database_url) as backend:
        applied = backend.to_rollback(read_migrations(str(MIGRATIONS_DIR)))
        chosen = applied[:count] if count else applied
        backend.rollback_migrations(chosen)
    return len(chosen)


def migration_status(database_url: str) -> list[tuple[str, bool]]:
    with locked_backend(database_url) as backend:
        return [(m.id, backend.is_applied(m)) for m in read_migrations(str(MIGRATIONS_DIR))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("up", "down", "status"))
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--count", type=int, help="with down: how many to roll back")
    args = parser.parse_args(argv)
    if not args.database:
        parser.error("set DATABASE_URL or pass --database")
    if args.command == "up":
        print(f"applied {migrate_up(args.database)} migration(s)")
    elif args.command == "down":
        print(f"rolled back {migrate_down(args.database, args.count)} migration(s)")
    else:
        for migration_id, applied in migration_status(args.database):
            print(f"{'applied' if applied else 'pending'}  {migration_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
