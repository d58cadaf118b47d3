#!/usr/bin/env bash
# Starts the machine's PostgreSQL 15 (installed, stopped) and creates the role the tests use:
# casper_repro / casper_repro on 127.0.0.1:5432, allowed to create databases (each test makes its
# own). Idempotent. The tests read CASPER_REPRO_TEST_POSTGRES to use another server instead.
set -euo pipefail
if ! pg_lsclusters -h 2>/dev/null | grep -q '^15 *main .* online'; then
  pg_ctlcluster 15 main start
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 1
done
pg_isready -h 127.0.0.1 -p 5432
runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -d postgres <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'casper_repro') THEN
    CREATE ROLE casper_repro LOGIN CREATEDB PASSWORD 'casper_repro';
  END IF;
END
$$;
SQL
echo "PostgreSQL ready: postgres://casper_repro:casper_repro@127.0.0.1:5432/postgres"
