CREATE OR REPLACE FUNCTION thread_moderation_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'thread_moderation_audit is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
