"""SQL the operations endpoints run; each constant sits next to the one function that runs it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.data import db
from shared.ops.models import ServerFacts, Violation, ViolationKind

if TYPE_CHECKING:
    from psycopg import AsyncConnection


SELECT_SERVER_FACTS = """
SELECT 1 AS alive,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS server_connections,
       current_setting('max_connections')::int AS max_connections,
       extract(epoch FROM now() - pg_postmaster_start_time())::float8 AS uptime_seconds,
       current_setting('server_version') AS server_version
"""


async def server_facts(conn: AsyncConnection) -> ServerFacts:
    facts = await db.fetch_one(conn, SELECT_SERVER_FACTS, None, ServerFacts)
    assert facts is not None
    return facts


# -- consistency (shared/ops/rules.py says what each check means). Each check is one set-based
# query; each statement reads one snapshot, so orders being placed while it runs never show up
# as false violations.

ORDER_TOTALS_VS_CHILDREN = """
SELECT 'order_totals' AS kind, o.id AS entity_id, f.field, f.expected, f.actual
FROM orders o
LEFT JOIN (SELECT order_id, sum(subtotal) AS subtotal, sum(tax) AS tax, sum(delivery_fee) AS delivery_fee,
                  sum(total) AS total
           FROM seller_orders GROUP BY order_id) c ON c.order_id = o.id
CROSS JOIN LATERAL (VALUES ('subtotal', coalesce(c.subtotal, 0), o.subtotal),
                           ('tax', coalesce(c.tax, 0), o.tax),
                           ('delivery_fee', coalesce(c.delivery_fee, 0), o.delivery_fee),
                           ('total', coalesce(c.total, 0), o.total)) AS f(field, expected, actual)
WHERE f.expected <> f.actual
ORDER BY o.id, f.field
LIMIT %(limit)s
"""

SELLER_ORDER_SUBTOTAL_VS_ITEMS = """
SELECT 'seller_order_subtotal' AS kind, so.id AS entity_id, 'subtotal' AS field,
       coalesce(i.subtotal, 0) AS expected, so.subtotal AS actual
FROM seller_orders so
LEFT JOIN (SELECT seller_order_id, sum(line_total) AS subtotal FROM order_items GROUP BY seller_order_id) i
       ON i.seller_order_id = so.id
WHERE so.subtotal <> coalesce(i.subtotal, 0)
ORDER BY so.id
LIMIT %(limit)s
"""

OFFER_RESERVED_VS_ACTIVE_RESERVATIONS = """
SELECT 'offer_reserved' AS kind, o.id AS entity_id, 'reserved' AS field,
       coalesce(r.quantity, 0) AS expected, o.reserved AS actual
FROM offers o
LEFT JOIN (SELECT offer_id, sum(quantity) AS quantity FROM reservations WHERE status = 'ACTIVE'
           GROUP BY offer_id) r ON r.offer_id = o.id
WHERE o.reserved <> coalesce(r.quantity, 0)
ORDER BY o.id
LIMIT %(limit)s
"""

NEGATIVE_STOCK = """
SELECT 'negative_stock' AS kind, o.id AS entity_id, f.field, 0 AS expected, f.actual
FROM offers o
CROSS JOIN LATERAL (VALUES ('on_hand', o.on_hand), ('reserved', o.reserved),
                           ('available', o.on_hand - o.reserved)) AS f(field, actual)
WHERE f.actual < 0
ORDER BY o.id, f.field
LIMIT %(limit)s
"""

# A thread's message_seq counts its messages (live and archived: posts number them under the
# thread's lock, the archival moves them) and last_message_id is the newest.
THREAD_MESSAGES = """
SELECT 'thread_messages' AS kind, t.id AS entity_id, f.field, f.expected, f.actual
FROM threads t
CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(max(id), 0) AS newest FROM (
        SELECT id FROM messages m WHERE m.thread_id = t.id
        UNION ALL SELECT id FROM archived_messages a WHERE a.thread_id = t.id) x) c
CROSS JOIN LATERAL (VALUES ('message_seq', c.n, t.message_seq),
                           ('last_message_id', c.newest, coalesce(t.last_message_id, 0))) AS f(field, expected, actual)
WHERE f.expected <> f.actual
ORDER BY t.id, f.field
LIMIT %(limit)s
"""

# Every channel message (not an agent's reply) is the one its (connection, external id) key names,
# and a conversation's last_message_at is not older than its newest message (it only moves forward).
INBOX_MESSAGES = """
SELECT 'inbox_messages' AS kind, c.id AS entity_id, f.field, f.expected, f.actual
FROM conversations c
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE m.agent_id IS NULL AND m.external_id IS NOT NULL) AS channel_messages,
           count(k.message_id) FILTER (WHERE m.agent_id IS NULL AND m.external_id IS NOT NULL) AS keyed,
           max(CASE WHEN m.agent_id IS NULL THEN m.sent_at ELSE m.created_at END) AS newest
    FROM inbox_messages m
    LEFT JOIN inbox_message_keys k
           ON k.connection_id = m.connection_id AND k.external_id = m.external_id AND k.message_id = m.id
    WHERE m.conversation_id = c.id) x
CROSS JOIN LATERAL (VALUES
    ('keyed_messages', x.channel_messages::numeric, x.keyed::numeric),
    ('last_message_at', extract(epoch FROM GREATEST(c.last_message_at, x.newest)),
                        extract(epoch FROM c.last_message_at))
) AS f(field, expected, actual)
WHERE f.expected <> f.actual
ORDER BY c.id, f.field
LIMIT %(limit)s
"""

CHECK_QUERIES: dict[ViolationKind, str] = {
    "order_totals": ORDER_TOTALS_VS_CHILDREN,
    "seller_order_subtotal": SELLER_ORDER_SUBTOTAL_VS_ITEMS,
    "offer_reserved": OFFER_RESERVED_VS_ACTIVE_RESERVATIONS,
    "negative_stock": NEGATIVE_STOCK,
    "thread_messages": THREAD_MESSAGES,
    "inbox_messages": INBOX_MESSAGES,
}


async def find_violations(conn: AsyncConnection, *, limit: int) -> list[Violation]:
    """Every violation of every check, at most `limit` per check."""
    found: list[Violation] = []
    for query in CHECK_QUERIES.values():
        found += await db.fetch_all(conn, query, {"limit": limit}, Violation)
    return found
