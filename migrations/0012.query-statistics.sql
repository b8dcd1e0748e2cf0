-- depends: 0008.prescriptions
-- Query statistics for GET /api/ops/reports/slow-queries (docs/operations.md, "Database
-- reports"). pg_stat_statements only counts once the server preloads it
-- (shared_preload_libraries: infra/modules/postgres.bicep, scripts/pg_cluster.py); the
-- extension's view is created here where the server has it and the role may create it.
-- Elsewhere the migration still succeeds and the report answers 409 with what is missing.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements') THEN
        CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pg_stat_statements not created: % (an administrator can run CREATE EXTENSION)', SQLERRM;
END
$$;
