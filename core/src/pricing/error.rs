//! Pricing's refusals: the cart, the chosen coupons or the points.

use crate::error::class::{AreaError, ErrorClass};
use crate::ids::{SkuId, UserCouponId};
use crate::pricing::CouponRejection;

/// Why a quote cannot be made. Each names the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    /// No lines.
    #[error("the cart is empty")]
    EmptyCart,
    /// A line with zero units.
    #[error("line for sku {0}: quantity must be at least 1")]
    ZeroQuantity(SkuId),
    /// Two lines for one SKU.
    #[error("sku {0} appears on more than one line")]
    DuplicateLine(SkuId),
    /// A chosen coupon the buyer does not hold.
    #[error("coupon {0} is not held by the buyer")]
    UnknownCoupon(UserCouponId),
    /// A chosen coupon that cannot be used on this cart.
    #[error("coupon {coupon} cannot be used: {reason:?}")]
    CouponNotApplicable {
        /// Coupon.
        coupon: UserCouponId,
        /// Why.
        reason: CouponRejection,
    },
    /// Two chosen coupons that cannot stack.
    #[error("coupons {first} and {second} cannot be used together (one per layer; exclusive coupons stand alone)")]
    CouponsDoNotStack {
        /// First coupon.
        first: UserCouponId,
        /// Second coupon.
        second: UserCouponId,
    },
    /// A negative number of points.
    #[error("points must not be negative (got {0})")]
    NegativePoints(i64),
    /// More points than the balance.
    #[error("{requested} points requested but the balance is {balance}")]
    PointsExceedBalance {
        /// Requested.
        requested: i64,
        /// Balance.
        balance: i64,
    },
    /// More points than the redemption cap allows.
    #[error("{requested} points requested but at most {max} may be used on this order")]
    PointsExceedCap {
        /// Requested.
        requested: i64,
        /// Cap in points.
        max: i64,
    },
    /// Points that are not a whole number of fen.
    #[error("{requested} points is not a multiple of {unit} (one fen)")]
    PointsNotWholeUnit {
        /// Requested.
        requested: i64,
        /// Points per fen.
        unit: i64,
    },
}

impl AreaError for QuoteError {
    fn kind(&self) -> &'static str {
        match self {
            QuoteError::EmptyCart => "empty_cart",
            QuoteError::ZeroQuantity(_) => "invalid_quantity",
            QuoteError::DuplicateLine(_) => "duplicate_line",
            QuoteError::UnknownCoupon(_) => "coupon_not_found",
            QuoteError::CouponNotApplicable { reason, .. } => match reason {
                CouponRejection::Expired { .. } => "coupon_expired",
                CouponRejection::NotYetValid { .. } => "coupon_not_yet_valid",
                CouponRejection::BelowThreshold { .. } => "coupon_below_threshold",
                CouponRejection::OutOfScope => "coupon_out_of_scope",
                CouponRejection::Disabled => "coupon_disabled",
                CouponRejection::NotUsable { .. } | CouponRejection::Smaller { .. } => "coupon_unavailable",
            },
            QuoteError::CouponsDoNotStack { .. } => "coupons_do_not_stack",
            QuoteError::NegativePoints(_) | QuoteError::PointsNotWholeUnit { .. } => "invalid_points",
            QuoteError::PointsExceedBalance { .. } => "insufficient_points",
            QuoteError::PointsExceedCap { .. } => "points_exceed_cap",
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            QuoteError::EmptyCart
            | QuoteError::ZeroQuantity(_)
            | QuoteError::DuplicateLine(_)
            | QuoteError::NegativePoints(_)
            | QuoteError::PointsNotWholeUnit { .. } => ErrorClass::InvalidInput,
            QuoteError::UnknownCoupon(_) => ErrorClass::NotFound,
            _ => ErrorClass::Conflict,
        }
    }

    fn message_zh(&self) -> &'static str {
        match self.kind() {
            "empty_cart" => "没有可结算的商品",
            "coupon_not_found" => "优惠券不存在",
            "coupon_expired" => "优惠券已过期",
            "coupon_not_yet_valid" => "优惠券未到使用时间",
            "coupon_below_threshold" => "未达到优惠券使用门槛",
            "coupon_out_of_scope" => "优惠券不适用于所选商品",
            "coupon_disabled" => "优惠券已停用",
            "coupon_unavailable" => "优惠券不可用",
            "coupons_do_not_stack" => "优惠券不可叠加使用",
            "insufficient_points" => "积分不足",
            "points_exceed_cap" => "积分抵扣超过上限",
            _ => "请求参数错误",
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            QuoteError::ZeroQuantity(_) | QuoteError::DuplicateLine(_) | QuoteError::EmptyCart => Some("items"),
            QuoteError::NegativePoints(_)
            | QuoteError::PointsNotWholeUnit { .. }
            | QuoteError::PointsExceedBalance { .. }
            | QuoteError::PointsExceedCap { .. } => Some("points"),
            _ => None,
        }
    }
}
