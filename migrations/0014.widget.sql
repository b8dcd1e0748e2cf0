-- depends: 0013.inbox
-- The chat widget's send limit (docs/inbox.md, "The web chat widget"): one row per visitor
-- (widget connection, contact external id) holding the current fixed window and how many
-- messages were sent in it. The limit is one conditional upsert (shared.inbox.repo_widget):
-- concurrent sends serialise on the row, so N racing sends admit exactly the limit.
CREATE TABLE widget_send_windows (
    connection_id uuid NOT NULL REFERENCES channel_connections (id),
    visitor       text NOT NULL CHECK (length(visitor) BETWEEN 1 AND 200),
    window_start  timestamptz NOT NULL,
    sent          int NOT NULL CHECK (sent >= 1),
    PRIMARY KEY (connection_id, visitor)
);
