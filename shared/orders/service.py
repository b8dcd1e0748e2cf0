"""The orders domain's public API: the one module of `shared.orders` a trigger imports (besides
`models`), and the one that opens transactions.

A top-level use case opens its transaction here and runs the use-case module inside it
(`placement`, `lifecycle`, `expiry`), then nudges the outbox relay after COMMIT. A function that
takes a connection (`consume_reservations`, `release_reservations`) runs inside the caller's
transaction instead. Who may see what is decided by `rules` before any SQL runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar, get_args
from uuid import UUID

from shared.data import db
from shared.events import relay
from shared.orders import (
    expiry,
    figures,
    lifecycle,
    payment_effects,
    placement,
    repo_lifecycle,
    repo_payment,
    repo_reads,
    repo_rx,
    repo_stats,
    repo_stock,
    repo_threads,
    rules,
    rx_holds,
)
from shared.orders.errors import OrderError
from shared.orders.models import (
    CancelRequest,
    ChildStatus,
    ExpiryRun,
    MyOrdersQuery,
    OpsOrderPage,
    OpsOrdersQuery,
    Order,
    OrderPage,
    OrderStats,
    ParentStatus,
    Placed,
    PlaceOrder,
    SellerOrderPage,
    SellerOrdersQuery,
    SellerStats,
    StatsQuery,
    StatsRow,
    TransitionRequest,
    TransitionResult,
)
from shared.orders.models_figures import FiguresRun
from shared.orders.models_payment import ChildClaim, PaidOutcome, PayableOrder, RefundableItem, RefundUnits
from shared.orders.models_seller import SellerOrderView
from shared.orders.models_threads import ChildParties, OfferLine, PricedOfferLine
from shared.orders.rules import Party
from shared.platform.auth import Principal
from shared.platform.config import get_settings
from shared.platform.errors import NotFound
from shared.platform.pagination import NEWEST_FIRST, CreatedRow, after_created, created_key_of, cut_page, fetch_size

if TYPE_CHECKING:
    from psycopg import AsyncConnection

Row = TypeVar("Row", bound=CreatedRow)
RETRIES_ON_CONFLICT = 3


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- placing -------------------------------------------------------------------------------


async def place(principal: Principal, body: PlaceOrder, key_header: str | None) -> tuple[Order, bool]:
    """`POST /api/orders`: the order as its shopper reads it, and whether this was a replay."""
    placed = await place_order(principal, body, rules.idempotency_key(key_header))
    if not placed.replayed:
        relay.relay_soon()  # order.placed goes out now, in the background; the timer sweep is the safety net
    return await my_order(principal, placed.order_id), placed.replayed


async def place_order(
    principal: Principal, body: PlaceOrder, idempotency_key: str, clock: Callable[[], datetime] = utcnow
) -> Placed:
    """Place the order in one transaction; one that lost a race (a deadlock or serialization
    failure, which the locking order should prevent) is retried rather than surfaced."""
    settings = get_settings()
    rules.check_limits(
        body, max_lines=settings.order_max_lines, max_quantity_per_line=settings.order_max_quantity_per_line
    )
    async for attempt in db.conflict_retrying(RETRIES_ON_CONFLICT):
        with attempt:
            async with db.transaction() as conn:
                return await placement.place(conn, principal, body, idempotency_key, clock())
    raise AssertionError("unreachable: tenacity re-raises the last error")


async def place_within(
    conn: AsyncConnection, principal: Principal, body: PlaceOrder, idempotency_key: str, now: datetime
) -> Placed:
    """Place the order inside the caller's transaction (an order request accepted in a thread):
    the same limits, pricing, reservations and Rx rules as `POST /api/orders`. An error leaves
    the caller to roll back: nothing reserved, nothing written. The caller nudges the relay."""
    settings = get_settings()
    rules.check_limits(
        body, max_lines=settings.order_max_lines, max_quantity_per_line=settings.order_max_quantity_per_line
    )
    return await placement.place(conn, principal, body, idempotency_key, now)


async def price_own_offers(conn: AsyncConnection, seller_id: UUID, lines: list[OfferLine]) -> list[PricedOfferLine]:
    """A seller's own offers priced now, as placement would price them (one statement)."""
    asked = [line.model_dump(mode="json") | {"line_no": i + 1} for i, line in enumerate(lines)]
    return await repo_threads.price_own_offers(conn, seller_id, asked)


async def placed_unit_prices(conn: AsyncConnection, order_id: UUID) -> dict[int, Decimal]:
    """The unit price of each line of an order just placed (in the caller's transaction)."""
    return await repo_threads.unit_prices(conn, order_id)


async def child_parties(conn: AsyncConnection, seller_order_id: UUID) -> ChildParties | None:
    """The shopper and seller of a child order (who may talk in its ORDER thread)."""
    return await repo_threads.child_parties(conn, seller_order_id)


# --- one whole order -----------------------------------------------------------------------


async def my_order(principal: Principal, order_id: UUID) -> Order:
    """A shopper's own order; anyone else's answers 404, like a missing one."""
    return await _visible_order(order_id, owner=principal.user_id)


async def any_order(order_id: UUID) -> Order:
    return await _visible_order(order_id, owner=None)


async def _visible_order(order_id: UUID, *, owner: str | None) -> Order:
    async with db.connection(read_only=True) as conn:
        order = await repo_reads.load_order(conn, order_id)
    if order is None or (owner is not None and order.user_id != owner):
        raise NotFound(f"no order {order_id}", code=OrderError.ORDER_NOT_FOUND)
    return order


# --- changing an order ---------------------------------------------------------------------


async def cancel_my_order(principal: Principal, order_id: UUID, body: CancelRequest) -> Order:
    async with db.transaction() as conn:
        await lifecycle.cancel_order(conn, Party.of(principal, as_seller=False), order_id, body)
    relay.relay_soon()
    return await _visible_order(order_id, owner=rules.order_owner(principal))


async def transition(principal: Principal, child_id: UUID, body: TransitionRequest) -> TransitionResult:
    party = Party.of(principal, as_seller=True)
    rules.check_known_target(body.field, body.to)
    async with db.transaction() as conn:
        await lifecycle.transition_child(conn, party, child_id, body)
    relay.relay_soon()
    async with db.connection() as conn:
        state = await repo_lifecycle.child_state(conn, child_id)
    assert state is not None
    return state


async def consume_reservations(conn: AsyncConnection, order_id: UUID) -> int:
    """Payment succeeded: the order's held units leave the shelf for good; returns how many.
    Must run inside the caller's transaction (the payment consumer's), with its other writes."""
    return await repo_stock.consume_reservations(conn, order_id)


async def release_reservations(conn: AsyncConnection, order_id: UUID) -> int:
    """Every unit the order holds goes back (ACTIVE released, CONSUMED restocked); returns how
    many. Must run inside the caller's transaction, with the change that releases them."""
    return await repo_stock.give_back(conn, order_id)


# --- what payments do to an order (each inside the payments domain's transaction) ----------


async def payable_order(conn: AsyncConnection, order_id: UUID) -> PayableOrder | None:
    return await repo_payment.payable_order(conn, order_id)


async def confirm_paid_order(conn: AsyncConnection, order_id: UUID, now: datetime) -> PaidOutcome:
    """Payment succeeded: PAID, reservations consumed, children confirmed (an expired order
    revived if all its stock is still there); see `payment_effects`."""
    return await payment_effects.confirm_paid_order(conn, order_id, now)


async def refundable_items(conn: AsyncConnection, order_or_child_id: UUID) -> list[RefundableItem]:
    """Every item of the order that the id names (the order or one of its child orders)."""
    return await repo_payment.refundable_items(conn, order_or_child_id)


async def claim_refund(conn: AsyncConnection, lines: list[RefundUnits], claims: list[ChildClaim]) -> bool:
    """Claims units and money for a refund with conditional writes; False (and nothing is
    kept once the caller rolls back) when any line or child order would go beyond what was
    bought. The CHECKs of order_items and seller_orders refuse it too."""
    return await repo_payment.claim_refund(conn, lines, claims, 1)


async def release_refund_claims(conn: AsyncConnection, lines: list[RefundUnits], claims: list[ChildClaim]) -> None:
    """A refused refund's units and money, claimable again."""
    assert await repo_payment.claim_refund(conn, lines, claims, -1)


async def restock_refunded(conn: AsyncConnection, lines: list[RefundUnits]) -> int:
    """Refunded units back on the shelf (only units that left it, each once); returns how many."""
    return await repo_payment.restock_refunded(conn, lines)


async def set_payment_status(
    conn: AsyncConnection, order_id: UUID, from_values: list[str], to: str, *, reason: str
) -> bool:
    return await payment_effects.set_payment_status(conn, order_id, from_values, to, reason=reason)


async def expire_unpaid_orders(
    clock: Callable[[], datetime] = utcnow, time_budget_seconds: float = expiry.TIME_BUDGET_SECONDS
) -> ExpiryRun:
    """The timer's work: cancel unpaid orders past their deadline (one short transaction each),
    then expire orphan reservations, within a time budget. The clock is a parameter."""
    run, deadline = ExpiryRun(), time.monotonic() + time_budget_seconds
    while time.monotonic() < deadline:
        now = clock()
        async with db.connection() as conn:
            candidates = await repo_lifecycle.expired_orders(conn, now, expiry.BATCH_SIZE)
        for order_id in candidates:
            async with db.transaction() as conn:
                run.orders += await expiry.expire_order(conn, order_id, now)
        run.batches += 1
        if len(candidates) < expiry.BATCH_SIZE:
            break
    while time.monotonic() < deadline:
        async with db.transaction() as conn:
            units = await repo_stock.expire_orphan_reservations(conn, clock(), expiry.BATCH_SIZE)
        run.orphan_units += units
        if units == 0:
            break
    if run.orders:
        relay.relay_soon()
    return run


async def refresh_order_figures(days_per_run: int = figures.DAYS_PER_RUN) -> FiguresRun:
    """The timer's work: recompute the closed days whose kept figures are missing or stale."""
    return await figures.refresh_due_days(days_per_run)


# --- prescription-only lines ---------------------------------------------------------------


async def children_after_payment(conn: AsyncConnection, order_id: UUID, today: date) -> dict[UUID, str]:
    """For the payment consumer, inside its transaction: each child's status once paid,
    CONFIRMED or AWAITING_PRESCRIPTION (`rules.child_status_after_payment`)."""
    return await rx_holds.children_after_payment(conn, order_id, today)


async def settle_prescription_review(
    conn: AsyncConnection, prescription_id: UUID, *, rejected: bool, reviewer_id: str, today: date
) -> int:
    """Inside the review's transaction, after the prescription's new status is written: the
    waiting children with lines on it are confirmed, or lose those lines (see rx_holds)."""
    party = Party("pharmacist", reviewer_id)
    return await rx_holds.settle_review(conn, prescription_id, rejected=rejected, party=party, today=today)


async def release_prescription_holds(clock: Callable[[], datetime] = utcnow) -> int:
    """The timer's work: children waiting for a prescription longer than PRESCRIPTION_HOLD_HOURS
    are cancelled and restocked (one short transaction per order); returns how many."""
    from datetime import timedelta

    released = 0
    while True:
        before = clock() - timedelta(hours=get_settings().prescription_hold_hours)
        async with db.connection() as conn:
            candidates = await repo_rx.orders_with_expired_holds(conn, before, rx_holds.BATCH_SIZE)
        done = 0
        for order_id in candidates:
            async with db.transaction() as conn:
                done += await rx_holds.release_hold(conn, order_id, before)
        released += done
        if len(candidates) < rx_holds.BATCH_SIZE or done == 0:
            break
    if released:
        relay.relay_soon()
    return released


# --- lists and the seller's view -----------------------------------------------------------


async def list_my_orders(principal: Principal, query: MyOrdersQuery) -> OrderPage:
    after = after_created(query.cursor, NEWEST_FIRST)
    rows = await repo_reads.list_my_orders(principal.user_id, query.status, after, fetch_size(query.limit))
    items, next_cursor = _page(rows, query.limit)
    return OrderPage(items=items, next_cursor=next_cursor)


async def list_seller_orders(principal: Principal, query: SellerOrdersQuery) -> SellerOrderPage:
    seller_id = rules.seller_scope(principal, query.seller)
    after = after_created(query.cursor, NEWEST_FIRST)
    rows = await repo_reads.list_seller_orders(seller_id, query.status, after, fetch_size(query.limit))
    items, next_cursor = _page(rows, query.limit)
    return SellerOrderPage(items=items, next_cursor=next_cursor)


async def seller_order(principal: Principal, seller_order_id: UUID) -> SellerOrderView:
    """A child order as its seller sees it; another seller's (or a missing one) is 404."""
    seller_id = rules.seller_scope(principal, None)
    async with db.connection(read_only=True) as conn:
        view = await repo_reads.load_seller_order(conn, seller_order_id, seller_id)
    if view is None:
        raise NotFound(f"no seller order {seller_order_id}", code=OrderError.SELLER_ORDER_NOT_FOUND)
    return view


async def list_ops_orders(query: OpsOrdersQuery) -> OpsOrderPage:
    created = rules.day_bounds(query.from_, query.to)
    after = after_created(query.cursor, NEWEST_FIRST)
    rows = await repo_reads.list_ops_orders(query.status, created, query.seller, after, fetch_size(query.limit))
    items, next_cursor = _page(rows, query.limit)
    return OpsOrderPage(items=items, next_cursor=next_cursor)


def _page(rows: Sequence[Row], limit: int) -> tuple[list[Row], str | None]:
    return cut_page(rows, limit, order=NEWEST_FIRST, key_of=created_key_of)


# --- dashboards ----------------------------------------------------------------------------


async def marketplace_stats(query: StatsQuery, *, today: date | None = None) -> OrderStats:
    first, last = rules.stats_window(query, today=today or utcnow().date())
    async with db.connection(read_only=True) as conn:
        row = await repo_stats.marketplace_stats(conn, first, last)
    return OrderStats(**_figures(row, first, last, statuses=get_args(ParentStatus)))


async def seller_stats(principal: Principal, query: StatsQuery, *, today: date | None = None) -> SellerStats:
    """A seller's own figures."""
    return await any_seller_stats(rules.own_seller(principal), query, today=today)


async def any_seller_stats(seller_id: UUID, query: StatsQuery, *, today: date | None = None) -> SellerStats:
    """Any seller's figures (admins); 404 for a seller that does not exist."""
    first, last = rules.stats_window(query, today=today or utcnow().date())
    async with db.connection(read_only=True) as conn:
        row = await repo_stats.seller_stats(conn, seller_id, first, last)
    if row is None:
        raise NotFound(f"no seller {seller_id}", code=OrderError.SELLER_NOT_FOUND)
    return SellerStats(**_figures(row, first, last, statuses=get_args(ChildStatus)), seller_id=seller_id)


def _figures(row: StatsRow, first: date, last: date, *, statuses: tuple[str, ...]) -> dict[str, Any]:
    """The response's fields: the figures, the window, the currency, every status counted."""
    return row.model_dump() | {
        "from_": first,
        "to": last,
        "currency": get_settings().order_currency,
        "orders_by_status": rules.every_status(row.orders_by_status, statuses),
    }
