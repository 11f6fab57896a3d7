//! Register, log in (password or WeChat-style code), refresh, log out, and
//! the forgot-password code (DESIGN §9; seed 001 §2, seed 004 §2).

use axum::extract::State;
use mallkit_core::identity::{Registration, Tokens};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::UserView;
use crate::App;
use crate::envelope::{Data, Envelope};
use crate::error::{ApiResult, AuthErrors, PublicErrors};
use crate::extract::{Body, Caller};

/// A registration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// 3–32 letters, digits or `_`, not all digits.
    #[schema(example = "zhangsan")]
    pub username: String,
    /// 8–64 characters with a letter and a digit.
    #[schema(example = "secret123")]
    pub password: String,
    /// Mainland mobile number.
    #[schema(example = "13800138000")]
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Display name (defaults to the username).
    pub nickname: Option<String>,
}

/// A password login.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username, phone or e-mail.
    #[schema(example = "zhangsan")]
    pub login: String,
    /// Password.
    #[schema(example = "secret123")]
    pub password: String,
}

/// A WeChat-style code login (development provider: `dev:<name>`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WechatLoginRequest {
    /// The code from the client SDK.
    #[schema(example = "dev:alice")]
    pub code: String,
}

/// A refresh.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token of the last login or refresh (each works once).
    pub refresh_token: String,
}

/// Ask for a forgot-password code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPasswordRequest {
    /// The account's phone.
    #[schema(example = "13800138000")]
    pub phone: String,
}

/// Set a new password with the code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// The account's phone.
    pub phone: String,
    /// The 6-digit code sent to it.
    pub code: String,
    /// The new password.
    pub new_password: String,
}

/// What a login returns.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// Bearer token for `Authorization: Bearer …`.
    pub access_token: String,
    /// Token for `/auth/refresh`.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds the access token lives.
    pub expires_in: i64,
    /// The user.
    pub user: UserView,
}

impl From<Tokens> for TokenView {
    fn from(t: Tokens) -> TokenView {
        TokenView {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            token_type: "Bearer",
            expires_in: t.expires_in,
            user: t.user.into(),
        }
    }
}

/// Registers a customer account.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 200, body = Envelope<UserView>), PublicErrors))]
pub async fn register(State(app): State<App>, Body(r): Body<RegisterRequest>) -> ApiResult<Data<UserView>> {
    let registration = Registration {
        username: r.username,
        password: r.password,
        phone: r.phone,
        email: r.email,
        nickname: r.nickname,
    };
    Ok(Data(app.accounts.register(registration).await?.into()))
}

/// Logs in with a username, phone or e-mail and a password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = Envelope<TokenView>), PublicErrors,
        (status = 403, body = crate::error::ErrorBody, description = "The account is frozen"),
        (status = 429, body = crate::error::ErrorBody, description = "Five wrong passwords: locked for 15 minutes")))]
pub async fn login(State(app): State<App>, Body(r): Body<LoginRequest>) -> ApiResult<Data<TokenView>> {
    Ok(Data(app.accounts.login(&r.login, &r.password).await?.into()))
}

/// Logs in with a WeChat-style code; the first login creates a customer account.
#[utoipa::path(post, path = "/api/v1/auth/wechat", tag = "auth", request_body = WechatLoginRequest,
    responses((status = 200, body = Envelope<TokenView>), PublicErrors))]
pub async fn wechat_login(State(app): State<App>, Body(r): Body<WechatLoginRequest>) -> ApiResult<Data<TokenView>> {
    Ok(Data(app.accounts.wechat_login(&r.code).await?.into()))
}

/// Swaps a refresh token for a new pair; the old pair stops working.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = Envelope<TokenView>), PublicErrors))]
pub async fn refresh(State(app): State<App>, Body(r): Body<RefreshRequest>) -> ApiResult<Data<TokenView>> {
    Ok(Data(app.accounts.refresh(&r.refresh_token).await?.into()))
}

/// Logs out: the token and its refresh token stop working.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Envelope<bool>), AuthErrors))]
pub async fn logout(State(app): State<App>, caller: Caller) -> ApiResult<Data<bool>> {
    app.accounts.logout(caller.session).await?;
    Ok(Data(true))
}

/// Sends a forgot-password code by SMS (development: to the log). Answers
/// the same whether or not the phone has an account.
#[utoipa::path(post, path = "/api/v1/auth/password/forgot", tag = "auth", request_body = ForgotPasswordRequest,
    responses((status = 200, body = Envelope<bool>), PublicErrors, (status = 429, body = crate::error::ErrorBody, description = "A code was sent moments ago")))]
pub async fn forgot_password(State(app): State<App>, Body(r): Body<ForgotPasswordRequest>) -> ApiResult<Data<bool>> {
    app.accounts.send_reset_code(&r.phone).await?;
    Ok(Data(true))
}

/// Sets a new password with the SMS code; every session is logged out.
#[utoipa::path(post, path = "/api/v1/auth/password/reset", tag = "auth", request_body = ResetPasswordRequest,
    responses((status = 200, body = Envelope<bool>), PublicErrors))]
pub async fn reset_password(State(app): State<App>, Body(r): Body<ResetPasswordRequest>) -> ApiResult<Data<bool>> {
    app.accounts.reset_password(&r.phone, &r.code, &r.new_password).await?;
    Ok(Data(true))
}
