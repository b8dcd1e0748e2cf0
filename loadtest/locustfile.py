"""The Locust users of the load run (started by `python -m loadtest`, which passes the plan, the
world and where to log through LOADTEST_* variables).

Each shopper, between 1 and 3 s apart: browses or searches (60 %), opens a product page (15 %),
places an order and pays it in the sandbox (10 %), lists its message threads, opens one (a
direct thread with a seller, started the first time) and posts to it (10 %), or, as the
offer's seller, updates its stock (5 %). In the hot-SKU stage every user orders the same variant. Every request
is one JSON line in LOADTEST_LOG: when, what, status, milliseconds, Retry-After, and for orders
and payments what happened (loadtest.analysis reads it)."""

from __future__ import annotations

import functools
import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

from locust import FastHttpUser, LoadTestShape, between, events, task

from loadtest.plan import Plan
from scripts.dev_tokens import mint_token

PLAN = Plan.from_json(os.environ.get("LOADTEST_PLAN", Plan("smoke", 20, []).to_json()))
WORLD: dict[str, Any] = (
    json.loads(Path(os.environ["LOADTEST_WORLD"]).read_text()) if "LOADTEST_WORLD" in os.environ else {}
)
LOG = open(os.environ.get("LOADTEST_LOG", os.devnull), "a", buffering=1)  # noqa: SIM115 - open for the run
STARTED_FILE = os.environ.get("LOADTEST_STARTED")
MIX = [("browse", 60), ("product", 15), ("order", 10), ("messages", 10), ("stock", 5)]
PLENTY = 900_000  # loadtest.world stocks the mix at this; OfferPut allows up to 1,000,000
state = {"started": 0.0}


def record(**fields: Any) -> None:
    LOG.write(json.dumps({"t": round(time.time(), 3), **fields}) + "\n")


@events.test_start.add_listener
def _started(environment: Any, **_: Any) -> None:
    state["started"] = time.time()
    if STARTED_FILE:
        Path(STARTED_FILE).write_text(str(state["started"]))


@events.request.add_listener
def _logged(request_type: str, name: str, response_time: float, response: Any, exception: Any, **_: Any) -> None:
    status = getattr(response, "status_code", 0) or 0
    retry_after = response.headers.get("retry-after") if response is not None and response.headers else None
    error = f"{type(exception).__name__}: {exception}"[:200] if exception is not None and not status else None
    problem = _problem(response) if status >= 400 else {}
    record(
        name=name,
        status=status,
        ms=round(response_time, 1),
        retry_after=retry_after,
        error=error,
        code=problem.get("code"),
        dependency=problem.get("dependency"),
    )


class Stages(LoadTestShape):
    """The plan's stages: 0 → 100 → 200 users, then the hot SKU (loadtest.plan)."""

    def tick(self) -> tuple[int, float] | None:
        stage = PLAN.stage_at(self.get_run_time())
        return None if stage is None else (stage.users, stage.spawn_rate)


def hot_now() -> bool:
    stage = PLAN.stage_at(time.time() - state["started"]) if state["started"] else None
    return bool(stage and stage.hot)


class Shopper(FastHttpUser):
    wait_time = between(1, 3)
    # One retry when the connection was closed under the request: uvicorn drops keep-alive
    # connections idle for 5 s, and a Locust process starved of CPU at 200 users sends on some
    # just after. The dev host never read such a request (orders carry an Idempotency-Key anyway).
    max_retries = 2

    def on_start(self) -> None:
        self.sub = f"load-{uuid.uuid4().hex[:12]}"
        self.auth = {"Authorization": f"Bearer {mint_token(role='customer', sub=self.sub)}"}

    @task
    def one_action(self) -> None:
        if hot_now():
            self.order([WORLD["hot"]], hot=True)
            return
        action = random.choices([name for name, _ in MIX], weights=[w for _, w in MIX])[0]
        getattr(self, action)()

    def browse(self) -> None:
        choice = random.random()
        if choice < 0.5:
            word = random.choice(WORLD["words"])
            self.client.get(f"/api/products?q={word}&limit=20", name="GET /api/products?q=")
        elif choice < 0.85:
            category = random.choice(WORLD["categories"])
            self.client.get(f"/api/products?category={category}&limit=20", name="GET /api/products?category=")
        else:
            self.client.get("/api/categories", name="GET /api/categories")

    def product(self) -> None:
        slug = random.choice(WORLD["products"])
        self.client.get(f"/api/products/by-slug/{slug}", name="GET /api/products/by-slug/{slug}")

    def order(self, offers: list[list[str]] | None = None, *, hot: bool = False) -> None:
        picked = offers or random.sample(WORLD["offers"], random.randint(1, 2))
        lines = [{"variant_id": v, "seller_id": s, "quantity": 1} for _, v, s in picked]
        headers = self.auth | {"Idempotency-Key": uuid.uuid4().hex}
        name = "POST /api/orders (hot)" if hot else "POST /api/orders"
        with self.client.post(
            "/api/orders",
            json={"lines": lines, "delivery_method": "pickup"},
            headers=headers,
            name=name,
            catch_response=True,
        ) as response:
            order = response.json() if response.status_code == 201 else None
            code = None if order else _code(response)
            record(event="order", hot=hot, status=response.status_code, code=code)
            if response.status_code == 409 and code == "insufficient_stock" and hot:
                response.success()  # the hot SKU sold out: an expected answer
        if order and not hot:
            self.pay(order["id"])

    def pay(self, order_id: str) -> None:
        response = self.client.post(
            f"/api/orders/{order_id}/payments", headers=self.auth, name="POST /api/orders/{id}/payments"
        )
        if response.status_code not in (200, 201):
            return
        invoice = response.json()["gateway_payment_id"]
        approved = self.client.post(
            f"/.sandbox/moyasar/control/invoices/{invoice}/approve",
            json={"method": "mada"},
            name="POST sandbox approve",
        )
        if approved.status_code == 200:
            delivery = approved.json().get("delivery") or {}
            record(event="approved", order=order_id, webhook=delivery.get("status"))

    def messages(self) -> None:
        """My threads; without one, a direct thread with a seller of the mix; then open it and
        post to it (a client message id, as the app's clients send)."""
        listed = self.client.get("/api/threads?limit=20", headers=self.auth, name="GET /api/threads")
        items = listed.json()["items"] if listed.status_code == 200 else None
        if items is None:
            return
        thread = random.choice(items)["id"] if items else self.start_thread()
        if thread is None:
            return
        record(event="messages", step="listed" if items else "started")
        opened = self.client.get(
            f"/api/threads/{thread}/messages", headers=self.auth, name="GET /api/threads/{id}/messages"
        )
        if opened.status_code != 200:
            return
        posted = self.client.post(
            f"/api/threads/{thread}/messages",
            json={"body": f"Is this in stock? ({uuid.uuid4().hex[:6]})", "client_message_id": uuid.uuid4().hex},
            headers=self.auth,
            name="POST /api/threads/{id}/messages",
        )
        if posted.status_code == 201:
            record(event="messages", step="posted")

    def start_thread(self) -> str | None:
        _, _, seller = random.choice(WORLD["offers"])
        started = self.client.post(
            f"/api/sellers/{seller}/direct", headers=self.auth, name="POST /api/sellers/{id}/direct"
        )
        return started.json()["id"] if started.status_code in (200, 201) else None

    def stock(self) -> None:
        _, variant, seller = random.choice(WORLD["offers"])
        self.client.put(
            f"/api/sellers/{seller}/offers/{variant}",
            json={"on_hand": PLENTY + random.randint(0, 1000)},
            headers={"Authorization": f"Bearer {seller_token(seller)}"},
            name="PUT /api/sellers/{seller}/offers/{variant}",
        )


@functools.cache
def seller_token(seller: str) -> str:
    """One token per seller for the run: signing one (RS256) costs Locust's CPU, which the
    machine shares with the dev host."""
    return mint_token(role="seller", sub=f"load-seller-{seller[:8]}", seller_id=seller)


def _problem(response: Any) -> dict:
    try:
        body = response.json()
    except (ValueError, AttributeError, TypeError):
        return {}
    return body if isinstance(body, dict) else {}


def _code(response: Any) -> str | None:
    return _problem(response).get("code")
