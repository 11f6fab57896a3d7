//! Coupons (优惠券), DESIGN §4 and seed 004 §5: templates of three kinds with
//! scopes, validity and limits; the coupons users hold; the discount rule.
//! Choosing the best coupons for a cart lives in [`crate::pricing`].

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CategoryId, CheckoutId, CouponTemplateId, MerchantId, ProductId, SkuId, UserCouponId, UserId};
use crate::money::{Money, Rate, Rounding};

pub mod commands;
pub mod error;
pub mod queries;
pub mod store;
pub mod writes;

pub use error::{CouponError, TemplateError};

/// What a coupon takes off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CouponKind {
    /// 满减: spend at least `threshold` in scope, take off `amount`.
    Threshold {
        /// Eligible subtotal needed, yuan.
        threshold: Money,
        /// Amount taken off, yuan.
        amount: Money,
    },
    /// 折扣: pay `rate` of the eligible subtotal (0.9 = 9折), from an optional
    /// threshold, capped at `max_discount`.
    Percentage {
        /// Share of the price paid, in (0, 1].
        rate: Rate,
        /// Eligible subtotal needed, yuan (zero: none).
        #[serde(default)]
        threshold: Money,
        /// Largest discount, yuan.
        #[serde(default)]
        max_discount: Option<Money>,
    },
    /// 无门槛: take off `amount`, no threshold.
    Cash {
        /// Amount taken off, yuan.
        amount: Money,
    },
}

impl CouponKind {
    /// The eligible subtotal needed before the coupon applies.
    pub fn threshold(&self) -> Money {
        match self {
            CouponKind::Threshold { threshold, .. } | CouponKind::Percentage { threshold, .. } => *threshold,
            CouponKind::Cash { .. } => Money::ZERO,
        }
    }

    /// The discount on an eligible subtotal of `eligible` yuan, never more than
    /// `eligible` (DESIGN §2), or how far below the threshold it is.
    ///
    /// A percentage takes off `eligible × (1 − rate)` rounded by `rounding`,
    /// then capped (9折 on 10.05 takes off 1.01).
    ///
    /// # Errors
    /// `Err(short_by)`: the eligible subtotal is `short_by` yuan below the
    /// threshold.
    #[inline]
    pub fn discount(&self, eligible: Money, rounding: Rounding) -> Result<Money, Money> {
        let threshold = self.threshold();
        if eligible < threshold || eligible.fen() <= 0 {
            return Err((threshold - eligible).max(Money::from_fen(1)));
        }
        let off = match self {
            CouponKind::Threshold { amount, .. } | CouponKind::Cash { amount } => *amount,
            CouponKind::Percentage { rate, max_discount, .. } => {
                let off_bp = i64::from(Rate::ONE_BP.saturating_sub(rate.bp()));
                let off = rounding.scale(eligible, off_bp, i64::from(Rate::ONE_BP));
                max_discount.map_or(off, |cap| off.min(cap))
            }
        };
        Ok(off.min(eligible).max(Money::ZERO))
    }
}

/// Which lines a coupon applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "ids", rename_all = "snake_case", deny_unknown_fields)]
pub enum CouponScope {
    /// Every line.
    All,
    /// Lines whose product sits in one of these categories or below them.
    Categories(Vec<CategoryId>),
    /// Lines of these products.
    Products(Vec<ProductId>),
    /// Lines of these SKUs.
    Skus(Vec<SkuId>),
    /// Lines sold by this merchant.
    Merchant(MerchantId),
}

/// The facts about a line that a scope looks at.
#[derive(Debug, Clone, Copy)]
pub struct ScopeFacts<'a> {
    /// The line's SKU.
    pub sku: SkuId,
    /// Its product.
    pub product: ProductId,
    /// Its merchant.
    pub merchant: MerchantId,
    /// Its category and that category's ancestors.
    pub category_path: &'a [CategoryId],
}

impl CouponScope {
    /// True when the scope covers a line with these facts.
    pub fn covers(&self, line: ScopeFacts<'_>) -> bool {
        match self {
            CouponScope::All => true,
            CouponScope::Categories(ids) => line.category_path.iter().any(|c| ids.contains(c)),
            CouponScope::Products(ids) => ids.contains(&line.product),
            CouponScope::Skus(ids) => ids.contains(&line.sku),
            CouponScope::Merchant(m) => *m == line.merchant,
        }
    }
}

/// When a claimed coupon can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Validity {
    /// A fixed window, both ends included.
    Window {
        /// First instant of use.
        from: DateTime<Utc>,
        /// Last instant of use.
        to: DateTime<Utc>,
    },
    /// From the claim, for `days` days.
    DaysAfterClaim {
        /// Length of validity in days.
        days: u32,
    },
}

impl Validity {
    /// The (from, to) window of a coupon claimed at `claimed_at`.
    pub fn window(&self, claimed_at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        match *self {
            Validity::Window { from, to } => (from, to),
            Validity::DaysAfterClaim { days } => (claimed_at, claimed_at + Duration::days(i64::from(days))),
        }
    }
}

/// Stacking layer (DESIGN §4): at most one coupon per layer, merchant layer
/// first; a template with no layer is exclusive and stands alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StackLayer {
    /// 店铺券: applied first.
    Merchant,
    /// 平台券: applied on what the merchant layer left.
    Platform,
}

/// Whether a template can be claimed and its coupons used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TemplateStatus {
    /// Claimable and usable.
    #[default]
    Enabled,
    /// Neither claimable nor usable.
    Disabled,
}

/// A coupon template: the offer users claim coupons from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CouponTemplate {
    /// Id.
    pub id: CouponTemplateId,
    /// Title ("满299减30").
    pub title: String,
    /// Discount rule.
    pub kind: CouponKind,
    /// Lines it applies to.
    pub scope: CouponScope,
    /// When claimed coupons can be used.
    pub validity: Validity,
    /// Most coupons ever issued; `None` for no limit.
    #[serde(default)]
    pub total_limit: Option<u32>,
    /// Most coupons one user may claim (default 1).
    #[serde(default = "one")]
    pub per_user_limit: u32,
    /// Coupons issued so far (kept by the store).
    #[serde(default)]
    pub issued: u32,
    /// Coupons used so far (kept by the store).
    #[serde(default)]
    pub used: u32,
    /// Status.
    #[serde(default)]
    pub status: TemplateStatus,
    /// Stacking layer; `None` = exclusive.
    #[serde(default)]
    pub layer: Option<StackLayer>,
}

fn one() -> u32 {
    1
}

/// Why a template refuses one more claim (DESIGN §4: claiming never
/// exceeds either limit). Both stores decide a claim with
/// [`CouponTemplate::admit_claim`] (PostgreSQL also phrases it as its
/// conditional `UPDATE`s, and explains a refusal with this function).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClaimRefused {
    /// The template is disabled.
    #[error("the template is disabled")]
    Disabled,
    /// The template has issued its total.
    #[error("all {limit} coupons are issued")]
    Exhausted {
        /// Total limit.
        limit: u32,
    },
    /// The user holds the per-user limit.
    #[error("the user already holds {limit}")]
    PerUserLimit {
        /// Per-user limit.
        limit: u32,
    },
}

/// How a template's `used` counter moves when a coupon goes from `from` to
/// `to`: one more into `used`, one less out of it, else none.
pub fn used_delta(from: UserCouponStatus, to: UserCouponStatus) -> i32 {
    match (from == UserCouponStatus::Used, to == UserCouponStatus::Used) {
        (false, true) => 1,
        (true, false) => -1,
        _ => 0,
    }
}

impl CouponTemplate {
    /// Whether one more coupon may be claimed by a user who has claimed
    /// `held` of this template: enabled, under the total, under the
    /// per-user limit, checked in that order.
    ///
    /// # Errors
    /// The first [`ClaimRefused`] that applies.
    pub fn admit_claim(&self, held: u32) -> Result<(), ClaimRefused> {
        if self.status == TemplateStatus::Disabled {
            return Err(ClaimRefused::Disabled);
        }
        if let Some(limit) = self.total_limit
            && self.issued >= limit
        {
            return Err(ClaimRefused::Exhausted { limit });
        }
        if held >= self.per_user_limit {
            return Err(ClaimRefused::PerUserLimit { limit: self.per_user_limit });
        }
        Ok(())
    }

    /// Checks the template's own fields.
    ///
    /// # Errors
    /// [`TemplateError`] naming the field.
    pub fn validate(&self) -> Result<(), TemplateError> {
        let id = self.id;
        let positive = |m: Money, field| {
            if m.fen() > 0 { Ok(()) } else { Err(TemplateError::NotPositive { template: id, field }) }
        };
        match &self.kind {
            CouponKind::Threshold { threshold, amount } => {
                positive(*amount, "kind.amount")?;
                if threshold.is_negative() {
                    return Err(TemplateError::NotPositive { template: id, field: "kind.threshold" });
                }
            }
            CouponKind::Percentage { rate, threshold, max_discount } => {
                if rate.bp() == 0 || rate.bp() >= Rate::ONE_BP {
                    return Err(TemplateError::RateOutOfRange { template: id, rate: *rate });
                }
                if threshold.is_negative() {
                    return Err(TemplateError::NotPositive { template: id, field: "kind.threshold" });
                }
                if let Some(cap) = max_discount {
                    positive(*cap, "kind.max_discount")?;
                }
            }
            CouponKind::Cash { amount } => positive(*amount, "kind.amount")?,
        }
        if let Validity::Window { from, to } = self.validity
            && to < from
        {
            return Err(TemplateError::EmptyWindow(id));
        }
        if self.per_user_limit == 0 {
            return Err(TemplateError::ZeroPerUserLimit(id));
        }
        Ok(())
    }
}

/// The life of a coupon a user holds (seed 004 §5.3, extended).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UserCouponStatus {
    /// 未使用.
    Unused,
    /// Held by an unpaid checkout.
    Locked,
    /// 已使用.
    Used,
    /// 已过期: past its window while unused.
    Expired,
    /// 已作废: voided by an admin.
    Void,
}

/// A coupon a user holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserCoupon {
    /// Id.
    pub id: UserCouponId,
    /// The template it was claimed from.
    pub template: CouponTemplateId,
    /// Holder.
    pub user: UserId,
    /// Status as stored; see [`UserCoupon::status_at`] for expiry.
    pub status: UserCouponStatus,
    /// First instant of use.
    pub valid_from: DateTime<Utc>,
    /// Last instant of use.
    pub valid_to: DateTime<Utc>,
    /// When it was claimed.
    pub claimed_at: DateTime<Utc>,
    /// The checkout holding or having used it.
    #[serde(default)]
    pub checkout: Option<CheckoutId>,
    /// When it was used.
    #[serde(default)]
    pub used_at: Option<DateTime<Utc>>,
}

impl UserCoupon {
    /// The status at `now`: an unused coupon past its window is expired.
    pub fn status_at(&self, now: DateTime<Utc>) -> UserCouponStatus {
        if self.status == UserCouponStatus::Unused && now > self.valid_to {
            UserCouponStatus::Expired
        } else {
            self.status
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_refused_by_status_then_total_then_holder() {
        let mut t = CouponTemplate {
            id: CouponTemplateId(1),
            title: "满299减30".into(),
            kind: CouponKind::Cash { amount: Money::from_fen(3000) },
            scope: CouponScope::All,
            validity: Validity::DaysAfterClaim { days: 7 },
            total_limit: Some(100),
            per_user_limit: 2,
            issued: 99,
            used: 0,
            status: TemplateStatus::Enabled,
            layer: None,
        };
        assert_eq!(t.admit_claim(1), Ok(()));
        assert_eq!(t.admit_claim(2), Err(ClaimRefused::PerUserLimit { limit: 2 }));
        t.issued = 100;
        assert_eq!(t.admit_claim(2), Err(ClaimRefused::Exhausted { limit: 100 }));
        t.status = TemplateStatus::Disabled;
        assert_eq!(t.admit_claim(0), Err(ClaimRefused::Disabled));
        assert_eq!(used_delta(UserCouponStatus::Locked, UserCouponStatus::Used), 1);
        assert_eq!(used_delta(UserCouponStatus::Used, UserCouponStatus::Unused), -1);
        assert_eq!(used_delta(UserCouponStatus::Unused, UserCouponStatus::Locked), 0);
    }

    fn m(s: &str) -> Money {
        s.parse().expect("money")
    }

    #[test]
    fn threshold_coupon_seed_004() {
        let k = CouponKind::Threshold { threshold: m("299"), amount: m("30") };
        assert_eq!(k.discount(m("2550"), Rounding::HalfUp), Ok(m("30")));
        assert_eq!(k.discount(m("298.50"), Rounding::HalfUp), Err(m("0.50")));
    }

    #[test]
    fn percentage_rounds_half_up_then_caps() {
        let k =
            CouponKind::Percentage { rate: Rate::from_bp(9_000), threshold: Money::ZERO, max_discount: Some(m("20")) };
        assert_eq!(k.discount(m("10.05"), Rounding::HalfUp), Ok(m("1.01")));
        assert_eq!(k.discount(m("500"), Rounding::HalfUp), Ok(m("20")));
    }

    #[test]
    fn cash_never_exceeds_the_amount() {
        let k = CouponKind::Cash { amount: m("50") };
        assert_eq!(k.discount(m("12.30"), Rounding::HalfUp), Ok(m("12.30")));
    }
}
