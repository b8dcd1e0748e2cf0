-- depends: 0017.dedupe-key-retention
-- At 10M orders the marketplace dashboard read every child order and line (about 32 s, far
-- over the 5 s statement timeout), and the largest seller's over a year took 8 s. Closed days'
-- figures are now kept per UTC day, for the marketplace and per seller, by the
-- `refresh_order_figures` timer. The dashboards read them for days with no change noted since
-- their refresh and compute the other days (today, yesterday, changed ones) from the orders.

CREATE TABLE order_figure_days (
    day          date PRIMARY KEY,
    refreshed_at timestamptz NOT NULL DEFAULT now()
);

-- Per day and status pair: enough for the order count, revenue, average and by-status counts.
CREATE TABLE order_figure_statuses (
    day            date NOT NULL REFERENCES order_figure_days ON DELETE CASCADE,
    status         text NOT NULL,
    payment_status text NOT NULL,
    orders         bigint NOT NULL,
    total          numeric NOT NULL,
    PRIMARY KEY (day, status, payment_status)
);

-- Per day and product: the lines sold (neither the order nor its child order cancelled).
CREATE TABLE order_figure_products (
    day        date NOT NULL REFERENCES order_figure_days ON DELETE CASCADE,
    product_id uuid NOT NULL,
    units      bigint NOT NULL,
    revenue    numeric NOT NULL,
    PRIMARY KEY (day, product_id)
);

-- Per seller, day and (child status, the parent's payment status): the seller dashboards' counts.
-- A child order's day is its parent's: both are placed in one transaction, with one created_at.
CREATE TABLE order_figure_seller_statuses (
    day            date NOT NULL REFERENCES order_figure_days ON DELETE CASCADE,
    seller_id      uuid NOT NULL,
    status         text NOT NULL,
    payment_status text NOT NULL,
    orders         bigint NOT NULL,
    total          numeric NOT NULL,
    PRIMARY KEY (day, seller_id, status, payment_status)
);
CREATE INDEX order_figure_seller_statuses_by_seller ON order_figure_seller_statuses (seller_id, day);

-- Per seller, day and product: the seller's lines sold (its child order not cancelled).
CREATE TABLE order_figure_seller_products (
    day        date NOT NULL REFERENCES order_figure_days ON DELETE CASCADE,
    seller_id  uuid NOT NULL,
    product_id uuid NOT NULL,
    units      bigint NOT NULL,
    revenue    numeric NOT NULL,
    PRIMARY KEY (day, seller_id, product_id)
);
CREATE INDEX order_figure_seller_products_by_seller ON order_figure_seller_products (seller_id, day);

-- A change to an order of a past day, noted by the triggers below in the changing transaction.
-- The day is computed live until a refresh that sees the change deletes its notes. Notes are
-- appended, never updated: writers never wait for each other, and a refresh deletes only notes
-- whose changes had committed.
CREATE TABLE order_figure_changes (
    id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    day date NOT NULL
);
CREATE INDEX order_figure_changes_by_day ON order_figure_changes (day);

-- An order's day is the UTC day of its created_at; today's changes need no note, since a day is
-- refreshed only once it ended a whole day ago (no transaction lasts that long).
CREATE FUNCTION note_order_figure_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    at timestamptz[] := '{}';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN at := at || OLD.created_at; END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN at := at || NEW.created_at; END IF;
    INSERT INTO order_figure_changes (day)
    SELECT DISTINCT (t AT TIME ZONE 'UTC')::date FROM unnest(at) t WHERE t < date_trunc('day', now(), 'UTC');
    RETURN NULL;
END $$;

-- A child order counts on its parent's day.
CREATE FUNCTION note_child_figure_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parents uuid[] := '{}';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN parents := parents || OLD.order_id; END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN parents := parents || NEW.order_id; END IF;
    INSERT INTO order_figure_changes (day)
    SELECT DISTINCT (o.created_at AT TIME ZONE 'UTC')::date FROM orders o
    WHERE o.id = ANY (parents) AND o.created_at < date_trunc('day', now(), 'UTC');
    RETURN NULL;
END $$;

-- The WHEN clauses keep today's placements and transitions from calling the functions at all.
CREATE TRIGGER orders_figures_insert AFTER INSERT ON orders FOR EACH ROW
    WHEN (NEW.created_at < date_trunc('day', now(), 'UTC'))
    EXECUTE FUNCTION note_order_figure_change();
CREATE TRIGGER orders_figures_update AFTER UPDATE OF status, payment_status, total, created_at ON orders
    FOR EACH ROW WHEN (least(OLD.created_at, NEW.created_at) < date_trunc('day', now(), 'UTC'))
    EXECUTE FUNCTION note_order_figure_change();
CREATE TRIGGER orders_figures_delete AFTER DELETE ON orders FOR EACH ROW
    WHEN (OLD.created_at < date_trunc('day', now(), 'UTC'))
    EXECUTE FUNCTION note_order_figure_change();

-- Children are placed with their parent (today); their lines never change what is counted.
CREATE TRIGGER seller_orders_figures_insert AFTER INSERT ON seller_orders FOR EACH ROW
    WHEN (NEW.created_at < date_trunc('day', now(), 'UTC'))
    EXECUTE FUNCTION note_child_figure_change();
CREATE TRIGGER seller_orders_figures_update AFTER UPDATE OF status, total, seller_id, order_id ON seller_orders
    FOR EACH ROW WHEN ((OLD.status, OLD.total, OLD.seller_id, OLD.order_id)
                       IS DISTINCT FROM (NEW.status, NEW.total, NEW.seller_id, NEW.order_id))
    EXECUTE FUNCTION note_child_figure_change();
CREATE TRIGGER seller_orders_figures_delete AFTER DELETE ON seller_orders FOR EACH ROW
    EXECUTE FUNCTION note_child_figure_change();
