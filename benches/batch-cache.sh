#!/usr/bin/env bash
# A batch through the service with the shared compile cache against the same batch without it, as
# an operator runs it: `casper-repro serve` (SQLite), two `casper-repro worker` processes (every
# build sandboxed), and `casper-repro batch FILE` following the batch to the end.
#
# The node is a loopback JSON-RPC server answering with three installs a real 1.5.8 node recorded
# (testdata/rpc/node-1.5.8-deploy-{multi_ep,two_contracts,upgrade}); the sources are the fixture
# workspace cut down to those three contracts (one lock), one tree per job, differing in a comment
# (so no build result is reused: every job compiles).
#
# Three runs, each on its own database and an emptied build cache (at one path: the compile
# cache's key includes the target directory's path, so a worker must keep its --cache-dir path):
#   without   workers without a compile cache: each sandboxed build compiles its dependencies;
#   cold      workers sharing an empty compile cache they may write (the first builds fill it);
#   warm      workers reading the compile cache the cold run filled.
# Prints wall time per job, the compile cache's hits (from the jobs' logs), and checks that every
# job's rebuilt module has the same sha256 in all three runs.
#
#   benches/batch-cache.sh [JOBS_PER_CONTRACT]     (default 3: 9 jobs per run)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
per=${1:-3}
cargo build -q -p repro-cli --locked
bin=${CASPER_REPRO:-$root/target/debug/casper-repro}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# The node: answers a JSON-RPC call with the recorded answer of the same method and parameters.
port_file=$work/node.port
python3 - "$port_file" testdata/rpc/node-1.5.8-deploy-{multi_ep,two_contracts,upgrade}/responses.json <<'PY' &
import json, sys, http.server
calls = []
for f in sys.argv[2:]:
    calls += json.load(open(f))["calls"]
def strip(p):
    if isinstance(p, dict):
        p = {k: v for k, v in p.items() if k != "finalized_approvals"}
    return p
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["content-length"])))
        hit = next((c for c in calls if c["method"] == req["method"]
                    and strip(c["params"]) == strip(req.get("params"))), None)
        doc = {"jsonrpc": "2.0", "id": req["id"]}
        if hit is None:
            doc["error"] = {"code": -32000, "message": "No such transaction or state"}
        else:
            doc["result"] = hit["result"]
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
pids+=($!)
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
node="http://127.0.0.1:$(cat "$port_file")/rpc"

# The sources: the slim workspace, one tree per job.
slim=$work/slim
mkdir -p "$slim"
for m in fixture-support multi_ep two_contracts upgrade_v2; do cp -r "testdata/contracts/$m" "$slim/"; done
cp testdata/contracts/{Cargo.lock,rust-toolchain.toml} "$slim/"
python3 - "$slim/Cargo.toml" <<'PY'
import sys
s = open("testdata/contracts/Cargo.toml").read()
a = s.index("members = ["); b = a + s[a:].index("]") + 1
open(sys.argv[1], "w").write(s[:a] + 'members = ["fixture-support", "multi_ep", "two_contracts", "upgrade_v2"]' + s[b:])
PY
(cd "$slim" && (cargo +1.95.0 update -q --workspace --offline 2>/dev/null || cargo +1.95.0 update -q --workspace))
batch=$work/batch.toml
echo 'name = "bench"' > "$batch"
for case in multi_ep:multi_ep two_contracts:two_contracts upgrade:upgrade_v2; do
  c=${case%%:*}; contract=${case##*:}
  hash=$(python3 -c "import json;print(json.load(open('testdata/rpc/node-1.5.8-deploy-$c/responses.json'))['transaction_hash']['Deploy'])")
  for v in $(seq "$per"); do
    d=$work/src-$c-$v
    cp -r "$slim" "$d"
    echo "// bench tree $c-$v" >> "$d/$contract/src/lib.rs"
    printf '[[job]]\ntransaction = "deploy-%s"\nsource = "%s"\n' "$hash" "$d" >> "$batch"
  done
done
jobs=$((per * 3))

run() { # name, worker flags...
  local name=$1; shift
  local dir=$work/run-$name
  mkdir -p "$dir"
  rm -rf "$work/cache"
  "$bin" serve --listen 127.0.0.1:0 --node "$node" --data "$dir/data" --cache-dir "$work/cache" \
    --workers 0 > "$dir/serve.out" 2> "$dir/serve.err" &
  local serve_pid=$!
  pids+=("$serve_pid")
  for _ in $(seq 100); do grep -q listening "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
  local base
  base=$(sed -n 's/^casper-repro serve: listening on //p' "$dir/serve.out")
  local wpids=()
  for w in 1 2; do
    "$bin" worker --database "sqlite://$dir/data/service.db?mode=rwc" --node "$node" --data "$dir/w$w" \
      --cache-dir "$work/cache" "$@" > /dev/null 2> "$dir/w$w.err" &
    wpids+=($!); pids+=($!)
  done
  local t0 t1
  t0=$(date +%s.%N)
  "$bin" -q batch "$batch" --server "$base" --poll 0.5 --format json > "$dir/batch.json" || true
  t1=$(date +%s.%N)
  kill "${wpids[@]}" "$serve_pid" 2>/dev/null || true
  wait "${wpids[@]}" "$serve_pid" 2>/dev/null || true
  python3 - "$name" "$(echo "$t1 - $t0" | bc)" "$dir" "$base" "$work/results" <<'PY'
import json, sys, sqlite3
name, secs, d, base, out = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
doc = json.load(open(f"{d}/batch.json"))
db = sqlite3.connect(f"{d}/data/service.db")
shas, hits = [], 0
for j in doc["jobs"]:
    row = db.execute("SELECT binary_sha256, logs_sha256, state FROM jobs WHERE id = ?", (j["id"],)).fetchone()
    assert row[2] == "Verified", (name, j)
    logs = db.execute("SELECT data FROM blobs WHERE sha256 = ?", (row[1],)).fetchone()[0].decode()
    hits += "compile cache: restored" in logs
    shas.append(row[0])
with open(out, "a") as f:
    f.write(json.dumps({"run": name, "secs": secs, "jobs": len(shas), "hits": hits, "shas": shas}) + "\n")
PY
}

run without
run cold --compile-cache "$work/compile-cache" --compile-cache-write
run warm --compile-cache "$work/compile-cache"

python3 - "$work/results" "$jobs" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
base = rs[0]
print(f"batch of {sys.argv[2]} jobs (3 recorded installs), 2 workers, sandboxed builds")
for r in rs:
    print(f"  {r['run']:8} {r['secs']:7.1f} s  {r['secs'] / r['jobs']:6.1f} s/job  "
          f"compile cache hits {r['hits']}/{r['jobs']}  ({base['secs'] / r['secs']:.2f}x the run without)")
same = all(r["shas"] == base["shas"] for r in rs)
print("rebuilt modules byte-identical across the runs:", same)
sys.exit(0 if same else 1)
PY
