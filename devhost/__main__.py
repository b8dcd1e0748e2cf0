"""`python -m devhost`: serve the function app like `func start` (Core Tools are not available).

    python -m devhost [--host 127.0.0.1] [--port 7071] [--no-timers] [--no-queues]
                      [--app function_app:app]

Run from the app root: local.settings.json `Values` become environment variables (without
overriding), host.json is read from there, and the app module is imported from there.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys
from pathlib import Path
from typing import Any

import uvicorn

from devhost.asgi import DevHostApp
from devhost.host import DevHost
from devhost.settings import apply_local_settings, read_local_settings
from shared.platform.hostjson import HostConfig

log = logging.getLogger("devhost")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOCAL_HOSTS = {"127.0.0.1", "0.0.0.0", "::", "::1", "localhost"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devhost", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7071, help="port (default 7071; 0 = any free)")
    parser.add_argument("--no-timers", action="store_true", help="do not schedule timer triggers")
    parser.add_argument("--no-queues", action="store_true", help="do not poll queue triggers")
    parser.add_argument("--app", default="function_app:app", help="module:attribute of the app")
    return parser.parse_args(argv)


def load_app(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute or "app")


def build_host(args: argparse.Namespace, root: Path) -> DevHost:
    """Settings first (the app may read them at import), then the app itself."""
    applied = apply_local_settings(read_local_settings(root / "local.settings.json"), os.environ)
    log.info("Loaded %d settings from local.settings.json", len(applied))
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


async def serve(server: uvicorn.Server, host: DevHost, bind_host: str) -> None:
    """Run uvicorn; once it listens, print the `func start`-style banner."""
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.05)
    if server.started:
        port = server.servers[0].sockets[0].getsockname()[1]
        lines = host.banner(_display_url(bind_host, port, browser_name=True))
        lines.append(f"Dev host listening on {_display_url(bind_host, port, browser_name=False)}")
        print("\n".join(lines), flush=True)
    await task


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    # the storage SDK logs every request at INFO; the real host keeps that out of the console
    logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)
    host = build_host(args, Path.cwd())
    config = uvicorn.Config(
        DevHostApp(host),
        host=args.host,
        port=args.port,
        loop="asyncio",
        lifespan="on",
        access_log=False,  # the app logs its own requests
        workers=1,
        log_config=None,  # keep the app's logging setup; uvicorn logs propagate to root
    )
    try:
        asyncio.run(serve(uvicorn.Server(config), host, args.host))
    except KeyboardInterrupt:  # Ctrl-C / SIGINT: uvicorn already shut down gracefully
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
