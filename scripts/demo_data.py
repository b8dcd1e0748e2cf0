"""Demo data for `make run`: two shoppers with addresses, and a pharmacist's profile (the name a
seller sees on the lines they approve). Idempotent (fixed ids, ON CONFLICT in shared.users.repo)."""

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
