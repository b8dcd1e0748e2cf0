"""Bilingual notification titles for order events (English, Arabic)."""

from __future__ import annotations

# (field, status) -> (English, Arabic); the field matters: FAILED is a payment or a delivery.
STATUS_LABELS: dict[tuple[str, str], tuple[str, str]] = {
    ("status", "PENDING"): ("pending", "قيد الانتظار"),
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


def placed(number: str, *, seller: bool) -> tuple[str, str]:
    if seller:
        return f"New order {number}", f"طلب جديد {number}"
    return f"Order {number} placed", f"تم تقديم الطلب {number}"


def status_changed(number: str, field: str, status: str) -> tuple[str, str]:
    en, ar = status_label(field, status)
    return f"Order {number}: {en}", f"الطلب {number}: {ar}"


def cancelled(number: str) -> tuple[str, str]:
    return f"Order {number} cancelled", f"تم إلغاء الطلب {number}"


def expired(number: str) -> tuple[str, str]:
    return f"Order {number} expired unpaid", f"انتهت مهلة الدفع للطلب {number}"
