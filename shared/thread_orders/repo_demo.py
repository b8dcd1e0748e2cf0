"""SQL for `make run`'s demo threads (scripts/demo_threads.py): which offers to talk about."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.data import db
from shared.thread_orders.models import DemoOffer

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# Offers of non-prescription products with stock, one per seller, the same ones every run.
DEMO_OFFERS = """
SELECT DISTINCT ON (o.seller_id) o.id AS offer_id, o.seller_id, p.id AS product_id
FROM offers o
JOIN variants v ON v.id = o.variant_id AND v.is_active
JOIN products p ON p.id = v.product_id AND p.is_active AND NOT p.requires_prescription
JOIN sellers s ON s.id = o.seller_id AND s.status = 'ACTIVE'
WHERE o.is_active AND o.on_hand - o.reserved >= 10
ORDER BY o.seller_id, o.id
LIMIT %(limit)s
"""


async def demo_offers(conn: AsyncConnection, limit: int) -> list[DemoOffer]:
    return await db.fetch_all(conn, DEMO_OFFERS, {"limit": limit}, DemoOffer)
