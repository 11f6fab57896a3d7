//! The engine's policy: every setting with the defaults of DESIGN.md.

use serde::{Deserialize, Serialize};

use crate::error::{MallError, invalid};
use crate::pricing::PricingPolicy;

/// Every policy setting of the engine, with the defaults of DESIGN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Policy {
    /// Rounding, points and shipping (the pricing pipeline's settings).
    pub pricing: PricingPolicy,
    /// Minutes an order waits for payment before it closes (default 30).
    pub payment_timeout_minutes: i64,
    /// Days after shipping before the system confirms receipt (default 10).
    pub auto_confirm_days: i64,
    /// Days after completion during which after-sales can be asked (default 15).
    pub after_sales_days: i64,
    /// Reduce a partial refund that leaves the kept goods below a coupon's
    /// threshold (DESIGN §8; default on).
    pub threshold_clawback: bool,
    /// Give the coupon back when a paid order is cancelled (default off).
    pub return_coupon_on_paid_cancel: bool,
}

impl Policy {
    /// Checks every setting.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] naming the field: `redeem_points_per_yuan`
    /// not a positive multiple of 100, `redeem_cap` above 1, a negative fee,
    /// a zero weight step, or a period that is not positive.
    pub fn validate(&self) -> Result<(), MallError> {
        let points = &self.pricing.points;
        if points.redeem_points_per_yuan <= 0 || points.redeem_points_per_yuan % 100 != 0 {
            return Err(invalid("policy.pricing.points.redeem_points_per_yuan", "must be a positive multiple of 100"));
        }
        if points.redeem_cap > crate::money::Rate::ONE {
            return Err(invalid("policy.pricing.points.redeem_cap", "must be at most 1"));
        }
        let shipping = &self.pricing.shipping;
        let mut fees = vec![("flat_fee", shipping.flat_fee)];
        if let Some(t) = shipping.free_over {
            fees.push(("free_over", t));
        }
        if let Some(w) = shipping.by_weight {
            if w.step_grams == 0 {
                return Err(invalid("policy.pricing.shipping.by_weight.step_grams", "must be at least 1"));
            }
            fees.extend([("by_weight.first_fee", w.first_fee), ("by_weight.step_fee", w.step_fee)]);
        }
        if let Some((field, _)) = fees.iter().find(|(_, m)| m.is_negative()) {
            return Err(invalid(&format!("policy.pricing.shipping.{field}"), "must not be negative"));
        }
        for (field, value) in [
            ("payment_timeout_minutes", self.payment_timeout_minutes),
            ("auto_confirm_days", self.auto_confirm_days),
            ("after_sales_days", self.after_sales_days),
        ] {
            if value <= 0 {
                return Err(invalid(&format!("policy.{field}"), "must be positive"));
            }
        }
        Ok(())
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            pricing: PricingPolicy::default(),
            payment_timeout_minutes: 30,
            auto_confirm_days: 10,
            after_sales_days: 15,
            threshold_clawback: true,
            return_coupon_on_paid_cancel: false,
        }
    }
}
