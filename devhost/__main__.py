"""`python -m devhost`: serve the function app like `func start` (Core Tools are not available).

    python -m devhost [--host 127.0.0.1] [--port 7071] [--no-timers] [--no-queues]
                      [--app function_app:app] [--http-concurrency N]

Run from the app root: local.settings.json `Values` become environment variables (without
overriding), host.json is read from there, and the app module is imported from there. The dev
host's own lines take the app's LOG_FORMAT (shared.platform.logs), so the console has one format.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import os
import socket
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import uvicorn

from devhost.asgi import DevHostApp
from devhost.host import DevHost
from devhost.settings import apply_local_settings, read_local_settings
from shared.platform.hostjson import HostConfig
from shared.platform.logs import choose_format, console_handler

log = logging.getLogger("devhost")

KEEP_ALIVE_SECONDS = 75
LOCAL_HOSTS = {"127.0.0.1", "0.0.0.0", "::", "::1", "localhost"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devhost", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7071, help="port (default 7071; 0 = any free)")
    parser.add_argument("--no-timers", action="store_true", help="do not schedule timer triggers")
    parser.add_argument("--no-queues", action="store_true", help="do not poll queue triggers")
    parser.add_argument("--app", default="function_app:app", help="module:attribute of the app")
    parser.add_argument(
        "--http-concurrency",
        type=int,
        help="HTTP functions running at once, the rest wait (default DEVHOST_HTTP_CONCURRENCY; 0 = no limit)",
    )
    return parser.parse_args(argv)


def load_app(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute or "app")


def configure_console(environ: Mapping[str, str]) -> None:
    """Root logging in the app's LOG_FORMAT. `azure` leaves the app's records to the host's
    logger, which is this one: its lines then take the format `auto` would choose."""
    setting = (environ.get("LOG_FORMAT") or "auto").strip().lower()
    chosen = choose_format("auto" if setting == "azure" else setting, environ=environ)
    logging.basicConfig(level=logging.INFO, handlers=[console_handler(chosen)], force=True)
    # the storage SDK logs every request at INFO; the real host keeps that out of the console
    logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)


def build_host(args: argparse.Namespace, root: Path) -> DevHost:
    """The app is imported after the settings are applied (it may read them at import)."""
    config = HostConfig.load(root / "host.json")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return DevHost(
        load_app(args.app),
        config,
        enable_timers=not args.no_timers,
        enable_queues=not args.no_queues,
        function_directory=str(root),
    )


def _display_url(host: str, port: int, *, browser_name: bool) -> str:
    name = "localhost" if browser_name and host in LOCAL_HOSTS else host
    return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"


def http_concurrency(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """--http-concurrency, else DEVHOST_HTTP_CONCURRENCY (local.settings.json applied), else 0."""
    if args.http_concurrency is not None:
        return int(args.http_concurrency)
    return int(environ.get("DEVHOST_HTTP_CONCURRENCY") or 0)


class DevServer(uvicorn.Server):
    """uvicorn's server, telling `on_listening` the port once its sockets listen (`startup` is
    the step that binds them)."""

    def __init__(self, config: uvicorn.Config, on_listening: Callable[[int], None]) -> None:
        super().__init__(config)
        self.on_listening = on_listening

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.on_listening(self.servers[0].sockets[0].getsockname()[1])


def print_banner(host: DevHost, bind_host: str, port: int) -> None:
    """The `func start`-style list of functions and their URLs."""
    lines = host.banner(_display_url(bind_host, port, browser_name=True))
    lines.append(f"Sandbox payment gateway: {_display_url(bind_host, port, browser_name=True)}/.sandbox/moyasar/v1")
    lines.append(f"Dev host listening on {_display_url(bind_host, port, browser_name=False)}")
    print("\n".join(lines), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path.cwd()
    applied = apply_local_settings(read_local_settings(root / "local.settings.json"), os.environ)
    configure_console(os.environ)
    log.info("Loaded %d settings from local.settings.json", len(applied))
    host = build_host(args, root)
    config = uvicorn.Config(
        DevHostApp(host, http_concurrency=http_concurrency(args, os.environ)),
        host=args.host,
        port=args.port,
        loop="asyncio",
        lifespan="on",
        access_log=False,  # the app logs its own requests
        # Longer than any client's pause between requests: at uvicorn's 5 s a client that sends
        # on an idle connection just as it is closed loses that request (Azure's front end
        # keeps idle connections for minutes).
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        workers=1,
        log_config=None,  # keep the app's logging setup; uvicorn logs propagate to root
    )
    server = DevServer(config, lambda port: print_banner(host, args.host, port))
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn already shut down gracefully
        asyncio.run(server.serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
