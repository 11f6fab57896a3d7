//! The domain error: every rule that can refuse, with the values involved.

use chrono::{DateTime, Utc};

use crate::after_sales::{AfterSaleAction, AfterSaleKind, AfterSaleStatus};
use crate::catalog::CatalogError;
use crate::catalog::search::KeywordTooLong;
use crate::coupon::TemplateError;
use crate::ids::{AfterSaleId, CouponTemplateId, OrderId, PaymentId, ProductId, SkuId, UserCouponId, UserId};
use crate::money::Money;
use crate::order::{IllegalTransition, OrderStatus};
use crate::page::PageError;
use crate::payment::ProviderError;
use crate::pricing::QuoteError;

/// Why a mallkit command refused. Nothing was written when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MallError {
    /// Pricing refused the cart, coupons or points.
    #[error(transparent)]
    Quote(#[from] QuoteError),
    /// A catalog entry is malformed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// A coupon template is malformed.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// An input field is out of range.
    #[error("{field}: {message}")]
    InvalidInput {
        /// Field name, dotted path.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Something that does not exist, or that the caller may not see.
    #[error("{entity} {id} not found")]
    NotFound {
        /// Entity kind ("order", "sku", …).
        entity: &'static str,
        /// Id or number.
        id: String,
    },
    /// A product that is not on sale.
    #[error("product {0} is not on sale")]
    ProductOffSale(ProductId),
    /// Not enough stock.
    #[error("sku {sku}: {requested} requested, only {available} available")]
    InsufficientStock {
        /// SKU.
        sku: SkuId,
        /// Units asked for.
        requested: u32,
        /// Units available.
        available: u32,
    },
    /// Not enough points.
    #[error("{needed} points needed, balance is {balance}")]
    InsufficientPoints {
        /// Points needed.
        needed: i64,
        /// Balance.
        balance: i64,
    },
    /// A coupon that changed status under the command (locked, used).
    #[error("coupon {coupon} is {actual:?}")]
    CouponUnavailable {
        /// Coupon.
        coupon: UserCouponId,
        /// Its status.
        actual: crate::coupon::UserCouponStatus,
    },
    /// The template has issued its total.
    #[error("coupon template {template} is sold out ({limit} issued)")]
    CouponSoldOut {
        /// Template.
        template: CouponTemplateId,
        /// Total limit.
        limit: u32,
    },
    /// The user holds the per-user limit.
    #[error("user {user} already holds {limit} of coupon template {template}")]
    CouponClaimLimit {
        /// Template.
        template: CouponTemplateId,
        /// User.
        user: UserId,
        /// Limit.
        limit: u32,
    },
    /// A template that is disabled or whose window has ended.
    #[error("coupon template {0} cannot be claimed now")]
    CouponNotClaimable(CouponTemplateId),
    /// An order command in the wrong status.
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    /// An after-sales step in the wrong status.
    #[error("after-sale {case} ({kind:?}) is {from:?}; {action:?} does not apply")]
    IllegalAfterSaleStep {
        /// Case.
        case: AfterSaleId,
        /// Its kind.
        kind: AfterSaleKind,
        /// Its status.
        from: AfterSaleStatus,
        /// The refused step.
        action: AfterSaleAction,
    },
    /// After-sales on an order that is not paid, or a return before shipping.
    #[error("order {order} is {status:?}; {kind:?} is not available")]
    AfterSaleNotAllowed {
        /// Order.
        order: OrderId,
        /// Its status.
        status: OrderStatus,
        /// Kind asked for.
        kind: AfterSaleKind,
    },
    /// The after-sales window after completion has passed.
    #[error("order {order}: the after-sales window closed at {closed_at}")]
    AfterSaleWindowClosed {
        /// Order.
        order: OrderId,
        /// End of the window.
        closed_at: DateTime<Utc>,
    },
    /// A paid order with an after-sales case still open cannot be cancelled.
    #[error("order {order} has an after-sales case in progress")]
    AfterSaleInProgress {
        /// Order.
        order: OrderId,
    },
    /// More units than are left for after-sales on a line.
    #[error("order line {line_no}: {requested} units asked, {available} left for after-sales")]
    AfterSaleQuantityExceeded {
        /// Line.
        line_no: u32,
        /// Units asked.
        requested: u32,
        /// Units left.
        available: u32,
    },
    /// More money than the line's refundable amount.
    #[error("order line {line_no}: {requested} asked, at most {max} refundable")]
    RefundExceedsRefundable {
        /// Line.
        line_no: u32,
        /// Amount asked, yuan.
        requested: Money,
        /// Refundable, yuan.
        max: Money,
    },
    /// A payment whose orders cannot be paid (not pending, or expired).
    #[error("order {order} is {status:?} and cannot be paid")]
    OrderNotPayable {
        /// Order.
        order: OrderId,
        /// Its status.
        status: OrderStatus,
    },
    /// A callback whose amount differs from the payment's.
    #[error("payment {payment}: callback amount {got} differs from {expected}")]
    PaymentAmountMismatch {
        /// Payment.
        payment: PaymentId,
        /// Payment amount, yuan.
        expected: Money,
        /// Callback amount, yuan.
        got: Money,
    },
    /// A second success for a paid payment with another transaction number.
    #[error("payment {payment} was already paid by transaction {existing}")]
    PaymentAlreadyConfirmed {
        /// Payment.
        payment: PaymentId,
        /// The transaction that paid it.
        existing: String,
    },
    /// The payment provider failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// A concurrent change won every retry.
    #[error("{entity} {id} kept changing concurrently; try again")]
    Conflict {
        /// Entity kind.
        entity: &'static str,
        /// Id.
        id: u64,
    },
    /// The username, phone, e-mail or WeChat account belongs to another user.
    #[error("{field} is already registered")]
    LoginTaken {
        /// `username`, `phone`, `email` or `wechat_openid`.
        field: &'static str,
    },
    /// Unknown login or wrong password (one error, so logins cannot be probed).
    #[error("wrong login or password")]
    InvalidCredentials,
    /// The account is frozen by an admin.
    #[error("user {0} is frozen")]
    UserFrozen(UserId),
    /// A missing, unknown, expired or revoked token.
    #[error("not logged in, or the session expired")]
    Unauthenticated,
    /// The caller's role may not do this.
    #[error("{role} may not {action}")]
    Forbidden {
        /// The caller's role.
        role: &'static str,
        /// What was refused.
        action: &'static str,
    },
    /// A wrong, expired or used-up verification code.
    #[error("the verification code is wrong or expired")]
    VerificationCodeInvalid,
    /// A code was sent to this phone moments ago.
    #[error("a code was sent recently; retry in {retry_after_seconds} s")]
    CodeSentTooOften {
        /// Seconds to wait.
        retry_after_seconds: i64,
    },
    /// Too many wrong passwords for this login lately.
    #[error("too many failed logins; retry in {retry_after_seconds} s")]
    TooManyAttempts {
        /// Seconds to wait.
        retry_after_seconds: i64,
    },
    /// The storage backend failed.
    #[error("storage: {0}")]
    Storage(String),
}

/// What kind of refusal an error is, for adapters to map to their own
/// codes (HTTP: 400, 404, 409, 403, 401, 429, 503) without matching on
/// the error itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The request is malformed or out of range; it names the field.
    InvalidInput,
    /// Nothing there, or not the caller's to see.
    NotFound,
    /// A business rule refused given the current state (stock, status, limits).
    Conflict,
    /// The caller's role may not do this, or the account is frozen.
    Forbidden,
    /// No valid session or credentials.
    Unauthenticated,
    /// Too many attempts or codes lately.
    TooManyRequests,
    /// The store or the payment provider failed; retry later.
    Unavailable,
}

impl MallError {
    /// The class of this error (see [`ErrorClass`]).
    pub fn class(&self) -> ErrorClass {
        use ErrorClass as C;
        use MallError as E;
        match self {
            E::InvalidInput { .. } | E::Catalog(_) | E::Template(_) => C::InvalidInput,
            E::Quote(q) => match q {
                QuoteError::EmptyCart
                | QuoteError::ZeroQuantity(_)
                | QuoteError::DuplicateLine(_)
                | QuoteError::NegativePoints(_)
                | QuoteError::PointsNotWholeUnit { .. } => C::InvalidInput,
                QuoteError::UnknownCoupon(_) => C::NotFound,
                _ => C::Conflict,
            },
            E::NotFound { .. } => C::NotFound,
            E::Unauthenticated | E::InvalidCredentials => C::Unauthenticated,
            E::Forbidden { .. } | E::UserFrozen(_) => C::Forbidden,
            E::CodeSentTooOften { .. } | E::TooManyAttempts { .. } => C::TooManyRequests,
            E::Storage(_) | E::Provider(_) => C::Unavailable,
            _ => C::Conflict,
        }
    }

    /// The stable snake_case name of the rule that refused, used as
    /// `error.type` over HTTP and as `error` in scenario expectations.
    pub fn kind(&self) -> &'static str {
        use MallError as E;
        match self {
            E::Quote(q) => match q {
                QuoteError::EmptyCart => "empty_cart",
                QuoteError::ZeroQuantity(_) => "invalid_quantity",
                QuoteError::DuplicateLine(_) => "duplicate_line",
                QuoteError::UnknownCoupon(_) => "coupon_not_found",
                QuoteError::CouponNotApplicable { reason, .. } => match reason {
                    crate::pricing::CouponRejection::Expired { .. } => "coupon_expired",
                    crate::pricing::CouponRejection::NotYetValid { .. } => "coupon_not_yet_valid",
                    crate::pricing::CouponRejection::BelowThreshold { .. } => "coupon_below_threshold",
                    crate::pricing::CouponRejection::OutOfScope => "coupon_out_of_scope",
                    crate::pricing::CouponRejection::Disabled => "coupon_disabled",
                    _ => "coupon_unavailable",
                },
                QuoteError::CouponsDoNotStack { .. } => "coupons_do_not_stack",
                QuoteError::NegativePoints(_) => "invalid_points",
                QuoteError::PointsExceedBalance { .. } => "insufficient_points",
                QuoteError::PointsExceedCap { .. } => "points_exceed_cap",
                QuoteError::PointsNotWholeUnit { .. } => "invalid_points",
            },
            E::Catalog(_) => "invalid_catalog",
            E::Template(_) => "invalid_coupon_template",
            E::InvalidInput { .. } => "invalid_input",
            E::NotFound { .. } => "not_found",
            E::ProductOffSale(_) => "product_off_sale",
            E::InsufficientStock { .. } => "insufficient_stock",
            E::InsufficientPoints { .. } => "insufficient_points",
            E::CouponUnavailable { .. } => "coupon_unavailable",
            E::CouponSoldOut { .. } => "coupon_sold_out",
            E::CouponClaimLimit { .. } => "coupon_claim_limit",
            E::CouponNotClaimable(_) => "coupon_not_claimable",
            E::IllegalTransition(_) => "illegal_order_transition",
            E::IllegalAfterSaleStep { .. } => "illegal_after_sale_step",
            E::AfterSaleNotAllowed { .. } => "after_sale_not_allowed",
            E::AfterSaleWindowClosed { .. } => "after_sale_window_closed",
            E::AfterSaleInProgress { .. } => "after_sale_in_progress",
            E::AfterSaleQuantityExceeded { .. } => "after_sale_quantity_exceeded",
            E::RefundExceedsRefundable { .. } => "refund_exceeds_refundable",
            E::OrderNotPayable { .. } => "order_not_payable",
            E::PaymentAmountMismatch { .. } => "payment_amount_mismatch",
            E::PaymentAlreadyConfirmed { .. } => "payment_already_confirmed",
            E::Provider(_) => "payment_provider_error",
            E::Conflict { .. } => "conflict",
            E::LoginTaken { .. } => "already_registered",
            E::InvalidCredentials => "invalid_credentials",
            E::UserFrozen(_) => "user_frozen",
            E::Unauthenticated => "unauthenticated",
            E::Forbidden { .. } => "forbidden",
            E::VerificationCodeInvalid => "verification_code_invalid",
            E::CodeSentTooOften { .. } | E::TooManyAttempts { .. } => "too_many_requests",
            E::Storage(_) => "storage_error",
        }
    }

    pub(crate) fn not_found(entity: &'static str, id: impl ToString) -> MallError {
        MallError::NotFound { entity, id: id.to_string() }
    }
}

/// [`MallError::InvalidInput`] naming `field`.
pub(crate) fn invalid(field: &str, message: &str) -> MallError {
    MallError::InvalidInput { field: field.to_owned(), message: message.to_owned() }
}

/// Checks a free-text field: trimmed, `min` to `max` characters (seed 001
/// limits: remarks, reasons and notes 200, tracking numbers 64).
///
/// # Errors
/// [`MallError::InvalidInput`] naming `field`.
pub fn check_text(field: &str, value: &str, min: usize, max: usize) -> Result<(), MallError> {
    let len = value.trim().chars().count();
    if len < min || len > max {
        let message = if min == 0 {
            format!("must be at most {max} characters")
        } else {
            format!("must be {min}-{max} characters")
        };
        return Err(invalid(field, &message));
    }
    Ok(())
}

/// Longest remark, reason or note, characters.
pub const MAX_NOTE_CHARS: usize = 200;

/// Longest tracking number, characters.
pub const MAX_TRACKING_CHARS: usize = 64;

/// Refuses a blank `value` as [`MallError::InvalidInput`] naming `field`.
pub(crate) fn non_empty(field: &str, value: &str) -> Result<(), MallError> {
    if value.trim().is_empty() { Err(invalid(field, "must not be empty")) } else { Ok(()) }
}

impl From<PageError> for MallError {
    fn from(e: PageError) -> MallError {
        let message = match e {
            PageError::Page => "must be at least 1".to_owned(),
            PageError::PageSize => format!("must be 1-{}", crate::page::MAX_PAGE_SIZE),
        };
        MallError::InvalidInput { field: e.field().to_owned(), message }
    }
}

impl From<KeywordTooLong> for MallError {
    fn from(_: KeywordTooLong) -> MallError {
        invalid("keyword", &format!("must be at most {} characters", crate::catalog::search::MAX_KEYWORD_CHARS))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn text_limits_count_characters_after_trimming_and_name_the_field() {
        assert!(check_text("reason", "不想要了", 1, MAX_NOTE_CHARS).is_ok());
        assert!(check_text("remark", &"字".repeat(200), 0, MAX_NOTE_CHARS).is_ok());
        let long = check_text("remark", &"字".repeat(201), 0, MAX_NOTE_CHARS).unwrap_err();
        assert_eq!(long, invalid("remark", "must be at most 200 characters"));
        let blank = check_text("tracking_no", "  ", 1, MAX_TRACKING_CHARS).unwrap_err();
        assert_eq!(blank, invalid("tracking_no", "must be 1-64 characters"));
        assert!(check_text("tracking_no", &format!(" {} ", "S".repeat(64)), 1, MAX_TRACKING_CHARS).is_ok());
    }

    #[test]
    fn classes_follow_the_kind_of_refusal() {
        assert_eq!(invalid("x", "bad").class(), ErrorClass::InvalidInput);
        assert_eq!(MallError::not_found("order", 1).class(), ErrorClass::NotFound);
        assert_eq!(MallError::Unauthenticated.class(), ErrorClass::Unauthenticated);
        assert_eq!(MallError::Storage("down".into()).class(), ErrorClass::Unavailable);
        let stock = MallError::InsufficientStock { sku: crate::ids::SkuId(1), requested: 2, available: 1 };
        assert_eq!(stock.class(), ErrorClass::Conflict);
        assert_eq!(MallError::Quote(QuoteError::EmptyCart).class(), ErrorClass::InvalidInput);
    }
}
