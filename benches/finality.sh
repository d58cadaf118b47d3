#!/usr/bin/env bash
# What `--trusted-block` costs, as a user runs the commands, on the real engine's finality chain
# (testdata/rpc/sidecar-2.0.3-finality: 13 blocks, eras of 1, 5, 3 and 4 blocks, the install in
# era 3):
#   offline  verify --bundle B --wasm W            vs  the same with --trusted-block T
#   node     fetch --node N                        vs  --trusted-block T (cold era cache)
#                                                  vs  --trusted-block T (warm era cache)
# The node is a JSON-RPC server on loopback (python3) answering from the bundle after LATENCY_MS
# (default 20: a node across a network), counting requests. Rounds alternate the commands, so a
# machine whose speed drifts slows them alike; prints medians, ratios and requests per command.
#
#   benches/finality.sh [ROUNDS]      (default 15; LATENCY_MS=0 for a node on the same machine)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rounds=${1:-15}
latency=${LATENCY_MS:-20}
cargo build --release --locked -q -p repro-cli
bin=$root/target/release/casper-repro
bundle=testdata/rpc/sidecar-2.0.3-finality
wasm=testdata/wasm/multi_ep_cc5.wasm
trusted=$(python3 -c "import json; print(json.load(open('$bundle/chain.json'))['trusted']['switch'])")
tx=$(python3 -c "import json; print(json.load(open('$bundle/chain.json'))['transaction'])")
work=$(mktemp -d)
port_file=$work/port
python3 - "$bundle/responses.json" "$latency" "$port_file" "$work/count" <<'PY' &
import json, sys, time, http.server
calls = json.load(open(sys.argv[1]))["calls"]
latency = int(sys.argv[2]) / 1000
def strip(p):
    return {k: v for k, v in p.items() if k != "finalized_approvals"} if isinstance(p, dict) else p
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["content-length"])))
        with open(sys.argv[4], "a") as f:
            f.write(req["method"] + "\n")
        time.sleep(latency)
        hit = next((c for c in calls if c["method"] == req["method"] and strip(c["params"]) == strip(req["params"])), None)
        doc = {"jsonrpc": "2.0", "id": req["id"]}
        if hit:
            doc["result"] = hit["result"]
        else:
            doc["error"] = {"code": -32001, "message": "not known"}
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[3], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
node=http://127.0.0.1:$(cat "$port_file")/rpc

offline=(verify --bundle "$bundle" --wasm "$wasm" -q)
offline_t=(verify --bundle "$bundle" --wasm "$wasm" --trusted-block "$trusted" -q)
"$bin" "${offline_t[@]}" >/dev/null || { echo "error: the chain is not verified" >&2; exit 2; }

now() { date +%s%N; }
declare -A t n
run() { # NAME ARGS...: one timed run, its requests counted
  local name=$1; shift
  : > "$work/count"
  local s; s=$(now)
  "$bin" "$@" >/dev/null
  t[$name]+="$(( ($(now) - s) / 1000 )) "
  n[$name]=$(wc -l < "$work/count")
}
for ((i = 0; i < rounds; i++)); do
  rm -rf "$work/eras" "$work"/b-*
  run offline "${offline[@]}"
  run offline+trust "${offline_t[@]}"
  run fetch fetch --node "$node" "$tx" -o "$work/b-plain" -q
  run fetch+trust-cold fetch --node "$node" "$tx" -o "$work/b-cold" --trusted-block "$trusted" --era-cache "$work/eras" -q
  run fetch+trust-warm fetch --node "$node" "$tx" -o "$work/b-warm" --trusted-block "$trusted" --era-cache "$work/eras" -q
done
python3 - "$rounds" "$latency" \
  "offline=${t[offline]}" "offline+trust=${t[offline+trust]}" "fetch=${t[fetch]}" \
  "fetch+trust-cold=${t[fetch+trust-cold]}" "fetch+trust-warm=${t[fetch+trust-warm]}" \
  "requests=offline:${n[offline]},offline+trust:${n[offline+trust]},fetch:${n[fetch]},fetch+trust-cold:${n[fetch+trust-cold]},fetch+trust-warm:${n[fetch+trust-warm]}" <<'PY'
import statistics, sys
rounds, latency = sys.argv[1], sys.argv[2]
times = {}
for arg in sys.argv[3:-1]:
    name, values = arg.split("=", 1)
    times[name] = statistics.median(int(v) for v in values.split()) / 1000
reqs = dict(kv.split(":") for kv in sys.argv[-1].split("=", 1)[1].split(","))
print(f"finality: {rounds} rounds, node latency {latency} ms, medians")
for name, ms in times.items():
    print(f"  {name:<18} {ms:8.1f} ms  {reqs[name]:>3} requests")
print(f"  offline: with --trusted-block / without = {times['offline+trust'] / times['offline']:.3f}")
print(f"  fetch:   cold trust / plain = {times['fetch+trust-cold'] / times['fetch']:.3f}, warm trust / plain = {times['fetch+trust-warm'] / times['fetch']:.3f}")
PY
