//! The caller's profile, password and address book (seed 001 §2–3, seed 004 §3).

use axum::extract::State;
use chrono::{DateTime, Utc};
use mallkit_core::identity::{Address, ProfileUpdate, Role, User, UserStatus};
use mallkit_core::ids::{AddressId, MerchantId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::App;
use crate::envelope::{Data, Envelope};
use crate::error::{ApiResult, AuthErrors};
use crate::extract::{Body, Caller, Param};

/// A user as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    /// Id.
    pub id: UserId,
    /// Login name.
    pub username: String,
    /// Display name.
    pub nickname: String,
    /// Mobile number.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Avatar URL.
    pub avatar: Option<String>,
    /// Role.
    pub role: Role,
    /// The merchant of a merchant user.
    pub merchant: Option<MerchantId>,
    /// Active or frozen.
    pub status: UserStatus,
    /// Logs in with WeChat.
    pub wechat_bound: bool,
    /// Registration time.
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> UserView {
        UserView {
            id: u.id,
            username: u.username,
            nickname: u.nickname,
            phone: u.phone,
            email: u.email,
            avatar: u.avatar,
            role: u.role,
            merchant: u.merchant,
            status: u.status,
            wechat_bound: u.wechat_openid.is_some(),
            created_at: u.created_at,
        }
    }
}

/// Profile fields to change; absent ones stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfileRequest {
    /// Display name, 1–32 characters.
    pub nickname: Option<String>,
    /// Avatar URL.
    pub avatar: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Mobile number.
    pub phone: Option<String>,
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The current password.
    pub old_password: String,
    /// The new one: 8–64 characters with a letter and a digit.
    pub new_password: String,
}

/// An address to save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressRequest {
    /// Receiver's name.
    #[schema(example = "张三")]
    pub receiver: String,
    /// Receiver's mobile number.
    #[schema(example = "13800138000")]
    pub phone: String,
    /// Province.
    #[schema(example = "广东省")]
    pub province: String,
    /// City.
    #[schema(example = "深圳市")]
    pub city: String,
    /// District.
    #[schema(example = "南山区")]
    pub district: String,
    /// Street and number.
    #[schema(example = "科技园路1号")]
    pub detail: String,
    /// Postal code (6 digits).
    pub postal_code: Option<String>,
    /// Make it the default (the first address always is).
    #[serde(default)]
    pub is_default: bool,
}

impl AddressRequest {
    fn into_address(self, user: UserId, id: AddressId) -> Address {
        Address {
            id,
            user,
            receiver: self.receiver,
            phone: self.phone,
            province: self.province,
            city: self.city,
            district: self.district,
            detail: self.detail,
            postal_code: self.postal_code,
            is_default: self.is_default,
        }
    }
}

/// The caller's profile.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = Envelope<UserView>), AuthErrors))]
pub async fn me(caller: Caller) -> Data<UserView> {
    Data(caller.user.into())
}

/// Changes profile fields.
#[utoipa::path(put, path = "/api/v1/users/me", tag = "account", security(("bearer" = [])),
    request_body = UpdateProfileRequest, responses((status = 200, body = Envelope<UserView>), AuthErrors))]
pub async fn update_me(
    State(app): State<App>,
    caller: Caller,
    Body(r): Body<UpdateProfileRequest>,
) -> ApiResult<Data<UserView>> {
    let update = ProfileUpdate { nickname: r.nickname, avatar: r.avatar, email: r.email, phone: r.phone };
    Ok(Data(app.accounts.update_profile(caller.user.id, update).await?.into()))
}

/// Changes the password; every session is logged out.
#[utoipa::path(put, path = "/api/v1/users/me/password", tag = "account", security(("bearer" = [])),
    request_body = ChangePasswordRequest, responses((status = 200, body = Envelope<bool>), AuthErrors))]
pub async fn change_password(
    State(app): State<App>,
    caller: Caller,
    Body(r): Body<ChangePasswordRequest>,
) -> ApiResult<Data<bool>> {
    app.accounts.change_password(caller.user.id, &r.old_password, &r.new_password).await?;
    Ok(Data(true))
}

/// The caller's addresses, the default first.
#[utoipa::path(get, path = "/api/v1/addresses", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = Envelope<Vec<Address>>), AuthErrors))]
pub async fn list_addresses(State(app): State<App>, caller: Caller) -> ApiResult<Data<Vec<Address>>> {
    Ok(Data(app.accounts.addresses(caller.user.id).await?))
}

/// Adds an address.
#[utoipa::path(post, path = "/api/v1/addresses", tag = "account", security(("bearer" = [])),
    request_body = AddressRequest, responses((status = 200, body = Envelope<Address>), AuthErrors))]
pub async fn create_address(
    State(app): State<App>,
    caller: Caller,
    Body(r): Body<AddressRequest>,
) -> ApiResult<Data<Address>> {
    let address = r.into_address(caller.user.id, AddressId(0));
    Ok(Data(app.accounts.save_address(address, true).await?))
}

/// One of the caller's addresses.
#[utoipa::path(get, path = "/api/v1/addresses/{id}", tag = "account", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Address id")),
    responses((status = 200, body = Envelope<Address>), AuthErrors))]
pub async fn get_address(
    State(app): State<App>,
    caller: Caller,
    Param(id): Param<AddressId>,
) -> ApiResult<Data<Address>> {
    Ok(Data(app.accounts.address(caller.user.id, id).await?))
}

/// Replaces one of the caller's addresses.
#[utoipa::path(put, path = "/api/v1/addresses/{id}", tag = "account", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Address id")), request_body = AddressRequest,
    responses((status = 200, body = Envelope<Address>), AuthErrors))]
pub async fn update_address(
    State(app): State<App>,
    caller: Caller,
    Param(id): Param<AddressId>,
    Body(r): Body<AddressRequest>,
) -> ApiResult<Data<Address>> {
    let address = r.into_address(caller.user.id, id);
    Ok(Data(app.accounts.save_address(address, false).await?))
}

/// Deletes one of the caller's addresses.
#[utoipa::path(delete, path = "/api/v1/addresses/{id}", tag = "account", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Address id")),
    responses((status = 200, body = Envelope<bool>), AuthErrors))]
pub async fn delete_address(
    State(app): State<App>,
    caller: Caller,
    Param(id): Param<AddressId>,
) -> ApiResult<Data<bool>> {
    app.accounts.delete_address(caller.user.id, id).await?;
    Ok(Data(true))
}

/// Makes an address the default.
#[utoipa::path(put, path = "/api/v1/addresses/{id}/default", tag = "account", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Address id")),
    responses((status = 200, body = Envelope<Address>), AuthErrors))]
pub async fn set_default_address(
    State(app): State<App>,
    caller: Caller,
    Param(id): Param<AddressId>,
) -> ApiResult<Data<Address>> {
    Ok(Data(app.accounts.set_default_address(caller.user.id, id).await?))
}
