"""What the authorization matrix runs against: two shoppers, two sellers, an order spanning
both, created through the API; one valid request per operation (tests/integration/authz_matrix.py).

A request is built again for every cell. Operations that change or remove their target (a
delete, a cancel, a transition, a versioned update) get a fresh target each time, so that every
caller meets the same state and a refusal means authorization, not "already gone"."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from devhost.host import DevHost
from tests.catalog_support import ADMIN, Catalog, admin_call
from tests.integration import authz_world_thread_orders as thread_orders
from tests.integration.authz_world_inbox import INBOX_BUILDERS
from tests.integration.authz_world_widget import WIDGET_BUILDERS
from tests.order_support import ADDRESS, line, place, seller_headers
from tests.support import bearer, call

FUNCTION_KEY = "authz-matrix-function-key"
PDF = b"%PDF-1.4\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
SHOPPER_A, SHOPPER_B = "matrix-shopper-a", "matrix-shopper-b"


@dataclass
class Req:
    method: str
    path: str  # after /api/
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None  # a raw body (signed webhooks), sent instead of `body`


@dataclass
class World:
    client: httpx.AsyncClient
    host: DevHost
    catalog: Catalog
    callers: dict[str, dict[str, str]]  # column → Authorization header (none for anonymous)
    address_a: str  # customer A's
    order: dict  # customer A's, with a child at each seller
    prescription: dict = field(default_factory=dict)  # customer A's, PENDING
    sandbox: Any = None  # tests.payments_support.SandboxServer: the payment gateway
    payment_queue: str = ""
    thread: str = ""  # customer A's inquiry to seller A
    attachment: str = ""  # on a message of that thread
    thread_message: int = 0  # that message
    thread_orders: dict = field(default_factory=dict)  # authz_world_thread_orders: thread and request ids
    inbox: dict[str, Any] = field(default_factory=dict)  # seller A's channel connections, made once
    widget_ready: bool = False  # the chat widget's connection exists (authz_world_widget)

    @property
    def nahdi(self) -> str:  # seller A
        return self.catalog.sellers["nahdi"]

    def child_of(self, order: dict, seller: str) -> dict:
        return next(c for c in order["children"] if c["seller_id"] == self.catalog.sellers[seller])

    def routed_to(self, req: Req) -> str | None:
        """The function the dev host's router gives the request to."""
        route = self.host.router.resolve(req.method, f"/api/{req.path}").route
        return route.target.spec.name if route else None

    async def send(self, req: Req, column: str, *, key: bool) -> httpx.Response:
        headers = self.callers[column] | req.headers | ({"x-functions-key": FUNCTION_KEY} if key else {})
        if req.content is not None:
            return await self.client.request(
                req.method, f"/api/{req.path}", content=req.content, params=req.params, headers=headers
            )
        return await self.client.request(
            req.method, f"/api/{req.path}", json=req.body, params=req.params, headers=headers
        )

    # -- fresh targets, made through the API in-process (setup, not the cell's request)

    async def fresh_address(self) -> str:
        status, _, body = await call(
            "add_my_address", "POST", "me/addresses", body=ADDRESS, headers=self.callers["customer"]
        )
        assert status == 201, body
        return body["id"]

    async def fresh_order(self) -> dict:
        """Customer A's pickup order of one unit at each seller."""
        lines = [line(self.catalog, "vitamin", 1, "nahdi"), line(self.catalog, "panadol", 1, "dawaa")]
        status, _, body = await place(self.callers["customer"], lines)
        assert status == 201, body
        return body

    async def fresh_prescription(self, *, submit: bool) -> dict:
        """Customer A's prescription with its file uploaded to Azurite (and submitted: PENDING)."""
        headers = self.callers["customer"]
        status, _, ticket = await call(
            "create_prescription", "POST", "prescriptions", body={"file_name": "rx.pdf"}, headers=headers
        )
        assert status == 201, ticket
        async with httpx.AsyncClient(timeout=10) as blob:
            put = await blob.put(ticket["upload"]["url"], content=PDF, headers=ticket["upload"]["headers"])
        assert put.status_code == 201, put.text
        if not submit:
            return ticket
        path = f"prescriptions/{ticket['id']}/submit"
        status, _, body = await call(
            "submit_prescription", "POST", path, headers=headers, route_params={"id": ticket["id"]}
        )
        assert status == 200, body
        return body

    async def fresh_paid_order(self) -> dict:
        """Customer A's pickup order, paid through the sandbox (webhook stored, queued, processed)."""
        from tests.payments_support import post_webhook, process_queue, start_payment

        order = await self.fresh_order()
        status, payment = await start_payment(self.callers["customer"], order["id"])
        assert status == 201, payment
        self.sandbox.capture_webhooks()
        await self.sandbox.aapprove(payment["gateway_payment_id"])
        status, _ = await post_webhook(self.sandbox.captured()[-1]["body"].encode())
        assert status == 200
        assert "paid_confirmed" in await process_queue(self.payment_queue)  # with the webhook row's fakes
        return order

    async def fresh_message(self, *, seller: bool) -> int:
        """A new message in customer A's thread, by customer A or by seller A's staff."""
        name, prefix = ("post_seller_thread_message", "seller/") if seller else ("post_thread_message", "")
        headers = self.callers["seller" if seller else "customer"]
        status, _, body = await call(
            name, "POST", f"{prefix}threads/{self.thread}/messages", body={"body": "matrix"}, headers=headers,
            route_params={"id": self.thread},
        )  # fmt: skip
        assert status == 201, body
        return body["id"]

    async def start_thread(self) -> None:
        """Customer A's inquiry about Vitamin D to seller A, with a checked PNG on a message."""
        product, headers = self.catalog.ids["vitamin"], self.callers["customer"]
        status, _, thread = await call(
            "start_inquiry", "POST", f"products/{product}/inquiries", body={"seller_id": self.nahdi},
            headers=headers, route_params={"id": product},
        )  # fmt: skip
        assert status == 201, thread
        self.thread, path = thread["id"], f"threads/{thread['id']}/attachments"
        status, _, ticket = await call(
            "start_thread_attachment", "POST", path, body={"file_name": "a.png"}, headers=headers,
            route_params={"id": self.thread},
        )  # fmt: skip
        assert status == 201, ticket
        async with httpx.AsyncClient(timeout=10) as blob:
            put = await blob.put(ticket["upload"]["url"], content=PNG, headers=ticket["upload"]["headers"])
        assert put.status_code == 201, put.text
        status, _, message = await call(
            "post_thread_message", "POST", f"threads/{self.thread}/messages", body={"attachment_ids": [ticket["id"]]},
            headers=headers, route_params={"id": self.thread},
        )  # fmt: skip
        assert status == 201, message
        self.attachment, self.thread_message = ticket["id"], message["id"]

    async def fresh(self, kind: str) -> dict:
        """A new category, brand, product or variant (version 1), made by an admin."""
        tag = uuid.uuid4().hex[:10]
        if kind == "variants":
            product = self.catalog.ids["augmentin"]
            body = {"sku": f"MX-{tag}", "price": "12.00"}
            return await admin_call(
                "create_variant", "POST", f"catalog/products/{product}/variants", body, route_params={"id": product}
            )
        name = {"categories": "create_category", "brands": "create_brand", "products": "create_product"}[kind]
        return await admin_call(name, "POST", f"catalog/{kind}", new_fields(self.catalog, kind, tag))

    async def fresh_image(self) -> tuple[str, str]:
        product = self.catalog.ids["vitamin"]
        body = {"url": f"https://img.example/{uuid.uuid4().hex}.png"}
        image = await admin_call(
            "add_product_image", "POST", f"catalog/products/{product}/images", body, route_params={"id": product}
        )
        return product, image["id"]


def new_fields(catalog: Catalog, kind: str, tag: str) -> dict:
    """A valid create body for a category, brand or product, with unique slugs."""
    if kind == "categories":
        return {"name_en": f"Matrix {tag}", "name_ar": "مصفوفة", "slug_en": f"matrix-{tag}", "slug_ar": f"مصفوفة-{tag}"}
    if kind == "brands":
        return {"name_en": f"Matrix {tag}", "name_ar": "مصفوفة", "slug": f"matrix-{tag}"}
    return {
        "name_en": f"Matrix product {tag}",
        "name_ar": "منتج المصفوفة",
        "slug_en": f"matrix-product-{tag}",
        "slug_ar": f"منتج-{tag}",
        "category_id": catalog.ids["vitamins"],
    }


async def build_world(client: httpx.AsyncClient, host: DevHost, catalog: Catalog) -> World:
    """Two shoppers with an address each, the catalog's two sellers (nahdi = A, dawaa = B) with
    offers, and customer A's delivery order spanning both sellers."""
    callers = {
        "anonymous": {},
        "customer": bearer(sub=SHOPPER_A),
        "other_customer": bearer(sub=SHOPPER_B),
        "seller": seller_headers(catalog, "nahdi"),
        "other_seller": seller_headers(catalog, "dawaa"),
        "pharmacist": bearer("pharmacist", sub="matrix-pharmacist"),
        "admin": ADMIN,
        "super_admin": bearer("super_admin", sub="matrix-super-admin"),
    }
    world = World(client, host, catalog, callers, address_a="", order={})
    world.address_a = await world.fresh_address()
    for sub in (SHOPPER_B,):
        status, _, body = await call("add_my_address", "POST", "me/addresses", body=ADDRESS, headers=bearer(sub=sub))
        assert status == 201, body
    lines = [line(catalog, "vitamin", 1, "nahdi"), line(catalog, "panadol", 1, "dawaa")]
    status, _, world.order = await place(callers["customer"], lines, method="delivery", address_id=world.address_a)
    assert status == 201, world.order
    world.prescription = await world.fresh_prescription(submit=True)
    await world.start_thread()
    await thread_orders.prepare(world)
    return world


# ---- one request per operation ---------------------------------------------------------------

Builder = Callable[[World], Req | Awaitable[Req]]


def get(path: str, **params: str) -> Callable[[World], Req]:
    return lambda w: Req("GET", path, params=params)


async def _cancel(w: World) -> Req:
    order = await w.fresh_order()
    return Req("POST", f"orders/{order['id']}/cancel", {"version": order["version"]})


async def _transition(w: World) -> Req:
    child = w.child_of(await w.fresh_order(), "nahdi")
    return Req("POST", f"seller/orders/{child['id']}/transitions", {"to": "CONFIRMED", "version": child["version"]})


def _create(kind: str) -> Builder:
    return lambda w: Req("POST", f"catalog/{kind}", new_fields(w.catalog, kind, uuid.uuid4().hex[:10]))


def _update(kind: str, change: dict) -> Builder:
    async def build(w: World) -> Req:
        row = await w.fresh(kind)
        return Req("PATCH", f"catalog/{kind}/{row['id']}", {**change, "version": row["version"]})

    return build


def _deactivate(kind: str) -> Builder:
    async def build(w: World) -> Req:
        row = await w.fresh(kind)
        return Req("DELETE", f"catalog/{kind}/{row['id']}", headers={"If-Match": f'"{row["version"]}"'})

    return build


async def _remove_image(w: World) -> Req:
    product, image = await w.fresh_image()
    return Req("DELETE", f"catalog/products/{product}/images/{image}")


async def _delete_address(w: World) -> Req:
    return Req("DELETE", f"me/addresses/{await w.fresh_address()}")


def _place(w: World) -> Req:
    body = {"lines": [line(w.catalog, "vitamin", 1, "nahdi")], "delivery_method": "pickup"}
    return Req("POST", "orders", body, headers={"Idempotency-Key": str(uuid.uuid4())})


async def _submit_prescription(w: World) -> Req:
    ticket = await w.fresh_prescription(submit=False)
    return Req("POST", f"prescriptions/{ticket['id']}/submit")


async def _review_prescription(w: World) -> Req:
    prescription = await w.fresh_prescription(submit=True)
    body = {"decision": "REJECTED", "version": prescription["version"], "notes": "matrix"}
    return Req("POST", f"pharmacist/prescriptions/{prescription['id']}/review", body)


async def _start_payment(w: World) -> Req:
    return Req("POST", f"orders/{(await w.fresh_order())['id']}/payments")


async def _refund(w: World) -> Req:
    child = w.child_of(await w.fresh_paid_order(), "nahdi")
    return Req(
        "POST",
        f"orders/{child['id']}/refunds",
        {"lines": [{"item_id": child["items"][0]["id"], "quantity": 1}], "restock": True},
    )


def _webhook(w: World) -> Req:
    """A sandbox webhook in Moyasar's shape with the right secret (a new event each time)."""
    payment = {"id": str(uuid.uuid4()), "status": "paid", "amount": 100, "currency": "SAR", "metadata": {}}
    event = {
        "id": str(uuid.uuid4()),
        "type": "payment_paid",
        "created_at": "2025-01-01T00:00:00Z",
        "secret_token": w.sandbox.webhook_secret,
        "account_name": "souq",
        "live": False,
        "data": payment,
    }
    return Req("POST", "webhooks/payments/sandbox", event)


def _own_message(method: str, *, seller: bool, suffix: str = "", body: Any = None) -> Builder:
    """A request on a fresh message of customer A's thread (by A, or by seller A's staff)."""

    async def build(w: World) -> Req:
        prefix = "seller/" if seller and not suffix else ""
        message = await w.fresh_message(seller=seller)
        return Req(method, f"{prefix}threads/{w.thread}/messages/{message}{suffix}", body)

    return build


def _thread_path(w: World, suffix: str, *, prefix: str = "") -> str:
    return f"{prefix}threads/{w.thread}{suffix}"


def _product_path(w: World, suffix: str = "") -> str:
    return f"catalog/products/{w.catalog.ids['vitamin']}{suffix}"


BUILDERS: dict[str, Builder] = {
    "health": get("health"),
    "health_ready": get("health/ready"),
    "openapi_document": get("openapi.json"),
    "route_fallback": get("no/such/route"),
    "get_me": get("me"),
    "patch_me": lambda w: Req("PATCH", "me", {"full_name": "Matrix Caller"}),
    "list_my_addresses": get("me/addresses"),
    "add_my_address": lambda w: Req("POST", "me/addresses", ADDRESS),
    "update_my_address": lambda w: Req("PATCH", f"me/addresses/{w.address_a}", {"city": "Jeddah"}),
    "delete_my_address": _delete_address,
    "place_order": _place,
    "list_my_orders": get("orders"),
    "get_my_order": lambda w: Req("GET", f"orders/{w.order['id']}"),
    "cancel_my_order": _cancel,
    "list_my_notifications": get("me/notifications"),
    "mark_my_notifications_read": lambda w: Req("POST", "me/notifications/read", {"all": True}),
    "list_categories": get("categories"),
    "get_category": get("categories/pain-relief"),
    "list_brands": get("brands"),
    "list_products": get("products"),
    "get_product": lambda w: Req("GET", f"products/{w.catalog.ids['panadol']}"),
    "get_product_by_slug": get("products/by-slug/panadol-pan-ext-24"),
    "create_category": _create("categories"),
    "update_category": _update("categories", {"name_en": "Renamed"}),
    "deactivate_category": _deactivate("categories"),
    "create_brand": _create("brands"),
    "update_brand": _update("brands", {"name_en": "Renamed"}),
    "deactivate_brand": _deactivate("brands"),
    "create_product": _create("products"),
    "update_product": _update("products", {"name_en": "Renamed"}),
    "deactivate_product": _deactivate("products"),
    "create_variant": lambda w: Req(
        "POST", _product_path(w, "/variants"), {"sku": f"MX-{uuid.uuid4().hex[:10]}", "price": "9.99"}
    ),
    "update_variant": _update("variants", {"price": "10.50"}),
    "deactivate_variant": _deactivate("variants"),
    "add_product_image": lambda w: Req("POST", _product_path(w, "/images"), {"url": "https://img.example/new.png"}),
    "remove_product_image": _remove_image,
    "put_offer": lambda w: Req(
        "PUT", f"sellers/{w.nahdi}/offers/{w.catalog.ids['variant-augmentin']}", {"on_hand": 7, "price": "60.00"}
    ),
    "list_offers": lambda w: Req("GET", f"sellers/{w.nahdi}/offers"),
    "list_seller_orders": lambda w: Req("GET", "seller/orders", params={"seller": w.nahdi}),
    "get_seller_order": lambda w: Req("GET", f"seller/orders/{w.child_of(w.order, 'nahdi')['id']}"),
    "transition_seller_order": _transition,
    "get_seller_stats": get("seller/stats"),
    "list_seller_notifications": get("seller/notifications"),
    "mark_seller_notifications_read": lambda w: Req("POST", "seller/notifications/read", {"all": True}),
    "list_ops_orders": get("ops/orders"),
    "get_ops_order": lambda w: Req("GET", f"ops/orders/{w.order['id']}"),
    "get_ops_stats": get("ops/stats"),
    "get_ops_seller_stats": lambda w: Req("GET", f"ops/sellers/{w.nahdi}/stats"),
    "relay_outbox_now": lambda w: Req("POST", "ops/outbox/relay"),
    "get_consistency": get("ops/consistency"),
    "get_health": get("ops/health"),
    "get_slow_queries_report": get("ops/reports/slow-queries", order="mean", limit="5"),
    "get_index_usage_report": get("ops/reports/index-usage", min_rows="0"),
    "get_tables_report": get("ops/reports/tables"),
    "get_connections_report": get("ops/reports/connections"),
    "create_prescription": lambda w: Req("POST", "prescriptions", {"file_name": "scan.jpg"}),
    "list_my_prescriptions": get("prescriptions"),
    "submit_prescription": _submit_prescription,
    "list_prescription_queue": get("pharmacist/prescriptions"),
    "get_prescription_file": lambda w: Req("GET", f"pharmacist/prescriptions/{w.prescription['id']}/file"),
    "review_prescription": _review_prescription,
    "start_payment": _start_payment,
    "payment_webhook": _webhook,
    "refund_order": _refund,
    "list_payments_for_review": get("ops/payments/review"),
    "start_inquiry": lambda w: Req(
        "POST", f"products/{w.catalog.ids['brufen']}/inquiries", {"seller_id": w.catalog.sellers["dawaa"]}
    ),
    "start_direct_thread": lambda w: Req("POST", f"sellers/{w.catalog.sellers['dawaa']}/direct"),
    "list_my_threads": get("threads"),
    "list_thread_messages": lambda w: Req("GET", _thread_path(w, "/messages")),
    "post_thread_message": lambda w: Req("POST", _thread_path(w, "/messages"), {"body": "matrix"}),
    "edit_thread_message": _own_message("PATCH", seller=False, body={"body": "edited"}),
    "delete_thread_message": _own_message("DELETE", seller=False),
    "mark_thread_read": lambda w: Req("POST", _thread_path(w, "/read"), {"up_to": w.thread_message}),
    "get_my_unread": get("me/unread"),
    "start_thread_attachment": lambda w: Req("POST", _thread_path(w, "/attachments"), {"file_name": "b.pdf"}),
    "get_thread_attachment": lambda w: Req("GET", _thread_path(w, f"/attachments/{w.attachment}")),
    "report_thread_message": _own_message("POST", seller=True, suffix="/report", body={"reason": "matrix"}),
    "list_seller_threads": get("seller/threads"),
    "list_seller_thread_messages": lambda w: Req("GET", _thread_path(w, "/messages", prefix="seller/")),
    "post_seller_thread_message": lambda w: Req("POST", _thread_path(w, "/messages", prefix="seller/"), {"body": "m"}),
    "edit_seller_thread_message": _own_message("PATCH", seller=True, body={"body": "edited"}),
    "delete_seller_thread_message": _own_message("DELETE", seller=True),
    "mark_seller_thread_read": lambda w: Req(
        "POST", _thread_path(w, "/read", prefix="seller/"), {"up_to": w.thread_message}
    ),
    "get_seller_unread": get("seller/unread"),
    "start_seller_thread_attachment": lambda w: Req(
        "POST", _thread_path(w, "/attachments", prefix="seller/"), {"file_name": "c.pdf"}
    ),
    "get_seller_thread_attachment": lambda w: Req(
        "GET", _thread_path(w, f"/attachments/{w.attachment}", prefix="seller/")
    ),
    "moderate_thread": lambda w: Req("GET", _thread_path(w, "/messages", prefix="ops/")),
    "moderate_thread_attachment": lambda w: Req("GET", _thread_path(w, f"/attachments/{w.attachment}", prefix="ops/")),
    "list_message_reports": get("ops/message-reports"),
    **INBOX_BUILDERS,
    **WIDGET_BUILDERS,
} | thread_orders.builders()


async def build(name: str, world: World) -> Req:
    made = BUILDERS[name](world)
    return made if isinstance(made, Req) else await made
