//! The access-control matrix: every endpoint that reads or changes an owned
//! resource, tried with another customer's token and with no token; every
//! back-office endpoint with a customer's token (and the admin ones with a
//! merchant's). Each answer is 401, 403 or 404 as fits, and afterwards the
//! owner sees exactly what they saw before.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use serde_json::{Value, json};

struct Fixture {
    order: u64,
    payment: String,
    address: u64,
    case: u64,
    coupon: u64,
    alice_id: u64,
}

async fn alice_owns_everything(s: &support::Server, alice: &str) -> Fixture {
    let address = s
        .post(
            "/api/v1/addresses",
            Some(alice),
            json!({"receiver": "张三", "phone": "13800000001", "province": "广东省", "city": "深圳市", "district": "南山区", "detail": "科技园路1号"}),
        )
        .await;
    let coupon =
        s.post("/api/v1/coupons/templates/1/claim", Some(alice), json!({})).await.data()["id"].as_u64().unwrap();
    let order = s
        .post("/api/v1/orders", Some(alice), json!({"items": [{"sku_id": 11, "quantity": 1}], "coupon_ids": []}))
        .await;
    let order_id = order.data()["orders"][0]["id"].as_u64().unwrap();
    let pay = s.post("/api/v1/payments", Some(alice), json!({"order_ids": [order_id]})).await;
    let case = s
        .post(
            "/api/v1/after-sales",
            Some(alice),
            json!({"order_id": order_id, "kind": "refund_only", "lines": [{"line_no": 1, "quantity": 1}], "reason": "不想要了"}),
        )
        .await;
    Fixture {
        order: order_id,
        payment: pay.data()["number"].as_str().unwrap().to_owned(),
        address: address.data()["id"].as_u64().unwrap(),
        case: case.data()["id"].as_u64().unwrap(),
        coupon,
        alice_id: s.get("/api/v1/users/me", Some(alice)).await.data()["id"].as_u64().unwrap(),
    }
}

/// Everything alice can read about herself.
async fn alice_view(s: &support::Server, alice: &str, f: &Fixture) -> Vec<Value> {
    let mut out = Vec::new();
    for path in [
        format!("/api/v1/orders/{}", f.order),
        format!("/api/v1/payments/{}", f.payment),
        format!("/api/v1/addresses/{}", f.address),
        format!("/api/v1/after-sales/{}", f.case),
        "/api/v1/coupons/mine".to_owned(),
        "/api/v1/points".to_owned(),
        "/api/v1/cart".to_owned(),
        "/api/v1/orders".to_owned(),
        "/api/v1/after-sales".to_owned(),
        "/api/v1/addresses".to_owned(),
    ] {
        out.push(s.get(&path, Some(alice)).await.data().clone());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_reaches_what_is_not_theirs() {
    let s = support::start(false).await;
    let alice = s.login("alice", "pass1234").await;
    let bob = s.login("bob", "pass1234").await;
    let prada = s.login("prada", "pass1234").await;
    let xiaomi = s.login("xiaomi", "pass1234").await;
    let f = alice_owns_everything(&s, &alice).await;
    let before = alice_view(&s, &alice, &f).await;
    let (o, c, a, p) = (f.order, f.case, f.address, &f.payment);
    let address = json!({"receiver": "Bob", "phone": "13800000002", "province": "x", "city": "x", "district": "x", "detail": "x"});

    // Owned by alice: bob gets 404 (the resource is not his; nothing says it exists), no token gets 401.
    let owned: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/api/v1/orders/{o}"), None),
        ("POST", format!("/api/v1/orders/{o}/cancel"), Some(json!({"reason": "x"}))),
        ("POST", format!("/api/v1/orders/{o}/confirm"), Some(json!({}))),
        ("POST", "/api/v1/payments".into(), Some(json!({"order_ids": [o]}))),
        ("GET", format!("/api/v1/payments/{p}"), None),
        ("GET", format!("/api/v1/addresses/{a}"), None),
        ("PUT", format!("/api/v1/addresses/{a}"), Some(address.clone())),
        ("DELETE", format!("/api/v1/addresses/{a}"), None),
        ("PUT", format!("/api/v1/addresses/{a}/default"), None),
        ("GET", format!("/api/v1/after-sales/{c}"), None),
        ("POST", format!("/api/v1/after-sales/{c}/cancel"), Some(json!({}))),
        ("POST", format!("/api/v1/after-sales/{c}/ship-back"), Some(json!({"tracking_no": "X1"}))),
        (
            "POST",
            "/api/v1/after-sales".into(),
            Some(
                json!({"order_id": o, "kind": "refund_only", "lines": [{"line_no": 1, "quantity": 1}], "reason": "x"}),
            ),
        ),
        ("POST", "/api/v1/coupons/validate".into(), Some(json!({"coupon_id": f.coupon, "amount": 500}))),
        (
            "POST",
            "/api/v1/checkout/preview".into(),
            Some(json!({"items": [{"sku_id": 12, "quantity": 1}], "coupon_ids": [f.coupon]})),
        ),
    ];
    for (method, path, body) in &owned {
        let other = s.send(method, path, Some(&bob), body.clone()).await;
        assert_eq!(other.status, 404, "{method} {path} as bob: {}", other.body);
        assert_eq!(other.body["code"], 4003);
        let text = other.body.to_string();
        assert!(!text.contains("张三") && !text.contains("不想要了"), "{method} {path} leaked: {text}");
        let anonymous = s.send(method, path, None, body.clone()).await;
        assert_eq!((anonymous.status, anonymous.kind()), (401, "unauthenticated"), "{method} {path} without a token");
    }

    // Bob's own lists hold nothing of alice's.
    for path in ["/api/v1/orders", "/api/v1/after-sales", "/api/v1/coupons/mine"] {
        assert_eq!(s.get(path, Some(&bob)).await.data()["total"], 0, "{path}");
    }
    assert_eq!(s.get("/api/v1/addresses", Some(&bob)).await.data(), &json!([]));

    // Every customer endpoint needs a token.
    for (method, path) in [
        ("GET", "/api/v1/users/me"),
        ("PUT", "/api/v1/users/me"),
        ("PUT", "/api/v1/users/me/password"),
        ("GET", "/api/v1/cart"),
        ("POST", "/api/v1/cart/items"),
        ("DELETE", "/api/v1/cart"),
        ("GET", "/api/v1/coupons/market"),
        ("POST", "/api/v1/coupons/templates/1/claim"),
        ("GET", "/api/v1/points"),
        ("GET", "/api/v1/points/ledger"),
        ("GET", "/api/v1/member"),
        ("POST", "/api/v1/orders"),
        ("POST", "/api/v1/auth/logout"),
    ] {
        let r = s.send(method, path, None, Some(json!({}))).await;
        assert_eq!(r.status, 401, "{method} {path} without a token");
        let r = s.send(method, path, Some("not-a-token"), Some(json!({}))).await;
        assert_eq!(r.status, 401, "{method} {path} with a made-up token");
    }

    // Back office: a customer gets 403 everywhere.
    let staff: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/api/v1/admin/orders?merchant_id=1".into(), None),
        ("GET", "/api/v1/admin/after-sales?merchant_id=1".into(), None),
        ("POST", format!("/api/v1/admin/orders/{o}/ship"), Some(json!({"carrier": "SF", "tracking_no": "1"}))),
        ("GET", format!("/api/v1/admin/after-sales/{c}"), None),
        ("POST", format!("/api/v1/admin/after-sales/{c}/steps"), Some(json!({"action": "approve"}))),
        ("POST", format!("/api/v1/admin/after-sales/{c}/refund"), Some(json!({}))),
    ];
    let admin_only: Vec<(&str, String, Option<Value>)> = vec![
        (
            "POST",
            "/api/v1/admin/coupon-templates".into(),
            Some(
                json!({"title": "x", "kind": "cash", "amount": 1, "scope": {"type": "all"}, "validity": {"type": "days_after_claim", "days": 7}}),
            ),
        ),
        ("GET", "/api/v1/admin/coupon-templates".into(), None),
        ("PUT", "/api/v1/admin/coupon-templates/1/status".into(), Some(json!({"status": "disabled"}))),
        ("GET", "/api/v1/admin/coupon-templates/1/claims".into(), None),
        (
            "POST",
            "/api/v1/admin/points/adjust".into(),
            Some(json!({"user_id": f.alice_id, "points": 100, "remark": "x"})),
        ),
        ("GET", format!("/api/v1/admin/points/ledger?user_id={}", f.alice_id), None),
        ("GET", "/api/v1/admin/tiers".into(), None),
        ("PUT", "/api/v1/admin/tiers/1".into(), Some(json!({"level": 1, "name": "x", "min_points": 0}))),
        ("GET", "/api/v1/admin/customers".into(), None),
        ("GET", format!("/api/v1/admin/customers/{}", f.alice_id), None),
        ("POST", format!("/api/v1/admin/customers/{}/freeze", f.alice_id), Some(json!({}))),
        ("POST", format!("/api/v1/admin/customers/{}/unfreeze", f.alice_id), Some(json!({}))),
    ];
    let catalog_edit: Vec<(&str, String, Option<Value>)> = vec![
        (
            "POST",
            "/api/v1/admin/products".into(),
            Some(json!({"category_id": 1, "name": "x", "skus": [{"price": 1, "stock": 1}]})),
        ),
        ("PUT", "/api/v1/admin/products/1".into(), Some(json!({"name": "x"}))),
        ("PUT", "/api/v1/admin/products/1/status".into(), Some(json!({"status": "off_sale"}))),
        ("POST", "/api/v1/admin/products/1/skus".into(), Some(json!({"price": 1, "stock": 1}))),
        ("PUT", "/api/v1/admin/skus/11".into(), Some(json!({"price": 1}))),
        ("POST", "/api/v1/admin/skus/11/stock".into(), Some(json!({"change": -5, "reason": "x"}))),
    ];
    for (method, path, body) in staff.iter().chain(&admin_only).chain(&catalog_edit) {
        let r = s.send(method, path, Some(&alice), body.clone()).await;
        assert_eq!((r.status, r.kind()), (403, "forbidden"), "{method} {path} as a customer: {}", r.body);
        assert_eq!(r.body["code"], 4002);
        assert_eq!(s.send(method, path, None, body.clone()).await.status, 401, "{method} {path} without a token");
    }
    // Merchant staff are not admins.
    for (method, path, body) in &admin_only {
        let r = s.send(method, path, Some(&prada), body.clone()).await;
        assert_eq!(r.status, 403, "{method} {path} as a merchant: {}", r.body);
    }
    // Another merchant does not see Prada's order or case.
    for (method, path, body) in &staff[..2] {
        let r = s.send(method, path, Some(&xiaomi), body.clone()).await;
        assert_eq!(r.status, 403, "{method} {path} as another merchant: {}", r.body);
    }
    let own = s.get("/api/v1/admin/orders", Some(&xiaomi)).await;
    assert_eq!(own.data()["total"], 0, "xiaomi's own list holds none of Prada's orders");
    let queue = s.get("/api/v1/admin/after-sales?status=requested", Some(&prada)).await;
    assert_eq!(queue.data()["items"][0]["id"].as_u64(), Some(c), "Prada's queue holds the case");
    let to_ship = s.get("/api/v1/admin/orders?status=awaiting_shipment", Some(&prada)).await;
    assert_eq!(to_ship.data()["items"][0]["id"].as_u64(), Some(o));
    for (method, path, body) in &staff[2..] {
        let r = s.send(method, path, Some(&xiaomi), body.clone()).await;
        assert_eq!(r.status, 404, "{method} {path} as another merchant: {}", r.body);
    }

    // Another merchant cannot touch Prada's catalog (SKU 11 is Prada's bag).
    for (method, path, body) in &catalog_edit[1..] {
        let r = s.send(method, path, Some(&xiaomi), body.clone()).await;
        assert_eq!(r.status, 404, "{method} {path} as another merchant: {}", r.body);
    }
    let bag = s.get("/api/v1/products/1", None).await;
    assert_eq!(
        (bag.data()["product"]["name"].as_str(), bag.data()["product"]["status"].as_str()),
        (Some("Prada 手袋"), Some("on_sale"))
    );
    assert_eq!(bag.data()["skus"][0]["stock"], json!({"available": 4, "reserved": 0, "sold": 1}));

    // Nothing changed for alice.
    assert_eq!(alice_view(&s, &alice, &f).await, before);
    // ...and the rightful merchant can still act.
    let approved =
        s.post(&format!("/api/v1/admin/after-sales/{c}/steps"), Some(&prada), json!({"action": "approve"})).await;
    assert_eq!(approved.data()["status"], "approved");
}
