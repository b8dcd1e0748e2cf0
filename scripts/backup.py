"""Backups for people: list, create, verify and restore (docs/backups.md).

    python -m scripts.backup list
    python -m scripts.backup create [--database URL]
    python -m scripts.backup verify [BACKUP_ID] [--database URL]
    python -m scripts.backup restore BACKUP_ID --into DATABASE

`--database` defaults to DATABASE_URL; `--into` takes a database name on the same server (created
when missing) or a full URL, and must hold no tables. The settings come from the environment,
else local.settings.json (as for `make run`). Long steps show tqdm progress bars. A refused
restore (incomplete, corrupted or mismatched backup; a target that has tables) exits 2 with the reason.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REFUSED_EXIT = 2


class ProgressBars:
    """One tqdm bar per step (copy, fingerprint, load, index, compare), created on first report."""

    def __init__(self) -> None:
        self._bars: dict[str, Any] = {}

    def __call__(self, step: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if step not in self._bars:
            self._bars[step] = tqdm(total=total, desc=f"{step:<11}", unit="table", position=len(self._bars), leave=True)
        bar = self._bars[step]
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()


def load_settings() -> None:
    """local.settings.json's values under the environment's (the environment wins)."""
    import json

    settings = ROOT / "local.settings.json"
    if settings.exists():
        for name, value in json.loads(settings.read_text())["Values"].items():
            os.environ.setdefault(name, str(value))


def target_url(into: str) -> str:
    from shared.backups.rules import database_url_for

    if "://" in into:
        return into
    return database_url_for(os.environ["DATABASE_URL"], into)


def mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


async def list_command(args: argparse.Namespace) -> int:
    from shared.backups import service

    for backup in await service.list_backups():
        if not backup.complete:
            print(f"{backup.backup_id}  INCOMPLETE (no manifest: not restorable)  {len(backup.blobs)} blobs")
            continue
        m = await service.read_manifest(backup.backup_id)
        took = (m.finished_at - m.started_at).total_seconds()
        print(f"{m.backup_id}  {len(m.tables)} tables  {m.rows:,} rows  {mib(m.stored_bytes)}  "
              f"{took:.0f} s  migration {m.migration_version}")  # fmt: skip
    return 0


async def create_command(args: argparse.Namespace) -> int:
    from shared.backups import service

    bars = ProgressBars()
    try:
        result = await service.create_backup(database_url=args.database, progress=bars)
    finally:
        bars.close()
    print(result.summary())
    return 0 if result.status == "succeeded" else 1


async def verify_command(args: argparse.Namespace) -> int:
    from shared.backups import service

    bars = ProgressBars()
    try:
        result = await service.verify_backup(args.backup_id, database_url=args.database, progress=bars)
    finally:
        bars.close()
    print(f"{result.backup_id}: {result.status} {result.detail}")
    return 0 if result.status == "succeeded" else REFUSED_EXIT


async def restore_command(args: argparse.Namespace) -> int:
    from shared.backups import service

    url = target_url(args.into)
    created = await service.create_database(url)
    print(f"restoring {args.backup_id} into {'new' if created else 'existing'} database {args.into.rsplit('/', 1)[-1]}")
    bars = ProgressBars()
    try:
        result = await service.restore_backup(args.backup_id, url, progress=bars)
    finally:
        bars.close()
    print(f"restored {result.tables} tables, {result.rows:,} rows; every count and fingerprint matches the manifest")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], Any]] = {
    "list": list_command,
    "create": create_command,
    "verify": verify_command,
    "restore": restore_command,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.backup", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="backups in the container, newest first")
    create = commands.add_parser("create", help="take a backup now")
    create.add_argument("--database", help="default: DATABASE_URL")
    verify = commands.add_parser("verify", help="restore into a scratch database, compare, drop it")
    verify.add_argument("backup_id", nargs="?", help="default: the newest complete backup")
    verify.add_argument("--database", help="the server (and backup_runs) to use; default: DATABASE_URL")
    restore = commands.add_parser("restore", help="restore a backup into an empty database")
    restore.add_argument("backup_id")
    restore.add_argument("--into", required=True, help="database name on the same server, or a URL")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> int:
    from shared.platform.errors import DomainError
    from shared.storage import close_storage_clients

    try:
        return await COMMANDS[args.command](args)
    except DomainError as refused:
        print(f"refused ({refused.code}): {refused.detail}", file=sys.stderr)
        return REFUSED_EXIT
    finally:
        await close_storage_clients()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_settings()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
