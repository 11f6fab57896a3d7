//! Benchmarks of the pricing pipeline (DESIGN §3–§4), each beside a bare
//! baseline that only sums the same cart's lines as `rust_decimal::Decimal`
//! (price × quantity), so the cost of a quote reads as a multiple of the
//! cheapest thing a pricing function could do:
//!
//! - `cart_20_lines`: `quote` of a 20-line cart over three merchants, a tier
//!   with a member discount, five candidate coupons of every kind, the best
//!   coupon set and as many points as allowed;
//! - `best_of_200_coupons`: best-coupon matching among 200 coupons the buyer
//!   holds (20 templates of every kind, scope and layer, ten coupons each,
//!   claimed interleaved) on a 50-line cart.
//!
//! Every input is built before timing. Run with
//! `cargo bench -p mallkit-core --bench pricing`.

use chrono::{DateTime, Duration, TimeZone, Utc};
use divan::Bencher;
use mallkit_core::coupon::{
    CouponKind, CouponScope, CouponTemplate, StackLayer, TemplateStatus, UserCoupon, UserCouponStatus, Validity,
};
use mallkit_core::ids::{CategoryId, CouponTemplateId, MerchantId, ProductId, SkuId, UserCouponId, UserId};
use mallkit_core::money::{Money, Rate};
use mallkit_core::points::Tier;
use mallkit_core::pricing::{
    CouponCandidate, CouponChoice, PointsChoice, PricingLine, PricingPolicy, QuoteRequest, ShippingRule, quote,
};
use rust_decimal::Decimal;

fn main() {
    divan::main();
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).single().expect("valid time")
}

/// `n` lines: SKU i of product ⌈i/2⌉, three merchants, categories 1–6 in a
/// two-level tree, prices from 9.90 to about 1 500.00, 1–5 units.
fn cart(n: u64) -> Vec<PricingLine> {
    (1..=n)
        .map(|i| {
            let product = i.div_ceil(2);
            let category = product % 6 + 1;
            let mut path = vec![CategoryId(category)];
            if category > 2 {
                path.push(CategoryId(category % 2 + 1));
            }
            PricingLine {
                sku: SkuId(i),
                product: ProductId(product),
                merchant: MerchantId(product % 3 + 1),
                category_path: path,
                unit_price: Money::from_fen(990 + (i as i64 * 7_919) % 150_000),
                quantity: (i % 5) as u32 + 1,
                weight_grams: 0,
            }
        })
        .collect()
}

/// The same lines as the bare baseline sees them: a `Decimal` price and a
/// quantity.
fn decimal_lines(lines: &[PricingLine]) -> Vec<(Decimal, u32)> {
    lines.iter().map(|l| (l.unit_price.to_decimal(), l.quantity)).collect()
}

fn baseline(lines: &[(Decimal, u32)]) -> Decimal {
    lines.iter().map(|(price, quantity)| *price * Decimal::from(*quantity)).sum()
}

fn template(id: u64, kind: CouponKind, scope: CouponScope, layer: Option<StackLayer>) -> CouponTemplate {
    CouponTemplate {
        id: CouponTemplateId(id),
        title: format!("template {id}"),
        kind,
        scope,
        validity: Validity::DaysAfterClaim { days: 30 },
        total_limit: None,
        per_user_limit: 10,
        issued: 0,
        used: 0,
        status: TemplateStatus::Enabled,
        layer,
    }
}

fn yuan(y: i64) -> Money {
    Money::from_yuan(y)
}

/// Twenty templates: threshold, percentage (with and without cap and
/// threshold) and cash; scopes all, categories, products, SKUs and merchant;
/// exclusive, merchant layer and platform layer.
fn twenty_templates() -> Vec<CouponTemplate> {
    use CouponKind::{Cash, Percentage, Threshold};
    use CouponScope::{All, Categories, Merchant, Products, Skus};
    let (m, p) = (Some(StackLayer::Merchant), Some(StackLayer::Platform));
    let pct = |bp, threshold, cap: Option<i64>| Percentage {
        rate: Rate::from_bp(bp),
        threshold: yuan(threshold),
        max_discount: cap.map(yuan),
    };
    let th = |t, a| Threshold { threshold: yuan(t), amount: yuan(a) };
    let cats = |ids: &[u64]| Categories(ids.iter().copied().map(CategoryId).collect());
    let products = |ids: &[u64]| Products(ids.iter().copied().map(ProductId).collect());
    let skus = |ids: &[u64]| Skus(ids.iter().copied().map(SkuId).collect());
    let specs = vec![
        (th(299, 30), All, None),
        (th(1_000, 120), All, None),
        (pct(9_000, 0, Some(50)), All, None),
        (Cash { amount: yuan(10) }, All, None),
        (th(200, 20), Merchant(MerchantId(1)), m),
        (th(500, 60), Merchant(MerchantId(2)), m),
        (pct(8_500, 100, Some(80)), Merchant(MerchantId(3)), m),
        (th(300, 40), cats(&[1]), m),
        (pct(9_500, 0, None), cats(&[3, 4]), m),
        (Cash { amount: yuan(15) }, products(&[2, 5, 8]), m),
        (th(150, 25), skus(&[1, 2, 3, 4, 5, 6]), m),
        (pct(8_000, 500, Some(200)), products(&[10, 11, 12, 13]), m),
        (th(2_000, 200), All, p),
        (pct(9_000, 0, Some(100)), All, p),
        (Cash { amount: yuan(20) }, All, p),
        (th(800, 90), cats(&[2]), p),
        (pct(8_800, 300, Some(150)), cats(&[5, 6]), p),
        (th(100, 12), Merchant(MerchantId(2)), p),
        (Cash { amount: yuan(8) }, skus(&[7, 9, 11, 13, 15]), p),
        (th(3_000, 400), products(&[1, 3, 5, 7, 9, 11]), p),
    ];
    specs.into_iter().enumerate().map(|(i, (kind, scope, layer))| template(i as u64 + 1, kind, scope, layer)).collect()
}

/// `n` coupons claimed in turn from `templates` (coupon i from template
/// i mod len), with expiries spread over a month; every 25th is already used.
fn coupons(templates: &[CouponTemplate], n: u64) -> Vec<UserCoupon> {
    (0..n)
        .map(|i| UserCoupon {
            id: UserCouponId(1_000 + i),
            template: templates[(i % templates.len() as u64) as usize].id,
            user: UserId(1),
            status: if i % 25 == 24 { UserCouponStatus::Used } else { UserCouponStatus::Unused },
            valid_from: now() - Duration::days(1),
            valid_to: now() + Duration::days(1 + (i as i64 * 7) % 30),
            claimed_at: now() - Duration::days(1),
            checkout: None,
            used_at: None,
        })
        .collect()
}

fn silver() -> Tier {
    Tier {
        level: 1,
        name: "银卡会员".into(),
        min_points: 500,
        points_multiplier: Rate::from_bp(15_000),
        free_shipping: false,
        member_discount: Some(Rate::from_bp(9_500)),
        benefits: Vec::new(),
    }
}

fn policy() -> PricingPolicy {
    PricingPolicy {
        shipping: ShippingRule { flat_fee: yuan(10), free_over: Some(yuan(299)), by_weight: None },
        ..PricingPolicy::default()
    }
}

mod cart_20_lines {
    use super::*;

    /// `quote` of 20 lines: member price, best of five coupons, maximum points.
    #[divan::bench]
    fn quote_best_coupons_max_points(bencher: Bencher) {
        let lines = cart(20);
        let all = twenty_templates();
        // One of each kind and layer: 满299减30 (exclusive), 9折 cap 50
        // (exclusive), shop 满200减20 (merchant), category 满300减40 (merchant),
        // platform 20 yuan cash.
        let templates: Vec<CouponTemplate> = [0usize, 2, 4, 7, 14].iter().map(|&i| all[i].clone()).collect();
        let coupons = coupons(&templates, 5);
        let candidates: Vec<CouponCandidate<'_>> = coupons
            .iter()
            .map(|c| CouponCandidate { coupon: c, template: &templates[(c.id.0 - 1_000) as usize] })
            .collect();
        let tier = silver();
        let policy = policy();
        let choice = CouponChoice::Best;
        let request = QuoteRequest {
            lines: &lines,
            tier: Some(&tier),
            coupons: &candidates,
            coupon_choice: &choice,
            points: PointsChoice::Max,
            points_balance: 100_000,
            policy: &policy,
            now: now(),
        };
        let q = quote(&request).expect("the cart prices");
        assert!(!q.applied_coupons.is_empty() && q.points_used > 0, "the bench exercises coupons and points");
        bencher.bench_local(|| quote(divan::black_box(&request)));
    }

    /// The same 20 lines summed as `Decimal` price × quantity, nothing else.
    #[divan::bench]
    fn baseline_decimal_sum(bencher: Bencher) {
        let lines = decimal_lines(&cart(20));
        bencher.bench_local(|| baseline(divan::black_box(&lines)));
    }
}

mod best_of_200_coupons {
    use super::*;

    /// `quote` of 50 lines choosing the best set among 200 held coupons.
    #[divan::bench]
    fn quote_best_of_200(bencher: Bencher) {
        let lines = cart(50);
        let templates = twenty_templates();
        let coupons = coupons(&templates, 200);
        let candidates: Vec<CouponCandidate<'_>> = coupons
            .iter()
            .map(|c| CouponCandidate {
                coupon: c,
                template: templates.iter().find(|t| t.id == c.template).expect("template of the coupon"),
            })
            .collect();
        let policy = policy();
        let choice = CouponChoice::Best;
        let request = QuoteRequest {
            lines: &lines,
            tier: None,
            coupons: &candidates,
            coupon_choice: &choice,
            points: PointsChoice::None,
            points_balance: 0,
            policy: &policy,
            now: now(),
        };
        let q = quote(&request).expect("the cart prices");
        assert_eq!(q.applied_coupons.len(), 2, "a merchant and a platform coupon stack best here");
        bencher.bench_local(|| quote(divan::black_box(&request)));
    }

    /// The same 50 lines summed as `Decimal` price × quantity, nothing else.
    #[divan::bench]
    fn baseline_decimal_sum(bencher: Bencher) {
        let lines = decimal_lines(&cart(50));
        bencher.bench_local(|| baseline(divan::black_box(&lines)));
    }

    /// Breakdown: the 50-line quote with no coupon held (lines, allocation,
    /// shipping and the quote itself).
    #[divan::bench]
    fn breakdown_no_coupons_held(bencher: Bencher) {
        let lines = cart(50);
        let policy = policy();
        let choice = CouponChoice::Best;
        let request = QuoteRequest {
            lines: &lines,
            tier: None,
            coupons: &[],
            coupon_choice: &choice,
            points: PointsChoice::None,
            points_balance: 0,
            policy: &policy,
            now: now(),
        };
        bencher.bench_local(|| quote(divan::black_box(&request)));
    }

    /// Breakdown: the 200 coupons held but `CouponChoice::None` (the coupon
    /// table and the 200 rejection reasons, no search).
    #[divan::bench]
    fn breakdown_200_held_none_chosen(bencher: Bencher) {
        let lines = cart(50);
        let templates = twenty_templates();
        let coupons = coupons(&templates, 200);
        let candidates: Vec<CouponCandidate<'_>> = coupons
            .iter()
            .map(|c| CouponCandidate {
                coupon: c,
                template: templates.iter().find(|t| t.id == c.template).expect("template of the coupon"),
            })
            .collect();
        let policy = policy();
        let choice = CouponChoice::None;
        let request = QuoteRequest {
            lines: &lines,
            tier: None,
            coupons: &candidates,
            coupon_choice: &choice,
            points: PointsChoice::None,
            points_balance: 0,
            policy: &policy,
            now: now(),
        };
        bencher.bench_local(|| quote(divan::black_box(&request)));
    }
}
