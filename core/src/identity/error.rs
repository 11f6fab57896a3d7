//! Identity's refusals: registration, login, codes and frozen accounts.

use crate::error::class::{AreaError, ErrorClass};
use crate::ids::UserId;

/// Why an account command refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
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
}

impl AreaError for IdentityError {
    fn kind(&self) -> &'static str {
        match self {
            IdentityError::LoginTaken { .. } => "already_registered",
            IdentityError::InvalidCredentials => "invalid_credentials",
            IdentityError::UserFrozen(_) => "user_frozen",
            IdentityError::VerificationCodeInvalid => "verification_code_invalid",
            IdentityError::CodeSentTooOften { .. } | IdentityError::TooManyAttempts { .. } => "too_many_requests",
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            IdentityError::LoginTaken { .. } | IdentityError::VerificationCodeInvalid => ErrorClass::Conflict,
            IdentityError::InvalidCredentials => ErrorClass::Unauthenticated,
            IdentityError::UserFrozen(_) => ErrorClass::Forbidden,
            IdentityError::CodeSentTooOften { .. } | IdentityError::TooManyAttempts { .. } => {
                ErrorClass::TooManyRequests
            }
        }
    }

    fn message_zh(&self) -> &'static str {
        match self {
            IdentityError::LoginTaken { .. } => "该账号已被注册",
            IdentityError::InvalidCredentials => "账号或密码错误",
            IdentityError::UserFrozen(_) => "账号已被冻结",
            IdentityError::VerificationCodeInvalid => "验证码错误或已过期",
            IdentityError::CodeSentTooOften { .. } | IdentityError::TooManyAttempts { .. } => {
                "操作过于频繁，请稍后再试"
            }
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            IdentityError::LoginTaken { field } => Some(field),
            _ => None,
        }
    }
}
