# ruff: noqa: E501 - one operation per line, so that the table below reads as a table
"""The authorization matrix: who may call every HTTP operation, and what everybody else gets.

One row per (function, method, route) the app registers. Each cell is the status one request
answers with when sent by that caller (tests/integration/test_authorization_matrix.py sends
every one of them, through the dev host's routing and function-key check). The target of a
request belongs to customer A or to seller A; "customer B" and "seller B" are the foreign
owners (404, never 403, so ids cannot be probed). On routes without such a target they are
just another customer or seller.

`python -m tests.integration.authz_matrix` prints the Markdown table that docs/security.md
holds between its markers; `--write` puts it there.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ("anonymous", "customer", "other_customer", "seller", "other_seller", "pharmacist", "admin", "super_admin")
HEADINGS = ("anonymous", "customer A", "customer B", "seller A", "seller B", "pharmacist", "admin", "super_admin")
KEY, NO_KEY = True, False
# Sent with an admin token but without the function key, on routes that need the key.
KEY_MISSING = 401


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    route: str
    key: bool  # the function key (x-functions-key) is required, on top of the bearer token
    expect: dict[str, int]

    @property
    def label(self) -> str:
        return f"{self.method} /api/{self.route}"


# fmt: off
_ROWS: list[tuple[str, str, str, bool, int, int, int, int, int, int, int, int]] = [
    # function                        method    route                                                 key     anon cust  custB sell sellB pharm admin super
    ("health",                          "GET",    "health",                                             NO_KEY, 200, 200, 200, 200, 200, 200, 200, 200),
    ("health_ready",                    "GET",    "health/ready",                                       NO_KEY, 200, 200, 200, 200, 200, 200, 200, 200),
    ("openapi_document",                "GET",    "openapi.json",                                       NO_KEY, 200, 200, 200, 200, 200, 200, 200, 200),
    ("route_fallback",                  "GET",    "{*path}",                                            NO_KEY, 404, 404, 404, 404, 404, 404, 404, 404),
    # the caller's own profile, addresses, orders and notifications: any signed-in caller
    ("get_me",                          "GET",    "me",                                                 NO_KEY, 401, 200, 200, 200, 200, 200, 200, 200),
    ("patch_me",                        "PATCH",  "me",                                                 NO_KEY, 401, 200, 200, 200, 200, 200, 200, 200),
    ("list_my_addresses",               "GET",    "me/addresses",                                       NO_KEY, 401, 200, 200, 200, 200, 200, 200, 200),
    ("add_my_address",                  "POST",   "me/addresses",                                       NO_KEY, 401, 201, 201, 201, 201, 201, 201, 201),
    ("update_my_address",               "PATCH",  "me/addresses/{id:guid}",                             NO_KEY, 401, 200, 404, 404, 404, 404, 404, 404),
    ("delete_my_address",               "DELETE", "me/addresses/{id:guid}",                             NO_KEY, 401, 204, 404, 404, 404, 404, 404, 404),
    ("place_order",                     "POST",   "orders",                                             NO_KEY, 401, 201, 201, 201, 201, 201, 201, 201),
    ("list_my_orders",                  "GET",    "orders",                                             NO_KEY, 401, 200, 200, 200, 200, 200, 200, 200),
    ("get_my_order",                    "GET",    "orders/{id:guid}",                                   NO_KEY, 401, 200, 404, 404, 404, 404, 404, 404),
    ("cancel_my_order",                 "POST",   "orders/{id:guid}/cancel",                            NO_KEY, 401, 200, 404, 404, 404, 404, 200, 200),
    ("list_my_notifications",           "GET",    "me/notifications",                                   NO_KEY, 401, 200, 200, 200, 200, 200, 200, 200),
    ("mark_my_notifications_read",      "POST",   "me/notifications/read",                              NO_KEY, 401, 200, 200, 200, 200, 200, 200, 200),
    # the public catalog
    ("list_categories",                 "GET",    "categories",                                         NO_KEY, 200, 200, 200, 200, 200, 200, 200, 200),
    ("get_category",                    "GET",    "categories/{slug}",                                  NO_KEY, 200, 200, 200, 200, 200, 200, 200, 200),
    ("list_brands",                     "GET",    "brands",                                             NO_KEY, 200, 200, 200, 200, 200, 200, 200, 200),
    ("list_products",                   "GET",    "products",                                           NO_KEY, 200, 200, 200, 200, 200, 200, 200, 200),
    ("get_product",                     "GET",    "products/{id:guid}",                                 NO_KEY, 200, 200, 200, 200, 200, 200, 200, 200),
    ("get_product_by_slug",             "GET",    "products/by-slug/{slug}",                            NO_KEY, 200, 200, 200, 200, 200, 200, 200, 200),
    # catalog management: admins
    ("create_category",                 "POST",   "catalog/categories",                                 NO_KEY, 401, 403, 403, 403, 403, 403, 201, 201),
    ("update_category",                 "PATCH",  "catalog/categories/{id:guid}",                       NO_KEY, 401, 403, 403, 403, 403, 403, 200, 200),
    ("deactivate_category",             "DELETE", "catalog/categories/{id:guid}",                       NO_KEY, 401, 403, 403, 403, 403, 403, 200, 200),
    ("create_brand",                    "POST",   "catalog/brands",                                     NO_KEY, 401, 403, 403, 403, 403, 403, 201, 201),
    ("update_brand",                    "PATCH",  "catalog/brands/{id:guid}",                           NO_KEY, 401, 403, 403, 403, 403, 403, 200, 200),
    ("deactivate_brand",                "DELETE", "catalog/brands/{id:guid}",                           NO_KEY, 401, 403, 403, 403, 403, 403, 200, 200),
    ("create_product",                  "POST",   "catalog/products",                                   NO_KEY, 401, 403, 403, 403, 403, 403, 201, 201),
    ("update_product",                  "PATCH",  "catalog/products/{id:guid}",                         NO_KEY, 401, 403, 403, 403, 403, 403, 200, 200),
    ("deactivate_product",              "DELETE", "catalog/products/{id:guid}",                         NO_KEY, 401, 403, 403, 403, 403, 403, 200, 200),
    ("create_variant",                  "POST",   "catalog/products/{id:guid}/variants",                NO_KEY, 401, 403, 403, 403, 403, 403, 201, 201),
    ("update_variant",                  "PATCH",  "catalog/variants/{id:guid}",                         NO_KEY, 401, 403, 403, 403, 403, 403, 200, 200),
    ("deactivate_variant",              "DELETE", "catalog/variants/{id:guid}",                         NO_KEY, 401, 403, 403, 403, 403, 403, 200, 200),
    ("add_product_image",               "POST",   "catalog/products/{id:guid}/images",                  NO_KEY, 401, 403, 403, 403, 403, 403, 201, 201),
    ("remove_product_image",            "DELETE", "catalog/products/{id:guid}/images/{image_id:guid}",  NO_KEY, 401, 403, 403, 403, 403, 403, 204, 204),
    # a seller's own offers, orders and figures (admins: any seller's)
    ("put_offer",                       "PUT",    "sellers/{seller_id:guid}/offers/{variant_id:guid}",  NO_KEY, 401, 403, 403, 200, 404, 403, 200, 200),
    ("list_offers",                     "GET",    "sellers/{seller_id:guid}/offers",                    NO_KEY, 401, 403, 403, 200, 404, 403, 200, 200),
    ("list_seller_orders",              "GET",    "seller/orders",                                      NO_KEY, 401, 403, 403, 200, 404, 403, 200, 200),
    ("get_seller_order",                "GET",    "seller/orders/{id:guid}",                            NO_KEY, 401, 403, 403, 200, 404, 403, 200, 200),
    ("transition_seller_order",         "POST",   "seller/orders/{id:guid}/transitions",                NO_KEY, 401, 403, 403, 200, 404, 403, 200, 200),
    ("get_seller_stats",                "GET",    "seller/stats",                                       NO_KEY, 401, 403, 403, 200, 200, 403, 403, 403),
    # a seller account's notifications: the token's seller only (admins have none)
    ("list_seller_notifications",       "GET",    "seller/notifications",                               NO_KEY, 401, 403, 403, 200, 200, 403, 403, 403),
    ("mark_seller_notifications_read",  "POST",   "seller/notifications/read",                          NO_KEY, 401, 403, 403, 200, 200, 403, 403, 403),
    # operations: admins; maintenance routes also need the function key
    ("list_ops_orders",                 "GET",    "ops/orders",                                         NO_KEY, 401, 403, 403, 403, 403, 403, 200, 200),
    ("get_ops_order",                   "GET",    "ops/orders/{id:guid}",                               NO_KEY, 401, 403, 403, 403, 403, 403, 200, 200),
    ("get_ops_stats",                   "GET",    "ops/stats",                                          NO_KEY, 401, 403, 403, 403, 403, 403, 200, 200),
    ("get_ops_seller_stats",            "GET",    "ops/sellers/{id:guid}/stats",                        NO_KEY, 401, 403, 403, 403, 403, 403, 200, 200),
    ("relay_outbox_now",                "POST",   "ops/outbox/relay",                                   KEY,    401, 403, 403, 403, 403, 403, 200, 200),
    ("get_consistency",                 "GET",    "ops/consistency",                                    KEY,    401, 403, 403, 403, 403, 403, 200, 200),
    ("get_health",                      "GET",    "ops/health",                                         KEY,    401, 403, 403, 403, 403, 403, 200, 200),
    # database reports (admins, with the function key); slow-queries: see ALSO_ACCEPTED
    ("get_slow_queries_report",         "GET",    "ops/reports/slow-queries",                           KEY,    401, 403, 403, 403, 403, 403, 200, 200),
    ("get_index_usage_report",          "GET",    "ops/reports/index-usage",                            KEY,    401, 403, 403, 403, 403, 403, 200, 200),
    ("get_tables_report",               "GET",    "ops/reports/tables",                                 KEY,    401, 403, 403, 403, 403, 403, 200, 200),
    ("get_connections_report",          "GET",    "ops/reports/connections",                            KEY,    401, 403, 403, 403, 403, 403, 200, 200),
    # prescriptions: a shopper's own (anyone else's: 404); the queue and files for pharmacists and admins, reviews for pharmacists only
    ("create_prescription",             "POST",   "prescriptions",                                      NO_KEY, 401, 201, 201, 201, 201, 201, 201, 201),
    ("list_my_prescriptions",           "GET",    "prescriptions",                                      NO_KEY, 401, 200, 200, 200, 200, 200, 200, 200),
    ("submit_prescription",             "POST",   "prescriptions/{id:guid}/submit",                     NO_KEY, 401, 200, 404, 404, 404, 404, 404, 404),
    ("list_prescription_queue",         "GET",    "pharmacist/prescriptions",                           NO_KEY, 401, 403, 403, 403, 403, 200, 200, 200),
    ("get_prescription_file",           "GET",    "pharmacist/prescriptions/{id:guid}/file",            NO_KEY, 401, 403, 403, 403, 403, 200, 200, 200),
    ("review_prescription",             "POST",   "pharmacist/prescriptions/{id:guid}/review",          NO_KEY, 401, 403, 403, 403, 403, 200, 403, 403),
    # payments: the shopper pays its own order; gateways post webhooks (their secret_token, not a
    # bearer token, authenticates them); admins refund any order, a seller its own child order
    ("start_payment",                   "POST",   "orders/{id:guid}/payments",                          NO_KEY, 401, 201, 404, 404, 404, 404, 404, 404),
    ("payment_webhook",                 "POST",   "webhooks/payments/{gateway}",                        NO_KEY, 200, 200, 200, 200, 200, 200, 200, 200),
    ("refund_order",                    "POST",   "orders/{id:guid}/refunds",                           NO_KEY, 401, 403, 403, 201, 404, 403, 201, 201),
    ("list_payments_for_review",        "GET",    "ops/payments/review",                                KEY,    401, 403, 403, 403, 403, 403, 200, 200),
    # message threads: a shopper's own (anyone else's: 404); the seller's staff on the seller's side (another seller: 404); support reads any (audited)
    ("start_inquiry",                   "POST",   "products/{id:guid}/inquiries",                       NO_KEY, 401, 201, 201, 201, 201, 201, 201, 201),
    ("start_direct_thread",             "POST",   "sellers/{seller_id:guid}/direct",                    NO_KEY, 401, 201, 201, 201, 201, 201, 201, 201),
    ("list_my_threads",                 "GET",    "threads",                                            NO_KEY, 401, 200, 200, 200, 200, 200, 200, 200),
    ("list_thread_messages",            "GET",    "threads/{id:guid}/messages",                         NO_KEY, 401, 200, 404, 404, 404, 404, 404, 404),
    ("post_thread_message",             "POST",   "threads/{id:guid}/messages",                         NO_KEY, 401, 201, 404, 404, 404, 404, 404, 404),
    ("edit_thread_message",             "PATCH",  "threads/{id:guid}/messages/{message_id:long}",       NO_KEY, 401, 200, 404, 404, 404, 404, 404, 404),
    ("delete_thread_message",           "DELETE", "threads/{id:guid}/messages/{message_id:long}",       NO_KEY, 401, 200, 404, 404, 404, 404, 404, 404),
    ("mark_thread_read",                "POST",   "threads/{id:guid}/read",                             NO_KEY, 401, 200, 404, 404, 404, 404, 404, 404),
    ("get_my_unread",                   "GET",    "me/unread",                                          NO_KEY, 401, 200, 200, 200, 200, 200, 200, 200),
    ("start_thread_attachment",         "POST",   "threads/{id:guid}/attachments",                      NO_KEY, 401, 201, 404, 404, 404, 404, 404, 404),
    ("get_thread_attachment",           "GET",    "threads/{id:guid}/attachments/{attachment_id:guid}", NO_KEY, 401, 200, 404, 404, 404, 404, 404, 404),
    ("report_thread_message",           "POST",   "threads/{id:guid}/messages/{message_id:long}/report", NO_KEY, 401, 201, 404, 404, 404, 404, 404, 404),
    ("list_seller_threads",             "GET",    "seller/threads",                                     NO_KEY, 401, 403, 403, 200, 200, 403, 403, 403),
    ("list_seller_thread_messages",     "GET",    "seller/threads/{id:guid}/messages",                  NO_KEY, 401, 403, 403, 200, 404, 403, 403, 403),
    ("post_seller_thread_message",      "POST",   "seller/threads/{id:guid}/messages",                  NO_KEY, 401, 403, 403, 201, 404, 403, 403, 403),
    ("edit_seller_thread_message",      "PATCH",  "seller/threads/{id:guid}/messages/{message_id:long}", NO_KEY, 401, 403, 403, 200, 404, 403, 403, 403),
    ("delete_seller_thread_message",    "DELETE", "seller/threads/{id:guid}/messages/{message_id:long}", NO_KEY, 401, 403, 403, 200, 404, 403, 403, 403),
    ("mark_seller_thread_read",         "POST",   "seller/threads/{id:guid}/read",                      NO_KEY, 401, 403, 403, 200, 404, 403, 403, 403),
    ("get_seller_unread",               "GET",    "seller/unread",                                      NO_KEY, 401, 403, 403, 200, 200, 403, 403, 403),
    ("start_seller_thread_attachment",  "POST",   "seller/threads/{id:guid}/attachments",               NO_KEY, 401, 403, 403, 201, 404, 403, 403, 403),
    ("get_seller_thread_attachment",    "GET",    "seller/threads/{id:guid}/attachments/{attachment_id:guid}", NO_KEY, 401, 403, 403, 200, 404, 403, 403, 403),
    ("moderate_thread",                 "GET",    "ops/threads/{id:guid}/messages",                     NO_KEY, 401, 403, 403, 403, 403, 403, 200, 200),
    ("moderate_thread_attachment",      "GET",    "ops/threads/{id:guid}/attachments/{attachment_id:guid}", NO_KEY, 401, 403, 403, 403, 403, 403, 200, 200),
    ("list_message_reports",            "GET",    "ops/message-reports",                                NO_KEY, 401, 403, 403, 403, 403, 403, 200, 200),
    # order requests in threads: the thread's seller staff propose and cancel, its shopper accepts or declines (anyone else: 404)
    ("propose_order_request",           "POST",   "seller/threads/{id:guid}/order-requests",            NO_KEY, 401, 403, 403, 201, 404, 403, 403, 403),
    ("get_seller_order_request",        "GET",    "seller/threads/{id:guid}/order-requests/{rid:guid}", NO_KEY, 401, 403, 403, 200, 404, 403, 403, 403),
    ("cancel_order_request",            "POST",   "seller/threads/{id:guid}/order-requests/{rid:guid}/cancel", NO_KEY, 401, 403, 403, 200, 404, 403, 403, 403),
    ("get_order_request",               "GET",    "threads/{id:guid}/order-requests/{rid:guid}",        NO_KEY, 401, 200, 404, 404, 404, 404, 404, 404),
    ("accept_order_request",            "POST",   "threads/{id:guid}/order-requests/{rid:guid}/accept", NO_KEY, 401, 201, 404, 404, 404, 404, 404, 404),
    ("decline_order_request",           "POST",   "threads/{id:guid}/order-requests/{rid:guid}/decline", NO_KEY, 401, 200, 404, 404, 404, 404, 404, 404),
    # ORDER threads: a child order's shopper and its seller's staff
    ("get_order_thread",                "GET",    "orders/{id:guid}/thread",                            NO_KEY, 401, 200, 404, 404, 404, 404, 404, 404),
    ("post_order_message",              "POST",   "orders/{id:guid}/thread/messages",                   NO_KEY, 401, 201, 404, 404, 404, 404, 404, 404),
    ("get_seller_order_thread",         "GET",    "seller/orders/{id:guid}/thread",                     NO_KEY, 401, 403, 403, 200, 404, 403, 403, 403),
    ("post_seller_order_message",       "POST",   "seller/orders/{id:guid}/thread/messages",            NO_KEY, 401, 403, 403, 201, 404, 403, 403, 403),
    # inbox: channels post webhooks (a signature or secret token authenticates them, not a bearer
    # token); seller agents work their seller's connections (another seller's: 404), admins (the
    # platform's support) all of them
    ("verify_meta_webhook",             "GET",    "webhooks/meta",                                      NO_KEY, 200, 200, 200, 200, 200, 200, 200, 200),
    ("meta_webhook",                    "POST",   "webhooks/meta",                                      NO_KEY, 200, 200, 200, 200, 200, 200, 200, 200),
    ("telegram_webhook",                "POST",   "webhooks/telegram/{connection_id:guid}",             NO_KEY, 200, 200, 200, 200, 200, 200, 200, 200),
    ("list_inbox_conversations",        "GET",    "inbox/conversations",                                NO_KEY, 401, 403, 403, 200, 200, 403, 200, 200),
    ("get_inbox_conversation",          "GET",    "inbox/conversations/{id:guid}",                      NO_KEY, 401, 403, 403, 200, 404, 403, 200, 200),
    ("list_inbox_messages",             "GET",    "inbox/conversations/{id:guid}/messages",             NO_KEY, 401, 403, 403, 200, 404, 403, 200, 200),
    ("reply_to_conversation",           "POST",   "inbox/conversations/{id:guid}/messages",             NO_KEY, 401, 403, 403, 201, 404, 403, 201, 201),
    ("close_conversation",              "POST",   "inbox/conversations/{id:guid}/close",                NO_KEY, 401, 403, 403, 200, 404, 403, 200, 200),
    ("snooze_conversation",             "POST",   "inbox/conversations/{id:guid}/snooze",               NO_KEY, 401, 403, 403, 200, 404, 403, 200, 200),
    ("reopen_conversation",             "POST",   "inbox/conversations/{id:guid}/reopen",               NO_KEY, 401, 403, 403, 200, 404, 403, 200, 200),
    ("assign_conversation",             "POST",   "inbox/conversations/{id:guid}/assign",               NO_KEY, 401, 403, 403, 200, 404, 403, 200, 200),
    ("create_inbox_connection",         "POST",   "inbox/connections",                                  NO_KEY, 401, 403, 403, 201, 201, 403, 201, 201),
    ("list_inbox_connections",          "GET",    "inbox/connections",                                  NO_KEY, 401, 403, 403, 200, 200, 403, 200, 200),
    ("rotate_inbox_connection_secrets", "POST",   "inbox/connections/{id:guid}/secrets",                NO_KEY, 401, 403, 403, 200, 404, 403, 200, 200),
    ("rekey_inbox_connections",         "POST",   "ops/inbox/rekey",                                    KEY,    401, 403, 403, 403, 403, 403, 200, 200),
    # the chat widget: its script and sessions for anyone (the widget token is in the page); messages with a
    # visitor token, which every caller below sends in place of its own (the bearer token is the visitor's)
    ("widget_script",                   "GET",    "widget/v1/widget.js",                                NO_KEY, 200, 200, 200, 200, 200, 200, 200, 200),
    ("start_widget_session",            "POST",   "widget/{widget_token}/sessions",                     NO_KEY, 201, 201, 201, 201, 201, 201, 201, 201),
    ("send_widget_message",             "POST",   "widget/messages",                                    NO_KEY, 201, 201, 201, 201, 201, 201, 201, 201),
    ("poll_widget_messages",            "GET",    "widget/messages",                                    NO_KEY, 200, 200, 200, 200, 200, 200, 200, 200),
    ("widget_preflight",                "OPTIONS", "widget/{*rest}",                                    NO_KEY, 204, 204, 204, 204, 204, 204, 204, 204),
]
# fmt: on

# An allowed caller's answer that depends on the server, not on who calls: the slow-query report
# is a 409 saying how to enable pg_stat_statements on a server that does not preload it.
ALSO_ACCEPTED: dict[str, str] = {"get_slow_queries_report": "409 pg_stat_statements_not_enabled"}

MATRIX: list[Operation] = [
    Operation(name, method, route, key, dict(zip(COLUMNS, cells, strict=True)))
    for name, method, route, key, *cells in _ROWS
]

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
BEGIN = "<!-- authz-matrix:begin (generated by `python -m tests.integration.authz_matrix --write`) -->"
END = "<!-- authz-matrix:end -->"


def markdown() -> str:
    """The matrix as a Markdown table, one line per operation."""
    head = ["Operation", "Function", "Key", *HEADINGS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for op in MATRIX:
        cells = [f"`{op.label}`", f"`{op.name}`", "yes" if op.key else ""]
        cells += [str(op.expect[column]) for column in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def document_with_table(text: str) -> str:
    """`text` (docs/security.md) with the table between its markers replaced by `markdown()`."""
    before, found, rest = text.partition(BEGIN + "\n")
    _, found_end, after = rest.partition(END)
    if not found or not found_end:
        raise ValueError(f"{DOC.name} lacks the markers {BEGIN!r} … {END!r}")
    return before + BEGIN + "\n" + markdown() + END + after


def main(argv: list[str]) -> None:
    if argv == ["--write"]:
        DOC.write_text(document_with_table(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        sys.stdout.write(markdown())


if __name__ == "__main__":
    main(sys.argv[1:])
