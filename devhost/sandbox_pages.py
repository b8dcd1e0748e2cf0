"""The sandbox gateway's HTML: the hosted checkout page, the outcome, the shop's return page."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import httpx

from devhost.http_io import OutgoingResponse
from devhost.sandbox_ledger import SOURCES

if TYPE_CHECKING:
    from devhost.sandbox_gateway import Delivery

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}"
    "button{font-size:1rem;padding:.6rem 1.2rem;margin:.3rem .3rem 0 0;border:0;border-radius:.3rem;color:#fff}"
    ".approve{background:#1a7f37}.decline{background:#b42318}code{background:#f3f3f3;padding:0 .2rem}"
)


def _page(title: str, body: str, status: int = 200) -> OutgoingResponse:
    document = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return OutgoingResponse(status, [("content-type", "text/html; charset=utf-8")], document.encode("utf-8"))


def form_values(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode("utf-8", "replace")))


def _summary(invoice: Mapping[str, Any]) -> str:
    return (
        f"<p><strong>{escape(str(invoice['amount_format']))}</strong> — {escape(str(invoice['description']))}</p>"
        f"<p>Invoice <code>{escape(str(invoice['id']))}</code>: <strong>{escape(str(invoice['status']))}</strong>, "
        f"{len(invoice['payments'])} attempt(s).</p>"
    )


def checkout(invoice: Mapping[str, Any], prefix: str) -> OutgoingResponse:
    """Moyasar's hosted page, reduced to what a tester decides: pay (with a method) or decline."""
    if invoice["status"] != "initiated":
        return _page("Sandbox checkout", _summary(invoice) + "<p>Nothing left to pay.</p>")
    action = f"{prefix}/pay/{escape(str(invoice['id']))}"
    options = "".join(f'<option value="{name}">{name}</option>' for name in SOURCES)
    body = (
        _summary(invoice)
        + f'<form method="post" action="{action}/approve"><label>Pay with <select name="method">{options}'
        + '</select></label><br><button class="approve">Approve payment</button></form>'
        + f'<form method="post" action="{action}/decline"><button class="decline">Decline</button></form>'
    )
    return _page("Sandbox checkout", body)


def outcome(invoice: Mapping[str, Any], delivery: Delivery, prefix: str) -> OutgoingResponse:
    """After a decision: the webhook's fate, and the way back to the shop (Moyasar appends
    `id`, `status` and `message` to the success URL)."""
    result = f"answered {delivery.status}" if delivery.status is not None else f"failed: {delivery.error}"
    body = _summary(invoice) + (
        f"<p>Webhook <code>{escape(delivery.event_type)}</code> to <code>{escape(delivery.url)}</code>: "
        f"{escape(result)}.</p>"
    )
    back = invoice.get("success_url") if delivery.event_type == "payment_paid" else invoice.get("back_url")
    if back:
        payment = delivery.payload["data"]
        params = {"id": payment["id"], "status": payment["status"], "message": payment["source"]["message"]}
        link = str(httpx.URL(str(back)).copy_merge_params(params))
        body += f'<p><a href="{escape(link)}">Return to the shop</a></p>'
    if invoice["status"] == "initiated":
        body += f'<p><a href="{prefix}/pay/{escape(str(invoice["id"]))}">Try again</a></p>'
    return _page("Sandbox checkout", body)


def returned(query: Mapping[str, str]) -> OutgoingResponse:
    """Where the sample PAYMENT_CALLBACK_URL lands: the order's state comes from the API."""
    details = "".join(f"<li>{escape(k)}: <code>{escape(v)}</code></li>" for k, v in sorted(query.items()))
    status = "<code>GET /api/orders/{id}</code>"
    body = f"<p>Back at the shop. The order's payment status is in {status}.</p><ul>{details}</ul>"
    return _page("Payment finished", body)
