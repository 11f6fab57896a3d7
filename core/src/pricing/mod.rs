//! The pricing pipeline (DESIGN §3): one pure function, [`quote`], turns cart
//! lines, the buyer's tier, coupons, requested points, the shipping rule and
//! `now` into an explainable [`Quote`]. Preview and order creation both call
//! it, so the previewed payable is the charged payable.
//!
//! Steps: member price per unit → coupons on their eligible lines (best set
//! found exactly, DESIGN §4) → points on what remains of the goods → shipping
//! per merchant → payable = goods − coupons − points + shipping.
//!
//! Lines are put in a canonical order (by SKU id) before anything is
//! allocated, so the quote is the same to the fen whatever order the lines and
//! coupons come in; the quote's lines come back in that order.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::coupon::{CouponTemplate, ScopeFacts, StackLayer, TemplateStatus, UserCoupon, UserCouponStatus};
use crate::ids::{CategoryId, CouponTemplateId, MerchantId, ProductId, SkuId, UserCouponId};
use crate::money::{Money, Rate, Rounding, allocate_by, allocate_into};
use crate::points::{PointsPolicy, Tier};

mod best;
pub mod error;

pub use error::QuoteError;

use best::{CouponTable, apply_coupon};

/// A cart line with what pricing needs to know about its SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PricingLine {
    /// SKU; at most one line per SKU.
    pub sku: SkuId,
    /// Its product.
    pub product: ProductId,
    /// Its merchant.
    pub merchant: MerchantId,
    /// The product's category followed by its ancestors.
    pub category_path: Vec<CategoryId>,
    /// SKU price per unit, yuan, before any member discount.
    pub unit_price: Money,
    /// Units, at least 1.
    pub quantity: u32,
    /// Weight of one unit in grams (0 when unknown).
    pub weight_grams: u32,
}

/// A coupon the buyer holds, with its template.
#[derive(Debug, Clone, Copy)]
pub struct CouponCandidate<'a> {
    /// The user's coupon.
    pub coupon: &'a UserCoupon,
    /// Its template.
    pub template: &'a CouponTemplate,
}

/// Which coupons to apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "mode", content = "coupons", rename_all = "snake_case")]
pub enum CouponChoice {
    /// The best usable set (seed 004 §6.1 `optimal_coupon`).
    #[default]
    Best,
    /// No coupon.
    None,
    /// Exactly these (one per layer, or one exclusive coupon).
    Chosen(Vec<UserCouponId>),
}

/// How many points to redeem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "mode", content = "points", rename_all = "snake_case")]
pub enum PointsChoice {
    /// None.
    #[default]
    None,
    /// As many as balance and cap allow (seed 004 `use_points: true`).
    Max,
    /// Exactly this many (seed 004 `points_used`).
    Exactly(i64),
}

/// Weight-based shipping: a first weight and then steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeightRate {
    /// Grams covered by `first_fee`.
    pub first_grams: u32,
    /// Fee for the first weight, yuan.
    pub first_fee: Money,
    /// Grams per further step (at least 1).
    pub step_grams: u32,
    /// Fee per started step, yuan.
    pub step_fee: Money,
}

/// The shipping fee rule, applied per merchant (each merchant ships its own
/// order). DESIGN §3 step 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ShippingRule {
    /// Fee when nothing else applies, yuan.
    pub flat_fee: Money,
    /// Free when the merchant's goods after coupons reach this, yuan.
    pub free_over: Option<Money>,
    /// Weight-based fee, used instead of `flat_fee` when the lines have weight.
    pub by_weight: Option<WeightRate>,
}

/// Settings the pricing pipeline reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PricingPolicy {
    /// Rounding of fractions of a fen.
    pub rounding: Rounding,
    /// Points redemption and earning.
    pub points: PointsPolicy,
    /// Shipping fee rule.
    pub shipping: ShippingRule,
}

/// Everything a quote depends on.
#[derive(Debug, Clone, Copy)]
pub struct QuoteRequest<'a> {
    /// Lines, each a distinct SKU.
    pub lines: &'a [PricingLine],
    /// Buyer's tier.
    pub tier: Option<&'a Tier>,
    /// Every coupon the buyer holds that might apply.
    pub coupons: &'a [CouponCandidate<'a>],
    /// Which coupons to apply.
    pub coupon_choice: &'a CouponChoice,
    /// Points to redeem.
    pub points: PointsChoice,
    /// Spendable points balance.
    pub points_balance: i64,
    /// Policy.
    pub policy: &'a PricingPolicy,
    /// Now, for coupon validity.
    pub now: DateTime<Utc>,
}

/// Why a coupon was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum CouponRejection {
    /// Locked by another checkout, used or void.
    NotUsable {
        /// Its status.
        status: UserCouponStatus,
    },
    /// The template is disabled.
    Disabled,
    /// Its window has not started.
    NotYetValid {
        /// Start of the window.
        valid_from: DateTime<Utc>,
    },
    /// Its window has ended.
    Expired {
        /// End of the window.
        valid_to: DateTime<Utc>,
    },
    /// No line of the cart is in its scope.
    OutOfScope,
    /// The eligible subtotal is below the threshold.
    BelowThreshold {
        /// How much more must be spent in scope, yuan.
        short_by: Money,
    },
    /// Usable, but the chosen set saves more (or it was not chosen).
    Smaller {
        /// What it would take off alone, yuan.
        discount: Money,
    },
}

/// Where an adjustment comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AdjustmentSource {
    /// The tier's member price.
    MemberDiscount {
        /// Tier level.
        tier: u32,
    },
    /// A coupon.
    Coupon {
        /// The user's coupon.
        coupon: UserCouponId,
        /// Its template.
        template: CouponTemplateId,
        /// Its layer, `None` for exclusive.
        layer: Option<StackLayer>,
    },
    /// Points redeemed.
    Points {
        /// Points used.
        points: i64,
    },
}

/// One reduction of the goods, with its split over the lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Adjustment {
    /// Source.
    pub source: AdjustmentSource,
    /// Amount taken off, yuan.
    pub amount: Money,
    /// Subtotal it was measured on (a coupon's eligible subtotal), yuan.
    pub measured_on: Money,
    /// Per quote line (same order as [`Quote::lines`]), yuan; adds up to `amount`.
    pub allocation: Vec<Money>,
}

/// A priced line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuoteLine {
    /// SKU.
    pub sku: SkuId,
    /// Product.
    pub product: ProductId,
    /// Merchant.
    pub merchant: MerchantId,
    /// Units.
    pub quantity: u32,
    /// SKU price per unit, yuan.
    pub list_unit_price: Money,
    /// Price per unit after the member discount, yuan.
    pub unit_price: Money,
    /// unit_price × quantity, yuan.
    pub subtotal: Money,
    /// Coupon discounts allocated to this line, yuan.
    pub coupon_discount: Money,
    /// Points allocated to this line.
    pub points_used: i64,
    /// Their value, yuan.
    pub points_deduction: Money,
    /// subtotal − coupon_discount − points_deduction, yuan.
    pub payable: Money,
}

/// Why a merchant's shipping fee is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShippingBasis {
    /// The tier ships free.
    TierBenefit,
    /// Goods after coupons reached the free-shipping threshold.
    FreeOver,
    /// Weight-based fee.
    Weight,
    /// Flat fee.
    Flat,
}

/// One merchant's shipping fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MerchantShipping {
    /// Merchant.
    pub merchant: MerchantId,
    /// Its goods after coupons, yuan (what the free threshold is measured on).
    pub goods_after_coupons: Money,
    /// Total weight in grams.
    pub weight_grams: u64,
    /// Fee, yuan.
    pub fee: Money,
    /// Why.
    pub basis: ShippingBasis,
}

/// A coupon that was not applied, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RejectedCoupon {
    /// Coupon.
    pub coupon: UserCouponId,
    /// Why.
    pub reason: CouponRejection,
}

/// An explainable price (DESIGN §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quote {
    /// Lines in canonical (SKU id) order.
    pub lines: Vec<QuoteLine>,
    /// Σ SKU price × quantity, yuan.
    pub list_total: Money,
    /// Σ member discount, yuan.
    pub member_discount: Money,
    /// Goods at member price, yuan (seed 004 `total_price`).
    pub goods_subtotal: Money,
    /// Σ coupon discounts, yuan (seed 004 `discount_amount`).
    pub coupon_discount: Money,
    /// Points redeemed.
    pub points_used: i64,
    /// Their value, yuan (seed 004 `points_deduction`).
    pub points_deduction: Money,
    /// Most points this quote could take (balance and cap).
    pub points_max: i64,
    /// Σ shipping, yuan (seed 004 `delivery_fee`).
    pub shipping_fee: Money,
    /// goods − coupons − points + shipping, yuan (seed 004 `payable_amount`).
    pub payable: Money,
    /// Coupons applied, merchant layer first.
    pub applied_coupons: Vec<UserCouponId>,
    /// Member discount, coupons and points, each with its allocation.
    pub adjustments: Vec<Adjustment>,
    /// Shipping per merchant.
    pub shipping: Vec<MerchantShipping>,
    /// Every other coupon of the request, with the reason, by coupon id.
    pub rejected_coupons: Vec<RejectedCoupon>,
}

/// Prices a cart. Pure and deterministic.
///
/// # Errors
/// [`QuoteError`] for an empty cart, a zero quantity, a duplicated SKU, a
/// chosen coupon that is unknown, unusable or does not stack, and points that
/// are negative, above the balance, above the cap or not whole fen.
pub fn quote(req: &QuoteRequest<'_>) -> Result<Quote, QuoteError> {
    let rounding = req.policy.rounding;
    let lines = canonical_lines(req.lines)?;
    let n = lines.len();

    // 1. Member price per unit, line subtotals.
    let discount_rate = req.tier.and_then(|t| t.member_discount);
    let mut unit = Vec::with_capacity(n);
    let mut amount = Vec::with_capacity(n);
    for l in &lines {
        let u = member_unit_price(l.unit_price, req.tier, rounding);
        unit.push(u);
        amount.push(u.times(l.quantity));
    }

    // 2. Coupons.
    let table = CouponTable::build(req, &lines, &amount);
    let chosen = match req.coupon_choice {
        CouponChoice::None => Vec::new(),
        CouponChoice::Best => table.best(&amount, rounding),
        CouponChoice::Chosen(ids) => table.validate_choice(ids, &amount, rounding)?,
    };
    let mut remaining = amount.clone();
    let mut adjustments = Vec::with_capacity(chosen.len() + 2);
    if let (Some(tier), Some(_)) = (req.tier, discount_rate) {
        let allocation: Vec<Money> =
            lines.iter().zip(&amount).map(|(l, a)| l.unit_price.times(l.quantity) - *a).collect();
        let total: Money = allocation.iter().sum();
        if !total.is_zero() {
            adjustments.push(Adjustment {
                source: AdjustmentSource::MemberDiscount { tier: tier.level },
                amount: total,
                measured_on: allocation.iter().zip(&amount).map(|(d, a)| *d + *a).sum(),
                allocation,
            });
        }
    }
    let mut coupon_discount = Money::ZERO;
    let mut applied_coupons = Vec::with_capacity(chosen.len());
    for &ci in &chosen {
        let c = &table.coupons[ci];
        let mut allocation = vec![Money::ZERO; n];
        let (eligible, off) = apply_coupon(&table, c, &mut remaining, &mut allocation, rounding);
        coupon_discount += off;
        applied_coupons.push(c.coupon.id);
        adjustments.push(Adjustment {
            source: AdjustmentSource::Coupon { coupon: c.coupon.id, template: c.template.id, layer: c.template.layer },
            amount: off,
            measured_on: eligible,
            allocation,
        });
    }
    let goods_subtotal: Money = amount.iter().sum();
    let after_coupons: Money = remaining.iter().sum();

    // 3. Points on what remains of the goods, allocated to all lines.
    let pp = &req.policy.points;
    let unit_points = pp.points_per_fen();
    let cap_fen = pp.redeem_cap.min(Rate::ONE).of(after_coupons, Rounding::Down).fen().max(0);
    let balance_units = req.points_balance.max(0) / unit_points;
    let points_max = cap_fen.min(balance_units) * unit_points;
    let points_used = match req.points {
        PointsChoice::None => 0,
        PointsChoice::Max => points_max,
        PointsChoice::Exactly(p) if p < 0 => return Err(QuoteError::NegativePoints(p)),
        PointsChoice::Exactly(p) => {
            if p > req.points_balance {
                return Err(QuoteError::PointsExceedBalance { requested: p, balance: req.points_balance });
            }
            if p % unit_points != 0 {
                return Err(QuoteError::PointsNotWholeUnit { requested: p, unit: unit_points });
            }
            if p > points_max {
                return Err(QuoteError::PointsExceedCap { requested: p, max: points_max });
            }
            p
        }
    };
    let points_deduction = pp.deduction_for(points_used);
    let mut points_alloc = vec![Money::ZERO; n];
    allocate_into(points_deduction, &remaining, &mut points_alloc);
    if points_used > 0 {
        adjustments.push(Adjustment {
            source: AdjustmentSource::Points { points: points_used },
            amount: points_deduction,
            measured_on: after_coupons,
            allocation: points_alloc.clone(),
        });
    }

    // 4. Shipping per merchant, measured on goods after coupons.
    let shipping = shipping_fees(&lines, &remaining, req.tier, &req.policy.shipping);
    let shipping_fee: Money = shipping.iter().map(|s| s.fee).sum();

    // 5. Lines and totals.
    let mut quote_lines = Vec::with_capacity(n);
    for (i, l) in lines.iter().enumerate() {
        let coupon = amount[i] - remaining[i];
        quote_lines.push(QuoteLine {
            sku: l.sku,
            product: l.product,
            merchant: l.merchant,
            quantity: l.quantity,
            list_unit_price: l.unit_price,
            unit_price: unit[i],
            subtotal: amount[i],
            coupon_discount: coupon,
            points_used: points_alloc[i].fen() * unit_points,
            points_deduction: points_alloc[i],
            payable: remaining[i] - points_alloc[i],
        });
    }
    let list_total: Money = lines.iter().map(|l| l.unit_price.times(l.quantity)).sum();
    let rejected_coupons = table.rejections(&chosen);
    Ok(Quote {
        lines: quote_lines,
        list_total,
        member_discount: list_total - goods_subtotal,
        goods_subtotal,
        coupon_discount,
        points_used,
        points_deduction,
        points_max,
        shipping_fee,
        payable: goods_subtotal - coupon_discount - points_deduction + shipping_fee,
        applied_coupons,
        adjustments,
        shipping,
        rejected_coupons,
    })
}

/// The lines sorted by SKU id, checked.
fn canonical_lines(input: &[PricingLine]) -> Result<Vec<&PricingLine>, QuoteError> {
    if input.is_empty() {
        return Err(QuoteError::EmptyCart);
    }
    let mut lines: Vec<&PricingLine> = input.iter().collect();
    lines.sort_unstable_by_key(|l| l.sku);
    for (i, l) in lines.iter().enumerate() {
        if l.quantity == 0 {
            return Err(QuoteError::ZeroQuantity(l.sku));
        }
        if i > 0 && lines[i - 1].sku == l.sku {
            return Err(QuoteError::DuplicateLine(l.sku));
        }
    }
    Ok(lines)
}

fn shipping_fees(
    lines: &[&PricingLine],
    after_coupons: &[Money],
    tier: Option<&Tier>,
    rule: &ShippingRule,
) -> Vec<MerchantShipping> {
    let mut out: Vec<MerchantShipping> = Vec::new();
    for (l, a) in lines.iter().zip(after_coupons) {
        let weight = u64::from(l.weight_grams) * u64::from(l.quantity);
        match out.iter_mut().find(|s| s.merchant == l.merchant) {
            Some(s) => {
                s.goods_after_coupons += *a;
                s.weight_grams += weight;
            }
            None => out.push(MerchantShipping {
                merchant: l.merchant,
                goods_after_coupons: *a,
                weight_grams: weight,
                fee: Money::ZERO,
                basis: ShippingBasis::Flat,
            }),
        }
    }
    for s in &mut out {
        (s.fee, s.basis) = if tier.is_some_and(|t| t.free_shipping) {
            (Money::ZERO, ShippingBasis::TierBenefit)
        } else if rule.free_over.is_some_and(|t| s.goods_after_coupons >= t) {
            (Money::ZERO, ShippingBasis::FreeOver)
        } else if let (Some(w), true) = (rule.by_weight, s.weight_grams > 0) {
            let extra = s.weight_grams.saturating_sub(u64::from(w.first_grams));
            let steps = extra.div_ceil(u64::from(w.step_grams.max(1)));
            (w.first_fee + w.step_fee.times(u32::try_from(steps).unwrap_or(u32::MAX)), ShippingBasis::Weight)
        } else {
            (rule.flat_fee, ShippingBasis::Flat)
        };
    }
    out
}

/// The per-unit price a tier pays for a SKU price (member discount rounded
/// per unit by `rounding`).
pub fn member_unit_price(price: Money, tier: Option<&Tier>, rounding: Rounding) -> Money {
    tier.and_then(|t| t.member_discount).map_or(price, |r: Rate| r.of(price, rounding))
}
