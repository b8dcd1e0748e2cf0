"""A private PostgreSQL cluster from the machine's own server binaries.

Used where no server is configured (`make run` without a reachable DATABASE_URL) and by the
restart-recovery test, which must stop and start a server of its own. The system binaries are
used rather than an embedded wheel because the catalog's migrations need contrib extensions
(`pg_trgm`, `unaccent`) that the wheels do not ship. `initdb` refuses to run as root, so as
root the cluster belongs to the `postgres` account.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

SERVICE_ACCOUNT = "postgres"


def server_bindir() -> Path:
    """The newest installed server's bin directory (Debian layout first, then PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    for directory in reversed(candidates):
        if Path(directory, "initdb").exists():
            return Path(directory)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise SystemExit("no PostgreSQL server binaries found (apt-get install postgresql, or set DATABASE_URL)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalCluster:
    datadir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        command = [str(server_bindir() / tool), *args]
        if os.geteuid() == 0:  # initdb and postgres refuse root
            command = ["runuser", "-u", SERVICE_ACCOUNT, "--", *command]
        done = subprocess.run(command, timeout=timeout, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")

    def init(self) -> LocalCluster:
        if (self.datadir / "PG_VERSION").exists():
            return self
        self.datadir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            account = pwd.getpwnam(SERVICE_ACCOUNT)
            os.chown(self.datadir, account.pw_uid, account.pw_gid)
        self._run(
            "initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"
        )
        return self

    def control(self, *args: str) -> None:
        """`pg_ctl <args>` with this cluster's port; `control("start")`, `("-m", "fast", "stop")`."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.datadir}"
        self._run("pg_ctl", "-w", "-D", str(self.datadir), "-o", options, "-l", str(self.datadir / "server.log"), *args)

    def running(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def start(self) -> LocalCluster:
        if not self.running():
            self.control("start")
        return self
