//! Checkout preview, order creation and the buyer's orders (seed 004 §6,
//! seed 001 §6, DESIGN §3 and §6).

use axum::extract::State;
use axum::response::Response;
use mallkit_core::checkout::{Checkout, CheckoutItems, CheckoutRequest};
use mallkit_core::ids::{AddressId, OrderId, SkuId, UserCouponId};
use mallkit_core::order::{Order, OrderStatus};
use mallkit_core::pricing::{CouponChoice, PointsChoice, Quote};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::App;
use crate::envelope::{Data, Envelope, Page};
use crate::error::{ApiError, ApiResult, AuthErrors};
use crate::extract::{Body, Caller, IdempotencyKey, Param, Params};
use crate::idempotency;

/// A line to buy.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    /// SKU.
    pub sku_id: SkuId,
    /// Units, 1–999.
    pub quantity: u32,
}

/// A preview or an order: what to buy, which coupons, how many points.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutBody {
    /// Lines to buy; absent buys the ticked lines of the cart (which then leave it).
    pub items: Option<Vec<LineRequest>>,
    /// Coupons to use; absent picks the best (`optimal_coupon`), `[]` uses none.
    pub coupon_ids: Option<Vec<UserCouponId>>,
    /// Points to redeem (a multiple of one fen's worth, within the cap).
    pub points: Option<i64>,
    /// Redeem as many points as the cap and balance allow (instead of `points`).
    #[serde(default)]
    pub use_max_points: bool,
    /// Buyer's remark, up to 200 characters.
    pub remark: Option<String>,
    /// Where to ship (one of the caller's addresses); absent uses the default
    /// address. Order creation needs one; the preview ignores it.
    pub address_id: Option<AddressId>,
}

impl CheckoutBody {
    fn to_request(&self) -> ApiResult<CheckoutRequest> {
        let items = match &self.items {
            None => CheckoutItems::Cart,
            Some(lines) => CheckoutItems::Lines { lines: lines.iter().map(|l| (l.sku_id, l.quantity)).collect() },
        };
        let coupons = match &self.coupon_ids {
            None => CouponChoice::Best,
            Some(ids) if ids.is_empty() => CouponChoice::None,
            Some(ids) => CouponChoice::Chosen(ids.clone()),
        };
        let points = match (self.use_max_points, self.points) {
            (true, Some(_)) => {
                return Err(ApiError::Decode {
                    field: "points".into(),
                    message: "give points or use_max_points, not both".into(),
                });
            }
            (true, None) => PointsChoice::Max,
            (false, Some(0) | None) => PointsChoice::None,
            (false, Some(n)) => PointsChoice::Exactly(n),
        };
        let remark = self.remark.clone().unwrap_or_default();
        Ok(CheckoutRequest { items, coupons, points, remark })
    }
}

/// A preview: the quote, and the coupon(s) the best-coupon search picked.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewView {
    /// The coupon chosen (seed 004 `optimal_coupon`): the first applied one, when any.
    pub optimal_coupon: Option<UserCouponId>,
    /// Every coupon applied (one per stacking layer at most).
    pub applied_coupons: Vec<UserCouponId>,
    /// The full quote: lines, adjustments with allocations, shipping, rejected coupons with reasons.
    pub quote: Quote,
}

/// Filter of the caller's orders.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrderParams {
    /// Only this status.
    #[param(inline)]
    pub status: Option<OrderStatus>,
    /// Page, from 1.
    pub page: Option<u32>,
    /// Page size, 1–100 (default 20).
    pub page_size: Option<u32>,
}

/// A cancellation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// Why, up to 200 characters.
    pub reason: Option<String>,
}

/// A confirmed receipt.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfirmView {
    /// Points earned by the order (DESIGN §5).
    pub points_earned: i64,
    /// The completed order.
    pub order: Order,
}

/// Prices a checkout without creating anything: best coupon, points, shipping, payable.
#[utoipa::path(post, path = "/api/v1/checkout/preview", tag = "orders", security(("bearer" = [])),
    request_body = CheckoutBody, responses((status = 200, body = Envelope<PreviewView>), AuthErrors))]
pub async fn preview(
    State(app): State<App>,
    caller: Caller,
    Body(body): Body<CheckoutBody>,
) -> ApiResult<Data<PreviewView>> {
    let quote = app.mall.preview(caller.user.id, &body.to_request()?).await?;
    Ok(Data(PreviewView {
        optimal_coupon: quote.applied_coupons.first().copied(),
        applied_coupons: quote.applied_coupons.clone(),
        quote,
    }))
}

/// Creates the orders of a checkout (one per merchant), reserving stock,
/// locking coupons and freezing points; each order keeps a snapshot of the
/// shipping address. Send an `Idempotency-Key`: a retry with the same key
/// and body returns the first result.
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: same key and body, same result")),
    request_body = CheckoutBody, responses((status = 200, body = Envelope<Checkout>), AuthErrors))]
pub async fn create(
    State(app): State<App>,
    caller: Caller,
    key: IdempotencyKey,
    Body(body): Body<CheckoutBody>,
) -> ApiResult<Response> {
    let request = body.to_request()?;
    let user = caller.user.id;
    // The address is resolved inside the idempotent work: a retry replays
    // the first answer even if the address was edited or deleted since.
    idempotency::once(&app, user, key, "orders", &body, async {
        let address = app.accounts.shipping_address(user, body.address_id).await?;
        Ok(app.mall.checkout_to(user, &request, Some(address.snapshot())).await?)
    })
    .await
}

/// The caller's orders, newest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", security(("bearer" = [])), params(OrderParams),
    responses((status = 200, body = Envelope<Page<Order>>), AuthErrors))]
pub async fn list(
    State(app): State<App>,
    caller: Caller,
    Params(p): Params<OrderParams>,
) -> ApiResult<Data<Page<Order>>> {
    let page = crate::envelope::PageQuery { page: p.page, page_size: p.page_size }.request()?;
    let filter = mallkit_core::order::OrderFilter { status: p.status, ..Default::default() };
    Ok(Data(app.mall.orders(mallkit_core::order::Actor::Buyer(caller.user.id), filter, page).await?))
}

/// One of the caller's own orders with its lines, allocations, coupons and
/// status history (staff use the back-office list).
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Order id")),
    responses((status = 200, body = Envelope<Order>), AuthErrors))]
pub async fn detail(State(app): State<App>, caller: Caller, Param(id): Param<OrderId>) -> ApiResult<Data<Order>> {
    Ok(Data(app.mall.order(mallkit_core::order::Actor::Buyer(caller.user.id), id).await?))
}

/// Cancels an unpaid order, or a paid one before shipping (full refund).
#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", tag = "orders", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Order id")), request_body = CancelRequest,
    responses((status = 200, body = Envelope<Order>), AuthErrors))]
pub async fn cancel(
    State(app): State<App>,
    caller: Caller,
    Param(id): Param<OrderId>,
    Body(r): Body<CancelRequest>,
) -> ApiResult<Data<Order>> {
    let reason = r.reason.unwrap_or_default();
    Ok(Data(app.mall.cancel_order(mallkit_core::order::Actor::Buyer(caller.user.id), id, &reason).await?))
}

/// Confirms receipt of a shipped order; returns the points it earned.
#[utoipa::path(post, path = "/api/v1/orders/{id}/confirm", tag = "orders", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Order id")),
    responses((status = 200, body = Envelope<ConfirmView>), AuthErrors))]
pub async fn confirm(
    State(app): State<App>,
    caller: Caller,
    Param(id): Param<OrderId>,
) -> ApiResult<Data<ConfirmView>> {
    let points_earned = app.mall.confirm_receipt(caller.user.id, id).await?;
    let order = app.mall.order(mallkit_core::order::Actor::Buyer(caller.user.id), id).await?;
    Ok(Data(ConfirmView { points_earned, order }))
}
