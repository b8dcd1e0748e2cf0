"""Which notifications an order event makes, without I/O: who is told (the shopper, the
sellers), the bilingual titles (English, Arabic), and which events tell no one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from shared.notifications.errors import NotificationError
from shared.notifications.models import (
    NewNotification,
    OrderCancelled,
    OrderEventPayload,
    OrderExpired,
    OrderNumbers,
    OrderPlaced,
    OrderStatusChanged,
    PrescriptionLinesCancelled,
    Recipient,
    ThreadMessagePosted,
)
from shared.platform.errors import Forbidden

ORDER_AGGREGATE = "order"  # the only aggregate type the order events queue carries
EXPIRY_REASON = "expired"  # shared.orders.rules.EXPIRY_REASON (a unit test keeps them equal)
# shared.orders.rules' reasons of cancellations another event tells about (a unit test keeps them equal)
RX_CANCEL_REASONS = frozenset({"prescription rejected", "prescription not reviewed in time"})

# What handling one event came to (the trigger logs it).
PROCESSED, DUPLICATE, IGNORED = "processed", "duplicate", "ignored"


# -- titles

# (field, status) -> (English, Arabic); the field matters: FAILED is a payment or a delivery.
STATUS_LABELS: dict[tuple[str, str], tuple[str, str]] = {
    ("status", "PENDING"): ("pending", "قيد الانتظار"),
    ("status", "AWAITING_PRESCRIPTION"): ("awaiting prescription review", "بانتظار مراجعة الوصفة الطبية"),
    ("status", "CONFIRMED"): ("confirmed", "تم التأكيد"),
    ("status", "PROCESSING"): ("being prepared", "قيد التجهيز"),
    ("status", "READY_FOR_PICKUP"): ("ready for pickup", "جاهز للاستلام"),
    ("status", "OUT_FOR_DELIVERY"): ("out for delivery", "خرج للتوصيل"),
    ("status", "DELIVERED"): ("delivered", "تم التوصيل"),
    ("status", "CANCELLED"): ("cancelled", "تم الإلغاء"),
    ("status", "REFUNDED"): ("refunded", "تم الاسترداد"),
    ("delivery_status", "PENDING"): ("awaiting a courier", "بانتظار المندوب"),
    ("delivery_status", "ASSIGNED"): ("courier assigned", "تم تعيين المندوب"),
    ("delivery_status", "PICKED_UP"): ("picked up by the courier", "استلمه المندوب"),
    ("delivery_status", "IN_TRANSIT"): ("in transit", "في الطريق"),
    ("delivery_status", "OUT_FOR_DELIVERY"): ("out for delivery", "خرج للتوصيل"),
    ("delivery_status", "DELIVERED"): ("delivered", "تم التوصيل"),
    ("delivery_status", "FAILED"): ("delivery failed", "تعذر التوصيل"),
    ("delivery_status", "RETURNED"): ("returned", "تم الإرجاع"),
    ("payment_status", "PENDING"): ("awaiting payment", "بانتظار الدفع"),
    ("payment_status", "PROCESSING"): ("payment processing", "الدفع قيد المعالجة"),
    ("payment_status", "PAID"): ("paid", "تم الدفع"),
    ("payment_status", "FAILED"): ("payment failed", "فشل الدفع"),
    ("payment_status", "REFUNDED"): ("refunded", "تم الاسترداد"),
    ("payment_status", "PARTIALLY_REFUNDED"): ("partially refunded", "تم الاسترداد جزئيًا"),
}


def status_label(field: str, status: str) -> tuple[str, str]:
    """A status a newer producer added still reads sensibly in both languages."""
    return STATUS_LABELS.get((field, status), (status.replace("_", " ").lower(), status))


def placed_titles(number: str, *, seller: bool) -> tuple[str, str]:
    if seller:
        return f"New order {number}", f"طلب جديد {number}"
    return f"Order {number} placed", f"تم تقديم الطلب {number}"


def status_changed_titles(number: str, field: str, status: str) -> tuple[str, str]:
    en, ar = status_label(field, status)
    return f"Order {number}: {en}", f"الطلب {number}: {ar}"


def cancelled_titles(number: str) -> tuple[str, str]:
    return f"Order {number} cancelled", f"تم إلغاء الطلب {number}"


def expired_titles(number: str) -> tuple[str, str]:
    return f"Order {number} expired unpaid", f"انتهت مهلة الدفع للطلب {number}"


def rx_rejected_titles(number: str, items: int, *, child_cancelled: bool) -> tuple[str, str]:
    if child_cancelled:
        return (
            f"Order {number} cancelled: the prescription was rejected; your payment will be refunded",
            f"تم إلغاء الطلب {number}: رُفضت الوصفة الطبية، وسيُسترد المبلغ المدفوع",
        )
    return (
        f"Order {number}: a prescription was rejected; {items} item(s) cancelled and refunded, the rest confirmed",
        f"الطلب {number}: رُفضت وصفة طبية؛ أُلغي {items} من المنتجات وسيُسترد ثمنها، وتم تأكيد الباقي",
    )


def rx_hold_expired_titles(number: str) -> tuple[str, str]:
    return (
        f"Order {number} cancelled: the prescription was not reviewed in time; your payment will be refunded",
        f"تم إلغاء الطلب {number}: لم تُراجع الوصفة الطبية في الوقت المحدد، وسيُسترد المبلغ المدفوع",
    )


# -- thread messages: one unread notification per (thread, recipient), counting the messages

THREAD_MESSAGE_POSTED = "thread.message_posted"


def thread_message_titles(subject: str, count: int) -> tuple[str, str]:
    """(English, Arabic) title of a thread's unread "new messages" notification."""
    if count == 1:
        return f"New message: {subject}", f"رسالة جديدة: {subject}"
    return f"{count} new messages: {subject}", f"{count} رسائل جديدة: {subject}"


def thread_title_templates(subject: str) -> tuple[str, str]:
    """The many-messages titles with `%s` where the database puts the count (PostgreSQL's
    format(); a `%` of the subject is escaped)."""
    en, ar = thread_message_titles(subject.replace("%", "%%"), 2)
    return en.replace("2", "%s", 1), ar.replace("2", "%s", 1)


def thread_notes(p: ThreadMessagePosted) -> list[NewNotification]:
    data = {"thread_id": str(p.thread_id), "count": 1, "last_message_id": p.message_id, "preview": p.preview}
    return [note(r, THREAD_MESSAGE_POSTED, thread_message_titles(p.subject, 1), data) for r in p.recipients]


# -- recipients


def shopper(user_id: str) -> Recipient:
    return Recipient(type="user", id=user_id)


def seller(seller_id: UUID | str) -> Recipient:
    return Recipient(type="seller", id=str(seller_id))


def seller_of_token(seller_id: str | None) -> Recipient:
    """A seller reads its own notifications: those of the seller its token is bound to."""
    try:
        return seller(UUID(seller_id or ""))
    except ValueError:
        raise Forbidden("this token is not bound to a seller", code=NotificationError.NO_SELLER) from None


def outcome(*, created: int) -> str:
    """Notifications are unique per (event, recipient): none created means a redelivery."""
    return PROCESSED if created else DUPLICATE


# -- order events -> notifications


def note(recipient: Recipient, kind: str, titles: tuple[str, str], data: dict[str, Any]) -> NewNotification:
    """One notification; `data` keeps only the keys that have a value."""
    return NewNotification(
        recipient=recipient,
        kind=kind,
        title_en=titles[0],
        title_ar=titles[1],
        data={k: v for k, v in data.items() if v is not None},
    )


def placed_notes(kind: str, p: OrderPlaced, numbers: OrderNumbers) -> list[NewNotification]:
    """The shopper, and each seller with its own child order number."""
    data = {"order_id": str(p.order_id), "number": numbers.number}
    notes = [note(shopper(p.user_id), kind, placed_titles(numbers.number, seller=False), data)]
    for child in p.children:
        number = numbers.seller_numbers.get(str(child.seller_id), numbers.number)
        child_data = data | {"seller_order_id": str(child.seller_order_id), "number": number}
        notes.append(note(seller(child.seller_id), kind, placed_titles(number, seller=True), child_data))
    return notes


def status_changed_notes(kind: str, p: OrderStatusChanged, numbers: OrderNumbers) -> list[NewNotification]:
    """The shopper, and the seller whose child order changed (none for a parent field)."""
    if p.field == "status" and p.to == "CANCELLED":
        return []  # the order.cancelled written with it tells the same people
    number = numbers.seller_numbers.get(str(p.seller_id), numbers.number)
    data = {"order_id": str(p.order_id), "number": number, "field": p.field, "from": p.from_status, "to": p.to}
    titles = status_changed_titles(number, p.field, p.to)
    notes = [note(shopper(p.user_id), kind, titles, data)]
    if p.seller_id is not None:
        notes.append(note(seller(p.seller_id), kind, titles, data))
    return notes


def cancelled_notes(kind: str, p: OrderCancelled, numbers: OrderNumbers) -> list[NewNotification]:
    if p.reason == EXPIRY_REASON or p.reason in RX_CANCEL_REASONS:
        return []  # order.expired / prescription.* written with it tell the same people once
    # One child cancelled names its seller; a whole-order cancel tells every seller of it.
    sellers = [str(p.seller_id)] if p.seller_id else sorted(numbers.seller_numbers)
    number = numbers.seller_numbers.get(str(p.seller_id), numbers.number)
    data = {"order_id": str(p.order_id), "number": number, "reason": p.reason}
    recipients = [shopper(p.user_id), *map(seller, sellers)]
    return [note(r, kind, cancelled_titles(number), data) for r in recipients]


def expired_notes(kind: str, p: OrderExpired, numbers: OrderNumbers) -> list[NewNotification]:
    """The shopper and every seller of the order (from the event, else from the order)."""
    sellers = [str(c.seller_id) for c in p.children] or sorted(numbers.seller_numbers)
    data = {"order_id": str(p.order_id), "number": numbers.number}
    recipients = [shopper(p.user_id), *map(seller, sellers)]
    return [note(r, kind, expired_titles(numbers.number), data) for r in recipients]


def rx_lines_notes(kind: str, p: PrescriptionLinesCancelled, numbers: OrderNumbers) -> list[NewNotification]:
    """The shopper and the child's seller: which lines went, and that the money comes back."""
    number = numbers.seller_numbers.get(str(p.seller_id), numbers.number)
    if kind == "prescription.hold_expired":
        titles = rx_hold_expired_titles(number)
    else:
        titles = rx_rejected_titles(number, len(p.lines), child_cancelled=p.child_cancelled)
    data = {
        "order_id": str(p.order_id),
        "seller_order_id": str(p.seller_order_id),
        "number": number,
        "lines": [line.line_no for line in p.lines],
    }
    return [note(r, kind, titles, data) for r in (shopper(p.user_id), seller(p.seller_id))]


P = TypeVar("P", bound=OrderEventPayload)


@dataclass(frozen=True)
class OrderEventNotice(Generic[P]):
    """How one event type becomes notifications: its payload's model and the notes it makes."""

    payload: type[P]
    notes: Callable[[str, P, OrderNumbers], list[NewNotification]]


# The order events someone is told about; any other event type is ignored, not an error.
ORDER_EVENTS: dict[str, OrderEventNotice[Any]] = {
    "order.placed": OrderEventNotice(OrderPlaced, placed_notes),
    "order.status_changed": OrderEventNotice(OrderStatusChanged, status_changed_notes),
    "order.cancelled": OrderEventNotice(OrderCancelled, cancelled_notes),
    "order.expired": OrderEventNotice(OrderExpired, expired_notes),
    "prescription.rejected": OrderEventNotice(PrescriptionLinesCancelled, rx_lines_notes),
    "prescription.hold_expired": OrderEventNotice(PrescriptionLinesCancelled, rx_lines_notes),
}
