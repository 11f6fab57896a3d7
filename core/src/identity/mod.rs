//! Identity and access (DESIGN §9): users with roles, login sessions, the
//! forgot-password code, WeChat-style code login and the address book, driven
//! by [`Accounts`] over an [`IdentityStore`](store::IdentityStore).
//!
//! Core does no cryptography: password hashing (argon2id), random tokens and
//! token digests come in through [`Credentials`]; SMS and WeChat through
//! [`SmsSender`] and [`IdentityProvider`]. Tokens are opaque: only their
//! digests are stored, so a copy of the store cannot log anyone in.
//!
//! This file holds the model and its validators; the commands are in [`accounts`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{MallError, invalid};
use crate::ids::{AddressId, MerchantId, SessionId, UserId};

pub mod accounts;
mod addresses;
pub mod error;
pub mod store;

pub use error::IdentityError;

pub use accounts::Accounts;

/// What a user may do (DESIGN §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A buyer.
    Customer,
    /// Staff of one merchant.
    Merchant,
    /// A platform administrator.
    Admin,
}

/// How a session was started (the `UserLoggedIn` event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginVia {
    /// Login and password.
    Password,
    /// A WeChat authorization code.
    Wechat,
    /// A refresh token.
    Refresh,
}

/// Whether a user may log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// May log in.
    Active,
    /// Frozen by an admin: every session is revoked and login is refused.
    Frozen,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Login name: 3–32 letters, digits or `_`, not all digits; unique.
    pub username: String,
    /// Mainland mobile number (11 digits starting with 1); unique when set.
    pub phone: Option<String>,
    /// E-mail address; unique when set.
    pub email: Option<String>,
    /// Display name.
    pub nickname: String,
    /// Avatar URL.
    pub avatar: Option<String>,
    /// The WeChat open id this account logs in with; unique when set.
    pub wechat_openid: Option<String>,
    /// The password hash from [`Credentials::hash_password`] (PHC string);
    /// empty for accounts created by WeChat login, which cannot log in by password.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// The merchant a [`Role::Merchant`] user works for.
    pub merchant: Option<MerchantId>,
    /// Status.
    pub status: UserStatus,
    /// Registration time.
    pub created_at: DateTime<Utc>,
    /// Optimistic-concurrency version (0 when inserted).
    pub version: u64,
}

/// Which users a back-office list shows (every field narrows it); lists
/// are newest first (highest id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Only users of this role.
    pub role: Option<Role>,
    /// Only users in this status.
    pub status: Option<UserStatus>,
    /// Only users whose username, nickname, phone or e-mail contains this
    /// (compared lower-cased).
    pub keyword: Option<String>,
}

impl UserFilter {
    /// The rule, row by row (what stores serve).
    pub fn admits(&self, user: &User) -> bool {
        let keyword = self.keyword.as_deref().map(str::to_lowercase);
        let text = [Some(&user.username), Some(&user.nickname), user.phone.as_ref(), user.email.as_ref()];
        self.role.is_none_or(|r| user.role == r)
            && self.status.is_none_or(|s| user.status == s)
            && keyword.as_deref().is_none_or(|k| text.iter().flatten().any(|t| t.to_lowercase().contains(k)))
    }
}

/// A login session: an access token and the refresh token that replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    /// Id.
    pub id: SessionId,
    /// Owner.
    pub user: UserId,
    /// Digest of the access token ([`Credentials::digest`]); unique.
    pub access_digest: String,
    /// Digest of the refresh token; unique.
    pub refresh_digest: String,
    /// When the access token stops working.
    pub access_expires_at: DateTime<Utc>,
    /// When the refresh token stops working.
    pub refresh_expires_at: DateTime<Utc>,
    /// Logged out, refreshed, or revoked by a password change or a freeze.
    pub revoked: bool,
    /// Login time.
    pub created_at: DateTime<Utc>,
}

/// A forgot-password code sent to a phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerificationCode {
    /// The phone it was sent to (one live code per phone).
    pub phone: String,
    /// Digest of the 6-digit code.
    pub digest: String,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// Guesses so far (right or wrong); the code is burnt at the limit.
    pub attempts: u32,
    /// Start of the current 24-hour sending window for this phone.
    pub window_started_at: DateTime<Utc>,
    /// Codes sent to this phone in the current window.
    pub sends_in_window: u32,
}

/// Failed logins counted for one login name in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginFailures {
    /// Failures in the window.
    pub failures: u32,
    /// When the window started (the first failure in it).
    pub window_started_at: DateTime<Utc>,
}

/// A shipping address (seed 001 §3, seed 004 §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Address {
    /// Id.
    pub id: AddressId,
    /// Owner.
    pub user: UserId,
    /// Receiver's name, 1–32 characters.
    pub receiver: String,
    /// Receiver's mobile number.
    pub phone: String,
    /// Province (省).
    pub province: String,
    /// City (市).
    pub city: String,
    /// District (区).
    pub district: String,
    /// Street and number, 1–200 characters.
    pub detail: String,
    /// Postal code, when given.
    pub postal_code: Option<String>,
    /// The default address; a user with addresses has exactly one.
    pub is_default: bool,
}

impl Address {
    /// The snapshot an order keeps.
    pub fn snapshot(&self) -> crate::order::ShippingAddress {
        crate::order::ShippingAddress {
            receiver: self.receiver.clone(),
            phone: self.phone.clone(),
            province: self.province.clone(),
            city: self.city.clone(),
            district: self.district.clone(),
            detail: self.detail.clone(),
            postal_code: self.postal_code.clone(),
        }
    }
}

/// The cryptography identity needs, supplied by the adapter.
pub trait Credentials: Send + Sync {
    /// A salted password hash in PHC string format.
    fn hash_password(&self, password: &str) -> String;
    /// True when `password` matches `hash`.
    fn verify_password(&self, password: &str, hash: &str) -> bool;
    /// A fresh unguessable token (at least 128 random bits, URL-safe text).
    fn new_token(&self) -> String;
    /// A fresh 6-digit code.
    fn new_code(&self) -> String;
    /// A one-way digest of a token or code, as stored.
    fn digest(&self, secret: &str) -> String;
}

/// Sends forgot-password codes (an SMS gateway in production; a development sink built in).
pub trait SmsSender: Send + Sync {
    /// Sends `code` to `phone`.
    fn send_code(&self, phone: &str, code: &str);
}

/// Turns a WeChat-style login code into an open id.
pub trait IdentityProvider: Send + Sync {
    /// The open id for `code`, or `None` when the provider refuses the code.
    fn open_id(&self, code: &str) -> Option<String>;
}

/// Token lifetimes and limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct IdentityPolicy {
    /// Access token lifetime, seconds (default 7,200).
    pub access_ttl_seconds: i64,
    /// Refresh token lifetime, seconds (default 30 days).
    pub refresh_ttl_seconds: i64,
    /// Forgot-password code lifetime, seconds (default 300).
    pub code_ttl_seconds: i64,
    /// Seconds before another code may be sent to the same phone (default 60).
    pub code_resend_seconds: i64,
    /// Guesses after which a code is burnt (default 5).
    pub code_max_attempts: u32,
    /// Codes one phone may be sent per 24 hours (default 5).
    pub code_max_sends_per_day: u32,
    /// Addresses a user may keep (default 20).
    pub max_addresses: usize,
    /// Wrong passwords for one login after which logging in is refused (default 5).
    pub login_max_failures: u32,
    /// Seconds the failures are counted over, and the lock-out lasts from the first (default 900).
    pub login_window_seconds: i64,
}

impl Default for IdentityPolicy {
    fn default() -> Self {
        IdentityPolicy {
            access_ttl_seconds: 2 * 3600,
            refresh_ttl_seconds: 30 * 86_400,
            code_ttl_seconds: 300,
            code_resend_seconds: 60,
            code_max_attempts: 5,
            code_max_sends_per_day: 5,
            max_addresses: 20,
            login_max_failures: 5,
            login_window_seconds: 900,
        }
    }
}

/// What a login hands the client: two opaque tokens and their lifetimes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tokens {
    /// Bearer token for `Authorization`.
    pub access_token: String,
    /// Token for the refresh call.
    pub refresh_token: String,
    /// Seconds the access token lives.
    pub expires_in: i64,
    /// The user.
    pub user: User,
}

/// A registration (seed 001 §2.1, seed 004 §2.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Registration {
    /// Login name.
    pub username: String,
    /// Password, 8–64 characters with a letter and a digit.
    pub password: String,
    /// Mobile number.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Display name (defaults to the username).
    pub nickname: Option<String>,
}

/// Profile fields a user may change; `None` keeps the current value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileUpdate {
    /// Display name, 1–32 characters.
    pub nickname: Option<String>,
    /// Avatar URL, up to 500 characters.
    pub avatar: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Mobile number.
    pub phone: Option<String>,
}

/// Checks a login name: 3–32 ASCII letters, digits or `_`, not all digits
/// (an all-digit login is read as a phone number).
///
/// # Errors
/// [`MallError::InvalidInput`] naming `username`.
pub fn validate_username(username: &str) -> Result<(), MallError> {
    let ok_chars = username.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !(3..=32).contains(&username.len()) || !ok_chars {
        return Err(invalid("username", "must be 3-32 letters, digits or _"));
    }
    if username.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid("username", "must not be all digits"));
    }
    Ok(())
}

/// Checks a mainland mobile number: 11 digits starting with 1.
///
/// # Errors
/// [`MallError::InvalidInput`] naming `field`.
pub fn validate_phone(field: &str, phone: &str) -> Result<(), MallError> {
    if phone.len() == 11 && phone.starts_with('1') && phone.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(invalid(field, "must be an 11-digit mobile number starting with 1"))
    }
}

/// Checks an e-mail address: one `@` with a non-empty local part and a dotted domain, at most 254 characters.
///
/// # Errors
/// [`MallError::InvalidInput`] naming `email`.
pub fn validate_email(email: &str) -> Result<(), MallError> {
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !email.contains(char::is_whitespace)
        }
        None => false,
    };
    if valid && email.len() <= 254 { Ok(()) } else { Err(invalid("email", "must be an e-mail address")) }
}

/// Checks a new password: 8–64 characters with at least one letter and one digit.
///
/// # Errors
/// [`MallError::InvalidInput`] naming `field`.
pub fn validate_password(field: &str, password: &str) -> Result<(), MallError> {
    let len = password.chars().count();
    let letter = password.chars().any(char::is_alphabetic);
    let digit = password.chars().any(|c| c.is_ascii_digit());
    if (8..=64).contains(&len) && letter && digit {
        Ok(())
    } else {
        Err(invalid(field, "must be 8-64 characters with a letter and a digit"))
    }
}

fn validate_text(field: &str, value: &str, max: usize) -> Result<(), MallError> {
    let len = value.trim().chars().count();
    if len == 0 || len > max {
        return Err(invalid(field, &format!("must be 1-{max} characters")));
    }
    Ok(())
}

impl Address {
    /// Checks every field.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] naming the first bad field: `receiver`
    /// (1–32), `phone`, `province`/`city`/`district` (1–32), `detail` (1–200),
    /// `postal_code` (6 digits).
    pub fn validate(&self) -> Result<(), MallError> {
        validate_text("receiver", &self.receiver, 32)?;
        validate_phone("phone", &self.phone)?;
        validate_text("province", &self.province, 32)?;
        validate_text("city", &self.city, 32)?;
        validate_text("district", &self.district, 32)?;
        validate_text("detail", &self.detail, 200)?;
        if let Some(code) = &self.postal_code
            && !(code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(invalid("postal_code", "must be 6 digits"));
        }
        Ok(())
    }
}
