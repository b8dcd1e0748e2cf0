-- depends: 0014.widget
-- The moderation audit references threads, which reference products: a catalog reseed
-- (`python -m scripts.seed_catalog --replace`) must name it in its TRUNCATE once every table
-- that points into the catalog is empty. Truncating an empty audit erases nothing, so only a
-- TRUNCATE with rows is refused. TRUNCATE holds its ACCESS EXCLUSIVE lock before this trigger
-- runs, so no row can arrive between the check and the truncate.
CREATE OR REPLACE FUNCTION thread_moderation_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND NOT EXISTS (SELECT 1 FROM thread_moderation_audit) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'thread_moderation_audit is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
