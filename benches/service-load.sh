#!/usr/bin/env bash
# Lookups of the verification service under load, as a user runs it: the release
# `casper-repro serve` process on loopback, on a database seeded with N verified contracts through
# the service's store, on SQLite and on PostgreSQL (crates/repro-cli/benches/service_load.rs).
#
#   benches/service-load.sh [--contracts N] [--requests M] [--connections C] [--warmup W]
#                           [--seeders S] [--backend sqlite|postgres|both]
#
# Defaults: 10000 contracts, 50000 requests after 2000 warm-up ones, 32 keep-alive connections,
# both backends. PostgreSQL is the tests' server (start it with `bash scripts/postgres.sh`, or point
# CASPER_REPRO_TEST_POSTGRES at another); a fresh database is made and dropped. Without a
# reachable PostgreSQL the run fails (use --backend sqlite to measure SQLite only).
# Prints, per backend: the seeding time, requests/s, latency p50/p90/p99/max overall and per kind.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
exec cargo bench -p repro-cli --bench service_load --locked -- "$@"
