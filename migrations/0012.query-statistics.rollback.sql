-- pg_stat_statements stays installed: an administrator may have created it before this
-- migration, other tools read it, and re-applying uses CREATE EXTENSION IF NOT EXISTS.
SELECT 1;
