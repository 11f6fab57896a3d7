//! The coupon market, claiming, the caller's coupons and the coupon check
//! (seed 004 §5, seed 001 §7).

use axum::extract::State;
use mallkit_core::coupon::{UserCoupon, UserCouponStatus};
use mallkit_core::ids::{CouponTemplateId, UserCouponId};
use mallkit_core::storefront::{CouponCheck, HeldCoupon, MarketCoupon};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::App;
use crate::amount::Amount;
use crate::envelope::{Data, Envelope, Page, PageQuery};
use crate::error::{ApiResult, AuthErrors};
use crate::extract::{Body, Caller, Param, Params};

/// Filter of the caller's coupons.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MineParams {
    /// Only coupons in this status (as of now): `unused`, `locked`, `used`, `expired`, `void`.
    #[param(inline)]
    pub status: Option<UserCouponStatus>,
    /// Page, from 1.
    pub page: Option<u32>,
    /// Page size, 1–100 (default 20).
    pub page_size: Option<u32>,
}

/// A coupon check.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateCouponRequest {
    /// One of the caller's coupons.
    pub coupon_id: UserCouponId,
    /// The eligible amount, yuan.
    #[schema(value_type = mallkit_core::Money)]
    pub amount: Amount,
}

/// Templates on offer, with `is_received` for the caller.
#[utoipa::path(get, path = "/api/v1/coupons/market", tag = "coupons", security(("bearer" = [])),
    responses((status = 200, body = Envelope<Vec<MarketCoupon>>), AuthErrors))]
pub async fn market(State(app): State<App>, caller: Caller) -> ApiResult<Data<Vec<MarketCoupon>>> {
    Ok(Data(app.mall.coupon_market(caller.user.id).await?))
}

/// Claims a coupon of a template (within the total and per-user limits).
#[utoipa::path(post, path = "/api/v1/coupons/templates/{id}/claim", tag = "coupons", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Coupon template id")),
    responses((status = 200, body = Envelope<UserCoupon>), AuthErrors))]
pub async fn claim(
    State(app): State<App>,
    caller: Caller,
    Param(id): Param<CouponTemplateId>,
) -> ApiResult<Data<UserCoupon>> {
    Ok(Data(app.mall.claim_coupon(caller.user.id, id).await?))
}

/// The caller's coupons with their templates, newest first.
#[utoipa::path(get, path = "/api/v1/coupons/mine", tag = "coupons", security(("bearer" = [])), params(MineParams),
    responses((status = 200, body = Envelope<Page<HeldCoupon>>), AuthErrors))]
pub async fn mine(
    State(app): State<App>,
    caller: Caller,
    Params(p): Params<MineParams>,
) -> ApiResult<Data<Page<HeldCoupon>>> {
    let page = PageQuery { page: p.page, page_size: p.page_size }.request()?;
    Ok(Data(app.mall.held_coupons(caller.user.id, p.status, page).await?))
}

/// Whether one of the caller's coupons takes something off an amount, and how much.
#[utoipa::path(post, path = "/api/v1/coupons/validate", tag = "coupons", security(("bearer" = [])),
    request_body = ValidateCouponRequest, responses((status = 200, body = Envelope<CouponCheck>), AuthErrors))]
pub async fn validate(
    State(app): State<App>,
    caller: Caller,
    Body(r): Body<ValidateCouponRequest>,
) -> ApiResult<Data<CouponCheck>> {
    Ok(Data(app.mall.check_coupon(caller.user.id, r.coupon_id, r.amount.0).await?))
}
