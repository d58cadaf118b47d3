# Thin recipes over the real commands; CI (.ci/run) calls the same commands without just.

# A complete verification of a bundled example, offline: rebuild the fixture crate, replay, compare
# with what the real 1.5.8 engine stored (node answers in testdata/rpc).
demo:
    cargo run --release -q -p repro-cli -- verify testdata/contracts -p multi_ep --target wasm32v1-none --bundle testdata/rpc/node-1.5.8-deploy-multi_ep

# Verify a contract on chain: just verify ./contract <deploy-hash> [--target ...] (node from
# CASPER_NODE_RPC, or pass --node URL).
verify CRATE HASH *ARGS:
    cargo run --release -q -p repro-cli -- verify {{CRATE}} {{HASH}} {{ARGS}}

# Save a node's answers for a transaction as an offline bundle: just fetch <hash> <dir>
fetch HASH DIR *ARGS:
    cargo run --release -q -p repro-cli -- fetch {{HASH}} -o {{DIR}} {{ARGS}}

# Regenerate the node JSON-RPC bundles under testdata/rpc from the real engines (--check: compare).
rpc-fixtures *ARGS:
    oracles/rpc-fixtures.sh {{ARGS}}

# The whole test suite (the README's test command).
test:
    cargo test --workspace --locked

# Everything CI runs.
ci:
    bash .ci/run

# Replay an install: just replay --protocol 1.5.8 -e a,b session.wasm -o stored.wasm
replay *ARGS:
    cargo run --release -q -p repro-cli --bin casper-repro -- replay {{ARGS}}

protocols:
    cargo run --release -q -p repro-cli -- protocols

# Regenerate the real engines' answers under testdata/oracle (all engines, or the ones named).
oracles *ENGINES:
    oracles/run.sh {{ENGINES}}

# Regenerate into a temporary directory and fail on any difference.
oracles-check *ENGINES:
    oracles/run.sh --check {{ENGINES}}

# Rebuild the fixture contracts into testdata/wasm.
fixtures:
    testdata/contracts/build.sh

# repro-core next to the engine's own preprocess + optimize (node 1.5.8).
bench ITERATIONS="30":
    benches/side-by-side.sh {{ITERATIONS}}

# What --trusted-block costs: offline, and from a loopback node with a cold and a warm era cache.
bench-finality ROUNDS="15":
    benches/finality.sh {{ROUNDS}}

# Lookups of `casper-repro serve` under load with 10k verified contracts, SQLite and PostgreSQL:
# just bench-service [--contracts N] [--requests M] [--connections C] [--backend sqlite|postgres|both]
bench-service *ARGS:
    benches/service-load.sh {{ARGS}}
