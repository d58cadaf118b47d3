# Thin recipes over the real commands; CI (.ci/run) calls the same commands without just.

# Replay a bundled fixture as mainnet 1.5.8 did and compare with the real engine's stored bytes.
demo:
    cargo run --release -q -p repro-cli -- replay --protocol 1.5.8 -e dispatch,get,inc testdata/wasm/multi_ep.wasm -o target/demo-stored.wasm
    cargo run --release -q -p repro-cli -- diff target/demo-stored.wasm testdata/oracle/blobs/2e51fa48e58729a878e895aa1f7f1308cc47726761e8bd84fcae1f4abaa4788f.wasm

# The whole test suite (the README's test command).
test:
    cargo test --workspace --locked

# Everything CI runs.
ci:
    bash .ci/run

# Replay an install: just replay --protocol 1.5.8 -e a,b session.wasm -o stored.wasm
replay *ARGS:
    cargo run --release -q -p repro-cli -- replay {{ARGS}}

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
