"""SQL for placing an order; each constant sits right before the one function that runs it.

Placing an order runs the same five statements whatever its number of lines, between BEGIN and
COMMIT: claim the idempotency key, create the shopper's profile if absent (shared.users), resolve
every line, write the whole order (one data-modifying CTE), reserve every offer (one conditional
UPDATE, `repo_stock.reserve_offers`). Lines travel as one jsonb document each
(`jsonb_to_recordset`): psycopg adapts that far faster than a dozen typed arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.data import db
from shared.orders.models import ResolvedLine
from shared.orders.rules import Quote, line_total

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# Claims the key, or re-claims one whose 24 h have passed; nothing returned = the key is live
# (if another request holds it uncommitted, this statement waits for that request to finish).
CLAIM_IDEMPOTENCY_KEY = """
INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES (%(user_id)s, %(key)s, %(hash)s)
ON CONFLICT (user_id, key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, status_code = NULL, response = NULL,
        created_at = now(), expires_at = now() + interval '24 hours'
    WHERE idempotency_keys.expires_at <= now()
RETURNING 1
"""


async def claim_idempotency_key(conn: AsyncConnection, user_id: str, key: str, request_hash: str) -> bool:
    params = {"user_id": user_id, "key": key, "hash": request_hash}
    return await db.fetch_value(conn, CLAIM_IDEMPOTENCY_KEY, params) is not None


SELECT_IDEMPOTENT_RESULT = """
SELECT request_hash, status_code, response->>'order_id' FROM idempotency_keys
WHERE user_id = %(user_id)s AND key = %(key)s
"""


async def idempotent_result(conn: AsyncConnection, user_id: str, key: str) -> tuple[str, int | None, str | None]:
    async with conn.cursor() as cur:
        await cur.execute(SELECT_IDEMPOTENT_RESULT, {"user_id": user_id, "key": key})
        row = await cur.fetchone()
    assert row is not None
    return row[0], row[1], row[2]


# Every line matched to one offer: the asked seller's, else the cheapest with enough stock
# (then the cheapest at all, so the 409 can say what is available); ties broken by offer id.
# The prescription a line names is read only if it is the shopper's own, and locked (FOR SHARE)
# until COMMIT: a review or the expiry timer changing it waits for this order, then sees its lines.
RESOLVE_LINES = """
SELECT w.line_no, w.variant_id, w.quantity, best.offer_id, best.seller_id, p.id AS product_id,
       p.name_en AS product_name_en, p.name_ar AS product_name_ar, v.sku, p.requires_prescription,
       best.unit_price, best.available, coalesce(v.is_active AND p.is_active, false) AS variant_active,
       w.prescription_id, rx.status AS prescription_status, rx.expires_on AS prescription_expires_on
FROM jsonb_to_recordset(%(lines)s) AS w(line_no int, variant_id uuid, quantity int, seller_id uuid,
                                        prescription_id uuid)
LEFT JOIN LATERAL (
    SELECT status, expires_on FROM prescriptions
    WHERE id = w.prescription_id AND user_id = %(user_id)s
    FOR SHARE
) rx ON true
LEFT JOIN variants v ON v.id = w.variant_id
LEFT JOIN products p ON p.id = v.product_id
LEFT JOIN LATERAL (
    SELECT o.id AS offer_id, o.seller_id, coalesce(o.price, v.sale_price, v.price) AS unit_price,
           o.on_hand - o.reserved AS available
    FROM offers o JOIN sellers s ON s.id = o.seller_id AND s.status = 'ACTIVE'
    WHERE o.variant_id = w.variant_id AND o.is_active AND (w.seller_id IS NULL OR o.seller_id = w.seller_id)
    ORDER BY o.on_hand - o.reserved >= w.quantity DESC, coalesce(o.price, v.sale_price, v.price), o.id
    LIMIT 1
) best ON true
ORDER BY w.line_no
"""


async def resolve_lines(conn: AsyncConnection, user_id: str, lines: list[dict[str, Any]]) -> list[ResolvedLine]:
    """`lines`: line_no, variant_id, quantity, seller_id, prescription_id each."""
    params = {"lines": db.json_param(lines), "user_id": user_id}
    return await db.fetch_all(conn, RESOLVE_LINES, params, ResolvedLine)


SELECT_ADDRESS_SNAPSHOT = """
SELECT to_jsonb(a) - 'user_id' - 'is_default' - 'created_at' - 'updated_at'
FROM addresses a WHERE id = %(id)s AND user_id = %(user_id)s
"""


async def address_snapshot(conn: AsyncConnection, user_id: str, address_id: UUID) -> dict[str, Any] | None:
    return await db.fetch_value(conn, SELECT_ADDRESS_SNAPSHOT, {"id": address_id, "user_id": user_id})


def order_params(user_id: str, idempotency_key: str, quote: Quote, extra: dict[str, Any]) -> dict[str, Any]:
    """INSERT_ORDER's parameters: the priced order, its children and items as jsonb documents."""
    lines = [line for child in quote.children for line in child.lines]
    children = quote.children
    return extra | {
        "user_id": user_id,
        "idempotency_key": idempotency_key,
        "subtotal": quote.subtotal,
        "tax": quote.tax,
        "delivery_fee": quote.delivery_fee,
        "total": quote.total,
        "children": db.json_param(
            [
                {"seller_id": c.seller_id, "idx": c.index, "subtotal": c.subtotal, "tax": c.tax, "fee": c.delivery_fee}
                for c in children
            ]
        ),
        "items": db.json_param(
            [
                {
                    "line_no": x.line_no,
                    "seller_id": x.seller_id,
                    "offer_id": x.offer_id,
                    "variant_id": x.variant_id,
                    "product_id": x.product_id,
                    "name_en": x.product_name_en,
                    "name_ar": x.product_name_ar,
                    "sku": x.sku,
                    "rx": x.requires_prescription,
                    "prescription_id": x.prescription_id,
                    "unit_price": x.unit_price,
                    "quantity": x.quantity,
                    "line_total": line_total(x),
                }
                for x in lines
            ]
        ),
    }


# The whole order in one statement: parent, children, items, reservations, the first history
# row, the `order.placed` event and the idempotency record. Stock is not touched here.
INSERT_ORDER = """
WITH parent AS (
    INSERT INTO orders (number, user_id, delivery_method, delivery_address, customer_notes, prescription_ids,
                        currency, subtotal, tax, delivery_fee, total, expires_at)
    VALUES ('SQ-' || to_char(now(), 'YYYY') || '-' || lpad(nextval('order_number_seq')::text, 6, '0'),
            %(user_id)s, %(delivery_method)s, %(delivery_address)s, %(customer_notes)s, %(prescription_ids)s,
            %(currency)s, %(subtotal)s, %(tax)s, %(delivery_fee)s, %(total)s, %(expires_at)s)
    RETURNING id, number, total
), children AS (
    INSERT INTO seller_orders (order_id, seller_id, number, subtotal, tax, delivery_fee, total)
    SELECT parent.id, c.seller_id, parent.number || '-' || c.idx, c.subtotal, c.tax, c.fee, c.subtotal + c.tax + c.fee
    FROM parent, jsonb_to_recordset(%(children)s) AS c(seller_id uuid, idx int, subtotal numeric, tax numeric,
                                                       fee numeric)
    RETURNING id, seller_id
), items AS (
    INSERT INTO order_items (order_id, seller_order_id, line_no, offer_id, variant_id, product_id, product_name_en,
                             product_name_ar, sku, requires_prescription, prescription_id, unit_price, quantity,
                             line_total)
    SELECT parent.id, children.id, i.line_no, i.offer_id, i.variant_id, i.product_id, i.name_en, i.name_ar, i.sku,
           i.rx, i.prescription_id, i.unit_price, i.quantity, i.line_total
    FROM parent,
         jsonb_to_recordset(%(items)s) AS i(line_no int, seller_id uuid, offer_id uuid, variant_id uuid,
                                            product_id uuid, name_en text, name_ar text, sku text, rx boolean,
                                            prescription_id uuid, unit_price numeric, quantity int,
                                            line_total numeric)
    JOIN children ON children.seller_id = i.seller_id
    RETURNING id, offer_id, quantity
), reserved AS (
    INSERT INTO reservations (offer_id, order_item_id, quantity, expires_at)
    SELECT offer_id, id, quantity, %(expires_at)s FROM items
), history AS (
    INSERT INTO order_status_history (order_id, field, from_status, to_status, actor_id, actor_role, reason)
    SELECT id, 'status', NULL, 'PENDING', %(user_id)s, 'customer', 'placed' FROM parent
), event AS (
    INSERT INTO outbox_events (event_type, aggregate_type, aggregate_id, payload)
    SELECT 'order.placed', 'order', parent.id::text,
           jsonb_build_object('order_id', parent.id, 'number', parent.number, 'user_id', %(user_id)s::text,
                              'total', parent.total, 'version', 1,
                              'children', (SELECT jsonb_agg(jsonb_build_object('seller_order_id', c.id,
                                                                               'seller_id', c.seller_id))
                                           FROM children c))
    FROM parent
), remembered AS (
    UPDATE idempotency_keys SET status_code = 201, response = jsonb_build_object('order_id', parent.id)
    FROM parent WHERE user_id = %(user_id)s AND key = %(idempotency_key)s
)
SELECT id FROM parent
"""


async def insert_order(conn: AsyncConnection, params: dict[str, Any]) -> UUID:
    order_id = await db.fetch_value(conn, INSERT_ORDER, params)
    assert order_id is not None
    return order_id
