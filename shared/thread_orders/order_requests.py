"""Order requests inside the caller's transaction: a seller proposes, the shopper accepts (the
order placed by the orders domain's placement) or declines, the seller cancels, the timer
expires. Every status change writes a SYSTEM message into the thread in the same transaction.

Accepting twice, or concurrently, gives one order: the acceptance first takes the request with
a conditional UPDATE (`… WHERE status = 'PENDING'`), which locks it until COMMIT; a second
acceptance waits there, then finds it ACCEPTED and answers the same order (200). If placement
fails (stock short, a prescription missing) the whole transaction rolls back and the request is
still PENDING; the placement's Idempotency-Key is derived from the request as a second guard.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.orders import service as orders
from shared.orders.models_threads import OfferLine
from shared.platform.auth import Principal
from shared.platform.config import get_settings
from shared.platform.errors import NotFound
from shared.thread_orders import repo, rules
from shared.thread_orders.errors import ThreadOrderError
from shared.thread_orders.models import AcceptOrderRequest, OrderRequest, ProposeOrder
from shared.threads import repo as threads
from shared.threads.models import Party, Sender
from shared.threads.rules import thread_not_found

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# Who signs the messages the expiry timer writes (on the seller's side of the thread).
EXPIRY_SENDER = Sender(side="SELLER", user_id="system:order-requests")


def request_not_found(request_id: UUID) -> NotFound:
    return NotFound(f"no order request {request_id} in this thread", code=ThreadOrderError.ORDER_REQUEST_NOT_FOUND)


async def propose(
    conn: AsyncConnection, seller: Party, thread_id: UUID, body: ProposeOrder, now: datetime
) -> tuple[OrderRequest, bool]:
    """(the request, whether this call made it): a retry with the same client_id finds the first."""
    thread = await threads.thread_for_party(conn, thread_id, seller)
    if thread is None or thread.seller_id is None:
        raise thread_not_found(thread_id)
    asked = [OfferLine(offer_id=line.offer_id, quantity=line.quantity) for line in body.lines]
    priced = await orders.price_own_offers(conn, thread.seller_id, asked)
    rules.check_offers(priced)
    lines = rules.request_lines(priced)
    made = await repo.insert_request(
        conn,
        {
            "thread_id": thread_id,
            "seller_id": thread.seller_id,
            "shopper_id": thread.shopper_id,
            "proposed_by": seller.user_id,
            "client_id": body.client_id,
            "lines": [line.model_dump(mode="json") for line in lines],
            "subtotal": rules.subtotal(lines),
            "currency": get_settings().order_currency,
            "note": body.note,
            "valid_until": rules.valid_until(now, body.valid_for_hours),
            "now": now,
        },
    )
    if made is None:  # this client_id made one before: answer it
        assert body.client_id is not None
        first = await repo.request_by_client_id(conn, thread_id, body.client_id)
        assert first is not None  # the conflict was on it; requests are never deleted
        return first, False
    await record(conn, made, Sender(side="SELLER", user_id=seller.user_id), now, kind="ORDER_REQUEST")
    return made, True


async def accept(
    conn: AsyncConnection,
    principal: Principal,
    shopper: Party,
    ids: tuple[UUID, UUID],
    body: AcceptOrderRequest,
    now: datetime,
) -> tuple[OrderRequest, bool]:
    """(the accepted request, whether this call placed its order)."""
    thread_id, request_id = ids
    if await threads.thread_for_party(conn, thread_id, shopper) is None:
        raise thread_not_found(thread_id)
    claimed = await repo.claim_pending(conn, thread_id, request_id, now)
    if claimed is None:
        current = await repo.load_request(conn, thread_id, request_id)
        if current is None:
            raise request_not_found(request_id)
        if current.status == "ACCEPTED":
            return current, False  # accepted before (or concurrently): the same order
        raise rules.not_pending(current, now)
    to_place = rules.order_to_place(claimed, body)
    placed = await orders.place_within(conn, principal, to_place, rules.placement_key(request_id), now)
    rules.check_prices_kept(claimed, await orders.placed_unit_prices(conn, placed.order_id))
    accepted = await repo.mark_accepted(conn, request_id, placed.order_id, shopper.user_id, now)
    await record(conn, accepted, Sender(side="SHOPPER", user_id=shopper.user_id), now)
    return accepted, True


async def decide(
    conn: AsyncConnection, party: Party, ids: tuple[UUID, UUID], status: str, now: datetime
) -> OrderRequest:
    """DECLINED (the shopper) or CANCELLED (the seller), from PENDING only."""
    thread_id, request_id = ids
    if await threads.thread_for_party(conn, thread_id, party) is None:
        raise thread_not_found(thread_id)
    decided = await repo.decide(conn, thread_id, request_id, status, party.user_id, now)
    if decided is None:
        current = await repo.load_request(conn, thread_id, request_id)
        if current is None:
            raise request_not_found(request_id)
        raise rules.not_pending(current, now)
    await record(conn, decided, Sender(side=party.side, user_id=party.user_id), now)
    return decided


async def load(conn: AsyncConnection, party: Party, thread_id: UUID, request_id: UUID) -> OrderRequest:
    if await threads.thread_for_party(conn, thread_id, party) is None:
        raise thread_not_found(thread_id)
    request = await repo.load_request(conn, thread_id, request_id)
    if request is None:
        raise request_not_found(request_id)
    return request


async def expire_batch(conn: AsyncConnection, now: datetime, limit: int) -> int:
    """One batch of the timer: PENDING requests past their deadline become EXPIRED, each with
    its SYSTEM message; rows another run holds are skipped. Returns how many."""
    expired = await repo.expire_batch(conn, now, limit)
    # Each message locks its thread's row: in thread id order, so two overlapping runs whose
    # batches share threads take those locks in the same order and cannot deadlock.
    for request in sorted(expired, key=lambda row: row.thread_id):
        await record(conn, request, EXPIRY_SENDER, now)
    return len(expired)


async def record(
    conn: AsyncConnection, request: OrderRequest, sender: Sender, now: datetime, *, kind: str = "SYSTEM"
) -> None:
    """The message that shows the request's new status in its thread (the thread exists: the
    request's foreign key says so)."""
    text = rules.status_text(
        request.status,
        units=sum(line.quantity for line in request.lines),
        subtotal=request.subtotal,
        currency=request.currency,
    )
    posted = await threads.append_message(
        conn, request.thread_id, sender, kind, text, rules.status_metadata(request), None, now
    )
    assert posted is not None
