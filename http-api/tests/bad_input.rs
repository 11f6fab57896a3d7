//! Bad input: malformed JSON, wrong types, negative or huge quantities,
//! three-decimal amounts, unknown enum values and fields, oversized bodies,
//! unknown ids. Every answer is a 4xx naming the field, never a 5xx, and
//! nothing is written. Also: the same `Idempotency-Key` twice creates one
//! order; with a different body it is refused.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use serde_json::{Value, json};

async fn state(s: &support::Server, token: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for path in ["/api/v1/cart", "/api/v1/orders", "/api/v1/after-sales", "/api/v1/addresses", "/api/v1/points"] {
        out.push(s.get(path, Some(token)).await.data().clone());
    }
    out.push(s.get("/api/v1/products/1", None).await.data().clone());
    out
}

/// POSTs over a bare socket: the server answers 413 before reading a big
/// body and closes, which an HTTP client reports as a broken pipe.
async fn raw_post(base: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let _ = stream.write_all(body.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_by_name_and_writes_nothing() {
    let s = support::start(false).await;
    let token = s.login("alice", "pass1234").await;
    let admin = s.login("root", "pass1234").await;
    s.add_address(&token, "Alice").await;
    // a paid order to aim after-sales requests at
    let order = s
        .post("/api/v1/orders", Some(&token), json!({"items": [{"sku_id": 12, "quantity": 1}], "coupon_ids": []}))
        .await;
    let order_id = order.data()["orders"][0]["id"].as_u64().unwrap();
    s.post("/api/v1/payments", Some(&token), json!({"order_ids": [order_id]})).await.data();
    let before = state(&s, &token).await;
    let templates_before = s.get("/api/v1/admin/coupon-templates", Some(&admin)).await.data()["total"].clone();

    let apply =
        |lines: &str| format!(r#"{{"order_id": {order_id}, "kind": "refund_only", "lines": {lines}, "reason": "x"}}"#);
    // (path, body, expected status, expected field, expected error type)
    let cases: Vec<(&str, String, u16, &str, &str)> = vec![
        ("/api/v1/cart/items", "{\"sku_id\": 11, \"quantity\": ".into(), 400, "quantity", "invalid_input"),
        ("/api/v1/cart/items", "not json".into(), 400, "body", "invalid_input"),
        ("/api/v1/cart/items", r#"{"sku_id": 11, "quantity": "two"}"#.into(), 400, "quantity", "invalid_input"),
        ("/api/v1/cart/items", r#"{"sku_id": 11, "quantity": -1}"#.into(), 400, "quantity", "invalid_input"),
        ("/api/v1/cart/items", r#"{"sku_id": 11, "quantity": 0}"#.into(), 400, "quantity", "invalid_input"),
        ("/api/v1/cart/items", r#"{"sku_id": 11, "quantity": 1000}"#.into(), 400, "quantity", "invalid_input"),
        ("/api/v1/cart/items", r#"{"sku_id": 11, "quantity": 99999999999}"#.into(), 400, "quantity", "invalid_input"),
        ("/api/v1/cart/items", r#"{"sku_id": 11, "quantity": 1.5}"#.into(), 400, "quantity", "invalid_input"),
        ("/api/v1/cart/items", r#"{"sku_id": 11, "quantity": 1, "price": 0.01}"#.into(), 400, "price", "invalid_input"),
        ("/api/v1/cart/items", r#"{"quantity": 1}"#.into(), 400, "body", "invalid_input"),
        ("/api/v1/cart/items", r#"{"sku_id": 999999, "quantity": 1}"#.into(), 404, "", "not_found"),
        ("/api/v1/cart/items", r#"[1, 2]"#.into(), 400, "body", "invalid_input"),
        (
            "/api/v1/orders",
            r#"{"items": [{"sku_id": 11, "quantity": 1}, {"sku_id": 11, "quantity": 2}]}"#.into(),
            400,
            "",
            "duplicate_line",
        ),
        (
            "/api/v1/orders",
            r#"{"items": [{"sku_id": 11, "quantity": 1000}]}"#.into(),
            400,
            "items[0].quantity",
            "invalid_input",
        ),
        ("/api/v1/orders", r#"{"items": [{"sku_id": 11, "quantity": 6}]}"#.into(), 409, "", "insufficient_stock"),
        (
            "/api/v1/orders",
            r#"{"items": [{"sku_id": 11, "quantity": 1}], "points": -100}"#.into(),
            400,
            "",
            "invalid_points",
        ),
        (
            "/api/v1/orders",
            r#"{"items": [{"sku_id": 11, "quantity": 1}], "points": 100}"#.into(),
            409,
            "",
            "insufficient_points",
        ),
        (
            "/api/v1/orders",
            r#"{"items": [{"sku_id": 11, "quantity": 1}], "coupon_ids": [424242]}"#.into(),
            404,
            "",
            "coupon_not_found",
        ),
        ("/api/v1/orders", r#"{"items": []}"#.into(), 400, "", "empty_cart"),
        (
            "/api/v1/orders",
            r#"{"items": [{"sku_id": 11, "quantity": 1}], "remark": 7}"#.into(),
            400,
            "remark",
            "invalid_input",
        ),
        (
            "/api/v1/after-sales",
            apply(r#"[{"line_no": 1, "quantity": 1, "amount": 1.234}]"#),
            400,
            "lines[0].amount",
            "invalid_input",
        ),
        (
            "/api/v1/after-sales",
            apply(r#"[{"line_no": 1, "quantity": 1, "amount": "12.3400000000000001"}]"#),
            400,
            "lines[0].amount",
            "invalid_input",
        ),
        (
            "/api/v1/after-sales",
            apply(r#"[{"line_no": 1, "quantity": 1, "amount": 1e400}]"#),
            400,
            "lines[0].amount",
            "invalid_input",
        ),
        (
            "/api/v1/after-sales",
            apply(r#"[{"line_no": 1, "quantity": 1, "amount": true}]"#),
            400,
            "lines[0].amount",
            "invalid_input",
        ),
        (
            "/api/v1/after-sales",
            apply(r#"[{"line_no": 1, "quantity": 1, "amount": 500}]"#),
            409,
            "",
            "refund_exceeds_refundable",
        ),
        ("/api/v1/after-sales", apply(r#"[{"line_no": 1, "quantity": 2}]"#), 409, "", "after_sale_quantity_exceeded"),
        ("/api/v1/after-sales", apply(r#"[{"line_no": 9, "quantity": 1}]"#), 400, "lines[0].line_no", "invalid_input"),
        (
            "/api/v1/after-sales",
            format!(r#"{{"order_id": {order_id}, "kind": "refund_everything", "lines": [], "reason": "x"}}"#),
            400,
            "kind",
            "invalid_input",
        ),
        (
            "/api/v1/after-sales",
            r#"{"order_id": 77777, "kind": "refund_only", "lines": [{"line_no": 1, "quantity": 1}], "reason": "x"}"#
                .into(),
            404,
            "",
            "not_found",
        ),
        (
            "/api/v1/addresses",
            r#"{"receiver": "", "phone": "13800000001", "province": "a", "city": "b", "district": "c", "detail": "d"}"#
                .into(),
            400,
            "receiver",
            "invalid_input",
        ),
        (
            "/api/v1/addresses",
            r#"{"receiver": "张三", "phone": "12345", "province": "a", "city": "b", "district": "c", "detail": "d"}"#
                .into(),
            400,
            "phone",
            "invalid_input",
        ),
        ("/api/v1/coupons/validate", r#"{"coupon_id": 1, "amount": "12.345"}"#.into(), 400, "amount", "invalid_input"),
        ("/api/v1/payments", r#"{"order_ids": []}"#.into(), 400, "orders", "invalid_input"),
        ("/api/v1/payments", format!(r#"{{"order_ids": [{order_id}, {order_id}]}}"#), 400, "orders", "invalid_input"),
        (
            "/api/v1/payments",
            format!(r#"{{"order_ids": [{order_id}], "channel": "bitcoin"}}"#),
            400,
            "channel",
            "invalid_input",
        ),
    ];
    for (path, body, status, field, kind) in &cases {
        let r = s.raw("POST", path, Some(&token), body, &[]).await;
        assert_eq!((r.status, r.kind()), (*status, *kind), "POST {path} {body}: {}", r.body);
        if !field.is_empty() {
            assert_eq!(r.field(), *field, "POST {path} {body}: {}", r.body);
            assert!(r.body["message"].as_str().unwrap().contains(field), "the message names the field: {}", r.body);
        }
        assert!(r.body["request_id"].as_str().is_some_and(|id| !id.is_empty()), "{}", r.body);
    }

    // Back office input.
    let template = |extra: &str| {
        format!(
            r#"{{"title": "t", "kind": "threshold", "scope": {{"type": "all"}}, "validity": {{"type": "days_after_claim", "days": 7}}{extra}}}"#
        )
    };
    for (body, field) in [
        (template(r#", "threshold": 100, "amount": 10.001"#), "amount"),
        (template(r#", "threshold": 100"#), "amount"),
        (template(r#", "threshold": 100, "amount": 10, "layer": "galaxy""#), "layer"),
        (template(r#", "threshold": 100, "amount": -10"#), "kind.amount"),
    ] {
        let r = s.raw("POST", "/api/v1/admin/coupon-templates", Some(&admin), &body, &[]).await;
        assert!(r.status == 400, "{body}: {}", r.body);
        assert!(
            r.field().contains(field) || r.body["error"]["detail"].as_str().unwrap().contains(field),
            "{body}: {}",
            r.body
        );
    }

    // Bad paths and queries.
    for (path, status, field) in [
        ("/api/v1/orders/abc", 400, "id"),
        ("/api/v1/orders/-1", 400, "id"),
        ("/api/v1/orders/99999999", 404, ""),
        ("/api/v1/orders?page=0", 400, "page"),
        ("/api/v1/orders?page=abc", 400, "page"),
        ("/api/v1/orders?page_size=101", 400, "page_size"),
        ("/api/v1/orders?status=lost", 400, "status"),
        ("/api/v1/orders?colour=red", 400, "colour"),
        ("/api/v1/products?sort=random", 400, "sort"),
        ("/api/v1/products?min_price=1.234", 400, "min_price"),
        ("/api/v1/nowhere", 404, ""),
    ] {
        let r = s.get(path, Some(&token)).await;
        assert_eq!(r.status, status, "GET {path}: {}", r.body);
        assert!(r.body["error"]["type"].is_string(), "GET {path}: {}", r.body);
        assert_eq!(r.field(), field, "GET {path}: {}", r.body);
    }

    // An oversized body (over 64 KiB) and a wrong content type.
    let huge = format!(r#"{{"sku_id": 11, "quantity": 1, "pad": "{}"}}"#, "x".repeat(70 * 1024));
    let (status, body) = raw_post(&s.base, "/api/v1/cart/items", &token, &huge).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("payload_too_large"), "{body}");
    let r = s
        .client
        .post(format!("{}/api/v1/cart/items", s.base))
        .bearer_auth(&token)
        .body("sku_id=11")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    // English on request.
    let r = s
        .raw(
            "POST",
            "/api/v1/cart/items",
            Some(&token),
            r#"{"sku_id": 11, "quantity": 0}"#,
            &[("accept-language", "en-US")],
        )
        .await;
    assert!(r.body["message"].as_str().unwrap().starts_with("quantity: must be at least 1"), "{}", r.body);
    let r = s.raw("POST", "/api/v1/cart/items", Some(&token), r#"{"sku_id": 11, "quantity": 0}"#, &[]).await;
    assert!(r.body["message"].as_str().unwrap().starts_with("请求参数错误"), "{}", r.body);

    // Nothing was written.
    assert_eq!(state(&s, &token).await, before);
    assert_eq!(s.get("/api/v1/admin/coupon-templates", Some(&admin)).await.data()["total"], templates_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_idempotency_key_one_order() {
    let s = support::start(false).await;
    let token = s.login("alice", "pass1234").await;
    let address = s.add_address(&token, "Alice").await;
    let body = r#"{"items": [{"sku_id": 11, "quantity": 2}], "coupon_ids": []}"#;
    let first = s.raw("POST", "/api/v1/orders", Some(&token), body, &[("Idempotency-Key", "k-1")]).await;
    let second = s.raw("POST", "/api/v1/orders", Some(&token), body, &[("Idempotency-Key", "k-1")]).await;
    assert_eq!(first.data(), second.data(), "the retry replays the first response");
    assert_eq!(second.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(s.get("/api/v1/orders", Some(&token)).await.data()["total"], 1);
    let stock = s.get("/api/v1/products/1", None).await;
    assert_eq!(stock.data()["skus"][0]["stock"]["reserved"], 2, "stock reserved once");

    let other = r#"{"items": [{"sku_id": 11, "quantity": 1}], "coupon_ids": []}"#;
    let refused = s.raw("POST", "/api/v1/orders", Some(&token), other, &[("Idempotency-Key", "k-1")]).await;
    assert_eq!((refused.status, refused.kind()), (409, "idempotency_key_reused"));

    // Another user's key space is separate.
    let bob = s.login("bob", "pass1234").await;
    let bobs_own = s.raw("POST", "/api/v1/orders", Some(&bob), other, &[]).await;
    assert_eq!((bobs_own.status, bobs_own.field()), (400, "address_id"), "no address, no order");
    let foreign = format!(r#"{{"items": [{{"sku_id": 12, "quantity": 1}}], "address_id": {address}}}"#);
    assert_eq!(s.raw("POST", "/api/v1/orders", Some(&bob), &foreign, &[]).await.status, 404, "not his address");
    s.add_address(&bob, "Bob").await;
    let bobs = s.raw("POST", "/api/v1/orders", Some(&bob), other, &[("Idempotency-Key", "k-1")]).await;
    assert_eq!(bobs.status, 200);

    // A failed request releases its key: fix the body and retry with it.
    let too_many = r#"{"items": [{"sku_id": 11, "quantity": 50}], "coupon_ids": []}"#;
    let failed = s.raw("POST", "/api/v1/orders", Some(&token), too_many, &[("Idempotency-Key", "k-2")]).await;
    assert_eq!(failed.kind(), "insufficient_stock");
    let ok = s
        .raw(
            "POST",
            "/api/v1/orders",
            Some(&token),
            too_many.replace("50", "1").as_str(),
            &[("Idempotency-Key", "k-2")],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);

    // Ten concurrent requests with one key create one payment.
    let order_id = first.data()["orders"][0]["id"].as_u64().unwrap();
    let pay = format!(r#"{{"order_ids": [{order_id}]}}"#);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let client = s.client.clone();
        let (url, token, pay) = (format!("{}/api/v1/payments", s.base), token.clone(), pay.clone());
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .bearer_auth(token)
                .header("content-type", "application/json")
                .header("Idempotency-Key", "pay-1")
                .body(pay)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            (status, body)
        }));
    }
    let mut numbers = std::collections::BTreeSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            200 => {
                numbers.insert(body["data"]["number"].as_str().unwrap().to_owned());
            }
            409 => assert_eq!(body["error"]["type"], "idempotency_key_in_progress", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(numbers.len(), 1, "one payment: {numbers:?}");
    assert_eq!(s.provider.refunded_total(), mallkit_core::Money::ZERO);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_leave_nothing_half_done() {
    let s = support::start(false).await;
    let token = s.login("alice", "pass1234").await;
    let admin = s.login("root", "pass1234").await;
    let address = s.add_address(&token, "Alice").await;

    // A cart update that fails in its second half saves nothing of its first.
    s.post("/api/v1/cart/items", Some(&token), json!({"sku_id": 12, "quantity": 2})).await.data();
    let r = s.send("PUT", "/api/v1/cart/items/11", Some(&token), Some(json!({"quantity": 0, "selected": true}))).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r =
        s.send("PUT", "/api/v1/cart/items/12", Some(&token), Some(json!({"quantity": 5000, "selected": false}))).await;
    assert_eq!((r.status, r.field()), (400, "quantity"));
    let cart = s.get("/api/v1/cart", Some(&token)).await;
    assert_eq!(
        (cart.data()["items"][0]["quantity"].as_u64(), cart.data()["items"][0]["selected"].as_bool()),
        (Some(2), Some(true))
    );

    // An idempotent retry replays the order even after its address is gone.
    let body = format!(r#"{{"items": [{{"sku_id": 12, "quantity": 1}}], "coupon_ids": [], "address_id": {address}}}"#);
    let first = s.raw("POST", "/api/v1/orders", Some(&token), &body, &[("Idempotency-Key", "addr-1")]).await;
    s.send("DELETE", &format!("/api/v1/addresses/{address}"), Some(&token), None).await.data();
    let again = s.raw("POST", "/api/v1/orders", Some(&token), &body, &[("Idempotency-Key", "addr-1")]).await;
    assert_eq!(again.data(), first.data());

    // Absurd point adjustments are refused by name, not by a crash.
    let alice_id = s.get("/api/v1/users/me", Some(&token)).await.data()["id"].as_u64().unwrap();
    for points in [i64::MAX, i64::MIN, 1_000_000_001] {
        let r = s
            .post(
                "/api/v1/admin/points/adjust",
                Some(&admin),
                json!({"user_id": alice_id, "points": points, "remark": "x"}),
            )
            .await;
        assert_eq!((r.status, r.field()), (400, "points"), "{points}: {}", r.body);
    }

    // A line paid wholly by a coupon refunds nothing: a negative amount is refused.
    let cash = json!({"title": "无门槛500", "kind": "cash", "amount": 500, "scope": {"type": "all"}, "validity": {"type": "days_after_claim", "days": 7}});
    let template = s.post("/api/v1/admin/coupon-templates", Some(&admin), cash).await.data()["id"].as_u64().unwrap();
    let coupon =
        s.post(&format!("/api/v1/coupons/templates/{template}/claim"), Some(&token), json!({})).await.data()["id"]
            .as_u64()
            .unwrap();
    s.add_address(&token, "Alice").await;
    let free = s
        .post("/api/v1/orders", Some(&token), json!({"items": [{"sku_id": 12, "quantity": 1}], "coupon_ids": [coupon]}))
        .await;
    let order = &free.data()["orders"][0];
    assert_eq!(support::yuan(&order["payable"]), support::money("0.00"));
    let order_id = order["id"].as_u64().unwrap();
    s.post("/api/v1/payments", Some(&token), json!({"order_ids": [order_id]})).await.data();
    let negative = json!({"order_id": order_id, "kind": "refund_only", "lines": [{"line_no": 1, "quantity": 1, "amount": -5}], "reason": "x"});
    let r = s.post("/api/v1/after-sales", Some(&token), negative).await;
    assert_eq!((r.status, r.field()), (400, "lines[0].amount"), "{}", r.body);
    assert_eq!(s.get("/api/v1/after-sales", Some(&token)).await.data()["total"], 0);

    // Staff who shop read their own orders through the customer endpoint, and only those.
    let staff = s.login("xiaomi", "pass1234").await;
    s.add_address(&staff, "店长").await;
    let own = s
        .post("/api/v1/orders", Some(&staff), json!({"items": [{"sku_id": 12, "quantity": 1}], "coupon_ids": []}))
        .await;
    let own_id = own.data()["orders"][0]["id"].as_u64().unwrap();
    assert_eq!(s.get(&format!("/api/v1/orders/{own_id}"), Some(&staff)).await.status, 200);
    assert_eq!(
        s.get(&format!("/api/v1/orders/{order_id}"), Some(&admin)).await.status,
        404,
        "admins use the back office"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_fields_inside_core_shapes_are_refused() {
    let s = support::start(false).await;
    let admin = s.login("root", "pass1234").await;
    let tier = json!({"level": 4, "name": "钻石会员", "min_points": 20000, "bogus": 1});
    let r = s.send("PUT", "/api/v1/admin/tiers/4", Some(&admin), Some(tier)).await;
    assert_eq!((r.status, r.field()), (400, "bogus"), "{}", r.body);
    for (body, field) in [
        (
            json!({"title": "t", "kind": "cash", "amount": 1, "scope": {"type": "all", "x": 1}, "validity": {"type": "days_after_claim", "days": 7}}),
            "scope.x",
        ),
        (
            json!({"title": "t", "kind": "cash", "amount": 1, "scope": {"type": "all"}, "validity": {"type": "days_after_claim", "days": 7, "x": 1}}),
            "validity.x",
        ),
    ] {
        let r = s.post("/api/v1/admin/coupon-templates", Some(&admin), body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(r.field().starts_with(field.split('.').next().unwrap()), "{body}: {}", r.body);
    }
    assert_eq!(s.get("/api/v1/admin/tiers", Some(&admin)).await.data().as_array().unwrap().len(), 1);
    assert_eq!(s.get("/api/v1/admin/coupon-templates", Some(&admin)).await.data()["total"], 1);
}
