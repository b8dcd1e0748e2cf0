"""Order requests in threads and ORDER threads: the public API of `shared.thread_orders`, the one
module of it a trigger imports (besides `models`), and the one that opens transactions.

Each use case runs in one transaction (`order_requests`, `order_threads` do the work inside it)
and nudges the outbox relay after COMMIT: a posted message writes `thread.message_posted`, an
accepted request `order.placed`. The clock is a parameter, so tests move time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from shared.data import db
from shared.events import relay
from shared.orders import service as orders
from shared.platform.auth import Principal
from shared.thread_orders import order_requests, order_threads, repo_demo
from shared.thread_orders.models import (
    AcceptedOrderRequest,
    AcceptOrderRequest,
    DemoOffer,
    OrderRequest,
    OrderRequestExpiryRun,
    OrderThread,
    OrderThreadQuery,
    PostOrderMessage,
    ProposeOrder,
)
from shared.threads.models import Message, Party
from shared.threads.rules import seller_party, shopper_party

EXPIRY_BATCH = 100
RETRIES_ON_CONFLICT = 3


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- order requests ------------------------------------------------------------------------


async def propose(
    principal: Principal, thread_id: UUID, body: ProposeOrder, clock: Callable[[], datetime] = utcnow
) -> tuple[OrderRequest, bool]:
    """`POST /api/seller/threads/{id}/order-requests`: (the request, whether this call made it)."""
    seller = seller_party(principal)
    async with db.transaction() as conn:
        request, made = await order_requests.propose(conn, seller, thread_id, body, clock())
    if made:
        relay.relay_soon()
    return request, made


async def accept(
    principal: Principal,
    thread_id: UUID,
    request_id: UUID,
    body: AcceptOrderRequest,
    clock: Callable[[], datetime] = utcnow,
) -> tuple[AcceptedOrderRequest, bool]:
    """The shopper accepts: (the request and its order, whether this call placed it). A second
    acceptance answers the same order; stock short answers 409 with the lines, still PENDING."""
    shopper = shopper_party(principal)
    async for attempt in db.conflict_retrying(RETRIES_ON_CONFLICT):
        with attempt:
            async with db.transaction() as conn:
                request, placed = await order_requests.accept(
                    conn, principal, shopper, (thread_id, request_id), body, clock()
                )
    if placed:
        relay.relay_soon()
    assert request.order_id is not None  # ACCEPTED
    return AcceptedOrderRequest(request=request, order=await orders.my_order(principal, request.order_id)), placed


async def decline(
    principal: Principal, thread_id: UUID, request_id: UUID, clock: Callable[[], datetime] = utcnow
) -> OrderRequest:
    return await _decide(shopper_party(principal), (thread_id, request_id), "DECLINED", clock())


async def cancel(
    principal: Principal, thread_id: UUID, request_id: UUID, clock: Callable[[], datetime] = utcnow
) -> OrderRequest:
    return await _decide(seller_party(principal), (thread_id, request_id), "CANCELLED", clock())


async def _decide(party: Party, ids: tuple[UUID, UUID], status: str, now: datetime) -> OrderRequest:
    async with db.transaction() as conn:
        decided = await order_requests.decide(conn, party, ids, status, now)
    relay.relay_soon()
    return decided


async def my_request(principal: Principal, thread_id: UUID, request_id: UUID) -> OrderRequest:
    async with db.connection(read_only=True) as conn:
        return await order_requests.load(conn, shopper_party(principal), thread_id, request_id)


async def seller_request(principal: Principal, thread_id: UUID, request_id: UUID) -> OrderRequest:
    async with db.connection(read_only=True) as conn:
        return await order_requests.load(conn, seller_party(principal), thread_id, request_id)


async def expire_order_requests(clock: Callable[[], datetime] = utcnow) -> OrderRequestExpiryRun:
    """The timer's work: PENDING requests past their deadline become EXPIRED, in batches (one
    short transaction each, `FOR UPDATE SKIP LOCKED`: two runs at once never expire one twice)."""
    run = OrderRequestExpiryRun()
    while True:
        async with db.transaction() as conn:
            expired = await order_requests.expire_batch(conn, clock(), EXPIRY_BATCH)
        run.expired += expired
        run.batches += 1
        if expired < EXPIRY_BATCH:
            break
    if run.expired:
        relay.relay_soon()
    return run


async def demo_offers(limit: int) -> list[DemoOffer]:
    """Offers for `make run`'s demo threads: one per seller, in stock, no prescription needed."""
    async with db.connection(read_only=True) as conn:
        return await repo_demo.demo_offers(conn, limit)


# --- ORDER threads -------------------------------------------------------------------------


async def post_order_message(
    principal: Principal,
    seller_order_id: UUID,
    body: PostOrderMessage,
    *,
    as_seller: bool,
    clock: Callable[[], datetime] = utcnow,
) -> tuple[Message, bool]:
    """A message into the child order's ORDER thread (made by the first message)."""
    party = seller_party(principal) if as_seller else shopper_party(principal)
    async with db.transaction() as conn:
        message, posted = await order_threads.post(conn, party, seller_order_id, body, clock())
    if posted:
        relay.relay_soon()
    return message, posted


async def order_thread(
    principal: Principal, seller_order_id: UUID, query: OrderThreadQuery, *, as_seller: bool
) -> OrderThread:
    party = seller_party(principal) if as_seller else shopper_party(principal)
    async with db.connection(read_only=True) as conn:
        return await order_threads.read(conn, party, seller_order_id, query)
