"""Demo data for `make run`: two shoppers with addresses, and a pharmacist's profile (the name a
seller sees on the lines they approve); after the catalog, one inbox channel connection of each
kind (README "Inbox demo"). Idempotent (fixed ids, ON CONFLICT in shared.users.repo and on
(kind, external id) for connections)."""

from __future__ import annotations

import psycopg

from shared.users import repo

DEMO_USERS = [
    ("demo-customer-1", "sara@example.test", "Sara Al-Harbi", "+966501234567", "ar"),
    ("demo-customer-2", "omar@example.test", "Omar Haddad", "+966551112233", "en"),
    ("demo-pharmacist-1", "huda@example.test", "Dr. Huda Al-Qahtani", "+966509876543", "ar"),
]
DEMO_ADDRESSES = [
    (
        "6f1c1a2e-0000-4000-8000-000000000001",
        "demo-customer-1",
        "Home",
        "Sara",
        "Al-Harbi",
        "+966501234567",
        "King Fahd Road",
        "12",
        "3",
        "7",
        "Al Olaya",
        "Riyadh",
        "Riyadh Region",
        "12211",
        True,
    ),
    (
        "6f1c1a2e-0000-4000-8000-000000000002",
        "demo-customer-1",
        "Work",
        "Sara",
        "Al-Harbi",
        "+966501234567",
        "Tahlia Street",
        "4",
        None,
        None,
        "Al Rawdah",
        "Jeddah",
        "Makkah Region",
        "23432",
        False,
    ),
    (
        "6f1c1a2e-0000-4000-8000-000000000003",
        "demo-customer-2",
        "Home",
        "Omar",
        "Haddad",
        "+966551112233",
        "Prince Sultan Street",
        "88",
        "1",
        "2",
        "Al Khobar Al Shamalia",
        "Khobar",
        "Eastern Province",
        "34428",
        True,
    ),
]


def load(database_url: str) -> None:
    with psycopg.connect(database_url) as conn, conn.transaction():
        repo.insert_demo_users(conn, DEMO_USERS)
        repo.insert_demo_addresses(conn, DEMO_ADDRESSES)
    print(
        f"[souq] demo data: users {', '.join(u[0] for u in DEMO_USERS)} (make token ROLE=customer SUB=demo-customer-1;"
        " make token ROLE=pharmacist SUB=demo-pharmacist-1)",
        flush=True,
    )


# One connection of each kind, with local-only secrets the README's curl steps use. Telegram's
# webhook URL names its connection id, so the ids are fixed.
DEMO_CONNECTIONS = [
    ("7e1e0000-0000-4000-8000-000000000001", "MESSENGER", "demo-page", "Souq support (Messenger)", False,
     {"app_secret": "demo-meta-app-secret", "verify_token": "demo-verify-token", "page_access_token": "demo-token"}),
    ("7e1e0000-0000-4000-8000-000000000002", "INSTAGRAM", "demo-ig", "Pharmacy Instagram", True,
     {"app_secret": "demo-meta-app-secret", "verify_token": "demo-verify-token", "page_access_token": "demo-token"}),
    ("7e1e0000-0000-4000-8000-000000000003", "TELEGRAM", "demo-bot", "Souq support (Telegram)", False,
     {"bot_token": "123456:demo-bot-token", "webhook_secret_token": "demo-telegram-secret"}),
    ("7e1e0000-0000-4000-8000-000000000004", "WIDGET", "demo-widget", "Pharmacy website chat", True,
     {"widget_secret": "demo-widget-secret"}),
]  # fmt: skip


def load_inbox(database_url: str) -> None:
    """The demo connections (the Instagram and widget ones belong to the first seller, when the
    catalog has one; the others to the platform's support)."""
    import asyncio

    asyncio.run(_load_inbox(database_url))
    print("[souq] demo inbox: connections " + ", ".join(c[2] for c in DEMO_CONNECTIONS) + " (README: Inbox demo)")


async def _load_inbox(database_url: str) -> None:
    from uuid import UUID

    from shared.inbox import connections, repo_connections

    async with await psycopg.AsyncConnection.connect(database_url) as conn, conn.transaction():
        seller = await repo_connections.first_active_seller(conn)
        for connection_id, kind, external_id, name, seller_owned, secrets in DEMO_CONNECTIONS:
            await connections.create_connection_in(
                conn,
                kind=kind,
                external_id=external_id,
                display_name=name,
                seller_id=seller if seller_owned else None,
                channel_secrets=secrets,
                connection_id=UUID(connection_id),
            )
