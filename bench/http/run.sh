#!/usr/bin/env bash
# Load figures of the HTTP API on loopback, each as a ratio to GET /health on
# the same server in the same run (issue 3). Needs wrk (apt-get install wrk).
#   bench/http/run.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-15}
CONNECTIONS=${2:-32}
PORT=18099
cargo build --release -q -p mallkit-cli
./target/release/mallkit serve --bind 127.0.0.1:$PORT --seed demo > /tmp/mallkit-bench.log 2>&1 &
SERVER=$!
trap 'kill $SERVER' EXIT
for _ in $(seq 50); do curl -sf localhost:$PORT/health > /dev/null && break; sleep 0.1; done
BASE=http://127.0.0.1:$PORT
TOKEN=$(curl -s -XPOST $BASE/api/v1/auth/login -H 'content-type: application/json' \
  -d '{"login":"demo","password":"demo12345"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["access_token"])')
export TOKEN
# the buyer holds all four demo coupons (two stacking layers) and some points
for t in 1 2 3 4; do curl -s -XPOST $BASE/api/v1/coupons/templates/$t/claim -H "authorization: Bearer $TOKEN" > /dev/null; done
ADMIN=$(curl -s -XPOST $BASE/api/v1/auth/login -H 'content-type: application/json' \
  -d '{"login":"admin","password":"admin12345"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["access_token"])')
USER_ID=$(curl -s $BASE/api/v1/users/me -H "authorization: Bearer $TOKEN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
curl -s -XPOST $BASE/api/v1/admin/points/adjust -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d "{\"user_id\":$USER_ID,\"points\":50000,\"remark\":\"bench\"}" > /dev/null
run() { wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "$@"; }
echo "== GET /health";                     run $BASE/health | tee /tmp/wrk-health.txt
echo "== GET /api/v1/products";            run "$BASE/api/v1/products?page_size=20" | tee /tmp/wrk-products.txt
echo "== POST /api/v1/checkout/preview";   run -s bench/http/preview.lua $BASE/api/v1/checkout/preview | tee /tmp/wrk-preview.txt
python3 - <<'PY'
import re
def parse(name):
    text = open(f"/tmp/wrk-{name}.txt").read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return rps, float(p99.group(1)) * scale, int(non2xx.group(1)) if non2xx else 0
h = parse("health")
print(f"{'endpoint':34} {'req/s':>10} {'p99 ms':>8} {'req/s vs /health':>17} {'p99 vs /health':>15} non-2xx")
for name, label in [("health", "GET /health"), ("products", "GET /api/v1/products"), ("preview", "POST /api/v1/checkout/preview")]:
    rps, p99, bad = parse(name)
    print(f"{label:34} {rps:10.0f} {p99:8.2f} {rps / h[0]:17.2f} {p99 / h[1]:15.1f} {bad}")
PY
