//! `mallkit serve` on PostgreSQL, run as real processes (issue 4):
//!
//! - two servers on one database sell the last units of a SKU and the last
//!   coupons of a template exactly once between them;
//! - a server killed with SIGKILL in the middle of buyers' traffic and
//!   restarted on the same database leaves every invariant of stock, points,
//!   coupons, payments and refunds true in SQL.
//!
//! Each test creates a scratch database on the server `DATABASE_URL` names
//! (default `postgres://postgres@127.0.0.1:5432/postgres`) and drops it when
//! it passes (a failed test's database stays for a look). PostgreSQL must be
//! up: the tests fail loudly, never skip.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mallkit_storage_postgres::testing::database_url;
use mallkit_storage_postgres::{PgSettings, PgStore};
use serde_json::{Value, json};
use sqlx::{Connection, Row};
use tokio::process::{Child, Command};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

const START_HINT: &str = "Start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` \
                          or point DATABASE_URL at a server whose role may CREATE DATABASE.";

/// How long a server may take to answer `/ready` (migrations, demo seed).
const READY_TIMEOUT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------- database

/// A scratch database for one test, with a small pool for the checks.
struct Scratch {
    admin_url: String,
    name: String,
    url: String,
    store: PgStore,
}

/// `admin_url` with its database replaced by `name` (query kept).
fn with_database(admin_url: &str, name: &str) -> String {
    let (main, query) = match admin_url.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (admin_url, None),
    };
    let start = main.find("://").map_or(0, |i| i + 3);
    let server = match main[start..].find('/') {
        Some(slash) => &main[..start + slash],
        None => main,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

impl Scratch {
    /// Creates (and migrates) `mallkit_test_<pid>_<tag>_<micros>`: the
    /// storage tests' naming, so their sweep removes leftovers.
    async fn new(tag: &str) -> Scratch {
        let admin_url = database_url();
        let name = format!("mallkit_test_{}_{tag}_{}", std::process::id(), chrono::Utc::now().timestamp_micros());
        let probe = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL does not answer at {admin_url} ({e}). {START_HINT}"));
        let _ = probe.close().await;
        let settings = PgSettings { max_connections: 4, ..PgSettings::default() };
        let store = PgStore::create_database(&admin_url, &name, settings)
            .await
            .unwrap_or_else(|e| panic!("cannot create and migrate scratch database {name} on {admin_url}: {e}"));
        let url = with_database(&admin_url, &name);
        Scratch { admin_url, name, url, store }
    }

    fn pool(&self) -> &sqlx::PgPool {
        self.store.pool()
    }

    async fn drop_now(self) {
        self.store.pool().close().await;
        PgStore::drop_database(&self.admin_url, &self.name)
            .await
            .unwrap_or_else(|e| panic!("cannot drop scratch database {}: {e}", self.name));
    }
}

// ------------------------------------------------------------------ server

/// A port no one listens on right now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// One `mallkit serve` process; killed (SIGKILL) when dropped.
struct Server {
    child: Option<Child>,
    port: u16,
    log: PathBuf,
    label: String,
}

impl Server {
    /// Starts `mallkit serve --seed demo` on `url` at `port` and waits for
    /// `/ready`.
    async fn start(url: &str, port: u16, label: &str) -> Server {
        let log = std::env::temp_dir().join(format!(
            "mallkit_pg_serve_{}_{label}_{}.log",
            std::process::id(),
            chrono::Utc::now().timestamp_micros()
        ));
        let out = std::fs::File::create(&log).expect("create the server log");
        let err = out.try_clone().expect("clone the log handle");
        let child = Command::new(env!("CARGO_BIN_EXE_mallkit"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--database-url", url, "--seed", "demo"])
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .kill_on_drop(true)
            .spawn()
            .expect("the mallkit binary starts");
        let mut server = Server { child: Some(child), port, log, label: label.to_owned() };
        server.wait_ready().await;
        server
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_else(|e| format!("(no log at {}: {e})", self.log.display()))
    }

    async fn wait_ready(&mut self) {
        let client = client();
        let deadline = Instant::now() + READY_TIMEOUT;
        let url = format!("{}/ready", self.base());
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "server {} exited with {status} before it was ready; its output:\n{}",
                    self.label,
                    self.output()
                );
            }
            if let Ok(r) = client.get(&url).timeout(Duration::from_secs(2)).send().await
                && r.status().as_u16() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "server {} did not answer 200 on {url} within {READY_TIMEOUT:?}; its output:\n{}",
                self.label,
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL, then reap.
    async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("SIGKILL the server");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

// ------------------------------------------------------------------ client

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().expect("an HTTP client")
}

struct Reply {
    status: u16,
    body: Value,
}

impl Reply {
    fn data(&self) -> &Value {
        assert_eq!(self.status, 200, "expected 200, got {}: {}", self.status, self.body);
        &self.body["data"]
    }

    fn kind(&self) -> &str {
        self.body["error"]["type"].as_str().unwrap_or_default()
    }
}

/// One request; `Err` only for a transport failure (refused, reset).
async fn send(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    key: Option<&str>,
) -> Result<Reply, reqwest::Error> {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = client.request(method, format!("{base}{path}"));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if let Some(b) = body {
        request = request.json(b);
    }
    if let Some(k) = key {
        request = request.header("Idempotency-Key", k);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok(Reply { status, body })
}

/// A request that must reach the server.
async fn call(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    send(client, base, method, path, token, body.as_ref(), None)
        .await
        .unwrap_or_else(|e| panic!("{method} {base}{path}: no answer: {e}"))
}

async fn login(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let reply =
        call(client, base, "POST", "/api/v1/auth/login", None, Some(json!({"login": username, "password": password})))
            .await;
    reply.data()["access_token"].as_str().expect("an access token").to_owned()
}

/// Registers `username`, logs in and adds a default address: (user id, token).
async fn buyer(client: &reqwest::Client, base: &str, username: &str) -> (u64, String) {
    let password = "buyer12345";
    let reg = call(
        client,
        base,
        "POST",
        "/api/v1/auth/register",
        None,
        Some(json!({"username": username, "password": password})),
    )
    .await;
    let id = reg.data()["id"].as_u64().expect("a user id");
    let token = login(client, base, username, password).await;
    let address = json!({"receiver": username, "phone": "13800000009", "province": "广东省", "city": "深圳市",
        "district": "南山区", "detail": "科技园路1号"});
    call(client, base, "POST", "/api/v1/addresses", Some(&token), Some(address)).await.data();
    (id, token)
}

async fn scalar_i64(pool: &sqlx::PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

// ------------------------------------------------------- a) two servers

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_sell_the_last_units_exactly() {
    let db = Scratch::new("serve_pair").await;
    let a = Server::start(&db.url, free_port(), "a").await;
    assert!(a.output().contains("demo data loaded"), "server a loads the demo:\n{}", a.output());
    // No stock-edit endpoint: the last 100 cables, set in SQL before the second server starts.
    let set = sqlx::query("UPDATE skus SET available = 100, reserved = 0, sold = 0 WHERE id = 501")
        .execute(db.pool())
        .await
        .expect("set SKU 501's stock");
    assert_eq!(set.rows_affected(), 1, "the demo has SKU 501");
    let b = Server::start(&db.url, free_port(), "b").await;
    assert!(b.output().contains("demo data already present"), "server b sees the demo:\n{}", b.output());
    let bases = [a.base(), b.base()];
    let client = client();

    // 64 buyers, registered half on each server.
    let mut joins = JoinSet::new();
    for i in 0..64usize {
        let (client, base) = (client.clone(), bases[i % 2].clone());
        joins.spawn(async move { (i, buyer(&client, &base, &format!("pair{i:02}")).await) });
    }
    let mut buyers = vec![(0u64, String::new()); 64];
    while let Some(done) = joins.join_next().await {
        let (i, who) = done.expect("a registration task");
        buyers[i] = who;
    }

    // Each asks for 2 of SKU 501 at once, 32 on each server: 128 asked for 100.
    let barrier = Arc::new(Barrier::new(64));
    let mut joins = JoinSet::new();
    for (i, (_, token)) in buyers.iter().enumerate() {
        let (client, base, token, barrier) = (client.clone(), bases[i % 2].clone(), token.clone(), barrier.clone());
        joins.spawn(async move {
            barrier.wait().await;
            let body = json!({"items": [{"sku_id": 501, "quantity": 2}], "coupon_ids": []});
            (i, call(&client, &base, "POST", "/api/v1/orders", Some(&token), Some(body)).await)
        });
    }
    let mut sold: Vec<(usize, u64)> = Vec::new();
    let mut refused = Vec::new();
    while let Some(done) = joins.join_next().await {
        let (i, reply) = done.expect("an order task");
        if reply.status == 200 {
            let orders = reply.data()["orders"].as_array().expect("orders").clone();
            assert_eq!(orders.len(), 1, "one merchant, one order: {}", reply.body);
            sold.push((i, orders[0]["id"].as_u64().expect("an order id")));
        } else {
            refused.push(reply);
        }
    }
    let unexpected: Vec<String> = refused
        .iter()
        .filter(|r| !(r.status == 409 && r.kind() == "insufficient_stock"))
        .map(|r| format!("{} {}", r.status, r.body))
        .collect();
    assert!(unexpected.is_empty(), "every refusal is 409 insufficient_stock; also got: {unexpected:#?}");
    assert_eq!((sold.len(), refused.len()), (50, 14), "exactly 50 of 64 orders of 2 units fit 100 units");
    let per_server = [sold.iter().filter(|(i, _)| i % 2 == 0).count(), sold.iter().filter(|(i, _)| i % 2 == 1).count()];

    let stock = |pool: sqlx::PgPool| async move {
        let row = sqlx::query("SELECT available, reserved, sold FROM skus WHERE id = 501")
            .fetch_one(&pool)
            .await
            .expect("read SKU 501");
        (row.get::<i32, _>(0), row.get::<i32, _>(1), row.get::<i32, _>(2))
    };
    assert_eq!(stock(db.pool().clone()).await, (0, 100, 0), "available, reserved, sold of SKU 501 after ordering");
    let lines =
        scalar_i64(db.pool(), "SELECT COALESCE(SUM(quantity), 0)::BIGINT FROM order_lines WHERE sku_id = 501").await;
    assert_eq!(lines, 100, "Σ order line quantities of SKU 501");
    let orders =
        scalar_i64(db.pool(), "SELECT COUNT(DISTINCT order_id)::BIGINT FROM order_lines WHERE sku_id = 501").await;
    assert_eq!(orders, 50, "orders holding SKU 501");

    // Each order is paid on the other server than the one that took it.
    let mut joins = JoinSet::new();
    for &(i, order) in &sold {
        let (client, base, token) = (client.clone(), bases[(i + 1) % 2].clone(), buyers[i].1.clone());
        joins.spawn(async move {
            call(&client, &base, "POST", "/api/v1/payments", Some(&token), Some(json!({"order_ids": [order]}))).await
        });
    }
    while let Some(done) = joins.join_next().await {
        let reply = done.expect("a payment task");
        assert_eq!(reply.data()["status"], "succeeded", "{}", reply.body);
    }
    assert_eq!(stock(db.pool().clone()).await, (0, 0, 100), "available, reserved, sold of SKU 501 after paying");
    let paid = scalar_i64(
        db.pool(),
        "SELECT COUNT(*)::BIGINT FROM orders o WHERE o.paid_at IS NOT NULL
           AND EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.sku_id = 501)",
    )
    .await;
    assert_eq!(paid, 50, "paid orders of SKU 501");

    // A template with 20 coupons left; 50 buyers claim at once across both servers.
    let admin = login(&client, &bases[0], "admin", "admin12345").await;
    let template = call(
        &client,
        &bases[0],
        "POST",
        "/api/v1/admin/coupon-templates",
        Some(&admin),
        Some(json!({"title": "t", "kind": "cash", "amount": 5, "scope": {"type": "all"},
            "validity": {"type": "days_after_claim", "days": 7}, "total_limit": 20})),
    )
    .await;
    let template = template.data()["id"].as_u64().expect("a template id");
    let barrier = Arc::new(Barrier::new(50));
    let mut joins = JoinSet::new();
    for (i, (_, token)) in buyers.iter().take(50).enumerate() {
        let (client, base, token, barrier) = (client.clone(), bases[i % 2].clone(), token.clone(), barrier.clone());
        joins.spawn(async move {
            barrier.wait().await;
            let path = format!("/api/v1/coupons/templates/{template}/claim");
            call(&client, &base, "POST", &path, Some(&token), Some(json!({}))).await
        });
    }
    let (mut claimed, mut sold_out, mut other) = (0, 0, Vec::new());
    while let Some(done) = joins.join_next().await {
        let reply = done.expect("a claim task");
        match (reply.status, reply.kind()) {
            (200, _) => claimed += 1,
            (409, "coupon_sold_out") => sold_out += 1,
            _ => other.push(format!("{} {}", reply.status, reply.body)),
        }
    }
    assert!(other.is_empty(), "every refused claim is 409 coupon_sold_out; also got: {other:#?}");
    assert_eq!((claimed, sold_out), (20, 30), "20 coupons, 50 claims");
    let row = sqlx::query(
        "SELECT t.issued, (SELECT COUNT(*) FROM user_coupons u WHERE u.template_id = t.id)::BIGINT
         FROM coupon_templates t WHERE t.id = $1",
    )
    .bind(i64::try_from(template).expect("an id that fits"))
    .fetch_one(db.pool())
    .await
    .expect("read the template");
    assert_eq!((row.get::<i32, _>(0), row.get::<i64, _>(1)), (20, 20), "issued and stored coupons of the template");

    println!(
        "two servers: 50 orders sold (server a {}, server b {}), 14 refused insufficient_stock; \
         20 coupons claimed, 30 coupon_sold_out",
        per_server[0], per_server[1]
    );
    drop((a, b));
    db.drop_now().await;
}

// ------------------------------------------------ b) SIGKILL mid-traffic

/// What the buyers saw.
#[derive(Default)]
struct Tally {
    orders: AtomicU64,
    with_coupon: AtomicU64,
    paid: AtomicU64,
    cancelled_unpaid: AtomicU64,
    cancelled_paid: AtomicU64,
    refunds: AtomicU64,
    completed: AtomicU64,
    refused: AtomicU64,
    transport_errors: AtomicU64,
    iterations: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

fn read(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// The buyers' side of a server that may be killed: a transport failure is
/// counted, then the request is sent once more when the (restarted) server
/// answers again; `None` when that fails too.
struct Traffic {
    client: reqwest::Client,
    base: String,
    tally: Tally,
}

impl Traffic {
    async fn wait_up(&self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(r) = self.client.get(format!("{}/ready", self.base)).timeout(Duration::from_secs(2)).send().await
                && r.status().as_u16() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn post(&self, path: &str, token: &str, body: Value, key: Option<&str>) -> Option<Reply> {
        for attempt in 0..2 {
            match send(&self.client, &self.base, "POST", path, Some(token), Some(&body), key).await {
                Ok(reply) => {
                    if reply.status != 200 {
                        bump(&self.tally.refused);
                    }
                    return Some(reply);
                }
                Err(_) => {
                    bump(&self.tally.transport_errors);
                    if attempt == 0 {
                        self.wait_up().await;
                    }
                }
            }
        }
        None
    }
}

const ITERATIONS: usize = 16;
const BUYERS: usize = 16;
const SKUS: [u64; 6] = [201, 202, 301, 302, 401, 501];

/// One buyer's traffic: order (2 units, 100 points, a coupon while one is
/// left) then, by turn, cancel unpaid, pay and cancel, pay and refund one
/// unit (refund-only after-sale approved and refunded by the admin), or pay,
/// ship and confirm.
async fn shop(t: Arc<Traffic>, n: usize, token: String, admin: String, mut coupons: Vec<u64>) {
    let ok = |r: &Option<Reply>| r.as_ref().is_some_and(|r| r.status == 200);
    for i in 0..ITERATIONS {
        let sku = SKUS[(n + i) % SKUS.len()];
        let coupon = coupons.pop();
        let mut body = json!({"items": [{"sku_id": sku, "quantity": 2}], "points": 100});
        if let Some(c) = coupon {
            body["coupon_ids"] = json!([c]);
        }
        let key = format!("order-{n}-{i}");
        let reply = t.post("/api/v1/orders", &token, body, Some(&key)).await;
        bump(&t.tally.iterations);
        let Some(reply) = reply.filter(|r| r.status == 200) else { continue };
        let order = reply.body["data"]["orders"][0]["id"].as_u64().expect("an order id");
        bump(&t.tally.orders);
        if coupon.is_some() {
            bump(&t.tally.with_coupon);
        }
        let mode = (n + i) % 4;
        if mode == 0 {
            let cancelled = t.post(&format!("/api/v1/orders/{order}/cancel"), &token, json!({}), None).await;
            if ok(&cancelled) {
                bump(&t.tally.cancelled_unpaid);
                coupons.extend(coupon); // an unpaid cancel gives the coupon back
            }
            continue;
        }
        let paid = t.post("/api/v1/payments", &token, json!({"order_ids": [order]}), None).await;
        if !paid.as_ref().is_some_and(|r| r.status == 200 && r.body["data"]["status"] == "succeeded") {
            continue;
        }
        bump(&t.tally.paid);
        match mode {
            1 => {
                let cancelled = t.post(&format!("/api/v1/orders/{order}/cancel"), &token, json!({}), None).await;
                if ok(&cancelled) {
                    bump(&t.tally.cancelled_paid);
                }
            }
            2 => {
                let case = json!({"order_id": order, "kind": "refund_only", "lines": [{"line_no": 1, "quantity": 1}],
                    "reason": "不想要了"});
                let key = format!("case-{n}-{i}");
                let Some(case) =
                    t.post("/api/v1/after-sales", &token, case, Some(&key)).await.filter(|r| r.status == 200)
                else {
                    continue;
                };
                let id = case.body["data"]["id"].as_u64().expect("an after-sale id");
                let step = json!({"action": "approve", "note": "ok"});
                let approved = t.post(&format!("/api/v1/admin/after-sales/{id}/steps"), &admin, step, None).await;
                if !ok(&approved) {
                    continue;
                }
                let refunded = t.post(&format!("/api/v1/admin/after-sales/{id}/refund"), &admin, json!({}), None).await;
                if refunded.as_ref().is_some_and(|r| r.status == 200 && r.body["data"]["status"] == "refunded") {
                    bump(&t.tally.refunds);
                }
            }
            _ => {
                let ship = json!({"carrier": "SF", "tracking_no": format!("SF{n:02}{i:02}")});
                if !ok(&t.post(&format!("/api/v1/admin/orders/{order}/ship"), &admin, ship, None).await) {
                    continue;
                }
                if ok(&t.post(&format!("/api/v1/orders/{order}/confirm"), &token, json!({}), None).await) {
                    bump(&t.tally.completed);
                }
            }
        }
    }
}

/// Rows a query returns, printed: the invariant it checks is broken by each.
async fn violations(pool: &sqlx::PgPool, what: &str, sql: &'static str) -> Vec<String> {
    let rows = sqlx::query(sql).fetch_all(pool).await.unwrap_or_else(|e| panic!("{what}: {sql}: {e}"));
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = (0..row.len())
                .map(|i| {
                    row.try_get::<Option<i64>, _>(i)
                        .map(|v| format!("{v:?}"))
                        .or_else(|_| row.try_get::<Option<String>, _>(i).map(|v| format!("{v:?}")))
                        .or_else(|_| row.try_get::<Option<rust_decimal::Decimal>, _>(i).map(|v| format!("{v:?}")))
                        .unwrap_or_else(|_| "?".into())
                })
                .collect();
            format!("{what}: {}", cells.join(", "))
        })
        .collect()
}

/// Every invariant the store promises, checked in SQL: one line per
/// violation (empty when all hold). `initial` is each SKU's
/// available + reserved + sold before the traffic.
async fn invariant_violations(p: &sqlx::PgPool, initial: &HashMap<i64, i64>) -> Vec<String> {
    let mut broken = Vec::new();
    let stock = sqlx::query("SELECT id, (available + reserved + sold)::BIGINT FROM skus ORDER BY id")
        .fetch_all(p)
        .await
        .expect("read the stock");
    for row in &stock {
        let (id, now) = (row.get::<i64, _>(0), row.get::<i64, _>(1));
        if initial.get(&id) != Some(&now) {
            broken.push(format!("stock of SKU {id}: available + reserved + sold = {now}, was {:?}", initial.get(&id)));
        }
    }
    let checks: [(&str, &'static str); 16] = [
        (
            "reserved ≠ units of unpaid orders (sku, reserved, units)",
            "SELECT s.id, s.reserved::BIGINT, COALESCE((SELECT SUM(l.quantity) FROM order_lines l JOIN orders o
                 ON o.id = l.order_id WHERE l.sku_id = s.id AND o.status = 'pending_payment'), 0)::BIGINT
             FROM skus s
             WHERE s.reserved <> COALESCE((SELECT SUM(l.quantity) FROM order_lines l JOIN orders o
                 ON o.id = l.order_id WHERE l.sku_id = s.id AND o.status = 'pending_payment'), 0)",
        ),
        (
            "points account ≠ Σ ledger (user, balance, Σ balance_delta, frozen, Σ frozen_delta)",
            "SELECT a.user_id, a.balance, COALESCE(SUM(l.balance_delta), 0)::BIGINT, a.frozen,
                 COALESCE(SUM(l.frozen_delta), 0)::BIGINT
             FROM points_accounts a LEFT JOIN points_ledger l ON l.user_id = a.user_id
             GROUP BY a.user_id, a.balance, a.frozen
             HAVING a.balance <> COALESCE(SUM(l.balance_delta), 0) OR a.frozen <> COALESCE(SUM(l.frozen_delta), 0)",
        ),
        (
            "points balance ≠ the last ledger row's balance_after (user, balance, balance_after)",
            "SELECT a.user_id, a.balance, l.balance_after FROM points_accounts a
             JOIN LATERAL (SELECT balance_after FROM points_ledger WHERE user_id = a.user_id ORDER BY seq DESC LIMIT 1)
                 l ON true
             WHERE l.balance_after <> a.balance",
        ),
        (
            "ledger row whose balance_after does not follow (user, seq, balance_after, running Σ)",
            "SELECT user_id, seq, balance_after, running FROM (
                 SELECT user_id, seq, balance_after,
                     SUM(balance_delta) OVER (PARTITION BY user_id ORDER BY seq)::BIGINT AS running
                 FROM points_ledger) x
             WHERE balance_after <> running",
        ),
        (
            "frozen points ≠ points of unpaid orders (user, frozen, points of unpaid orders)",
            "SELECT a.user_id, a.frozen, COALESCE((SELECT SUM(o.points_used) FROM orders o
                 WHERE o.user_id = a.user_id AND o.status = 'pending_payment'), 0)::BIGINT
             FROM points_accounts a
             WHERE a.frozen <> COALESCE((SELECT SUM(o.points_used) FROM orders o
                 WHERE o.user_id = a.user_id AND o.status = 'pending_payment'), 0)",
        ),
        (
            "user coupon on two live or paid orders (coupon, orders)",
            "SELECT (c ->> 'coupon')::BIGINT, COUNT(*)::BIGINT FROM orders o, jsonb_array_elements(o.coupons) c
             WHERE o.paid_at IS NOT NULL OR o.status NOT IN ('cancelled', 'closed')
             GROUP BY 1 HAVING COUNT(*) > 1",
        ),
        (
            "coupon of an unpaid order not locked to its checkout (order, coupon, status)",
            "SELECT o.id, u.id, u.status FROM orders o, jsonb_array_elements(o.coupons) c, user_coupons u
             WHERE u.id = (c ->> 'coupon')::BIGINT AND o.status = 'pending_payment'
               AND (u.status <> 'locked' OR u.checkout_id IS DISTINCT FROM o.checkout_id)",
        ),
        (
            "coupon of a paid order not used (order, coupon, status)",
            "SELECT o.id, u.id, u.status FROM orders o, jsonb_array_elements(o.coupons) c, user_coupons u
             WHERE u.id = (c ->> 'coupon')::BIGINT AND o.paid_at IS NOT NULL AND u.status <> 'used'",
        ),
        (
            "locked or used coupon on no live or paid order (coupon, status)",
            "SELECT u.id, u.status FROM user_coupons u WHERE u.status IN ('locked', 'used') AND NOT EXISTS (
                 SELECT 1 FROM orders o, jsonb_array_elements(o.coupons) c
                 WHERE (c ->> 'coupon')::BIGINT = u.id AND (o.paid_at IS NOT NULL OR o.status = 'pending_payment'))",
        ),
        (
            "provider transaction confirming two payments (txn, payments)",
            "SELECT provider_txn, COUNT(*)::BIGINT FROM payments WHERE provider_txn IS NOT NULL
             GROUP BY channel, provider_txn HAVING COUNT(*) > 1",
        ),
        (
            "paid order without exactly one confirmed payment, or pointing elsewhere (order, confirmed payments)",
            "SELECT o.id, COUNT(p.id)::BIGINT FROM orders o
             LEFT JOIN payment_orders po ON po.order_id = o.id
             LEFT JOIN payments p ON p.id = po.payment_id AND p.status IN ('succeeded', 'refunding', 'refunded')
             WHERE o.paid_at IS NOT NULL
             GROUP BY o.id, o.payment_id
             HAVING COUNT(p.id) <> 1 OR o.payment_id IS DISTINCT FROM MAX(p.id)",
        ),
        (
            "unpaid order with a confirmed payment (order, payment)",
            "SELECT o.id, p.id FROM orders o JOIN payment_orders po ON po.order_id = o.id
             JOIN payments p ON p.id = po.payment_id
             WHERE o.paid_at IS NULL AND p.status IN ('succeeded', 'refunding', 'refunded')",
        ),
        (
            "confirmed payment without a provider transaction or ≠ Σ its orders' payable (payment, amount, Σ payable)",
            "SELECT p.id, p.amount, SUM(o.payable) FROM payments p JOIN payment_orders po ON po.payment_id = p.id
             JOIN orders o ON o.id = po.order_id
             WHERE p.status IN ('succeeded', 'refunding', 'refunded')
             GROUP BY p.id, p.amount, p.provider_txn, p.paid_at
             HAVING p.amount <> SUM(o.payable) OR p.provider_txn IS NULL OR p.paid_at IS NULL",
        ),
        (
            "order refunded beyond its payable (order, refunded_total, payable)",
            "SELECT id, refunded_total, payable FROM orders WHERE refunded_total > payable",
        ),
        (
            "payment refunded ≠ Σ its orders' refunds (payment, refunded_amount, Σ refunded_total)",
            "SELECT p.id, p.refunded_amount, SUM(o.refunded_total) FROM payments p
             JOIN orders o ON o.payment_id = p.id
             GROUP BY p.id, p.refunded_amount HAVING p.refunded_amount <> SUM(o.refunded_total)",
        ),
        (
            "refunded after-sales beyond the order's payable (order, Σ refund_amount, payable)",
            "SELECT o.id, SUM(a.refund_amount), o.payable FROM orders o JOIN after_sales a ON a.order_id = o.id
             WHERE a.status = 'refunded' GROUP BY o.id, o.payable HAVING SUM(a.refund_amount) > o.payable",
        ),
    ];
    for (what, sql) in checks {
        broken.extend(violations(p, what, sql).await);
    }

    broken
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_traffic_leaves_every_invariant() {
    let db = Scratch::new("serve_kill").await;
    let port = free_port();
    let mut server = Server::start(&db.url, port, "first").await;
    let client = client();
    let base = server.base();

    // Buyers with points (granted by the admin) and two coupons each.
    let admin = login(&client, &base, "admin", "admin12345").await;
    let mut joins = JoinSet::new();
    for n in 0..BUYERS {
        let (client, base, admin) = (client.clone(), base.clone(), admin.clone());
        joins.spawn(async move {
            let (id, token) = buyer(&client, &base, &format!("kill{n:02}")).await;
            let grant = json!({"user_id": id, "points": 100_000, "remark": "pg_serve"});
            call(&client, &base, "POST", "/api/v1/admin/points/adjust", Some(&admin), Some(grant)).await.data();
            let mut coupons = Vec::new();
            for template in [2, 3] {
                let path = format!("/api/v1/coupons/templates/{template}/claim");
                let claimed = call(&client, &base, "POST", &path, Some(&token), Some(json!({}))).await;
                coupons.push(claimed.data()["id"].as_u64().expect("a coupon id"));
            }
            (n, token, coupons)
        });
    }
    let mut buyers = Vec::new();
    while let Some(done) = joins.join_next().await {
        buyers.push(done.expect("a buyer set-up task"));
    }

    let initial: HashMap<i64, i64> = sqlx::query("SELECT id, (available + reserved + sold)::BIGINT FROM skus")
        .fetch_all(db.pool())
        .await
        .expect("read the stock")
        .iter()
        .map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1)))
        .collect();
    assert_eq!(initial.len(), 8, "the demo's 8 SKUs");

    // Traffic; after 1.5 s (or a third of it, if the server is faster) SIGKILL, then restart.
    let traffic = Arc::new(Traffic { client: client.clone(), base: base.clone(), tally: Tally::default() });
    let started = Instant::now();
    let mut shoppers = JoinSet::new();
    for (n, token, coupons) in buyers {
        shoppers.spawn(shop(traffic.clone(), n, token, admin.clone(), coupons));
    }
    let total = (BUYERS * ITERATIONS) as u64;
    while started.elapsed() < Duration::from_millis(1500) && read(&traffic.tally.iterations) < total / 3 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let at_kill = read(&traffic.tally.iterations);
    let killed_after = started.elapsed();
    server.kill().await;
    let first_output = server.output();
    let mut server = Server::start(&db.url, port, "restarted").await;
    assert!(server.output().contains("demo data already present"), "restarted on the same data:\n{}", server.output());
    while let Some(done) = shoppers.join_next().await {
        done.expect("a buyer's traffic");
    }
    let t = &traffic.tally;
    let p = db.pool();

    // ---- the invariants, in SQL ----
    let broken = invariant_violations(p, &initial).await;

    // ---- the counts, so the test cannot pass on nothing ----
    let db_orders = scalar_i64(p, "SELECT COUNT(*)::BIGINT FROM orders").await;
    let db_paid = scalar_i64(p, "SELECT COUNT(*)::BIGINT FROM orders WHERE paid_at IS NOT NULL").await;
    let db_payments =
        scalar_i64(p, "SELECT COUNT(*)::BIGINT FROM payments WHERE status IN ('succeeded', 'refunding', 'refunded')")
            .await;
    let db_refunds = scalar_i64(p, "SELECT COUNT(*)::BIGINT FROM after_sales WHERE status = 'refunded'").await;
    let db_cancelled_paid =
        scalar_i64(p, "SELECT COUNT(*)::BIGINT FROM orders WHERE status = 'cancelled' AND paid_at IS NOT NULL").await;
    let db_coupon_orders =
        scalar_i64(p, "SELECT COUNT(*)::BIGINT FROM orders WHERE jsonb_array_length(coupons) > 0").await;
    let db_ledger = scalar_i64(p, "SELECT COUNT(*)::BIGINT FROM points_ledger").await;
    println!(
        "SIGKILL after {killed_after:?} at {at_kill}/{total} iterations; buyers saw: {} orders ({} with a coupon), \
         {} paid, {} cancelled unpaid, {} cancelled paid, {} refunded after-sales, {} completed, {} refusals, \
         {} transport errors; database: {db_orders} orders, {db_paid} paid, {db_payments} confirmed payments, \
         {db_refunds} refunded after-sales, {db_cancelled_paid} paid-then-cancelled, {db_coupon_orders} orders with \
         a coupon, {db_ledger} ledger rows",
        read(&t.orders),
        read(&t.with_coupon),
        read(&t.paid),
        read(&t.cancelled_unpaid),
        read(&t.cancelled_paid),
        read(&t.refunds),
        read(&t.completed),
        read(&t.refused),
        read(&t.transport_errors),
    );
    assert!(
        broken.is_empty(),
        "invariants broken after a SIGKILL:\n{}\n--- first server's output:\n{first_output}\n--- restarted server's output:\n{}",
        broken.join("\n"),
        server.output()
    );
    assert!(at_kill > 0 && at_kill < total, "the kill landed mid-traffic ({at_kill} of {total} iterations done)");
    assert!(read(&t.transport_errors) > 0, "the kill interrupted some requests");
    assert!(read(&t.paid) >= 20 && db_paid >= 20, "at least 20 paid orders ({} seen, {db_paid} stored)", read(&t.paid));
    assert!(
        read(&t.refunds) >= 3 && db_refunds >= 3,
        "at least 3 refunds ({} seen, {db_refunds} stored)",
        read(&t.refunds)
    );
    assert!(db_cancelled_paid >= 3, "at least 3 paid orders cancelled ({db_cancelled_paid})");
    assert!(read(&t.completed) >= 3, "at least 3 completed orders ({})", read(&t.completed));
    assert!(db_coupon_orders >= 10, "at least 10 orders used a coupon ({db_coupon_orders})");
    assert!(db_orders as u64 >= read(&t.orders), "every order a buyer saw is stored");

    // The checks can fail: break two invariants by hand, and they say so.
    sqlx::query("UPDATE skus SET available = available + 1 WHERE id = 501").execute(p).await.expect("break stock");
    sqlx::query(
        "UPDATE points_accounts SET frozen = frozen + 1 WHERE user_id = (SELECT MIN(user_id) FROM points_accounts)",
    )
    .execute(p)
    .await
    .expect("break points");
    let caught = invariant_violations(p, &initial).await;
    assert!(caught.iter().any(|v| v.starts_with("stock of SKU 501")), "{caught:#?}");
    assert!(caught.iter().any(|v| v.starts_with("points account ≠ Σ ledger")), "{caught:#?}");
    assert!(caught.iter().any(|v| v.starts_with("frozen points ≠")), "{caught:#?}");

    server.kill().await;
    db.drop_now().await;
}
