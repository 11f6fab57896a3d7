//! A real server on an ephemeral port over the in-memory store, a small
//! catalog, four accounts, and a reqwest client speaking JSON.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;

use mallkit_core::catalog::{Category, Merchant, Product, ProductStatus, Sku, Stock};
use mallkit_core::clock::{SequentialIds, SystemClock};
use mallkit_core::coupon::{CouponKind, CouponScope, CouponTemplate, TemplateStatus, Validity};
use mallkit_core::identity::{IdentityPolicy, Registration, Role};
use mallkit_core::ids::{CategoryId, CouponTemplateId, MerchantId, ProductId, SkuId};
use mallkit_core::payment::SimulatedProvider;
use mallkit_core::points::Tier;
use mallkit_core::{Money, Policy, Rate};
use mallkit_http::{App, AppParts, DevSms, HttpSettings};
use mallkit_storage_memory::MemoryStore;
use serde_json::{Value, json};

pub const CALLBACK_KEY: &[u8] = b"test-callback-key";

pub struct Server {
    pub base: String,
    pub app: App,
    pub store: MemoryStore,
    pub provider: Arc<SimulatedProvider>,
    pub sms: Arc<DevSms>,
    pub client: reqwest::Client,
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn data(&self) -> &Value {
        assert_eq!(self.status, 200, "expected 200, got {}: {}", self.status, self.body);
        &self.body["data"]
    }
    pub fn kind(&self) -> &str {
        self.body["error"]["type"].as_str().unwrap_or_default()
    }
    pub fn field(&self) -> &str {
        self.body["error"]["field"].as_str().unwrap_or_default()
    }
}

fn m(text: &str) -> Money {
    text.parse().unwrap()
}

/// SKUs: 11 (bag, 300.00, 5 in stock), 12 (T-shirt, 99.00, 100), 21 (phone of merchant 2, 1999.00, 10).
pub async fn start(await_callback: bool) -> Server {
    let store = MemoryStore::new();
    let provider =
        Arc::new(if await_callback { SimulatedProvider::awaiting_callback() } else { SimulatedProvider::instant() });
    let settings = HttpSettings { callback_key: CALLBACK_KEY.to_vec(), ..HttpSettings::default() };
    let sms = Arc::new(DevSms::default());
    let parts = AppParts {
        store: Arc::new(store.clone()),
        clock: Arc::new(SystemClock),
        ids: Arc::new(SequentialIds::starting_at(1000)),
        provider: provider.clone(),
        policy: Policy::default(),
        identity: IdentityPolicy::default(),
        sms: sms.clone(),
        wechat: Arc::new(mallkit_http::DevWechat),
    };
    let app = mallkit_http::app(parts, &settings);
    seed(&app).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = mallkit_http::router(app.clone(), &settings);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Server { base, app, store, provider, sms, client: reqwest::Client::new() }
}

async fn seed(app: &App) {
    let mall = &app.mall;
    for (id, name) in [(1, "Prada"), (2, "Xiaomi")] {
        mall.save_merchant(Merchant { id: MerchantId(id), name: name.into() }).await.unwrap();
    }
    mall.save_category(Category { id: CategoryId(1), parent: None, name: "服饰箱包".into(), sort: 1 }).await.unwrap();
    mall.save_category(Category { id: CategoryId(2), parent: Some(CategoryId(1)), name: "手袋".into(), sort: 1 })
        .await
        .unwrap();
    mall.save_category(Category { id: CategoryId(3), parent: None, name: "电子产品".into(), sort: 2 }).await.unwrap();
    for (id, merchant, category, name) in [(1, 1, 2, "Prada 手袋"), (2, 1, 1, "Prada T恤"), (3, 2, 3, "小米14 Pro")]
    {
        mall.save_product(Product {
            id: ProductId(id),
            merchant: MerchantId(merchant),
            category: CategoryId(category),
            name: name.into(),
            status: ProductStatus::OnSale,
        })
        .await
        .unwrap();
    }
    for (id, product, price, available) in [(11, 1, "300.00", 5), (12, 2, "99.00", 100), (21, 3, "1999.00", 10)] {
        mall.save_sku(Sku {
            id: SkuId(id),
            product: ProductId(product),
            attributes: Default::default(),
            price: m(price),
            original_price: None,
            weight_grams: None,
            stock: Stock { available, reserved: 0, sold: 0 },
        })
        .await
        .unwrap();
    }
    mall.save_tier(Tier {
        level: 1,
        name: "普通会员".into(),
        min_points: 0,
        points_multiplier: Rate::ONE,
        free_shipping: false,
        member_discount: None,
        benefits: vec![],
    })
    .await
    .unwrap();
    let now = chrono::Utc::now();
    mall.save_template(CouponTemplate {
        id: CouponTemplateId(1),
        title: "满299减30".into(),
        kind: CouponKind::Threshold { threshold: m("299"), amount: m("30") },
        scope: CouponScope::All,
        validity: Validity::Window { from: now - chrono::Duration::days(1), to: now + chrono::Duration::days(30) },
        total_limit: Some(100),
        per_user_limit: 1,
        issued: 0,
        used: 0,
        status: TemplateStatus::Enabled,
        layer: None,
    })
    .await
    .unwrap();
    for (username, phone, role, merchant) in [
        ("alice", "13800000001", Role::Customer, None),
        ("bob", "13800000002", Role::Customer, None),
        ("prada", "13800000003", Role::Merchant, Some(MerchantId(1))),
        ("xiaomi", "13800000004", Role::Merchant, Some(MerchantId(2))),
        ("root", "13800000005", Role::Admin, None),
    ] {
        let registration = Registration {
            username: username.into(),
            password: "pass1234".into(),
            phone: Some(phone.into()),
            email: None,
            nickname: None,
        };
        app.accounts.create_user(registration, role, merchant).await.unwrap();
    }
}

impl Server {
    pub async fn send(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        reply(request.send().await.unwrap()).await
    }

    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &str,
        headers: &[(&str, &str)],
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        reply(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send("GET", path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send("POST", path, token, Some(body)).await
    }

    /// Gives the user a (default) shipping address; returns its id.
    pub async fn add_address(&self, token: &str, receiver: &str) -> u64 {
        let body = json!({"receiver": receiver, "phone": "13800000009", "province": "广东省", "city": "深圳市", "district": "南山区", "detail": "科技园路1号"});
        self.post("/api/v1/addresses", Some(token), body).await.data()["id"].as_u64().unwrap()
    }

    pub async fn login(&self, login: &str, password: &str) -> String {
        let reply = self.post("/api/v1/auth/login", None, json!({"login": login, "password": password})).await;
        reply.data()["access_token"].as_str().unwrap().to_owned()
    }
}

async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply { status, body, headers }
}

/// Exact decimal comparison of a JSON amount with a text amount.
pub fn yuan(v: &Value) -> Money {
    match v {
        Value::Number(n) => n.to_string().parse().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        other => panic!("not an amount: {other}"),
    }
}

pub fn money(text: &str) -> Money {
    m(text)
}
