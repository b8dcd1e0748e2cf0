-- depends: 0008.prescriptions
-- Omnichannel support inbox (docs/inbox.md): channel connections with encrypted secrets,
-- contacts, conversations with at most one active (OPEN or SNOOZED) per (connection, contact)
-- by a partial unique index, messages partitioned by month with their dedupe keys in a
-- table of their own, and each conversation's history.
--
-- Re-runnable on purpose (IF NOT EXISTS / OR REPLACE throughout): a database that already
-- holds conversations without the partial unique index (restored from before it, or with the
-- index dropped by hand) passes. Its duplicates are reported (a WARNING and a history row
-- each) and merged before the index is built: the newest active one stays, the others are
-- CLOSED with reason merged_duplicate.

CREATE TABLE IF NOT EXISTS channel_connections (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind               text NOT NULL CHECK (kind IN ('MESSENGER', 'INSTAGRAM', 'TELEGRAM', 'WIDGET')),
    -- page id, Instagram professional account id, bot id, or the widget token
    external_id        text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 200),
    display_name       text NOT NULL CHECK (length(btrim(display_name)) BETWEEN 1 AND 200),
    -- NULL: the platform's own channel (support); else the seller (pharmacy) it belongs to
    seller_id          uuid REFERENCES sellers (id),
    active             boolean NOT NULL DEFAULT true,
    -- AES-GCM: 12-byte nonce || ciphertext+tag of a JSON object of secrets; the key's id beside it
    -- so a rotated key can still read older rows (shared.inbox.secrets).
    secrets            bytea NOT NULL,
    secrets_key_id     text NOT NULL CHECK (length(secrets_key_id) BETWEEN 1 AND 100),
    secrets_updated_at timestamptz NOT NULL DEFAULT now(),
    version            int NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT channel_connections_one_per_external_id UNIQUE (kind, external_id)
);
CREATE INDEX IF NOT EXISTS channel_connections_by_seller ON channel_connections (seller_id, created_at, id);

CREATE TABLE IF NOT EXISTS contacts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    connection_id uuid NOT NULL REFERENCES channel_connections (id),
    -- PSID, IGSID, Telegram user id (64-bit: kept as its decimal text, never a float), visitor id
    external_id   text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 200),
    name          text CHECK (length(name) <= 200),
    username      text CHECK (length(username) <= 200),
    avatar_url    text CHECK (length(avatar_url) <= 2000),
    verified      boolean NOT NULL DEFAULT false,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contacts_one_per_external_id UNIQUE (connection_id, external_id)
);

CREATE TABLE IF NOT EXISTS conversations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    connection_id   uuid NOT NULL REFERENCES channel_connections (id),
    contact_id      uuid NOT NULL REFERENCES contacts (id),
    status          text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'SNOOZED', 'CLOSED')),
    snoozed_until   timestamptz,
    assignee_id     text CHECK (length(assignee_id) BETWEEN 1 AND 255),
    last_message_at timestamptz NOT NULL DEFAULT now(),
    -- the contact's last message here: Meta's 24 h / 7 day reply windows start from it
    last_inbound_at timestamptz,
    -- inbound messages since an agent last replied (the list's unread-by-agent count)
    unread_count    int NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
    opened_at       timestamptz NOT NULL DEFAULT now(),
    closed_at       timestamptz,
    closed_by       text CHECK (length(closed_by) <= 255),
    close_reason    text CHECK (length(close_reason) <= 500),
    version         int NOT NULL DEFAULT 1,
    CONSTRAINT conversations_snoozed_has_until CHECK (status <> 'SNOOZED' OR snoozed_until IS NOT NULL),
    CONSTRAINT conversations_closed_has_time CHECK (status <> 'CLOSED' OR closed_at IS NOT NULL)
);
-- Agents' lists: newest activity first (keyset), overall and per connection.
CREATE INDEX IF NOT EXISTS conversations_by_activity ON conversations (last_message_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS conversations_by_connection
    ON conversations (connection_id, last_message_at DESC, id DESC);
-- The wake timer's scan.
CREATE INDEX IF NOT EXISTS conversations_snoozed_due ON conversations (snoozed_until) WHERE status = 'SNOOZED';
-- A contact's conversations (history, delivery/read watermarks).
CREATE INDEX IF NOT EXISTS conversations_of_contact ON conversations (contact_id, opened_at DESC);

-- Who did what to a conversation, when. Rows are only added.
CREATE TABLE IF NOT EXISTS conversation_history (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id uuid NOT NULL REFERENCES conversations (id),
    action          text NOT NULL CHECK (action IN ('opened', 'closed', 'snoozed', 'woke', 'reopened', 'assigned',
                                                    'auto_closed', 'merged_duplicate')),
    actor_id        text NOT NULL CHECK (length(actor_id) BETWEEN 1 AND 255),
    from_status     text,
    to_status       text,
    detail          jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS conversation_history_by_conversation ON conversation_history (conversation_id, id);

-- Messages, range-partitioned by month on created_at. The primary key must hold the partition
-- key, and so would any unique index: unique (connection, external id) lives in
-- inbox_message_keys below instead. No foreign key may point at this table.
CREATE TABLE IF NOT EXISTS inbox_messages (
    id              bigint GENERATED BY DEFAULT AS IDENTITY,
    conversation_id uuid NOT NULL REFERENCES conversations (id),
    connection_id   uuid NOT NULL REFERENCES channel_connections (id),
    direction       text NOT NULL CHECK (direction IN ('IN', 'OUT')),
    -- the platform's id: mid, "chat.id:message_id", the widget's; NULL for a reply not sent yet
    external_id     text CHECK (length(external_id) BETWEEN 1 AND 200),
    kind            text NOT NULL DEFAULT 'message' CHECK (kind IN ('message', 'postback')),
    text            text NOT NULL DEFAULT '' CHECK (length(text) <= 20000),
    attachments     jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(attachments) = 'array'),
    reply_to        text CHECK (length(reply_to) <= 200),
    agent_id        text CHECK (length(agent_id) <= 255),
    delivery_status text CHECK (delivery_status IN ('QUEUED', 'SENT', 'DELIVERED', 'READ', 'FAILED')),
    error           text CHECK (length(error) <= 2000),
    -- the platform's time of the message (IN), or when the platform accepted it (OUT)
    sent_at         timestamptz,
    -- a sender holds it while it calls the platform, so a redelivered job does not send twice
    send_claimed_until timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, created_at),
    CONSTRAINT inbox_messages_out_has_status CHECK ((direction = 'OUT') = (delivery_status IS NOT NULL))
) PARTITION BY RANGE (created_at);
-- Keyset pages of a conversation both ways: an index range per partition.
CREATE INDEX IF NOT EXISTS inbox_messages_by_conversation ON inbox_messages (conversation_id, id);

-- Unique (connection, external id) for a partitioned table: one row per platform id. The
-- message is inserted in the same statement, only when its key was new; Telegram's update
-- ids ("update:<n>") are keys here too (one bot, one connection).
CREATE TABLE IF NOT EXISTS inbox_message_keys (
    connection_id      uuid NOT NULL REFERENCES channel_connections (id),
    external_id        text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 200),
    message_id         bigint,
    message_created_at timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, external_id)
);

-- A retried agent reply (same client id in the same conversation) is stored once.
CREATE TABLE IF NOT EXISTS inbox_reply_keys (
    conversation_id    uuid NOT NULL REFERENCES conversations (id),
    client_id          text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 100),
    message_id         bigint NOT NULL,
    message_created_at timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, client_id)
);

-- This month's partition and the next 3; the maintain_partitions timer keeps 3 months ahead
-- (shared/data/partitions.py registers inbox_messages; names inbox_messages_pYYYYMM).
DO $$
DECLARE
    first date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
    month date;
BEGIN
    FOR i IN 0..3 LOOP
        month := first + make_interval(months => i);
        EXECUTE format(
            'CREATE TABLE IF NOT EXISTS %I PARTITION OF inbox_messages FOR VALUES FROM (%L) TO (%L)',
            'inbox_messages_p' || to_char(month, 'YYYYMM'),
            (month::timestamp AT TIME ZONE 'UTC'),
            ((month + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
    END LOOP;
END
$$;

-- Before the index: report and merge duplicate active conversations. Per (connection, contact)
-- the newest active one (latest last_message_at, then opened_at) stays; the others close.
DO $$
DECLARE
    merged int;
BEGIN
    WITH ranked AS (
        SELECT id, status, first_value(id) OVER w AS kept, row_number() OVER w AS rank
        FROM conversations
        WHERE status IN ('OPEN', 'SNOOZED')
        WINDOW w AS (PARTITION BY connection_id, contact_id ORDER BY last_message_at DESC, opened_at DESC, id DESC)
    ), closed AS (
        UPDATE conversations c
        SET status = 'CLOSED', closed_at = now(), closed_by = 'migration:0013', close_reason = 'merged_duplicate',
            snoozed_until = NULL, version = c.version + 1
        FROM ranked
        WHERE c.id = ranked.id AND ranked.rank > 1
        RETURNING c.id, ranked.status AS from_status, ranked.kept
    ), reported AS (
        INSERT INTO conversation_history (conversation_id, action, actor_id, from_status, to_status, detail)
        SELECT id, 'merged_duplicate', 'migration:0013', from_status, 'CLOSED', jsonb_build_object('kept', kept)
        FROM closed
        RETURNING 1
    )
    SELECT count(*) INTO merged FROM reported;
    IF merged > 0 THEN
        RAISE WARNING 'inbox: closed % duplicate active conversation(s) as merged_duplicate (see conversation_history)',
            merged;
    END IF;
END
$$;

-- At most one active conversation per (connection, contact); CLOSED ones may repeat.
-- Find-or-create names this predicate in ON CONFLICT (shared.inbox.repo_conversations).
CREATE UNIQUE INDEX IF NOT EXISTS conversations_one_active
    ON conversations (connection_id, contact_id) WHERE status IN ('OPEN', 'SNOOZED');
