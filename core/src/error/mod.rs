//! The domain error: every rule that can refuse, with the values involved.
//!
//! Each area owns its errors beside its model (`catalog/error.rs`,
//! `order/error.rs`, …) and describes them through [`AreaError`]: a stable
//! `kind`, an [`ErrorClass`], a Chinese message and the field at fault. The
//! English message is the error's `Display`. [`MallError`] wraps one variant
//! per area (the `mall_error!` list below) plus the refusals every area
//! shares (bad input, not found, conflict, forbidden, unauthenticated,
//! storage); adapters ask it for `kind`, `class`, `message_zh` and `field`
//! and never match on an area's variants. Adding an area adds one line to
//! that list.

pub mod class;

pub use class::{AreaError, ErrorClass};

use crate::after_sales::error::AfterSaleError;
use crate::catalog::error::CatalogError;
use crate::catalog::search::KeywordTooLong;
use crate::coupon::error::{CouponError, TemplateError};
use crate::identity::error::IdentityError;
use crate::inventory::error::StockError;
use crate::order::IllegalTransition;
use crate::order::error::OrderError;
use crate::page::PageError;
use crate::payment::ProviderError;
use crate::payment::error::PaymentError;
use crate::points::error::PointsError;
use crate::pricing::error::QuoteError;

/// Declares [`MallError`] with one transparent variant per area error and
/// [`MallError::area`], which hands out the area's [`AreaError`].
macro_rules! mall_error {
    ($($(#[doc = $doc:literal])* $variant:ident($error:ty),)*) => {
        /// Why a mallkit command refused. Nothing was written when one is returned.
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        pub enum MallError {
            $(
                $(#[doc = $doc])*
                #[error(transparent)]
                $variant(#[from] $error),
            )*
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
            /// A concurrent change won every retry.
            #[error("{entity} {id} kept changing concurrently; try again")]
            Conflict {
                /// Entity kind.
                entity: &'static str,
                /// Id.
                id: u64,
            },
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
            /// The storage backend failed.
            #[error("storage: {0}")]
            Storage(String),
        }

        impl MallError {
            /// The area error inside, or `None` for the shared refusals.
            pub fn area(&self) -> Option<&dyn AreaError> {
                match self {
                    $(MallError::$variant(e) => Some(e),)*
                    _ => None,
                }
            }
        }
    };
}

mall_error! {
    /// Pricing refused the cart, coupons or points.
    Quote(QuoteError),
    /// A catalog entry is malformed, or a product is not on sale.
    Catalog(CatalogError),
    /// Not enough stock.
    Stock(StockError),
    /// A coupon template is malformed.
    Template(TemplateError),
    /// A coupon cannot be claimed or has moved.
    Coupon(CouponError),
    /// Not enough points.
    Points(PointsError),
    /// An order command in the wrong status.
    Order(OrderError),
    /// A payment refused.
    Payment(PaymentError),
    /// An after-sales request or step refused.
    AfterSale(AfterSaleError),
    /// Registration, login and account rules.
    Identity(IdentityError),
}

impl MallError {
    /// The class of this error (see [`ErrorClass`]).
    pub fn class(&self) -> ErrorClass {
        match self {
            MallError::InvalidInput { .. } => ErrorClass::InvalidInput,
            MallError::NotFound { .. } => ErrorClass::NotFound,
            MallError::Conflict { .. } => ErrorClass::Conflict,
            MallError::Unauthenticated => ErrorClass::Unauthenticated,
            MallError::Forbidden { .. } => ErrorClass::Forbidden,
            MallError::Storage(_) => ErrorClass::Unavailable,
            area => area.area().map_or(ErrorClass::Conflict, AreaError::class),
        }
    }

    /// The stable snake_case name of the rule that refused, used as
    /// `error.type` over HTTP and as `error` in scenario expectations.
    pub fn kind(&self) -> &'static str {
        match self {
            MallError::InvalidInput { .. } => "invalid_input",
            MallError::NotFound { .. } => "not_found",
            MallError::Conflict { .. } => "conflict",
            MallError::Unauthenticated => "unauthenticated",
            MallError::Forbidden { .. } => "forbidden",
            MallError::Storage(_) => "storage_error",
            area => area.area().map_or("conflict", AreaError::kind),
        }
    }

    /// The message in Chinese, without the values (the English `Display`
    /// has them).
    pub fn message_zh(&self) -> &'static str {
        match self {
            MallError::InvalidInput { .. } => "请求参数错误",
            MallError::NotFound { .. } => "资源不存在",
            MallError::Conflict { .. } => "数据已被修改，请重试",
            MallError::Unauthenticated => "未登录或登录已过期",
            MallError::Forbidden { .. } => "无权限执行此操作",
            MallError::Storage(_) => "服务暂不可用",
            area => area.area().map_or("请求失败", AreaError::message_zh),
        }
    }

    /// The input field at fault, when there is one (a dotted path).
    pub fn field(&self) -> Option<&str> {
        match self {
            MallError::InvalidInput { field, .. } => Some(field),
            area => area.area().and_then(AreaError::field),
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

impl From<IllegalTransition> for MallError {
    fn from(e: IllegalTransition) -> MallError {
        MallError::Order(e.into())
    }
}

impl From<ProviderError> for MallError {
    fn from(e: ProviderError) -> MallError {
        MallError::Payment(e.into())
    }
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
        let stock =
            MallError::Stock(StockError::Insufficient { sku: crate::ids::SkuId(1), requested: 2, available: 1 });
        assert_eq!(
            (stock.class(), stock.kind(), stock.message_zh()),
            (ErrorClass::Conflict, "insufficient_stock", "库存不足")
        );
        let empty = MallError::Quote(QuoteError::EmptyCart);
        assert_eq!((empty.class(), empty.field()), (ErrorClass::InvalidInput, Some("items")));
        let frozen = MallError::Identity(IdentityError::UserFrozen(crate::ids::UserId(3)));
        assert_eq!((frozen.class(), frozen.kind()), (ErrorClass::Forbidden, "user_frozen"));
        let taken = MallError::from(IdentityError::LoginTaken { field: "phone" });
        assert_eq!((taken.field(), taken.message_zh()), (Some("phone"), "该账号已被注册"));
        assert_eq!(invalid("remark", "too long").field(), Some("remark"));
    }
}
