//! The buyer's whole journey over a real socket: register, log in, browse,
//! cart, claim, preview (best coupon), order with points, pay, ship,
//! confirm (points earned), return-and-refund through every step, and the
//! points and stock that come back (DESIGN §8).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use serde_json::json;
use support::{money, yuan};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_to_refund() {
    let s = support::start(false).await;

    // register and log in (by phone)
    let reg = s
        .post(
            "/api/v1/auth/register",
            None,
            json!({"username": "carol", "password": "carol2024", "phone": "13912345678", "nickname": "卡罗"}),
        )
        .await;
    assert_eq!(reg.data()["username"], "carol");
    assert!(reg.data().get("password_hash").is_none(), "the hash never leaves the server");
    let token = s.login("13912345678", "carol2024").await;
    let me = s.get("/api/v1/users/me", Some(&token)).await;
    assert_eq!(me.data()["nickname"], "卡罗");
    let carol = me.data()["id"].as_u64().unwrap();
    s.add_address(&token, "卡罗").await;

    // browse: the category tree, products under 服饰箱包 (and its child 手袋) by price
    let tree = s.get("/api/v1/categories", None).await;
    assert_eq!(tree.data()[0]["name"], "服饰箱包");
    assert_eq!(tree.data()[0]["children"][0]["name"], "手袋");
    let list = s.get("/api/v1/products?category_id=1&sort=price_asc", None).await;
    let names: Vec<&str> =
        list.data()["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Prada T恤", "Prada 手袋"]);
    assert_eq!(list.data()["total"], 2);
    let detail = s.get("/api/v1/products/1", None).await;
    assert_eq!(yuan(&detail.data()["skus"][0]["price"]), money("300.00"));

    // cart
    s.post("/api/v1/cart/items", Some(&token), json!({"sku_id": 11, "quantity": 1})).await.data();
    let cart = s.post("/api/v1/cart/items", Some(&token), json!({"sku_id": 12, "quantity": 1})).await;
    assert_eq!(yuan(&cart.data()["selected_subtotal"]), money("399.00"));

    // claim 满299减30; the market then says is_received
    let claimed = s.post("/api/v1/coupons/templates/1/claim", Some(&token), json!({})).await;
    let coupon = claimed.data()["id"].as_u64().unwrap();
    let market = s.get("/api/v1/coupons/market", Some(&token)).await;
    assert_eq!(market.data()[0]["is_received"], true);

    // points to spend: an admin grants 5,000
    let admin = s.login("root", "pass1234").await;
    let adjust = s
        .post(
            "/api/v1/admin/points/adjust",
            Some(&admin),
            json!({"user_id": carol, "points": 5000, "remark": "welcome"}),
        )
        .await;
    assert_eq!(adjust.data()["account"]["balance"], 5000);

    // preview: the best coupon is chosen by itself
    let preview = s.post("/api/v1/checkout/preview", Some(&token), json!({"points": 1000})).await;
    let p = preview.data();
    assert_eq!(p["optimal_coupon"].as_u64(), Some(coupon));
    assert_eq!(yuan(&p["quote"]["goods_subtotal"]), money("399.00"));
    assert_eq!(yuan(&p["quote"]["coupon_discount"]), money("30.00"));
    assert_eq!(yuan(&p["quote"]["points_deduction"]), money("10.00"));
    assert_eq!(yuan(&p["quote"]["payable"]), money("359.00"));

    // order from the cart with 1,000 points: stock reserved, points frozen
    let order = s
        .raw(
            "POST",
            "/api/v1/orders",
            Some(&token),
            r#"{"points": 1000, "remark": "请尽快发货"}"#,
            &[("Idempotency-Key", "order-1")],
        )
        .await;
    let order_id = order.data()["orders"][0]["id"].as_u64().unwrap();
    assert_eq!(yuan(&order.data()["orders"][0]["payable"]), money("359.00"));
    assert_eq!(order.data()["orders"][0]["shipping_address"]["receiver"], "卡罗");
    let points = s.get("/api/v1/points", Some(&token)).await;
    assert_eq!(
        (points.data()["account"]["balance"].as_i64(), points.data()["account"]["frozen"].as_i64()),
        (Some(4000), Some(1000))
    );
    assert_eq!(
        s.get("/api/v1/cart", Some(&token)).await.data()["items"].as_array().unwrap().len(),
        0,
        "bought lines leave the cart"
    );

    // pay (simulated, instant)
    let pay = s.post("/api/v1/payments", Some(&token), json!({"order_ids": [order_id]})).await;
    assert_eq!(pay.data()["status"], "succeeded");
    assert_eq!(yuan(&pay.data()["amount"]), money("359.00"));
    let number = pay.data()["number"].as_str().unwrap().to_owned();
    assert_eq!(s.get(&format!("/api/v1/payments/{number}"), Some(&token)).await.data()["status"], "succeeded");

    // the merchant ships
    let merchant = s.login("prada", "pass1234").await;
    let shipped = s
        .post(
            &format!("/api/v1/admin/orders/{order_id}/ship"),
            Some(&merchant),
            json!({"carrier": "SF", "tracking_no": "SF1234567890"}),
        )
        .await;
    assert_eq!(shipped.data()["status"], "shipped");

    // the buyer confirms and earns 1 point per yuan of goods paid (359.00)
    let confirmed = s.post(&format!("/api/v1/orders/{order_id}/confirm"), Some(&token), json!({})).await;
    assert_eq!(confirmed.data()["points_earned"], 359);
    let history: Vec<&str> =
        confirmed.data()["order"]["history"].as_array().unwrap().iter().map(|h| h["to"].as_str().unwrap()).collect();
    assert_eq!(history, ["pending_payment", "awaiting_shipment", "shipped", "completed"]);
    let points = s.get("/api/v1/points", Some(&token)).await;
    assert_eq!(points.data()["account"]["balance"], 4359);

    // return the T-shirt (line 2): its payable after allocation is 89.08
    let line2 = &confirmed.data()["order"]["lines"][1];
    assert_eq!(line2["sku"], 12);
    assert_eq!(yuan(&line2["payable"]), money("89.08"));
    assert_eq!(line2["points_used"], 248);
    let case = s
        .raw(
            "POST",
            "/api/v1/after-sales",
            Some(&token),
            &json!({"order_id": order_id, "kind": "return_and_refund", "lines": [{"line_no": 2, "quantity": 1}], "reason": "尺码不合适"}).to_string(),
            &[("Idempotency-Key", "return-1")],
        )
        .await;
    let case_id = case.data()["id"].as_u64().unwrap();
    assert_eq!(case.data()["status"], "requested");
    assert_eq!(yuan(&case.data()["refund_amount"]), money("89.08"));
    let step = |action: &'static str| json!({"action": action, "note": "ok"});
    assert_eq!(
        s.post(&format!("/api/v1/admin/after-sales/{case_id}/steps"), Some(&merchant), step("approve")).await.data()["status"],
        "approved"
    );
    let back = s
        .post(&format!("/api/v1/after-sales/{case_id}/ship-back"), Some(&token), json!({"tracking_no": "YT998877"}))
        .await;
    assert_eq!(back.data()["return_tracking_no"], "YT998877");
    assert_eq!(back.data()["status"], "awaiting_return");
    assert_eq!(
        s.post(&format!("/api/v1/admin/after-sales/{case_id}/steps"), Some(&merchant), step("receive")).await.data()["status"],
        "received"
    );
    let refunded = s.post(&format!("/api/v1/admin/after-sales/{case_id}/refund"), Some(&merchant), json!({})).await;
    assert_eq!(refunded.data()["status"], "refunded");
    let actions: Vec<&str> =
        refunded.data()["logs"].as_array().unwrap().iter().map(|l| l["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["apply", "approve", "ship_back", "receive", "refund"]);
    assert_eq!(s.provider.refunded_total(), money("89.08"), "the provider refunded exactly once");

    // points: 248 redeemed come back, 89 of the 359 earned are taken back (89.08 of 359.00 refunded)
    let points = s.get("/api/v1/points", Some(&token)).await;
    assert_eq!(points.data()["account"]["balance"], 4359 + 248 - 89);
    let ledger = s.get("/api/v1/points/ledger", Some(&token)).await;
    let newest: Vec<(&str, i64)> = ledger.data()["items"].as_array().unwrap()[..2]
        .iter()
        .map(|r| (r["action"].as_str().unwrap(), r["points"].as_i64().unwrap()))
        .collect();
    assert!(newest.contains(&("return", 248)) && newest.contains(&("reverse", 89)), "{newest:?}");

    // stock: the returned T-shirt is back on the shelf; the bag stays sold
    let tee = s.get("/api/v1/products/2", None).await;
    assert_eq!(tee.data()["skus"][0]["stock"], json!({"available": 100, "reserved": 0, "sold": 0}));
    let bag = s.get("/api/v1/products/1", None).await;
    assert_eq!(bag.data()["skus"][0]["stock"], json!({"available": 4, "reserved": 0, "sold": 1}));

    // the order stays completed with one line refunded
    let order = s.get(&format!("/api/v1/orders/{order_id}"), Some(&token)).await;
    assert_eq!(order.data()["status"], "completed");
    assert_eq!(yuan(&order.data()["refunded_total"]), money("89.08"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_refresh_logout_and_reset() {
    let s = support::start(false).await;
    let login = s.post("/api/v1/auth/login", None, json!({"login": "alice", "password": "pass1234"})).await;
    let access = login.data()["access_token"].as_str().unwrap().to_owned();
    let refresh = login.data()["refresh_token"].as_str().unwrap().to_owned();

    // wrong password and unknown login read the same
    let wrong = s.post("/api/v1/auth/login", None, json!({"login": "alice", "password": "nope12345"})).await;
    let unknown = s.post("/api/v1/auth/login", None, json!({"login": "nobody", "password": "nope12345"})).await;
    assert_eq!((wrong.status, wrong.kind()), (401, "invalid_credentials"));
    assert_eq!((unknown.status, unknown.kind()), (401, "invalid_credentials"));

    // refresh: a new pair; the old refresh token works once only
    let renewed = s.post("/api/v1/auth/refresh", None, json!({"refresh_token": refresh})).await;
    let access2 = renewed.data()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(s.post("/api/v1/auth/refresh", None, json!({"refresh_token": refresh})).await.status, 401);
    assert_eq!(s.get("/api/v1/users/me", Some(&access)).await.status, 401, "the refreshed session is over");
    assert_eq!(s.get("/api/v1/users/me", Some(&access2)).await.status, 200);

    // logout
    s.post("/api/v1/auth/logout", Some(&access2), json!({})).await.data();
    assert_eq!(s.get("/api/v1/users/me", Some(&access2)).await.status, 401);

    // forgot password: the code goes to the development SMS sink
    s.post("/api/v1/auth/password/forgot", None, json!({"phone": "13800000001"})).await.data();
    let again = s.post("/api/v1/auth/password/forgot", None, json!({"phone": "13800000001"})).await;
    assert_eq!((again.status, again.kind()), (429, "too_many_requests"));
    // A phone without an account answers exactly the same.
    s.post("/api/v1/auth/password/forgot", None, json!({"phone": "13900000009"})).await.data();
    let unknown = s.post("/api/v1/auth/password/forgot", None, json!({"phone": "13900000009"})).await;
    assert_eq!((unknown.status, unknown.kind()), (429, "too_many_requests"));
    assert_eq!(s.sms.last_code("13900000009"), None, "and gets no SMS");
    let code = s.sms.last_code("13800000001").unwrap();
    let bad = s
        .post(
            "/api/v1/auth/password/reset",
            None,
            json!({"phone": "13800000001", "code": "000000x", "new_password": "fresh2024"}),
        )
        .await;
    assert_eq!(bad.kind(), "verification_code_invalid");
    s.post(
        "/api/v1/auth/password/reset",
        None,
        json!({"phone": "13800000001", "code": code, "new_password": "fresh2024"}),
    )
    .await
    .data();
    let reused = s
        .post(
            "/api/v1/auth/password/reset",
            None,
            json!({"phone": "13800000001", "code": code, "new_password": "other2024"}),
        )
        .await;
    assert_eq!(reused.kind(), "verification_code_invalid", "a code works once");
    assert_eq!(s.post("/api/v1/auth/login", None, json!({"login": "alice", "password": "pass1234"})).await.status, 401);
    s.login("alice", "fresh2024").await;

    // Five wrong passwords lock the account (the right one too) for 15 minutes, by any of its logins.
    let dave = json!({"username": "dave", "password": "dave2024x", "phone": "13700000007"});
    s.post("/api/v1/auth/register", None, dave).await.data();
    for _ in 0..5 {
        let wrong = s.post("/api/v1/auth/login", None, json!({"login": "13700000007", "password": "guess1234"})).await;
        assert_eq!(wrong.status, 401);
    }
    for login in ["13700000007", "dave"] {
        let locked = s.post("/api/v1/auth/login", None, json!({"login": login, "password": "dave2024x"})).await;
        assert_eq!((locked.status, locked.kind()), (429, "too_many_requests"), "{login}");
    }

    // WeChat-style login creates the account once
    let first = s.post("/api/v1/auth/wechat", None, json!({"code": "dev:wx_alice"})).await;
    let second = s.post("/api/v1/auth/wechat", None, json!({"code": "dev:wx_alice"})).await;
    assert_eq!(first.data()["user"]["id"], second.data()["user"]["id"]);
    assert_eq!(s.post("/api/v1/auth/wechat", None, json!({"code": "forged"})).await.status, 401);

    // an admin freezes bob: his token stops working and he cannot log in
    let bob = s.login("bob", "pass1234").await;
    let admin = s.login("root", "pass1234").await;
    let bob_id = s.get("/api/v1/users/me", Some(&bob)).await.data()["id"].as_u64().unwrap();
    let frozen = s.post(&format!("/api/v1/admin/customers/{bob_id}/freeze"), Some(&admin), json!({})).await;
    assert_eq!(frozen.data()["status"], "frozen");
    assert_eq!(s.get("/api/v1/users/me", Some(&bob)).await.status, 401);
    let refused = s.post("/api/v1/auth/login", None, json!({"login": "bob", "password": "pass1234"})).await;
    assert_eq!((refused.status, refused.kind()), (403, "user_frozen"));
    s.post(&format!("/api/v1/admin/customers/{bob_id}/unfreeze"), Some(&admin), json!({})).await.data();
    s.login("bob", "pass1234").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addresses_keep_one_default() {
    let s = support::start(false).await;
    let token = s.login("alice", "pass1234").await;
    let address = |receiver: &str| json!({"receiver": receiver, "phone": "13800000001", "province": "广东省", "city": "深圳市", "district": "南山区", "detail": "科技园路1号"});
    let first = s.post("/api/v1/addresses", Some(&token), address("张三")).await;
    assert_eq!(first.data()["is_default"], true, "the first address is the default");
    let second = s.post("/api/v1/addresses", Some(&token), address("李四")).await;
    assert_eq!(second.data()["is_default"], false);
    let second_id = second.data()["id"].as_u64().unwrap();
    s.send("PUT", &format!("/api/v1/addresses/{second_id}/default"), Some(&token), None).await.data();
    let list = s.get("/api/v1/addresses", Some(&token)).await;
    let defaults: Vec<(&str, bool)> = list
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["receiver"].as_str().unwrap(), a["is_default"].as_bool().unwrap()))
        .collect();
    assert_eq!(defaults, [("李四", true), ("张三", false)]);
    s.send("DELETE", &format!("/api/v1/addresses/{second_id}"), Some(&token), None).await.data();
    let list = s.get("/api/v1/addresses", Some(&token)).await;
    assert_eq!(list.data()[0]["receiver"], "张三");
    assert_eq!(list.data()[0]["is_default"], true, "deleting the default promotes the oldest");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_callback_pays_once() {
    let s = support::start(true).await;
    let token = s.login("alice", "pass1234").await;
    s.add_address(&token, "Alice").await;
    let order = s
        .post("/api/v1/orders", Some(&token), json!({"items": [{"sku_id": 12, "quantity": 2}], "coupon_ids": []}))
        .await;
    let order_id = order.data()["orders"][0]["id"].as_u64().unwrap();
    let pay = s.post("/api/v1/payments", Some(&token), json!({"order_ids": [order_id]})).await;
    assert_eq!(pay.data()["status"], "pending");
    let number = pay.data()["number"].as_str().unwrap();
    let body =
        json!({"payment_no": number, "provider_txn": "SIM-1", "amount": 198.00, "status": "success"}).to_string();
    let signature = mallkit_http::crypto::sign(support::CALLBACK_KEY, body.as_bytes());

    let forged =
        s.raw("POST", "/api/v1/payments/callback/simulated", None, &body, &[("x-mallkit-signature", "00")]).await;
    assert_eq!((forged.status, forged.kind()), (401, "bad_signature"));
    let wrong_amount =
        json!({"payment_no": number, "provider_txn": "SIM-1", "amount": "1.00", "status": "success"}).to_string();
    let sig = mallkit_http::crypto::sign(support::CALLBACK_KEY, wrong_amount.as_bytes());
    let mismatch = s
        .raw("POST", "/api/v1/payments/callback/simulated", None, &wrong_amount, &[("x-mallkit-signature", &sig)])
        .await;
    assert_eq!((mismatch.status, mismatch.kind()), (409, "payment_amount_mismatch"));

    for _ in 0..2 {
        let ok = s
            .raw("POST", "/api/v1/payments/callback/simulated", None, &body, &[("x-mallkit-signature", &signature)])
            .await;
        assert_eq!(ok.data()["status"], "succeeded");
    }
    let other = json!({"payment_no": number, "provider_txn": "SIM-2", "amount": 198, "status": "success"}).to_string();
    let sig = mallkit_http::crypto::sign(support::CALLBACK_KEY, other.as_bytes());
    let twice =
        s.raw("POST", "/api/v1/payments/callback/simulated", None, &other, &[("x-mallkit-signature", &sig)]).await;
    assert_eq!((twice.status, twice.kind()), (409, "payment_already_confirmed"));
    let order = s.get(&format!("/api/v1/orders/{order_id}"), Some(&token)).await;
    assert_eq!(order.data()["status"], "awaiting_shipment");
    assert_eq!(order.data()["history"].as_array().unwrap().len(), 2, "paid once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_ready_spec_and_offline_docs() {
    let s = support::start(false).await;
    assert_eq!(s.get("/health", None).await.data()["status"], "ok");
    assert_eq!(s.get("/ready", None).await.data()["status"], "ok");
    let spec = s.get("/openapi.json", None).await;
    assert_eq!(spec.status, 200);
    assert_eq!(
        spec.body,
        serde_json::to_value(mallkit_http::openapi()).unwrap(),
        "the served spec is the generated one"
    );
    // Swagger UI is vendored: the page and its script come from this server.
    let page = s.client.get(format!("{}/docs/", s.base)).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("https://"), "no external asset: {html}");
    let script = s.client.get(format!("{}/docs/swagger-ui-bundle.js", s.base)).send().await.unwrap();
    assert_eq!(script.status().as_u16(), 200);
    assert!(script.text().await.unwrap().len() > 100_000);
    // Every response carries a request id.
    let r = s.client.get(format!("{}/health", s.base)).send().await.unwrap();
    assert!(r.headers().get("x-request-id").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merchants_edit_their_own_catalog() {
    let s = support::start(false).await;
    let prada = s.login("prada", "pass1234").await;
    let xiaomi = s.login("xiaomi", "pass1234").await;
    let admin = s.login("root", "pass1234").await;
    let alice = s.login("alice", "pass1234").await;
    s.add_address(&alice, "Alice").await;

    // create: a bag with two colours
    let created = s
        .post(
            "/api/v1/admin/products",
            Some(&prada),
            json!({"category_id": 2, "name": "Prada 新款托特包", "skus": [
                {"attributes": {"颜色": "黑色"}, "price": 500, "stock": 3},
                {"attributes": {"颜色": "白色"}, "price": "520.50", "original_price": 600, "stock": 0}
            ]}),
        )
        .await;
    let product = created.data()["product"]["id"].as_u64().unwrap();
    assert_eq!(created.data()["product"]["merchant"], 1, "merchant staff create for their own merchant");
    let black = created.data()["skus"][0]["id"].as_u64().unwrap();
    assert_eq!(yuan(&created.data()["summary"]["max_price"]), money("520.50"));
    let listed = s.get("/api/v1/products?keyword=托特", None).await;
    assert_eq!(listed.data()["total"], 1);

    // who may: another merchant sees nothing, a customer is forbidden, an admin must name the merchant
    let rename = json!({"name": "改名"});
    assert_eq!(
        s.send("PUT", &format!("/api/v1/admin/products/{product}"), Some(&xiaomi), Some(rename.clone())).await.status,
        404
    );
    assert_eq!(
        s.send("PUT", &format!("/api/v1/admin/products/{product}"), Some(&alice), Some(rename)).await.status,
        403
    );
    let stock = json!({"change": 5, "reason": "入库"});
    assert_eq!(s.post(&format!("/api/v1/admin/skus/{black}/stock"), Some(&xiaomi), stock).await.status, 404);
    let anonymous =
        s.post("/api/v1/admin/products", Some(&admin), json!({"category_id": 2, "name": "x", "skus": []})).await;
    assert_eq!((anonymous.status, anonymous.field()), (400, "merchant_id"));
    let stolen = s
        .post(
            "/api/v1/admin/products",
            Some(&xiaomi),
            json!({"merchant_id": 1, "category_id": 2, "name": "x", "skus": [{"price": 1, "stock": 1}]}),
        )
        .await;
    assert_eq!(stolen.status, 403, "{}", stolen.body);
    for (body, field) in [
        (json!({"category_id": 2, "name": "x", "skus": [{"price": -1, "stock": 1}]}), "price"),
        (json!({"category_id": 2, "name": "x", "skus": [{"price": 1, "stock": 2000000}]}), "skus[0].stock"),
        (json!({"category_id": 99, "name": "x", "skus": [{"price": 1, "stock": 1}]}), "category_id"),
        (json!({"category_id": 2, "name": "", "skus": [{"price": 1, "stock": 1}]}), "name"),
        (json!({"category_id": 2, "name": "x", "skus": [{"price": 1.001, "stock": 1}]}), "skus[0].price"),
    ] {
        let r = s.post("/api/v1/admin/products", Some(&prada), body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.field(), field, "{body}: {}", r.body);
    }

    // an order reserves 2; stock adjustments touch only what is available
    let order = s
        .post("/api/v1/orders", Some(&alice), json!({"items": [{"sku_id": black, "quantity": 2}], "coupon_ids": []}))
        .await;
    let order_id = order.data()["orders"][0]["id"].as_u64().unwrap();
    let short = s
        .post(&format!("/api/v1/admin/skus/{black}/stock"), Some(&prada), json!({"change": -2, "reason": "报损"}))
        .await;
    assert_eq!((short.status, short.kind()), (409, "insufficient_stock"));
    let off = s
        .post(&format!("/api/v1/admin/skus/{black}/stock"), Some(&prada), json!({"change": -1, "reason": "报损"}))
        .await;
    assert_eq!(off.data()["stock"], json!({"available": 0, "reserved": 2, "sold": 0}));
    let on = s
        .post(&format!("/api/v1/admin/skus/{black}/stock"), Some(&prada), json!({"change": 10, "reason": "入库"}))
        .await;
    assert_eq!(on.data()["stock"], json!({"available": 10, "reserved": 2, "sold": 0}));

    // a new price applies from now on; the placed order keeps its own
    let repriced =
        s.send("PUT", &format!("/api/v1/admin/skus/{black}"), Some(&prada), Some(json!({"price": 450}))).await;
    assert_eq!(yuan(&repriced.data()["price"]), money("450.00"));
    assert_eq!(repriced.data()["stock"]["reserved"], 2, "an edit never touches stock");
    let preview = s
        .post(
            "/api/v1/checkout/preview",
            Some(&alice),
            json!({"items": [{"sku_id": black, "quantity": 1}], "coupon_ids": []}),
        )
        .await;
    assert_eq!(yuan(&preview.data()["quote"]["payable"]), money("450.00"));
    let placed = s.get(&format!("/api/v1/orders/{order_id}"), Some(&alice)).await;
    assert_eq!(yuan(&placed.data()["payable"]), money("1000.00"));

    // off sale: gone from the list, not buyable; back on sale
    let status = |st: &str| json!({"status": st});
    s.send("PUT", &format!("/api/v1/admin/products/{product}/status"), Some(&prada), Some(status("off_sale")))
        .await
        .data();
    assert_eq!(s.get("/api/v1/products?keyword=托特", None).await.data()["total"], 0);
    let refused = s.post("/api/v1/cart/items", Some(&alice), json!({"sku_id": black, "quantity": 1})).await;
    assert_eq!((refused.status, refused.kind()), (409, "product_off_sale"));
    s.send("PUT", &format!("/api/v1/admin/products/{product}/status"), Some(&admin), Some(status("on_sale")))
        .await
        .data();
    s.post("/api/v1/cart/items", Some(&alice), json!({"sku_id": black, "quantity": 1})).await.data();

    // a third SKU
    let added = s
        .post(
            &format!("/api/v1/admin/products/{product}/skus"),
            Some(&prada),
            json!({"attributes": {"颜色": "红色"}, "price": 530, "stock": 4}),
        )
        .await;
    assert_eq!(added.data()["stock"]["available"], 4);
    assert_eq!(s.get(&format!("/api/v1/products/{product}"), None).await.data()["skus"].as_array().unwrap().len(), 3);
}
