"""Local services and the two developer commands.

    python -m scripts.dev run     # services + migrations + demo data, then the dev host
    python -m scripts.dev test    # services, then pytest (extra args go to pytest)
    python -m scripts.dev migrate up|down|status
    python -m scripts.dev env     # services, then print the settings as shell exports

PostgreSQL and Redis: DATABASE_URL / REDIS_URL (environment, else local.settings.json) are
used when reachable; otherwise a private cluster of the machine's PostgreSQL (port 5433, data
in .local/pgdata) and a private `redis-server` (port 6380, data in .local/redis) are started.
Azurite comes from npm (package.json) and keeps its data in .local/azurite.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
AZURITE_BIN = ROOT / "node_modules" / ".bin" / "azurite"
AZURITE_PORTS = {"blob": 10000, "queue": 10001, "table": 10002}
EMBEDDED_REDIS_PORT = 6380
EMBEDDED_POSTGRES_PORT = 5433
APP_DATABASE = "souq"


def say(message: str) -> None:
    print(f"[souq] {message}", flush=True)


def load_local_settings() -> None:
    """local.settings.json (created from the sample) into the environment; env wins."""
    settings_file = ROOT / "local.settings.json"
    if not settings_file.exists():
        shutil.copyfile(ROOT / "local.settings.sample.json", settings_file)
        say("created local.settings.json from local.settings.sample.json")
    for name, value in json.loads(settings_file.read_text())["Values"].items():
        os.environ.setdefault(name, str(value))


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


def postgres_reachable(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, dbname="postgres", connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def ensure_postgres() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not (url and postgres_reachable(url)):
        from scripts.pg_cluster import LocalCluster

        say(f"PostgreSQL at {url or '(unset)'} unreachable: starting a private cluster (.local/pgdata)")
        cluster = LocalCluster(LOCAL / "pgdata", EMBEDDED_POSTGRES_PORT).init().start()  # left running for reuse
        url = cluster.url.rsplit("/", 1)[0] + "/" + APP_DATABASE
    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    return url


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = psycopg.conninfo.conninfo_to_dict(url).get("dbname") or APP_DATABASE
    with psycopg.connect(url, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            say(f"created database {name}")


def ensure_redis() -> str:
    url = os.environ.get("REDIS_URL", "")
    parsed = urlparse(url)
    if url and port_open(parsed.hostname or "127.0.0.1", parsed.port or 6379):
        return url
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit(
            f"Redis at {url or '(unset)'} is unreachable and no redis-server is installed "
            "(apt-get install redis-server, or set REDIS_URL)"
        )
    if not port_open("127.0.0.1", EMBEDDED_REDIS_PORT):
        say(f"Redis at {url or '(unset)'} unreachable: starting redis-server on {EMBEDDED_REDIS_PORT}")
        (LOCAL / "redis").mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                binary,
                "--port",
                str(EMBEDDED_REDIS_PORT),
                "--bind",
                "127.0.0.1",
                "--daemonize",
                "yes",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(LOCAL / "redis"),
                "--logfile",
                str(LOCAL / "redis" / "redis.log"),
            ],
            check=True,
        )
        wait_for_port("127.0.0.1", EMBEDDED_REDIS_PORT, "redis-server")
    url = f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0"
    os.environ["REDIS_URL"] = url
    return url


def ensure_azurite() -> None:
    if port_open("127.0.0.1", AZURITE_PORTS["queue"]):
        return
    if not AZURITE_BIN.exists():
        say("installing Azurite from npm (package.json)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True)
    data = LOCAL / "azurite"
    data.mkdir(parents=True, exist_ok=True)
    say("starting Azurite (blob 10000, queue 10001, table 10002)")
    ports = [arg for kind, port in AZURITE_PORTS.items() for arg in (f"--{kind}Port", str(port))]
    with open(LOCAL / "azurite.log", "ab") as log:
        subprocess.Popen(
            [
                str(AZURITE_BIN),
                "--silent",
                "--disableTelemetry",
                "--skipApiVersionCheck",
                "--location",
                str(data),
                *ports,
            ],
            cwd=ROOT,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )  # outlives this command, like the other services
    for port in AZURITE_PORTS.values():
        wait_for_port("127.0.0.1", port, "Azurite")


def provision() -> None:
    load_local_settings()
    ensure_postgres()
    ensure_redis()
    ensure_azurite()
    say(
        f"PostgreSQL {redact(os.environ['DATABASE_URL'])} · Redis {os.environ['REDIS_URL']} · Azurite 127.0.0.1:10000-10002"
    )


def redact(url: str) -> str:
    parsed = urlparse(url)
    return url.replace(f":{parsed.password}@", ":***@") if parsed.password else url


DEMO_CATALOG_PRODUCTS = 2000


def seed_demo_catalog(url: str) -> None:
    """A small bilingual catalog on first run; an existing catalog is kept."""
    from scripts.seed_catalog import seed_catalog

    summary = seed_catalog(url, products=DEMO_CATALOG_PRODUCTS, on_existing="skip")
    say("catalog: kept the existing one" if summary is None else f"catalog: loaded {DEMO_CATALOG_PRODUCTS} products")


def run() -> None:
    from scripts import demo_data, migrate

    provision()
    say(f"migrations: applied {migrate.migrate_up(os.environ['DATABASE_URL'])} new")
    demo_data.load(os.environ["DATABASE_URL"])
    seed_demo_catalog(os.environ["DATABASE_URL"])
    say("the API will be at http://localhost:7071/api  (OpenAPI: http://localhost:7071/api/openapi.json)")
    say("a dev token: make token ROLE=customer   (roles: customer seller pharmacist admin super_admin)")
    say('  curl -H "Authorization: Bearer $(make -s token ROLE=customer)" http://localhost:7071/api/me')
    os.execv(sys.executable, [sys.executable, "-m", "devhost", *sys.argv[2:]])


def test() -> None:
    provision()
    os.environ.setdefault("SOUQ_ENV", "test")
    os.execv(sys.executable, [sys.executable, "-m", "pytest", *sys.argv[2:]])


def migrate_command() -> None:
    from scripts import migrate

    provision()
    raise SystemExit(migrate.main(sys.argv[2:]))


def print_env() -> None:
    provision()
    for name in ("DATABASE_URL", "REDIS_URL", "AzureWebJobsStorage"):
        print(f"export {name}='{os.environ[name]}'")


if __name__ == "__main__":
    os.chdir(ROOT)
    commands = {"run": run, "test": test, "migrate": migrate_command, "env": print_env}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        raise SystemExit(f"usage: python -m scripts.dev {{{'|'.join(commands)}}} [args]")
    commands[sys.argv[1]]()
