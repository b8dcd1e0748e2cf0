"""ORDER threads, inside the caller's transaction: one per child order, between its shopper and
its seller, created by the first message (find-or-create on the unique index of child orders,
`threads.repo.find_or_create_thread`). A child order the caller may not see answers 404."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.orders import service as orders
from shared.orders.models_threads import ChildParties
from shared.platform.errors import NotFound
from shared.thread_orders import repo
from shared.thread_orders.errors import ThreadOrderError
from shared.thread_orders.models import OrderThread, OrderThreadQuery, PostOrderMessage
from shared.threads import repo as threads
from shared.threads import repo_reads
from shared.threads.models import Message, MessagePage, MessagesQuery, Party, Sender

if TYPE_CHECKING:
    from psycopg import AsyncConnection


async def child_for(conn: AsyncConnection, party: Party, seller_order_id: UUID) -> ChildParties:
    """The child order when it is the shopper's (one of their orders') or the seller's own."""
    child = await orders.child_parties(conn, seller_order_id)
    mine = child is not None and (
        child.user_id == party.party_id if party.side == "SHOPPER" else str(child.seller_id) == party.party_id
    )
    if child is None or not mine:
        raise NotFound(f"no order {seller_order_id}", code=ThreadOrderError.SELLER_ORDER_NOT_FOUND)
    return child


def thread_url(party: Party, thread_id: UUID) -> str:
    return f"/api/{'seller/' if party.side == 'SELLER' else ''}threads/{thread_id}/messages"


async def post(
    conn: AsyncConnection, party: Party, seller_order_id: UUID, body: PostOrderMessage, now: datetime
) -> tuple[Message, bool]:
    """(the message, whether this call posted it: False for a retry with the same client id)."""
    child = await child_for(conn, party, seller_order_id)
    thread, _ = await threads.find_or_create_thread(
        conn,
        "ORDER",
        shopper_id=child.user_id,
        seller_id=child.seller_id,
        order_id=child.id,
        subject=f"Order {child.number}",
        now=now,
    )
    sender = Sender(side=party.side, user_id=party.user_id)
    posted = await threads.append_message(
        conn, thread.id, sender, "TEXT", body.body, None, body.client_message_id, now, scope=party
    )
    assert posted is not None  # found or created above, in this transaction, and the party's
    return Message.model_validate(posted.model_dump(exclude={"replayed"})), not posted.replayed


async def read(conn: AsyncConnection, party: Party, seller_order_id: UUID, query: OrderThreadQuery) -> OrderThread:
    await child_for(conn, party, seller_order_id)
    thread_id = await repo.order_thread_id(conn, seller_order_id)
    thread = await threads.thread_for_party(conn, thread_id, party) if thread_id else None
    if thread is None:
        return OrderThread(thread_id=None, thread_url=None, messages=MessagePage(items=[], has_more=False))
    page = await repo_reads.message_page(conn, thread, MessagesQuery(before=query.before, limit=query.limit))
    return OrderThread(thread_id=thread.id, thread_url=thread_url(party, thread.id), messages=page)
