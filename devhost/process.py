"""Run the dev host as a child process (e2e tests, benchmarks): start, wait until it answers,
stop. The child gets this process's environment plus the settings given, and those win over
local.settings.json (the dev host never overrides variables that are already set)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 30.0


@dataclass
class RunningHost:
    process: subprocess.Popen
    base_url: str
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_devhost(env: dict[str, str], *, port: int, log_path: Path, extra_args: tuple[str, ...] = ()) -> RunningHost:
    command = [sys.executable, "-m", "devhost", "--port", str(port), *extra_args]
    with open(log_path, "wb") as log_file:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(command, cwd=ROOT, env=os.environ | env, stdout=log_file, stderr=subprocess.STDOUT)
    host = RunningHost(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dev host exited with {process.returncode}:\n{host.logs()}")
        try:
            if httpx.get(f"{host.base_url}/api/health", timeout=1).status_code == 200:
                return host
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    host.stop()
    raise RuntimeError(f"dev host did not answer within {START_TIMEOUT_SECONDS}s:\n{host.logs()}")
