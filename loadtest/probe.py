"""The PostgreSQL fault's probe: the harness itself, not Locust's users, sends requests that need
the database while it is down and after it is back, one at a time, and keeps every answer
(status, Retry-After, the problem's dependency, when it was sent and answered). The fault's
rules are judged on these (loadtest.analysis), not on whichever of the users' requests happened
to fall into the window: a saturated host answers those late, or not at all inside it."""

from __future__ import annotations

import functools
import random
import threading
import time
import uuid
from collections.abc import Callable

import httpx

from loadtest.analysis import PROBE_CATALOG, PROBE_READ, PROBE_WRITE, ProbeAnswer
from loadtest.world import World
from scripts.dev_tokens import mint_token

INTERVAL_SECONDS = 0.25  # between rounds of the three requests
KEEP_AFTER_BACK_SECONDS = 15.0  # at most, waiting for a write to succeed after PostgreSQL is back
REQUEST_TIMEOUT_SECONDS = 30.0
WRITE, READ, CATALOG = PROBE_WRITE, PROBE_READ, PROBE_CATALOG


class Probe:
    """Started when PostgreSQL goes down; `finish(back_at)` once it answers again returns after
    the first write succeeded (or KEEP_AFTER_BACK_SECONDS)."""

    def __init__(self, base_url: str, world: World) -> None:
        self.answers: list[ProbeAnswer] = []
        self._base, self._world = base_url, world
        self._auth = {"Authorization": f"Bearer {mint_token(role='customer', sub='load-probe')}"}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="postgresql-probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def finish(self, back_at: float) -> None:
        deadline = back_at + KEEP_AFTER_BACK_SECONDS
        while time.time() < deadline and not self.wrote_after(back_at):
            time.sleep(0.05)
        self._stop.set()
        self._thread.join(timeout=REQUEST_TIMEOUT_SECONDS + 5)

    def wrote_after(self, t: float) -> bool:
        return any(a.name == WRITE and a.sent >= t and 200 <= a.status < 300 for a in list(self.answers))

    def _run(self) -> None:
        with httpx.Client(base_url=self._base, timeout=REQUEST_TIMEOUT_SECONDS) as client:
            while not self._stop.is_set():
                for name, send in ((WRITE, self._order), (READ, self._threads), (CATALOG, self._catalog)):
                    self.answers.append(self._ask(name, functools.partial(send, client)))
                self._stop.wait(INTERVAL_SECONDS)

    def _order(self, client: httpx.Client) -> httpx.Response:
        _, variant, seller = random.choice(self._world.offers)
        body = {"lines": [{"variant_id": variant, "seller_id": seller, "quantity": 1}], "delivery_method": "pickup"}
        return client.post("/api/orders", json=body, headers=self._auth | {"Idempotency-Key": uuid.uuid4().hex})

    def _threads(self, client: httpx.Client) -> httpx.Response:
        return client.get("/api/threads", headers=self._auth)

    def _catalog(self, client: httpx.Client) -> httpx.Response:
        return client.get(f"/api/products?category={random.choice(self._world.categories)}&limit=20")

    @staticmethod
    def _ask(name: str, send: Callable[[], httpx.Response]) -> ProbeAnswer:
        sent = time.time()
        try:
            response = send()
        except httpx.HTTPError:
            return ProbeAnswer(name, sent, time.time(), 0)
        problem = response.headers.get("content-type", "").startswith("application/problem+json")
        dependency = response.json().get("dependency") if problem else None
        retry_after = response.headers.get("retry-after")
        return ProbeAnswer(name, sent, time.time(), response.status_code, retry_after, dependency, problem)
