//! Coupons' refusals: malformed templates and claims or moves that failed.

use crate::coupon::UserCouponStatus;
use crate::error::class::{AreaError, ErrorClass};
use crate::ids::{CouponTemplateId, UserCouponId, UserId};
use crate::money::Rate;

/// Why a template cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A percentage rate must be above 0 and at most 1.
    #[error("template {template}: kind.rate {rate} must be in (0, 1]")]
    RateOutOfRange {
        /// Template.
        template: CouponTemplateId,
        /// The rate given.
        rate: Rate,
    },
    /// An amount or threshold below zero, or a zero discount.
    #[error("template {template}: {field} must be positive")]
    NotPositive {
        /// Template.
        template: CouponTemplateId,
        /// Field name.
        field: &'static str,
    },
    /// A validity window that ends before it starts.
    #[error("template {0}: validity.to is before validity.from")]
    EmptyWindow(CouponTemplateId),
    /// A per-user limit of zero.
    #[error("template {0}: per_user_limit must be at least 1")]
    ZeroPerUserLimit(CouponTemplateId),
}

impl AreaError for TemplateError {
    fn kind(&self) -> &'static str {
        "invalid_coupon_template"
    }

    fn class(&self) -> ErrorClass {
        ErrorClass::InvalidInput
    }

    fn message_zh(&self) -> &'static str {
        "优惠券模板不合法"
    }

    fn field(&self) -> Option<&str> {
        Some(match self {
            TemplateError::RateOutOfRange { .. } => "rate",
            TemplateError::NotPositive { field, .. } => field,
            TemplateError::EmptyWindow(_) => "validity",
            TemplateError::ZeroPerUserLimit(_) => "per_user_limit",
        })
    }
}

/// Why a coupon cannot be claimed, or moved under a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CouponError {
    /// A coupon that changed status under the command (locked, used).
    #[error("coupon {coupon} is {actual:?}")]
    Unavailable {
        /// Coupon.
        coupon: UserCouponId,
        /// Its status.
        actual: UserCouponStatus,
    },
    /// The template has issued its total.
    #[error("coupon template {template} is sold out ({limit} issued)")]
    SoldOut {
        /// Template.
        template: CouponTemplateId,
        /// Total limit.
        limit: u32,
    },
    /// The user holds the per-user limit.
    #[error("user {user} already holds {limit} of coupon template {template}")]
    ClaimLimit {
        /// Template.
        template: CouponTemplateId,
        /// User.
        user: UserId,
        /// Limit.
        limit: u32,
    },
    /// A template that is disabled or whose window has ended.
    #[error("coupon template {0} cannot be claimed now")]
    NotClaimable(CouponTemplateId),
}

impl AreaError for CouponError {
    fn kind(&self) -> &'static str {
        match self {
            CouponError::Unavailable { .. } => "coupon_unavailable",
            CouponError::SoldOut { .. } => "coupon_sold_out",
            CouponError::ClaimLimit { .. } => "coupon_claim_limit",
            CouponError::NotClaimable(_) => "coupon_not_claimable",
        }
    }

    fn class(&self) -> ErrorClass {
        ErrorClass::Conflict
    }

    fn message_zh(&self) -> &'static str {
        match self {
            CouponError::Unavailable { .. } => "优惠券不可用",
            CouponError::SoldOut { .. } => "优惠券已领完",
            CouponError::ClaimLimit { .. } => "已达到领取上限",
            CouponError::NotClaimable(_) => "优惠券当前不可领取",
        }
    }
}
