//! The demo data set of `mallkit serve --seed demo`, drawn from the seeds'
//! own examples: Prada bags and clothes (seed 001), Xiaomi phones (seed 002),
//! the 满299减30 coupon (seed 004), member tiers 普通/银卡/金卡 (seed 001
//! VIP), and one customer, one merchant and one admin account.
//!
//! Loading is idempotent: when the demo admin already exists (a restart on
//! the same PostgreSQL database) nothing is written again.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use mallkit_core::catalog::{Category, Merchant, Product, ProductStatus, Sku, Stock};
use mallkit_core::coupon::{CouponKind, CouponScope, CouponTemplate, StackLayer, TemplateStatus, Validity};
use mallkit_core::identity::{Registration, Role};
use mallkit_core::ids::{CategoryId, CouponTemplateId, MerchantId, ProductId, SkuId};
use mallkit_core::points::Tier;
use mallkit_core::storage::IdentityStore;
use mallkit_core::{Money, Rate};
use mallkit_http::App;

/// A demo login printed at start.
pub struct DemoAccount {
    /// What it is for.
    pub role: &'static str,
    /// Login.
    pub username: &'static str,
    /// Password.
    pub password: &'static str,
}

/// The demo logins.
pub const ACCOUNTS: [DemoAccount; 3] = [
    DemoAccount { role: "customer", username: "demo", password: "demo12345" },
    DemoAccount { role: "merchant (小米官方旗舰店)", username: "xiaomi", password: "merchant123" },
    DemoAccount { role: "admin", username: "admin", password: "admin12345" },
];

fn yuan(text: &str) -> Money {
    text.parse().unwrap_or(Money::ZERO)
}

fn rate(text: &str) -> Rate {
    text.parse().unwrap_or(Rate::ONE)
}

fn sku(id: u64, product: u64, attributes: &[(&str, &str)], price: &str, original: Option<&str>, stock: u32) -> Sku {
    Sku {
        id: SkuId(id),
        product: ProductId(product),
        attributes: attributes.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<BTreeMap<_, _>>(),
        price: yuan(price),
        original_price: original.map(yuan),
        weight_grams: Some(500),
        stock: Stock { available: stock, reserved: 0, sold: 0 },
    }
}

/// Loads the demo data; false when it was there already.
///
/// # Errors
/// The first command that failed, as text.
pub async fn load(app: &App) -> Result<bool, String> {
    let loaded = app.store.user_by_login("admin").await.map_err(|e| e.to_string())?;
    if loaded.is_some() {
        return Ok(false);
    }
    let mall = &app.mall;
    let err = |e: mallkit_core::MallError| e.to_string();
    for (id, name) in [(1, "Prada 官方旗舰店"), (2, "小米官方旗舰店")] {
        mall.save_merchant(Merchant { id: MerchantId(id), name: name.into() }).await.map_err(err)?;
    }
    for (id, parent, name, sort) in [
        (1, None, "服饰箱包", 1),
        (2, Some(1), "手袋", 1),
        (3, Some(1), "服装", 2),
        (4, None, "电子产品", 2),
        (5, Some(4), "手机", 1),
        (6, Some(4), "配件", 2),
    ] {
        let category = Category { id: CategoryId(id), parent: parent.map(CategoryId), name: name.into(), sort };
        mall.save_category(category).await.map_err(err)?;
    }
    let products = [
        (1, 1, 2, "Prada Explore中号Re-Nylon单肩包"),
        (2, 1, 3, "Prada 棉质T恤"),
        (3, 2, 5, "小米14 Pro"),
        (4, 2, 5, "Redmi Note 13"),
        (5, 2, 6, "小米67W快充数据线"),
    ];
    for (id, merchant, category, name) in products {
        let product = Product {
            id: ProductId(id),
            merchant: MerchantId(merchant),
            category: CategoryId(category),
            name: name.into(),
            status: ProductStatus::OnSale,
        };
        mall.save_product(product).await.map_err(err)?;
    }
    let skus = [
        sku(101, 1, &[("颜色", "黑色")], "15800.00", Some("16500.00"), 20),
        sku(102, 1, &[("颜色", "米白")], "15800.00", None, 10),
        sku(201, 2, &[("尺码", "M")], "3200.00", None, 50),
        sku(202, 2, &[("尺码", "L")], "3200.00", None, 50),
        sku(301, 3, &[("版本", "12GB+256GB")], "4999.00", Some("5299.00"), 100),
        sku(302, 3, &[("版本", "16GB+512GB")], "5499.00", None, 100),
        sku(401, 4, &[("版本", "8GB+256GB")], "1199.00", None, 200),
        sku(501, 5, &[("长度", "1m")], "29.90", None, 1000),
    ];
    for s in skus {
        mall.save_sku(s).await.map_err(err)?;
    }
    let tiers = [
        Tier {
            level: 1,
            name: "普通会员".into(),
            min_points: 0,
            points_multiplier: Rate::ONE,
            free_shipping: false,
            member_discount: None,
            benefits: vec![],
        },
        Tier {
            level: 2,
            name: "银卡会员".into(),
            min_points: 1000,
            points_multiplier: rate("1.2"),
            free_shipping: false,
            member_discount: Some(rate("0.98")),
            benefits: vec!["积分1.2倍".into(), "会员价98折".into()],
        },
        Tier {
            level: 3,
            name: "金卡会员".into(),
            min_points: 5000,
            points_multiplier: rate("1.5"),
            free_shipping: true,
            member_discount: Some(rate("0.95")),
            benefits: vec!["积分1.5倍".into(), "会员价95折".into(), "全场包邮".into(), "12期分期免息".into()],
        },
    ];
    for tier in tiers {
        mall.save_tier(tier).await.map_err(err)?;
    }
    let now = Utc::now();
    let window = Validity::Window { from: now - Duration::days(1), to: now + Duration::days(365) };
    let templates = [
        (
            1,
            "满299减30",
            CouponKind::Threshold { threshold: yuan("299"), amount: yuan("30") },
            CouponScope::All,
            Some(StackLayer::Platform),
        ),
        (
            2,
            "全场9折（最高减50）",
            CouponKind::Percentage { rate: rate("0.9"), threshold: Money::ZERO, max_discount: Some(yuan("50")) },
            CouponScope::All,
            Some(StackLayer::Platform),
        ),
        (3, "无门槛5元", CouponKind::Cash { amount: yuan("5") }, CouponScope::All, Some(StackLayer::Platform)),
        (
            4,
            "小米店铺满5000减200",
            CouponKind::Threshold { threshold: yuan("5000"), amount: yuan("200") },
            CouponScope::Merchant(MerchantId(2)),
            Some(StackLayer::Merchant),
        ),
    ];
    for (id, title, kind, scope, layer) in templates {
        let template = CouponTemplate {
            id: CouponTemplateId(id),
            title: title.into(),
            kind,
            scope,
            validity: window,
            total_limit: Some(1000),
            per_user_limit: 1,
            issued: 0,
            used: 0,
            status: TemplateStatus::Enabled,
            layer,
        };
        mall.save_template(template).await.map_err(err)?;
    }
    let people = [
        ("demo", "demo12345", Some("13800138000"), "张三", Role::Customer, None),
        ("xiaomi", "merchant123", Some("13900139000"), "小米店长", Role::Merchant, Some(MerchantId(2))),
        ("admin", "admin12345", None, "管理员", Role::Admin, None),
    ];
    for (username, password, phone, nickname, role, merchant) in people {
        if app.store.user_by_login(username).await.map_err(|e| e.to_string())?.is_some() {
            continue;
        }
        let registration = Registration {
            username: username.into(),
            password: password.into(),
            phone: phone.map(Into::into),
            email: None,
            nickname: Some(nickname.into()),
        };
        app.accounts.create_user(registration, role, merchant).await.map_err(err)?;
    }
    Ok(true)
}
