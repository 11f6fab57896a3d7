#!/usr/bin/env bash
# Catalogue benchmark (issue 8): N products x 3 SKUs in each store, then
# `mallkit serve` (release build) timed over HTTP: the first page of
# GET /api/v1/products (default sort and sort=price_asc), a parent category,
# keywords of 1, 2 and 4 Chinese characters, page 500, one product detail.
# Prints a markdown table of medians (ms) and the server's RSS afterwards.
#
#   bench/catalog/run.sh
#   N="10000 100000" STORES=memory bench/catalog/run.sh
#
# Variables: N (default "10000 100000 1000000"), STORES ("memory postgres"),
# REPS (timed requests per query, 20), WARMUP (untimed first, 3), PORT (18098),
# PG_URL (server, postgres://postgres@127.0.0.1:5432; the scratch database
# mallkit_bench_catalog on it is dropped and recreated for each N).
#
# memory: `mallkit serve --bench-catalog N` writes the catalogue through the
# store (cli/src/bench_catalog.rs). postgres: `mallkit migrate`, then COPY of
# rows from gen.py (the same catalogue) into the real schema, VACUUM ANALYZE,
# then `mallkit serve --database-url`. Needs python3 and psql.
# "load s": memory, the store writes alone; postgres, drop + create + migrate +
# generate + COPY + VACUUM ANALYZE. Each query's `total` goes to stderr once.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-"10000 100000 1000000"}
STORES=${STORES:-"memory postgres"}
PORT=${PORT:-18098}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
DB=mallkit_bench_catalog
HERE=bench/catalog
BIN=./target/release/mallkit
LOG=/tmp/mallkit-bench-catalog.log
RESULTS=$(mktemp /tmp/mallkit-bench-catalog.XXXXXX)
export PGOPTIONS=${PGOPTIONS:---client-min-messages=warning}
export REPS=${REPS:-20} WARMUP=${WARMUP:-3}

cargo build --release -q -p mallkit-cli

SERVER=
stop() {
  if [ -n "$SERVER" ]; then
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    SERVER=
  fi
}
trap 'stop; rm -f "$RESULTS"' EXIT

wait_ready() {
  until curl -sf "127.0.0.1:$PORT/health" > /dev/null; do
    if ! kill -0 "$SERVER" 2>/dev/null; then
      echo "server exited:" >&2; tail -20 "$LOG" >&2; exit 1
    fi
    sleep 0.2
  done
}

pg_load() { # N -> the catalogue in $DB; prints nothing
  local n=$1 url=$PG_URL/$DB
  psql "$PG_URL/postgres" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  $BIN migrate --database-url "$url" > /dev/null
  local have
  have=$(psql "$url" -qXtA -c "SELECT count(*) FROM information_schema.columns WHERE table_name = 'products'
    AND column_name IN ('min_price', 'max_price', 'sales', 'search_text', 'search_tokens')")
  if [ "$have" != 5 ]; then
    echo "  note: products lacks migration 0011's columns; adding them by hand (figures are 'before')" >&2
    psql "$url" -qX -v ON_ERROR_STOP=1 -c "ALTER TABLE products
      ADD COLUMN IF NOT EXISTS min_price NUMERIC(14, 2), ADD COLUMN IF NOT EXISTS max_price NUMERIC(14, 2),
      ADD COLUMN IF NOT EXISTS sales BIGINT, ADD COLUMN IF NOT EXISTS search_text TEXT,
      ADD COLUMN IF NOT EXISTS search_tokens TEXT[]"
  fi
  copy() { # table (columns) rows-of-gen.py...
    local target=$1; shift
    python3 $HERE/gen.py "$@" | psql "$url" -qX -v ON_ERROR_STOP=1 -c "\\copy $target FROM pstdin"
  }
  copy "categories (id, parent_id, name, sort)" categories
  copy "merchants (id, name)" merchants
  copy "products (id, merchant_id, category_id, name, status, min_price, max_price, sales, search_text, search_tokens)" \
    products "$n"
  copy "skus (id, product_id, attributes, price, original_price, weight_grams, available, reserved, sold)" skus "$n"
  psql "$url" -qX -v ON_ERROR_STOP=1 -c "VACUUM ANALYZE"
}

for store in $STORES; do
  for n in $N; do
    echo "== $store N=$n" >&2
    case $store in
      memory)
        $BIN serve --bind 127.0.0.1:$PORT --seed none --bench-catalog "$n" > "$LOG" 2>&1 &
        SERVER=$!
        wait_ready
        load=$(sed -n 's/^bench catalogue: .* loaded in \([0-9.]*\) s$/\1/p' "$LOG")
        ;;
      postgres)
        start=$(date +%s.%N)
        pg_load "$n"
        load=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
        $BIN serve --bind 127.0.0.1:$PORT --seed none --database-url "$PG_URL/$DB" > "$LOG" 2>&1 &
        SERVER=$!
        wait_ready
        ;;
      *) echo "unknown store $store (memory, postgres)" >&2; exit 2 ;;
    esac
    python3 $HERE/client.py "$PORT" "$store" "$n" "$SERVER" "$load" >> "$RESULTS"
    stop
  done
done

python3 - "$RESULTS" "$REPS" "$WARMUP" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
labels = list(rows[0]["timings"]) if rows else []
print(f"\nMedian ms of {sys.argv[2]} requests after {sys.argv[3]} warm-ups (keep-alive, loopback); RSS after the runs.\n")
print("| store | N | load s | " + " | ".join(labels) + " | RSS MB |")
print("|---|---:|---:|" + "---:|" * len(labels) + "---:|")
for r in rows:
    cells = " | ".join(f"{r['timings'][l]:.1f}" for l in labels)
    print(f"| {r['store']} | {r['n']} | {r['load_s']} | {cells} | {r['rss_mb']:.0f} |")
by_n = {}
for r in rows:
    by_n.setdefault(r["n"], []).append(r)
for n, group in by_n.items():
    if len({json.dumps(r["totals"], sort_keys=True) for r in group}) > 1:
        print(f"\nWARNING: the stores' totals differ at N={n}: " + "; ".join(f"{r['store']} {r['totals']}" for r in group))
PY
