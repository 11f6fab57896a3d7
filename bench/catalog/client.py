#!/usr/bin/env python3
"""Times the catalogue reads of bench/catalog/run.sh on one running server.

    client.py PORT STORE N PID LOAD_SECONDS

Over one keep-alive connection, each query runs WARMUP times untimed, then
REPS times timed (request sent to body read); the median in ms is kept.
Checks each answer is sane (2xx, keyword hits contain the keyword, the
category filter stays in the subtree, searches find something) and prints
each query's `total` once on stderr. Prints one JSON line on stdout:
{store, n, load_s, timings {query: ms}, totals {query: total}, rss_mb}.
"""
import http.client
import json
import os
import statistics
import sys
import time
from urllib.parse import quote

PORT, STORE, N, PID, LOAD = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
REPS = int(os.environ.get("REPS", "20"))
WARMUP = int(os.environ.get("WARMUP", "3"))
LIST = "/api/v1/products?page_size=20"
ROOT = 1  # a root category; its children are 4-7 (see gen.py)
QUERIES = [
    ("first page", LIST),
    ("price_asc", LIST + "&sort=price_asc"),
    ("category", LIST + f"&category_id={ROOT}"),
    ("kw 手", LIST + "&keyword=" + quote("手")),
    ("kw 耳机", LIST + "&keyword=" + quote("耳机")),
    ("kw 小米手机", LIST + "&keyword=" + quote("小米手机")),
    ("page 500", "/api/v1/products?page=500&page_size=20"),
]

conn = http.client.HTTPConnection("127.0.0.1", int(PORT), timeout=600)


def get(path):
    start = time.perf_counter()
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    elapsed = (time.perf_counter() - start) * 1000
    if resp.status != 200:
        sys.exit(f"GET {path}: {resp.status} {body[:300]!r}")
    return elapsed, json.loads(body)["data"]


def timed(path):
    for _ in range(WARMUP):
        _, data = get(path)
    return statistics.median(get(path)[0] for _ in range(REPS)), data


def check(label, data):
    items = data["items"]
    if label.startswith("kw "):
        word = label[3:]
        bad = [i["name"] for i in items if word not in i["name"].lower()]
        if bad or not items:
            sys.exit(f"{label}: {len(items)} items, not matching: {bad[:3]}")
    if label == "category":
        bad = [i["category"] for i in items if i["category"] not in (ROOT, 4, 5, 6, 7)]
        if bad or not items:
            sys.exit(f"category: {len(items)} items, outside the subtree: {bad[:3]}")
    if label == "price_asc":
        prices = [float(i["min_price"]) for i in items]
        if prices != sorted(prices):
            sys.exit(f"price_asc: not ascending: {prices}")
    if label != "page 500" and not items:
        sys.exit(f"{label}: no items")


timings, totals = {}, {}
first_id = None
for label, path in QUERIES:
    ms, data = timed(path)
    check(label, data)
    timings[label] = ms
    totals[label] = f"{data['total']}{'+' if data.get('total_capped') else ''}"
    if first_id is None:
        first_id = data["items"][0]["id"]
    print(f"  {STORE} N={N} {label}: total {totals[label]}, {len(data['items'])} items", file=sys.stderr)
ms, data = timed(f"/api/v1/products/{first_id}")
timings["detail"] = ms
rss_kb = 0
with open(f"/proc/{PID}/status") as status:
    for line in status:
        if line.startswith("VmRSS:"):
            rss_kb = int(line.split()[1])
print(json.dumps({
    "store": STORE, "n": N, "load_s": LOAD, "timings": timings, "totals": totals, "rss_mb": rss_kb / 1024,
}, ensure_ascii=False))
