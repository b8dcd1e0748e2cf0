"""Migration 0013 on a database that already holds duplicate active conversations (the index
dropped, as the inbox in issue 15 did): it reports them, keeps the newest active one per
(connection, contact), closes the others as merged_duplicate, and builds the index."""

from __future__ import annotations

import psycopg
from yoyo import read_migrations

from scripts.migrate import MIGRATIONS_DIR, locked_backend, migrate_up

SEED = """
INSERT INTO channel_connections (id, kind, external_id, display_name, secrets, secrets_key_id)
VALUES ('00000000-0000-0000-0000-0000000000c1', 'MESSENGER', 'page-1', 'Page', '\\x00', 'k1');
INSERT INTO contacts (id, connection_id, external_id)
VALUES ('00000000-0000-0000-0000-00000000a001', '00000000-0000-0000-0000-0000000000c1', 'psid-1'),
       ('00000000-0000-0000-0000-00000000a002', '00000000-0000-0000-0000-0000000000c1', 'psid-2');
INSERT INTO conversations (id, connection_id, contact_id, status, snoozed_until, last_message_at, closed_at)
VALUES ('00000000-0000-0000-0000-0000000000d1', '00000000-0000-0000-0000-0000000000c1',
        '00000000-0000-0000-0000-00000000a001', 'OPEN', NULL, '2026-01-01T10:00Z', NULL),
       ('00000000-0000-0000-0000-0000000000d2', '00000000-0000-0000-0000-0000000000c1',
        '00000000-0000-0000-0000-00000000a001', 'SNOOZED', '2026-02-01T00:00Z', '2026-01-03T10:00Z', NULL),
       ('00000000-0000-0000-0000-0000000000d3', '00000000-0000-0000-0000-0000000000c1',
        '00000000-0000-0000-0000-00000000a001', 'OPEN', NULL, '2026-01-02T10:00Z', NULL),
       ('00000000-0000-0000-0000-0000000000d4', '00000000-0000-0000-0000-0000000000c1',
        '00000000-0000-0000-0000-00000000a001', 'CLOSED', NULL, '2026-01-05T10:00Z', '2026-01-05T11:00Z'),
       ('00000000-0000-0000-0000-0000000000d5', '00000000-0000-0000-0000-0000000000c1',
        '00000000-0000-0000-0000-00000000a002', 'OPEN', NULL, '2026-01-01T10:00Z', NULL);
"""


def unmark_inbox_migration(url: str) -> None:
    with locked_backend(url) as backend:
        inbox = [m for m in read_migrations(str(MIGRATIONS_DIR)) if m.id == "0013.inbox"]
        backend.unmark_migrations(inbox)


def test_duplicates_are_reported_and_merged_before_the_index(fresh_database, caplog):
    migrate_up(fresh_database)
    with psycopg.connect(fresh_database) as conn:
        conn.execute("DROP INDEX conversations_one_active")
        conn.execute(SEED)
    unmark_inbox_migration(fresh_database)

    assert migrate_up(fresh_database) == 1

    with psycopg.connect(fresh_database) as conn:
        statuses = conn.execute(
            "SELECT right(id::text, 2), status, close_reason FROM conversations ORDER BY id"
        ).fetchall()
        history = conn.execute(
            "SELECT right(conversation_id::text, 2), action, from_status, detail ->> 'kept' FROM conversation_history"
            " ORDER BY conversation_id"
        ).fetchall()
        indexed = conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'conversations_one_active'"
        ).fetchone()
    kept = "00000000-0000-0000-0000-0000000000d2"  # the newest active one (latest last_message_at)
    assert statuses == [
        ("d1", "CLOSED", "merged_duplicate"),
        ("d2", "SNOOZED", None),
        ("d3", "CLOSED", "merged_duplicate"),
        ("d4", "CLOSED", None),
        ("d5", "OPEN", None),
    ]
    assert history == [("d1", "merged_duplicate", "OPEN", kept), ("d3", "merged_duplicate", "OPEN", kept)]
    assert indexed == (1,)


def test_a_clean_database_rerun_changes_nothing(fresh_database):
    migrate_up(fresh_database)
    unmark_inbox_migration(fresh_database)
    assert migrate_up(fresh_database) == 1
    with psycopg.connect(fresh_database) as conn:
        assert conn.execute("SELECT count(*) FROM conversation_history").fetchone() == (0,)
