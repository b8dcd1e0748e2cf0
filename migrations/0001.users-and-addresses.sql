-- Users (profile keyed by the token subject) and their delivery addresses.

CREATE TABLE users (
    -- The identity provider's subject claim: not always a GUID (Entra pairwise ids), so text.
    id                 text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),
    email              text CHECK (email IS NULL OR length(email) <= 320),
    full_name          text CHECK (full_name IS NULL OR length(full_name) <= 200),
    mobile             text CHECK (mobile IS NULL OR mobile ~ '^\+[1-9][0-9]{6,14}$'),
    preferred_language text NOT NULL DEFAULT 'en' CHECK (preferred_language IN ('en', 'ar')),
    welcomed_at        timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE addresses (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label       text CHECK (label IS NULL OR length(label) <= 50),
    first_name  text NOT NULL CHECK (length(first_name) BETWEEN 1 AND 100),
    last_name   text NOT NULL CHECK (length(last_name) BETWEEN 1 AND 100),
    mobile      text NOT NULL CHECK (mobile ~ '^\+[1-9][0-9]{6,14}$'),
    street      text NOT NULL CHECK (length(street) BETWEEN 1 AND 200),
    building    text CHECK (building IS NULL OR length(building) <= 50),
    floor       text CHECK (floor IS NULL OR length(floor) <= 20),
    apartment   text CHECK (apartment IS NULL OR length(apartment) <= 20),
    district    text CHECK (district IS NULL OR length(district) <= 100),
    city        text NOT NULL CHECK (length(city) BETWEEN 1 AND 100),
    region      text CHECK (region IS NULL OR length(region) <= 100),
    postal_code text CHECK (postal_code IS NULL OR postal_code ~ '^[A-Za-z0-9 -]{3,10}$'),
    country     char(2) NOT NULL DEFAULT 'SA' CHECK (country ~ '^[A-Z]{2}$'),
    is_default  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Exactly one default address per user: the database, not the application, enforces it.
CREATE UNIQUE INDEX addresses_one_default_per_user ON addresses (user_id) WHERE is_default;
-- Serves the keyset-paginated list: WHERE user_id = $1 AND (created_at, id) > ($2, $3) ORDER BY created_at, id.
CREATE INDEX addresses_by_user_created ON addresses (user_id, created_at, id);

-- Transactional outbox: events are written in the same transaction as the change.
CREATE TABLE outbox_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id       uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    event_type     text NOT NULL CHECK (event_type ~ '^[a-z_]+\.[a-z_]+$'),
    aggregate_type text NOT NULL,
    aggregate_id   text NOT NULL,
    payload        jsonb NOT NULL DEFAULT '{}'::jsonb,
    occurred_at    timestamptz NOT NULL DEFAULT now(),
    claimed_until  timestamptz,
    attempts       int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    published_at   timestamptz
);
-- The relay only ever scans unpublished events, oldest first.
CREATE INDEX outbox_events_unpublished ON outbox_events (id) WHERE published_at IS NULL;

-- Idempotent consumers: one row per (event, consumer), written with the consumer's effect.
CREATE TABLE processed_events (
    event_id     uuid NOT NULL,
    consumer     text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, consumer)
);

-- Queue messages that can never succeed (bad payload): kept for inspection, then dropped.
CREATE TABLE rejected_messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue_name  text NOT NULL,
    message_id  text,
    body        text NOT NULL,
    reason      text NOT NULL,
    rejected_at timestamptz NOT NULL DEFAULT now()
);
