#!/usr/bin/env bash
# Order creation: PostgreSQL alone (pgbench running bench/pgbench/order.sql,
# the statements one order writes) against `mallkit serve` over HTTP (wrk
# posting the same order with bench/pgbench/order.lua), on one scratch
# database, same concurrency, same duration. Prints both rates and the ratio,
# CPU per order on each side, and (when the PostgreSQL log is readable) the
# statements one HTTP order sends. See docs/pg-benchmark.md.
#
#   bench/pgbench/run.sh
#
# Settings (environment): DATABASE_URL (a database on the server to use,
# default postgres://postgres@127.0.0.1:5432/postgres; the role must be able to
# CREATE DATABASE), CLIENTS (8), THREADS (2), DURATION (seconds, 20),
# USERS (buyers, 64), PORT (18080), MALLKIT_BIN (default: the release build,
# built by `cargo build --release -p mallkit-cli`).
# Needs: psql, pgbench, wrk, curl, python3.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/pgbench"
ADMIN_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
CLIENTS=${CLIENTS:-8}
THREADS=${THREADS:-2}
DURATION=${DURATION:-20}
USERS=${USERS:-64}
PORT=${PORT:-18080}
DB=mallkit_bench_$$
URL="${ADMIN_URL%/*}/$DB"
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)
SERVER_PID=

for tool in psql pgbench wrk curl python3; do
    command -v "$tool" >/dev/null || { echo "run.sh needs $tool" >&2; exit 1; }
done

if [ -z "${MALLKIT_BIN:-}" ]; then
    (cd "$ROOT" && cargo build --release -p mallkit-cli)
    MALLKIT_BIN="$ROOT/target/release/mallkit"
fi

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}

cleanup() {
    stop_server
    psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

start_server() {
    "$MALLKIT_BIN" serve --bind "127.0.0.1:$PORT" --database-url "$URL" --seed demo >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 300); do
        if curl -fs "$BASE/ready" >/dev/null 2>&1; then return 0; fi
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; echo "server exited" >&2; exit 1; }
        sleep 0.1
    done
    cat "$WORK/server.log" >&2
    echo "server not ready after 30 s" >&2
    exit 1
}

# CPU seconds (user + system) used so far by the processes given.
cpu_seconds() {
    local ticks=0 pid
    for pid in "$@"; do
        if [ -r "/proc/$pid/stat" ]; then
            ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
        fi
    done
    awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}'
}

# CPU seconds used so far by the whole PostgreSQL server: every live process,
# plus what the postmaster collected from children that have exited (pgbench's
# backends exit with it).
pg_cpu() {
    local dir postmaster ticks
    dir=$(psql "$ADMIN_URL" -Atc "SHOW data_directory")
    postmaster=$(head -1 "$dir/postmaster.pid" 2>/dev/null || true)
    if [ -z "$postmaster" ]; then echo 0; return; fi
    ticks=$(awk '{print $16 + $17}' "/proc/$postmaster/stat")
    for pid in "$postmaster" $(pgrep -P "$postmaster"); do
        cat "/proc/$pid/stat" 2>/dev/null || true
    done | awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" '{t += $14 + $15} END {printf "%.2f", t / hz}'
}

q() { psql "$URL" -Atqc "$1"; }

# Transactions committed and orders stored, for per-order figures.
snapshot() {
    q "SELECT (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database())
              || ' ' || (SELECT COUNT(*) FROM orders)"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== set-up: database $DB, migrations, demo catalog, $USERS buyers"
psql "$ADMIN_URL" -qc "CREATE DATABASE $DB"
"$MALLKIT_BIN" migrate --database-url "$URL"
start_server
# Stock that never runs out, and points for pgbench's users 1..USERS.
q "UPDATE skus SET available = 1000000000, reserved = 0, sold = 0"
q "INSERT INTO points_accounts (user_id, balance, frozen, total_earned, total_spent)
   SELECT g, 1000000000, 0, 0, 0 FROM generate_series(1, $USERS) g"
# The HTTP buyers: registered, logged in, an address each, 10,000,000 points.
BASE="$BASE" USERS="$USERS" python3 - >"$WORK/tokens.txt" <<'PY'
import json, os, urllib.request

base, users = os.environ["BASE"], int(os.environ["USERS"])

def post(path, body, token=None):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request) as response:
        return json.load(response)["data"]

admin = post("/api/v1/auth/login", {"login": "admin", "password": "admin12345"})["access_token"]
for n in range(users):
    name = "bench%03d" % n
    user = post("/api/v1/auth/register", {"username": name, "password": "bench12345"})
    token = post("/api/v1/auth/login", {"login": name, "password": "bench12345"})["access_token"]
    post("/api/v1/addresses", {"receiver": name, "phone": "13800000009", "province": "广东省", "city": "深圳市",
                               "district": "南山区", "detail": "科技园路1号"}, token)
    post("/api/v1/admin/points/adjust", {"user_id": user["id"], "points": 10_000_000, "remark": "bench"}, admin)
    print(token)
PY
# A warm-up order through HTTP, checked, so wrk measures successes.
TOKEN=$(head -1 "$WORK/tokens.txt")
curl -fs -X POST "$BASE/api/v1/orders" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
    -d '{"items":[{"sku_id":501,"quantity":1}],"points":100}' >/dev/null
q "VACUUM ANALYZE" >/dev/null

echo
echo "== pgbench: $CLIENTS clients, $THREADS threads, ${DURATION}s, order.sql (prepared statements)"
before=$(snapshot); pg_cpu0=$(pg_cpu)
pgbench -n -M prepared -D users="$USERS" -c "$CLIENTS" -j "$THREADS" -T "$DURATION" -f "$HERE/order.sql" "$URL" | tee "$WORK/pgbench.txt"
sleep 1.5 # statistics are flushed at most once a second
pg_cpu1=$(pg_cpu); after=$(snapshot)
PGBENCH_TPS=$(awk '/^tps = / {print $3; exit}' "$WORK/pgbench.txt")
read -r x0 o0 <<<"$before"; read -r x1 o1 <<<"$after"
PGB_ORDERS=$((o1 - o0)); PGB_XACTS=$((x1 - x0))
PGB_PG_CPU=$(awk -v a="$pg_cpu0" -v b="$pg_cpu1" 'BEGIN {printf "%.2f", b - a}')
FAILED=$(awk '/number of failed transactions/ {print $5; exit}' "$WORK/pgbench.txt")

echo
echo "== mallkit serve + wrk: $CLIENTS connections, $THREADS threads, ${DURATION}s, POST /api/v1/orders"
before=$(snapshot); pg_cpu0=$(pg_cpu); mk_cpu0=$(cpu_seconds "$SERVER_PID")
wrk -t"$THREADS" -c"$CLIENTS" -d"${DURATION}s" --latency -s "$HERE/order.lua" "$BASE" -- "$WORK/tokens.txt" \
    | tee "$WORK/wrk.txt"
sleep 1.5
pg_cpu1=$(pg_cpu); mk_cpu1=$(cpu_seconds "$SERVER_PID"); after=$(snapshot)
HTTP_RPS=$(awk '/^Requests\/sec:/ {print $2; exit}' "$WORK/wrk.txt")
NON_2XX=$(awk '/Non-2xx or 3xx responses:/ {print $5; exit}' "$WORK/wrk.txt")
read -r x0 o0 <<<"$before"; read -r x1 o1 <<<"$after"
HTTP_ORDERS=$((o1 - o0)); HTTP_XACTS=$((x1 - x0))
HTTP_PG_CPU=$(awk -v a="$pg_cpu0" -v b="$pg_cpu1" 'BEGIN {printf "%.2f", b - a}')
HTTP_MK_CPU=$(awk -v a="$mk_cpu0" -v b="$mk_cpu1" 'BEGIN {printf "%.2f", b - a}')
HTTP_TPS=$(awk -v n="$HTTP_ORDERS" -v d="$DURATION" 'BEGIN {printf "%.1f", n / d}')

# The statements of one HTTP order, from the PostgreSQL log (best effort).
STATEMENTS="n/a (PostgreSQL log not readable)"
LOG=$(ls -t /var/log/postgresql/*.log 2>/dev/null | head -1 || true)
if [ -n "$LOG" ] && [ -r "$LOG" ]; then
    stop_server
    psql "$ADMIN_URL" -qc "ALTER DATABASE $DB SET log_statement = 'all'"
    start_server
    offset=$(stat -c %s "$LOG")
    curl -fs -X POST "$BASE/api/v1/orders" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
        -d '{"items":[{"sku_id":501,"quantity":1}],"points":100}' >/dev/null
    sleep 0.5
    tail -c +"$((offset + 1))" "$LOG" | grep -E "@$DB .*LOG:  (statement|execute)" >"$WORK/statements.txt" || true
    psql "$ADMIN_URL" -qc "ALTER DATABASE $DB RESET log_statement"
    total=$(wc -l <"$WORK/statements.txt")
    writes=$(grep -cE "LOG:  (statement|execute [^:]*): *(BEGIN|COMMIT|UPDATE|INSERT|WITH|SELECT .* FOR UPDATE|SELECT EXISTS)" \
        "$WORK/statements.txt" || true)
    STATEMENTS="$total statements ($writes in the write transaction incl. BEGIN/COMMIT, $((total - writes)) reads)"
    echo
    echo "== statements of one HTTP order (log_statement = all)"
    sed -E 's/^.*LOG:  //' "$WORK/statements.txt" | cut -c1-140
fi

echo
echo "== summary (same database, same machine, $CLIENTS clients, ${DURATION}s; $(nproc) CPUs;" \
    "load average $LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at the end)"
printf 'pgbench order.sql         %10s tps   (%s orders, %s failed, PostgreSQL CPU %s s = %s ms/order)\n' \
    "$PGBENCH_TPS" "$PGB_ORDERS" "${FAILED:-0}" "$PGB_PG_CPU" \
    "$(awk -v c="$PGB_PG_CPU" -v n="$PGB_ORDERS" 'BEGIN {printf "%.3f", n ? 1000 * c / n : 0}')"
printf 'mallkit serve (HTTP, wrk) %10s orders/s (%s orders stored, wrk %s req/s, %s non-2xx)\n' \
    "$HTTP_TPS" "$HTTP_ORDERS" "$HTTP_RPS" "${NON_2XX:-0}"
printf '    CPU: mallkit %s s = %s ms/order, PostgreSQL %s s = %s ms/order; %s transactions/order\n' \
    "$HTTP_MK_CPU" "$(awk -v c="$HTTP_MK_CPU" -v n="$HTTP_ORDERS" 'BEGIN {printf "%.3f", n ? 1000 * c / n : 0}')" \
    "$HTTP_PG_CPU" "$(awk -v c="$HTTP_PG_CPU" -v n="$HTTP_ORDERS" 'BEGIN {printf "%.3f", n ? 1000 * c / n : 0}')" \
    "$(awk -v x="$HTTP_XACTS" -v n="$HTTP_ORDERS" 'BEGIN {printf "%.1f", n ? x / n : 0}')"
printf '    pgbench: %s transactions/order\n' \
    "$(awk -v x="$PGB_XACTS" -v n="$PGB_ORDERS" 'BEGIN {printf "%.1f", n ? x / n : 0}')"
printf 'one HTTP order sends      %s\n' "$STATEMENTS"
printf 'ratio mallkit / pgbench   %s\n' "$(awk -v a="$HTTP_TPS" -v b="$PGBENCH_TPS" 'BEGIN {printf "%.3f (pgbench is %.1fx faster)", a / b, b / a}')"
