//! Property tests of the pricing rules (DESIGN §2–§4): largest-remainder
//! allocation, the arithmetic of a quote, exact best-coupon matching checked
//! against an independent brute force, order invariance, and the percentage
//! rule checked against an independent `rust_decimal` computation; plus the
//! seed examples as plain tests.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use mallkit_core::coupon::{
    CouponKind, CouponScope, CouponTemplate, StackLayer, TemplateStatus, UserCoupon, UserCouponStatus, Validity,
};
use mallkit_core::ids::{CategoryId, CouponTemplateId, MerchantId, ProductId, SkuId, UserCouponId, UserId};
use mallkit_core::money::{Money, Rate, Rounding, allocate};
use mallkit_core::points::{PointsPolicy, Tier};
use mallkit_core::pricing::{
    AdjustmentSource, CouponCandidate, CouponChoice, PointsChoice, PricingLine, PricingPolicy, Quote, QuoteError,
    QuoteRequest, ShippingRule, WeightRate, quote,
};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use rust_decimal::{Decimal, RoundingStrategy};

fn m(s: &str) -> Money {
    s.parse().expect("money literal")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).single().expect("valid time")
}

// ---------------------------------------------------------------- allocate

/// The largest-remainder split written out the slow, obvious way: floor of
/// each exact share, then one fen each to the largest remainders, equal
/// remainders to the earlier part (DESIGN §2).
fn allocate_reference(total: i64, weights: &[i64]) -> Vec<i64> {
    let n = weights.len();
    if n == 0 {
        return Vec::new();
    }
    let t = i128::from(total.abs());
    let mut w: Vec<i128> = weights.iter().map(|&x| i128::from(x.max(0))).collect();
    if w.iter().all(|&x| x == 0) {
        w = vec![1; n];
    }
    let sum: i128 = w.iter().sum();
    let mut parts: Vec<i128> = w.iter().map(|&x| t * x / sum).collect();
    let mut order: Vec<usize> = (0..n).collect();
    // Stable sort: equal remainders keep index order.
    order.sort_by(|&a, &b| (t * w[b] % sum).cmp(&(t * w[a] % sum)));
    let left = t - parts.iter().sum::<i128>();
    for &i in order.iter().take(left as usize) {
        parts[i] += 1;
    }
    let sign = if total < 0 { -1 } else { 1 };
    parts.into_iter().map(|p| sign * p as i64).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn allocation_adds_up_and_stays_within_a_fen_of_the_exact_share(
        total in prop_oneof![0i64..=1_000, 0i64..=100_000_000],
        weights in prop::collection::vec(prop_oneof![Just(0i64), 0i64..=500, 0i64..=10_000_000], 1..=70),
    ) {
        let ws: Vec<Money> = weights.iter().map(|&w| Money::from_fen(w)).collect();
        let parts = allocate(Money::from_fen(total), &ws);
        prop_assert_eq!(parts.len(), ws.len());
        prop_assert_eq!(parts.iter().map(|p| p.fen()).sum::<i64>(), total);
        let sum_w: i128 = weights.iter().map(|&w| i128::from(w)).sum();
        for (i, p) in parts.iter().enumerate() {
            prop_assert!(!p.is_negative(), "part {} is negative: {:?}", i, parts);
            // |part − total × w / W| < 1 fen, i.e. |part × W − total × w| < W.
            let (num, den) = if sum_w == 0 {
                (i128::from(total), weights.len() as i128)
            } else {
                (i128::from(total) * i128::from(weights[i]), sum_w)
            };
            let diff = (i128::from(p.fen()) * den - num).abs();
            prop_assert!(diff < den, "part {} = {:?} is a fen or more off {}/{}", i, p, num, den);
        }
        // And it is exactly the largest-remainder split, ties to the earlier part.
        let reference = allocate_reference(total, &weights);
        prop_assert_eq!(parts.iter().map(|p| p.fen()).collect::<Vec<_>>(), reference);
        // A negative total is the same split, negated.
        let negated = allocate(Money::from_fen(-total), &ws);
        prop_assert_eq!(negated, parts.iter().map(|p| -*p).collect::<Vec<_>>());
    }

    #[test]
    fn equal_weights_give_the_extra_fen_to_the_earlier_parts(
        total in 0i64..=1_000_000,
        weight in 0i64..=1_000_000,
        n in 1usize..=80,
    ) {
        let parts = allocate(Money::from_fen(total), &vec![Money::from_fen(weight); n]);
        let (base, extra) = (total / n as i64, (total % n as i64) as usize);
        for (i, p) in parts.iter().enumerate() {
            let expected = base + i64::from(i < extra);
            prop_assert_eq!(p.fen(), expected, "part {} of {}", i, n);
        }
    }
}

#[test]
fn design_example_ten_yuan_over_three_ten_yuan_lines() {
    let parts = allocate(m("10.00"), &[m("10.00"), m("10.00"), m("10.00")]);
    assert_eq!(parts, vec![m("3.34"), m("3.33"), m("3.33")]);
    assert_eq!(parts.iter().copied().sum::<Money>(), m("10.00"));
}

// ---------------------------------------------------------------- scenarios

/// A category tree of six nodes: 1 and 2 are roots; 3 and 4 under 1; 5 under
/// 2; 6 under 3.
fn category_path(c: u64) -> Vec<CategoryId> {
    let ids: &[u64] = match c {
        1 => &[1],
        2 => &[2],
        3 => &[3, 1],
        4 => &[4, 1],
        5 => &[5, 2],
        _ => &[6, 3, 1],
    };
    ids.iter().copied().map(CategoryId).collect()
}

/// Everything one quote depends on, owned.
#[derive(Debug, Clone)]
struct Scenario {
    lines: Vec<PricingLine>,
    templates: Vec<CouponTemplate>,
    coupons: Vec<UserCoupon>,
    tier: Option<Tier>,
    balance: i64,
    policy: PricingPolicy,
}

impl Scenario {
    fn template(&self, id: CouponTemplateId) -> &CouponTemplate {
        self.templates.iter().find(|t| t.id == id).expect("every coupon's template is in the scenario")
    }

    fn coupon(&self, id: UserCouponId) -> &UserCoupon {
        self.coupons.iter().find(|c| c.id == id).expect("coupon of the scenario")
    }

    fn price(&self, choice: &CouponChoice, points: PointsChoice) -> Result<Quote, QuoteError> {
        self.price_in_order(&self.lines, &self.coupons, choice, points)
    }

    fn price_in_order(
        &self,
        lines: &[PricingLine],
        coupons: &[UserCoupon],
        choice: &CouponChoice,
        points: PointsChoice,
    ) -> Result<Quote, QuoteError> {
        let candidates: Vec<CouponCandidate<'_>> =
            coupons.iter().map(|c| CouponCandidate { coupon: c, template: self.template(c.template) }).collect();
        quote(&QuoteRequest {
            lines,
            tier: self.tier.as_ref(),
            coupons: &candidates,
            coupon_choice: choice,
            points,
            points_balance: self.balance,
            policy: &self.policy,
            now: now(),
        })
    }
}

fn price() -> impl Strategy<Value = Money> {
    // Mostly anything from 0.01 to 2000.00; sometimes whole tens of yuan, so
    // that coupon discounts tie and the tie rules get exercised.
    prop_oneof![3 => 1i64..=200_000, 1 => (1i64..=200).prop_map(|y| y * 1_000)].prop_map(Money::from_fen)
}

/// Carts of `count` lines with SKU ids up to `max_sku`.
fn lines(max_sku: u64, count: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<PricingLine>> {
    let line = (1u64..=8, 1u64..=6, price(), 1u32..=5, prop_oneof![3 => Just(0u32), 1 => 1u32..=3_000]);
    prop::collection::btree_map(1u64..=max_sku, line, count).prop_map(|by_sku| {
        by_sku
            .into_iter()
            .map(|(sku, (product, category, unit_price, quantity, weight_grams))| PricingLine {
                sku: SkuId(sku),
                product: ProductId(product),
                merchant: MerchantId(product % 3 + 1),
                category_path: category_path(category),
                unit_price,
                quantity,
                weight_grams,
            })
            .collect()
    })
}

const THRESHOLDS: &[i64] = &[0, 50, 100, 200, 299, 500, 1_000, 3_000];

fn kind() -> impl Strategy<Value = CouponKind> {
    prop_oneof![
        (select(THRESHOLDS), select(&[5i64, 10, 20, 30, 50, 100, 300][..])).prop_map(|(t, a)| {
            CouponKind::Threshold { threshold: Money::from_yuan(t), amount: Money::from_yuan(a) }
        }),
        (
            prop_oneof![select(&[5_000u32, 8_000, 8_500, 9_000, 9_500][..]), 1u32..=9_999],
            select(THRESHOLDS),
            prop::option::of(select(&[10i64, 20, 50][..])),
        )
            .prop_map(|(bp, t, cap)| CouponKind::Percentage {
                rate: Rate::from_bp(bp),
                threshold: Money::from_yuan(t),
                max_discount: cap.map(Money::from_yuan),
            }),
        select(&[5i64, 10, 20, 30][..]).prop_map(|a| CouponKind::Cash { amount: Money::from_yuan(a) }),
    ]
}

fn scope(max_sku: u64) -> impl Strategy<Value = CouponScope> {
    prop_oneof![
        3 => Just(CouponScope::All),
        1 => prop::collection::vec(1u64..=6, 1..=2)
            .prop_map(|v| CouponScope::Categories(v.into_iter().map(CategoryId).collect())),
        1 => prop::collection::vec(1u64..=8, 1..=3)
            .prop_map(|v| CouponScope::Products(v.into_iter().map(ProductId).collect())),
        1 => prop::collection::vec(1u64..=max_sku, 1..=5)
            .prop_map(|v| CouponScope::Skus(v.into_iter().map(SkuId).collect())),
        1 => (1u64..=3).prop_map(|id| CouponScope::Merchant(MerchantId(id))),
    ]
}

fn template(max_sku: u64) -> impl Strategy<Value = (CouponKind, CouponScope, Option<StackLayer>, TemplateStatus)> {
    (
        kind(),
        scope(max_sku),
        prop_oneof![Just(None), Just(Some(StackLayer::Merchant)), Just(Some(StackLayer::Platform))],
        prop_oneof![9 => Just(TemplateStatus::Enabled), 1 => Just(TemplateStatus::Disabled)],
    )
}

/// (template index, status, valid_from offset in hours, valid_to offset in hours).
fn coupon() -> impl Strategy<Value = (Index, UserCouponStatus, i64, i64)> {
    (
        any::<Index>(),
        prop_oneof![
            12 => Just(UserCouponStatus::Unused),
            1 => Just(UserCouponStatus::Locked),
            1 => Just(UserCouponStatus::Used),
            1 => Just(UserCouponStatus::Void),
            1 => Just(UserCouponStatus::Expired),
        ],
        prop_oneof![9 => Just(-24i64), 1 => Just(1i64)],
        // Few distinct expiries so that the expiry tie rule matters; −24 h is expired.
        select(&[-24i64, 0, 24, 48, 72][..]),
    )
}

fn tier() -> impl Strategy<Value = Option<Tier>> {
    prop::option::of((prop::option::of(8_000u32..=10_000), prop::bool::weighted(0.2))).prop_map(|t| {
        t.map(|(discount, free_shipping)| Tier {
            level: 1,
            name: "银卡会员".into(),
            min_points: 0,
            points_multiplier: Rate::from_bp(15_000),
            free_shipping,
            member_discount: discount.map(Rate::from_bp),
            benefits: Vec::new(),
        })
    })
}

fn policy() -> impl Strategy<Value = PricingPolicy> {
    (
        prop_oneof![4 => Just(Rounding::HalfUp), 1 => Just(Rounding::HalfEven), 1 => Just(Rounding::Down)],
        select(&[100i64, 200, 1_000][..]),
        select(&[0u32, 2_000, 5_000, 10_000][..]),
        0i64..=2_000,
        prop::option::of(select(&[99i64, 299, 1_000][..])),
        prop::option::of((1u32..=2_000, 0i64..=1_500, 1u32..=1_000, 0i64..=500)),
    )
        .prop_map(|(rounding, per_yuan, cap, flat, free_over, weight)| PricingPolicy {
            rounding,
            points: PointsPolicy {
                redeem_points_per_yuan: per_yuan,
                redeem_cap: Rate::from_bp(cap),
                earn_points_per_yuan: Rate::ONE,
            },
            shipping: ShippingRule {
                flat_fee: Money::from_fen(flat),
                free_over: free_over.map(Money::from_yuan),
                by_weight: weight.map(|(first_grams, first_fee, step_grams, step_fee)| WeightRate {
                    first_grams,
                    first_fee: Money::from_fen(first_fee),
                    step_grams,
                    step_fee: Money::from_fen(step_fee),
                }),
            },
        })
}

/// Carts of 1–12 lines over SKUs 1–16.
fn scenario() -> impl Strategy<Value = Scenario> {
    scenario_of(16, 1..=12)
}

fn scenario_of(max_sku: u64, count: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Scenario> {
    (
        lines(max_sku, count),
        prop::collection::vec(template(max_sku), 1..=6),
        prop::collection::btree_map(1u64..=60, coupon(), 0..=10),
        tier(),
        prop_oneof![Just(0i64), 0i64..=500_000],
        policy(),
    )
        .prop_map(|(lines, templates, coupons, tier, balance, policy)| {
            let templates: Vec<CouponTemplate> = templates
                .into_iter()
                .enumerate()
                .map(|(i, (kind, scope, layer, status))| CouponTemplate {
                    id: CouponTemplateId(i as u64 + 1),
                    title: format!("template {}", i + 1),
                    kind,
                    scope,
                    validity: Validity::DaysAfterClaim { days: 30 },
                    total_limit: None,
                    per_user_limit: 1,
                    issued: 0,
                    used: 0,
                    status,
                    layer,
                })
                .collect();
            let coupons = coupons
                .into_iter()
                .map(|(id, (template, status, from, to))| UserCoupon {
                    id: UserCouponId(id),
                    template: templates[template.index(templates.len())].id,
                    user: UserId(1),
                    status,
                    valid_from: now() + Duration::hours(from),
                    valid_to: now() + Duration::hours(to),
                    claimed_at: now() - Duration::days(2),
                    checkout: None,
                    used_at: None,
                })
                .collect();
            Scenario { lines, templates, coupons, tier, balance, policy }
        })
}

fn points_choice() -> impl Strategy<Value = PointsChoice> {
    prop_oneof![
        Just(PointsChoice::None),
        Just(PointsChoice::Max),
        (0i64..=600_000).prop_map(PointsChoice::Exactly),
        (0i64..=5_000).prop_map(PointsChoice::Exactly),
        (-5i64..=-1).prop_map(PointsChoice::Exactly),
    ]
}

/// Best, none, or an explicit choice of up to two of the scenario's coupons
/// (indexes resolved against the scenario; ids that may not exist too).
fn coupon_choice() -> impl Strategy<Value = (u8, Vec<Index>)> {
    (0u8..4, prop::collection::vec(any::<Index>(), 0..=2))
}

fn resolve_choice(s: &Scenario, (mode, picks): &(u8, Vec<Index>)) -> CouponChoice {
    match mode {
        0 => CouponChoice::None,
        1 if !s.coupons.is_empty() => {
            CouponChoice::Chosen(picks.iter().map(|i| s.coupons[i.index(s.coupons.len())].id).collect())
        }
        2 => CouponChoice::Chosen(vec![UserCouponId(999)]),
        _ => CouponChoice::Best,
    }
}

// ---------------------------------------------------------------- quote invariants

/// The shipping fee of one merchant, from DESIGN §3 step 4 and the rule's docs.
fn expected_shipping(tier: Option<&Tier>, rule: &ShippingRule, after_coupons: Money, grams: u64) -> Money {
    if tier.is_some_and(|t| t.free_shipping) {
        return Money::ZERO;
    }
    if rule.free_over.is_some_and(|t| after_coupons >= t) {
        return Money::ZERO;
    }
    match rule.by_weight {
        Some(w) if grams > 0 => {
            let extra = grams.saturating_sub(u64::from(w.first_grams));
            let step = u64::from(w.step_grams.max(1));
            let steps = extra.div_ceil(step);
            Money::from_fen(w.first_fee.fen() + w.step_fee.fen() * steps as i64)
        }
        _ => rule.flat_fee,
    }
}

fn check_quote(s: &Scenario, q: &Quote) -> Result<(), TestCaseError> {
    let per_fen = s.policy.points.points_per_fen();
    // Lines come back in canonical SKU order, one per input line.
    prop_assert_eq!(q.lines.len(), s.lines.len());
    prop_assert!(q.lines.windows(2).all(|w| w[0].sku < w[1].sku), "lines not in SKU order");
    for l in &q.lines {
        let input = s.lines.iter().find(|p| p.sku == l.sku).expect("line of the cart");
        let unit = match s.tier.as_ref().and_then(|t| t.member_discount) {
            Some(rate) => rate.of(input.unit_price, s.policy.rounding),
            None => input.unit_price,
        };
        prop_assert_eq!(l.unit_price, unit);
        prop_assert_eq!(l.list_unit_price, input.unit_price);
        prop_assert_eq!(l.subtotal, unit.times(input.quantity));
        prop_assert!(!l.coupon_discount.is_negative() && !l.points_deduction.is_negative());
        prop_assert_eq!(l.payable, l.subtotal - l.coupon_discount - l.points_deduction);
        prop_assert!(!l.payable.is_negative(), "line {:?} payable {:?} < 0", l.sku, l.payable);
        prop_assert_eq!(l.points_used, l.points_deduction.fen() * per_fen);
    }
    let sum = |f: fn(&mallkit_core::pricing::QuoteLine) -> Money| q.lines.iter().map(f).sum::<Money>();
    prop_assert_eq!(q.goods_subtotal, sum(|l| l.subtotal));
    prop_assert_eq!(q.coupon_discount, sum(|l| l.coupon_discount));
    prop_assert_eq!(q.points_deduction, sum(|l| l.points_deduction));
    prop_assert_eq!(q.points_used, q.lines.iter().map(|l| l.points_used).sum::<i64>());
    let list_total: Money = s.lines.iter().map(|l| l.unit_price.times(l.quantity)).sum();
    prop_assert_eq!(q.list_total, list_total);
    prop_assert_eq!(q.member_discount, list_total - q.goods_subtotal);

    // payable = goods − coupons − points + shipping, never negative, and the
    // lines' payables plus shipping add up to it.
    prop_assert_eq!(q.payable, q.goods_subtotal - q.coupon_discount - q.points_deduction + q.shipping_fee);
    prop_assert!(!q.payable.is_negative());
    prop_assert_eq!(sum(|l| l.payable) + q.shipping_fee, q.payable);
    prop_assert!(!q.coupon_discount.is_negative() && q.coupon_discount <= q.goods_subtotal);

    // Every adjustment is split over the lines and adds up to its amount.
    let mut coupons_total = Money::ZERO;
    let mut points_adjustments = 0;
    for a in &q.adjustments {
        prop_assert_eq!(a.allocation.len(), q.lines.len());
        prop_assert_eq!(a.allocation.iter().copied().sum::<Money>(), a.amount, "adjustment {:?}", a.source);
        prop_assert!(a.allocation.iter().all(|x| !x.is_negative()), "negative share in {:?}", a);
        match a.source {
            AdjustmentSource::Coupon { .. } => {
                prop_assert!(a.amount <= a.measured_on, "coupon takes more than it was measured on: {:?}", a);
                coupons_total += a.amount;
            }
            AdjustmentSource::Points { points } => {
                points_adjustments += 1;
                prop_assert_eq!(points, q.points_used);
                prop_assert_eq!(a.amount, q.points_deduction);
            }
            AdjustmentSource::MemberDiscount { .. } => prop_assert_eq!(a.amount, q.member_discount),
        }
    }
    prop_assert_eq!(coupons_total, q.coupon_discount);
    prop_assert_eq!(points_adjustments, usize::from(q.points_used > 0));

    // Points: within the balance and the cap on the goods after coupons.
    let after_coupons = q.goods_subtotal - q.coupon_discount;
    let cap_fen = after_coupons.fen() * i64::from(s.policy.points.redeem_cap.bp()) / 10_000;
    let max = cap_fen.min(s.balance / per_fen) * per_fen;
    prop_assert_eq!(q.points_max, max);
    prop_assert!(q.points_used >= 0 && q.points_used <= s.balance && q.points_used <= max);
    prop_assert_eq!(q.points_deduction.fen() * per_fen, q.points_used);

    // Shipping per merchant: coupons and points never reduce it.
    let mut merchants: Vec<MerchantId> = q.lines.iter().map(|l| l.merchant).collect();
    merchants.sort_unstable();
    merchants.dedup();
    prop_assert_eq!(q.shipping.len(), merchants.len());
    for ms in &q.shipping {
        let after: Money =
            q.lines.iter().filter(|l| l.merchant == ms.merchant).map(|l| l.subtotal - l.coupon_discount).sum();
        let grams: u64 = s
            .lines
            .iter()
            .filter(|l| l.merchant == ms.merchant)
            .map(|l| u64::from(l.weight_grams) * u64::from(l.quantity))
            .sum();
        prop_assert_eq!(ms.goods_after_coupons, after);
        prop_assert_eq!(ms.fee, expected_shipping(s.tier.as_ref(), &s.policy.shipping, after, grams));
    }
    prop_assert_eq!(q.shipping_fee, q.shipping.iter().map(|x| x.fee).sum::<Money>());

    // Applied coupons: at most one per layer, merchant layer first, and every
    // other coupon is explained once, by id.
    match q.applied_coupons.as_slice() {
        [] | [_] => {}
        [a, b] => {
            let layer = |id| s.template(s.coupon(id).template).layer;
            prop_assert_eq!(layer(*a), Some(StackLayer::Merchant));
            prop_assert_eq!(layer(*b), Some(StackLayer::Platform));
        }
        more => prop_assert!(false, "more than two coupons applied: {:?}", more),
    }
    let mut explained: Vec<UserCouponId> = q.rejected_coupons.iter().map(|r| r.coupon).collect();
    prop_assert!(explained.windows(2).all(|w| w[0] < w[1]), "rejections not by id");
    explained.extend(&q.applied_coupons);
    explained.sort_unstable();
    let mut all: Vec<UserCouponId> = s.coupons.iter().map(|c| c.id).collect();
    all.sort_unstable();
    prop_assert_eq!(explained, all);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn quote_arithmetic_holds(s in scenario(), choice in coupon_choice(), points in points_choice()) {
        let choice = resolve_choice(&s, &choice);
        match s.price(&choice, points) {
            Ok(q) => {
                check_quote(&s, &q)?;
                if let PointsChoice::Exactly(p) = points {
                    prop_assert_eq!(q.points_used, p);
                }
            }
            Err(e) => {
                // Refusals must have a reason: the points asked for, or the coupon choice.
                let per_fen = s.policy.points.points_per_fen();
                match e {
                    QuoteError::NegativePoints(p) => prop_assert!(p < 0),
                    QuoteError::PointsExceedBalance { requested, balance } => {
                        prop_assert!(requested > balance && balance == s.balance)
                    }
                    QuoteError::PointsNotWholeUnit { requested, unit } => {
                        prop_assert!(unit == per_fen && requested % unit != 0)
                    }
                    QuoteError::PointsExceedCap { requested, max } => {
                        // The cap is what Max would take.
                        let q = s.price(&choice, PointsChoice::Max).expect("the same cart prices with Max");
                        prop_assert_eq!(q.points_max, max);
                        prop_assert!(requested > max);
                    }
                    QuoteError::UnknownCoupon(_)
                    | QuoteError::CouponNotApplicable { .. }
                    | QuoteError::CouponsDoNotStack { .. } => {
                        prop_assert!(matches!(choice, CouponChoice::Chosen(_)), "{:?} refused for {:?}", e, choice)
                    }
                    other => prop_assert!(false, "unexpected refusal {:?}", other),
                }
            }
        }
    }
}

// ---------------------------------------------------------------- best coupon = brute force

/// The rank of a coupon set (DESIGN §4): larger total discount, then fewer
/// coupons, then the members' (expiry, id) pairs sorted and compared
/// lexicographically (earliest expiry first, then lowest id).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rank {
    discount: Money,
    count: usize,
    order: Vec<(DateTime<Utc>, UserCouponId)>,
}

impl Rank {
    fn of(s: &Scenario, q: &Quote) -> Rank {
        let mut order: Vec<_> = q.applied_coupons.iter().map(|&id| (s.coupon(id).valid_to, id)).collect();
        order.sort();
        Rank { discount: q.coupon_discount, count: q.applied_coupons.len(), order }
    }

    fn better_than(&self, other: &Rank) -> bool {
        if self.discount != other.discount {
            return self.discount > other.discount;
        }
        if self.count != other.count {
            return self.count < other.count;
        }
        self.order < other.order
    }
}

/// Every allowed set — none, each coupon alone, each (merchant layer,
/// platform layer) pair — priced with an explicit choice; the best by
/// [`Rank`]. Sets the pricing refuses are skipped.
fn brute_force_best(s: &Scenario, points: PointsChoice) -> (Rank, Quote) {
    let mut sets: Vec<Vec<UserCouponId>> = vec![Vec::new()];
    sets.extend(s.coupons.iter().map(|c| vec![c.id]));
    let layer = |c: &UserCoupon| s.template(c.template).layer;
    for a in &s.coupons {
        for b in &s.coupons {
            if layer(a) == Some(StackLayer::Merchant) && layer(b) == Some(StackLayer::Platform) {
                // Pass the platform coupon first half the time: the order given must not matter.
                let pair = if (a.id.0 + b.id.0) % 2 == 0 { vec![a.id, b.id] } else { vec![b.id, a.id] };
                sets.push(pair);
            }
        }
    }
    let mut best: Option<(Rank, Quote)> = None;
    for set in sets {
        let Ok(q) = s.price(&CouponChoice::Chosen(set), points) else { continue };
        let rank = Rank::of(s, &q);
        if best.as_ref().is_none_or(|(b, _)| rank.better_than(b)) {
            best = Some((rank, q));
        }
    }
    best.expect("the empty set always prices")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn best_coupon_matches_a_brute_force_search(s in scenario(), max_points in any::<bool>()) {
        let points = if max_points { PointsChoice::Max } else { PointsChoice::None };
        let best = s.price(&CouponChoice::Best, points).expect("Best always prices a valid cart");
        let (rank, expected) = brute_force_best(&s, points);
        prop_assert_eq!(&best.applied_coupons, &expected.applied_coupons, "expected rank {:?}", rank);
        prop_assert_eq!(best.coupon_discount, expected.coupon_discount);
        // Choosing the best set by hand prices exactly like letting Best find it.
        prop_assert_eq!(&best, &expected);
        check_quote(&s, &best)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Carts beyond 64 lines take other paths (scope masks and allocation
    /// keys spill to the heap): the same properties hold there.
    #[test]
    fn large_carts_price_like_small_ones(s in scenario_of(200, 60..=130), points in points_choice()) {
        let points = if matches!(points, PointsChoice::Exactly(_)) { PointsChoice::Max } else { points };
        let best = s.price(&CouponChoice::Best, points).expect("Best always prices a valid cart");
        check_quote(&s, &best)?;
        let (_, expected) = brute_force_best(&s, points);
        prop_assert_eq!(&best, &expected);
        let reversed_lines: Vec<PricingLine> = s.lines.iter().rev().cloned().collect();
        let reversed_coupons: Vec<UserCoupon> = s.coupons.iter().rev().cloned().collect();
        let reversed = s.price_in_order(&reversed_lines, &reversed_coupons, &CouponChoice::Best, points);
        prop_assert_eq!(Ok(best), reversed);
    }
}

// ---------------------------------------------------------------- order invariance

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn shuffled_lines_and_coupons_give_the_identical_quote(
        s in scenario(),
        line_keys in prop::collection::vec(any::<u32>(), 12),
        coupon_keys in prop::collection::vec(any::<u32>(), 10),
        points in points_choice(),
        choice in coupon_choice(),
    ) {
        let choice = resolve_choice(&s, &choice);
        let mut lines: Vec<(u32, PricingLine)> = line_keys.iter().copied().zip(s.lines.iter().cloned()).collect();
        lines.sort_by_key(|(k, _)| *k);
        let lines: Vec<PricingLine> = lines.into_iter().map(|(_, l)| l).collect();
        let mut coupons: Vec<(u32, UserCoupon)> = coupon_keys.iter().copied().zip(s.coupons.iter().cloned()).collect();
        coupons.sort_by_key(|(k, _)| *k);
        let coupons: Vec<UserCoupon> = coupons.into_iter().map(|(_, c)| c).collect();
        let reversed_lines: Vec<PricingLine> = s.lines.iter().rev().cloned().collect();
        let reversed_coupons: Vec<UserCoupon> = s.coupons.iter().rev().cloned().collect();

        let original = s.price(&choice, points);
        let shuffled = s.price_in_order(&lines, &coupons, &choice, points);
        let reversed = s.price_in_order(&reversed_lines, &reversed_coupons, &choice, points);
        prop_assert_eq!(&original, &shuffled);
        prop_assert_eq!(&original, &reversed);
        if let Ok(q) = &original {
            let skus: Vec<SkuId> = q.lines.iter().map(|l| l.sku).collect();
            let mut sorted = skus.clone();
            sorted.sort_unstable();
            prop_assert_eq!(skus, sorted);
        }
    }
}

// ---------------------------------------------------------------- percentage rule

/// eligible × (1 − rate), half-up to the fen, then capped, never above the
/// eligible amount (DESIGN §4), computed in `Decimal` yuan.
fn percentage_reference(eligible_fen: i64, rate_bp: u32, cap_fen: Option<i64>) -> Money {
    let eligible = Decimal::new(eligible_fen, 2);
    let rate = Decimal::new(i64::from(rate_bp), 4);
    let mut off = (eligible * (Decimal::ONE - rate)).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    if let Some(cap) = cap_fen {
        off = off.min(Decimal::new(cap, 2));
    }
    off = off.min(eligible);
    Money::from_decimal(off).expect("two decimals")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn percentage_discount_is_rounded_half_up_then_capped(
        eligible in prop_oneof![1i64..=10_000, 1i64..=100_000_000],
        rate in prop_oneof![1u32..=9_999, select(&[5_000u32, 8_000, 8_500, 9_000, 9_500, 9_999][..])],
        cap in prop::option::of(1i64..=100_000),
        threshold in prop_oneof![Just(0i64), 0i64..=200_000],
    ) {
        let kind = CouponKind::Percentage {
            rate: Rate::from_bp(rate),
            threshold: Money::from_fen(threshold),
            max_discount: cap.map(Money::from_fen),
        };
        let expected = percentage_reference(eligible, rate, cap);
        let got = kind.discount(Money::from_fen(eligible), Rounding::HalfUp);
        if eligible < threshold {
            prop_assert_eq!(got, Err(Money::from_fen(threshold - eligible)));
        } else {
            prop_assert_eq!(got, Ok(expected));
        }

        // The same through the pipeline: one line, one coupon on the whole order.
        let template = CouponTemplate {
            id: CouponTemplateId(1),
            title: "折扣".into(),
            kind,
            scope: CouponScope::All,
            validity: Validity::DaysAfterClaim { days: 30 },
            total_limit: None,
            per_user_limit: 1,
            issued: 0,
            used: 0,
            status: TemplateStatus::Enabled,
            layer: None,
        };
        let s = Scenario {
            lines: vec![PricingLine {
                sku: SkuId(1),
                product: ProductId(1),
                merchant: MerchantId(1),
                category_path: vec![CategoryId(1)],
                unit_price: Money::from_fen(eligible),
                quantity: 1,
                weight_grams: 0,
            }],
            templates: vec![template],
            coupons: vec![UserCoupon {
                id: UserCouponId(1),
                template: CouponTemplateId(1),
                user: UserId(1),
                status: UserCouponStatus::Unused,
                valid_from: now() - Duration::days(1),
                valid_to: now() + Duration::days(1),
                claimed_at: now() - Duration::days(1),
                checkout: None,
                used_at: None,
            }],
            tier: None,
            balance: 0,
            policy: PricingPolicy::default(),
        };
        let q = s.price(&CouponChoice::Best, PointsChoice::None).expect("prices");
        let applies = eligible >= threshold && !expected.is_zero();
        prop_assert_eq!(q.coupon_discount, if applies { expected } else { Money::ZERO });
    }
}

// ---------------------------------------------------------------- seed examples

fn seed_scenario(lines: Vec<(u64, &str, u32)>, templates: Vec<CouponTemplate>) -> Scenario {
    let coupons = templates
        .iter()
        .map(|t| UserCoupon {
            id: UserCouponId(t.id.0 * 10),
            template: t.id,
            user: UserId(1),
            status: UserCouponStatus::Unused,
            valid_from: now() - Duration::days(1),
            valid_to: now() + Duration::days(29),
            claimed_at: now() - Duration::days(1),
            checkout: None,
            used_at: None,
        })
        .collect();
    Scenario {
        lines: lines
            .into_iter()
            .map(|(sku, price, quantity)| PricingLine {
                sku: SkuId(sku),
                product: ProductId(sku),
                merchant: MerchantId(1),
                category_path: vec![CategoryId(1)],
                unit_price: m(price),
                quantity,
                weight_grams: 0,
            })
            .collect(),
        templates,
        coupons,
        tier: None,
        balance: 0,
        policy: PricingPolicy::default(),
    }
}

fn template_of(id: u64, kind: CouponKind, layer: Option<StackLayer>) -> CouponTemplate {
    CouponTemplate {
        id: CouponTemplateId(id),
        title: format!("template {id}"),
        kind,
        scope: CouponScope::All,
        validity: Validity::DaysAfterClaim { days: 30 },
        total_limit: None,
        per_user_limit: 1,
        issued: 0,
        used: 0,
        status: TemplateStatus::Enabled,
        layer,
    }
}

#[test]
fn seed_004_ten_tiles_with_299_minus_30() {
    // Seed 004 §6.1: 10 × 255.00 with 满299减30 → goods 2550.00, payable 2520.00.
    let s = seed_scenario(
        vec![(1, "255.00", 10)],
        vec![template_of(1, CouponKind::Threshold { threshold: m("299"), amount: m("30") }, None)],
    );
    let q = s.price(&CouponChoice::Best, PointsChoice::None).expect("quote");
    assert_eq!(q.goods_subtotal, m("2550.00"));
    assert_eq!(q.coupon_discount, m("30.00"));
    assert_eq!(q.shipping_fee, Money::ZERO);
    assert_eq!(q.payable, m("2520.00"));
    assert_eq!(q.applied_coupons, vec![UserCouponId(10)]);
    check_quote(&s, &q).expect("invariants");
}

#[test]
fn nine_tenths_on_10_05_takes_off_1_01() {
    let kind = CouponKind::Percentage { rate: Rate::from_bp(9_000), threshold: Money::ZERO, max_discount: None };
    assert_eq!(kind.discount(m("10.05"), Rounding::HalfUp), Ok(m("1.01")));
    assert_eq!(percentage_reference(1_005, 9_000, None), m("1.01"));
    let s = seed_scenario(vec![(1, "10.05", 1)], vec![template_of(1, kind, None)]);
    let q = s.price(&CouponChoice::Best, PointsChoice::None).expect("quote");
    assert_eq!((q.coupon_discount, q.payable), (m("1.01"), m("9.04")));
}

#[test]
fn coupon_over_three_equal_lines_is_split_334_333_333() {
    let s = seed_scenario(
        vec![(1, "10.00", 1), (2, "10.00", 1), (3, "10.00", 1)],
        vec![template_of(1, CouponKind::Cash { amount: m("10.00") }, None)],
    );
    let q = s.price(&CouponChoice::Best, PointsChoice::None).expect("quote");
    let shares: BTreeMap<SkuId, Money> = q.lines.iter().map(|l| (l.sku, l.coupon_discount)).collect();
    assert_eq!(shares.values().copied().collect::<Vec<_>>(), vec![m("3.34"), m("3.33"), m("3.33")]);
    assert_eq!(q.payable, m("20.00"));
}

#[test]
fn a_platform_threshold_is_measured_on_what_the_merchant_layer_left() {
    // 满300减50 (merchant) then 满260减20 (platform) on 300.00: after the
    // merchant coupon 250.00 remain, below 260, so the pair is refused and
    // Best takes the merchant coupon alone.
    let s = seed_scenario(
        vec![(1, "300.00", 1)],
        vec![
            template_of(1, CouponKind::Threshold { threshold: m("300"), amount: m("50") }, Some(StackLayer::Merchant)),
            template_of(2, CouponKind::Threshold { threshold: m("260"), amount: m("20") }, Some(StackLayer::Platform)),
        ],
    );
    let pair = s.price(&CouponChoice::Chosen(vec![UserCouponId(10), UserCouponId(20)]), PointsChoice::None);
    assert!(matches!(pair, Err(QuoteError::CouponNotApplicable { coupon: UserCouponId(20), .. })), "{pair:?}");
    let q = s.price(&CouponChoice::Best, PointsChoice::None).expect("quote");
    assert_eq!((q.applied_coupons.clone(), q.coupon_discount), (vec![UserCouponId(10)], m("50.00")));
}
