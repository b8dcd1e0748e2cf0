"""Demo threads for `make run` (after the demo catalog): an Arabic inquiry with a pending order
request, an English inquiry answered by the seller, and an English direct thread. Made through
the services the API uses, so welcomes, previews, unread counts and notifications are real.
Idempotent: threads are found-or-created, posts carry client message ids, the order request a
client id; a second run changes nothing."""

from __future__ import annotations

import asyncio

from shared.platform.auth import Principal
from shared.thread_orders import service as thread_orders
from shared.thread_orders.models import ProposeOrder
from shared.threads import service as threads
from shared.threads.models import Party, PostMessage

SARA, OMAR = "demo-customer-1", "demo-customer-2"  # scripts/demo_data.py: Arabic and English
SELLER_STAFF = "seller-demo"

# (shopper, the seller's side?, text): each thread's conversation after the welcome.
ARABIC_INQUIRY = [
    (SARA, False, "السلام عليكم، هل هذا المنتج متوفر؟ وكم يستغرق التوصيل إلى الرياض؟"),
    (SARA, True, "وعليكم السلام، نعم متوفر. التوصيل خلال يومين. أرسلت لك عرض طلب بكميتين."),
]
ENGLISH_INQUIRY = [
    (OMAR, False, "Hi, is this suitable for children under 12?"),
    (OMAR, True, "Please check with your pharmacist; the leaflet says from 12 years. We also have a syrup."),
]
ENGLISH_DIRECT = [
    (OMAR, False, "Do you deliver to Khobar on Fridays?"),
    (OMAR, True, "Yes, Friday deliveries to Khobar arrive after 4 pm."),
]


def customer(sub: str) -> Principal:
    return Principal(user_id=sub, roles=frozenset({"customer"}))


def staff(seller_id: str) -> Principal:
    return Principal(user_id=SELLER_STAFF, roles=frozenset({"seller"}), seller_id=seller_id)


async def converse(thread_id, seller_id: str, lines: list[tuple[str, bool, str]], tag: str) -> None:
    for number, (shopper, from_seller, text) in enumerate(lines):
        party = (
            Party(side="SELLER", party_id=seller_id, user_id=SELLER_STAFF)
            if from_seller
            else Party(side="SHOPPER", party_id=shopper, user_id=shopper)
        )
        await threads.post_message(party, thread_id, PostMessage(body=text, client_message_id=f"demo-{tag}-{number}"))


async def load_threads() -> str:
    from shared import storage
    from shared.data import db
    from shared.events import relay

    try:
        offers = await thread_orders.demo_offers(2)
        if len(offers) < 2:
            return "demo threads: skipped (the catalog has fewer than 2 sellers with stock)"
        first, second = offers
        arabic, _ = await threads.start_inquiry(customer(SARA), first.product_id, first.seller_id)
        await converse(arabic.id, str(first.seller_id), ARABIC_INQUIRY, "ar-inquiry")
        proposal = ProposeOrder.model_validate(
            {"lines": [{"offer_id": str(first.offer_id), "quantity": 2}], "note": "عرض خاص: التوصيل مجاني",
             "valid_for_hours": 24 * 14, "client_id": "demo-order-request-1"}
        )  # fmt: skip
        request, _ = await thread_orders.propose(staff(str(first.seller_id)), arabic.id, proposal)
        english, _ = await threads.start_inquiry(customer(OMAR), second.product_id, second.seller_id)
        await converse(english.id, str(second.seller_id), ENGLISH_INQUIRY, "en-inquiry")
        direct, _ = await threads.start_direct(customer(OMAR), first.seller_id)
        await converse(direct.id, str(first.seller_id), ENGLISH_DIRECT, "en-direct")
    finally:
        await relay.wait_for_background_relay()
        await db.close_pools()
        await storage.close_storage_clients()
    return (
        f"demo threads: {SARA} ↔ seller {first.seller_id} (Arabic, order request {request.id} {request.status}), "
        f"{OMAR} ↔ seller {second.seller_id} (English inquiry) and ↔ seller {first.seller_id} (direct)"
    )


def load() -> None:
    print(f"[souq] {asyncio.run(load_threads())}", flush=True)
