"""Reading one order with its children, items and history: four queries in one round trip."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from shared.data import db
from shared.orders.models import HistoryEntry, Order, OrderItem, SellerOrder

if TYPE_CHECKING:
    from psycopg import AsyncConnection

ORDER_COLUMNS = ", ".join(name for name in Order.model_fields if name not in ("children", "history"))
CHILD_COLUMNS = ", ".join(name for name in SellerOrder.model_fields if name != "items")
ITEM_COLUMNS = ", ".join(OrderItem.model_fields)
HISTORY_COLUMNS = ", ".join(HistoryEntry.model_fields)

SELECT_ORDER = f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = %(id)s"
SELECT_CHILDREN = f"SELECT {CHILD_COLUMNS} FROM seller_orders WHERE order_id = %(id)s ORDER BY number"
SELECT_ITEMS = f"SELECT seller_order_id, {ITEM_COLUMNS} FROM order_items WHERE order_id = %(id)s ORDER BY line_no"
SELECT_HISTORY = f"SELECT {HISTORY_COLUMNS} FROM order_status_history WHERE order_id = %(id)s ORDER BY id"


class ItemRow(OrderItem):
    seller_order_id: UUID


async def load_order(conn: AsyncConnection, order_id: UUID, *, seller_id: UUID | None = None) -> Order | None:
    """The order; with `seller_id`, only that seller's child order and its history rows."""
    params = {"id": order_id}
    orders, children, items, history = await db.fetch_all_together(
        conn,
        (SELECT_ORDER, params, Order),
        (SELECT_CHILDREN, params, SellerOrder),
        (SELECT_ITEMS, params, ItemRow),
        (SELECT_HISTORY, params, HistoryEntry),
    )
    if not orders:
        return None
    order = orders[0]
    if seller_id is not None:
        children = [child for child in children if child.seller_id == seller_id]
        mine = {child.id for child in children}
        history = [entry for entry in history if entry.seller_order_id in mine or entry.seller_order_id is None]
    by_child = {child.id: child for child in children}
    for item in items:
        if item.seller_order_id in by_child:
            by_child[item.seller_order_id].items.append(OrderItem(**item.model_dump(exclude={"seller_order_id"})))
    return order.model_copy(update={"children": children, "history": history})
