//! After-sales for buyers (seed 000 §6, DESIGN §8): apply, list, detail with
//! logs, cancel, ship the goods back.

use axum::extract::State;
use axum::response::Response;
use mallkit_core::after_sales::AfterSaleRequestLine;
use mallkit_core::after_sales::{AfterSale, AfterSaleAction, AfterSaleKind};
use mallkit_core::ids::{AfterSaleId, OrderId};
use mallkit_core::order::Actor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::App;
use crate::amount::Amount;
use crate::envelope::{Data, Envelope, Page, PageQuery};
use crate::error::{ApiResult, AuthErrors};
use crate::extract::{Body, Caller, IdempotencyKey, Param, Params};
use crate::idempotency;

/// A line of an after-sales request.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AfterSaleLineRequest {
    /// Order line number (from 1).
    pub line_no: u32,
    /// Units.
    pub quantity: u32,
    /// Amount asked, yuan; absent asks for the whole refundable amount of those units.
    #[schema(value_type = Option<mallkit_core::Money>)]
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "amount_text")]
    pub amount: Option<Amount>,
}

#[allow(clippy::ref_option)]
fn amount_text<S: serde::Serializer>(amount: &Option<Amount>, s: S) -> Result<S::Ok, S::Error> {
    match amount {
        Some(a) => s.collect_str(&a.0),
        None => s.serialize_none(),
    }
}

/// An after-sales request.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyAfterSaleRequest {
    /// The paid order.
    pub order_id: OrderId,
    /// `refund_only`, `return_and_refund` or `exchange`.
    pub kind: AfterSaleKind,
    /// Lines and units.
    pub lines: Vec<AfterSaleLineRequest>,
    /// Why, 1–200 characters.
    pub reason: String,
}

/// Shipping the goods back.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipBackRequest {
    /// Carrier's tracking number, 1–64 characters.
    pub tracking_no: String,
}

/// Asks for after-sales on lines of a paid order. Send an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/after-sales", tag = "after-sales", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: same key and body, same result")),
    request_body = ApplyAfterSaleRequest, responses((status = 200, body = Envelope<AfterSale>), AuthErrors))]
pub async fn apply(
    State(app): State<App>,
    caller: Caller,
    key: IdempotencyKey,
    Body(r): Body<ApplyAfterSaleRequest>,
) -> ApiResult<Response> {
    let lines: Vec<AfterSaleRequestLine> = r
        .lines
        .iter()
        .map(|l| AfterSaleRequestLine { line_no: l.line_no, quantity: l.quantity, amount: l.amount.map(|a| a.0) })
        .collect();
    let user = caller.user.id;
    idempotency::once(&app, user, key, "after-sales", &r, async {
        Ok(app.mall.apply_after_sale(user, r.order_id, r.kind, &lines, r.reason.trim()).await?)
    })
    .await
}

/// The caller's after-sales cases, newest first.
#[utoipa::path(get, path = "/api/v1/after-sales", tag = "after-sales", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Envelope<Page<AfterSale>>), AuthErrors))]
pub async fn list(
    State(app): State<App>,
    caller: Caller,
    Params(page): Params<PageQuery>,
) -> ApiResult<Data<Page<AfterSale>>> {
    let filter = mallkit_core::after_sales::AfterSaleFilter::default();
    Ok(Data(app.mall.after_sales(Actor::Buyer(caller.user.id), filter, page.request()?).await?))
}

/// One of the caller's cases with its logs.
#[utoipa::path(get, path = "/api/v1/after-sales/{id}", tag = "after-sales", security(("bearer" = [])),
    params(("id" = u64, Path, description = "After-sales case id")),
    responses((status = 200, body = Envelope<AfterSale>), AuthErrors))]
pub async fn detail(
    State(app): State<App>,
    caller: Caller,
    Param(id): Param<AfterSaleId>,
) -> ApiResult<Data<AfterSale>> {
    Ok(Data(app.mall.after_sale(Actor::Buyer(caller.user.id), id).await?))
}

/// Withdraws a case while it is still requested.
#[utoipa::path(post, path = "/api/v1/after-sales/{id}/cancel", tag = "after-sales", security(("bearer" = [])),
    params(("id" = u64, Path, description = "After-sales case id")),
    responses((status = 200, body = Envelope<AfterSale>), AuthErrors))]
pub async fn cancel(
    State(app): State<App>,
    caller: Caller,
    Param(id): Param<AfterSaleId>,
) -> ApiResult<Data<AfterSale>> {
    Ok(Data(app.mall.after_sale_step(Actor::Buyer(caller.user.id), id, AfterSaleAction::Cancel, "").await?))
}

/// Records the tracking number of the goods shipped back (return and exchange).
#[utoipa::path(post, path = "/api/v1/after-sales/{id}/ship-back", tag = "after-sales", security(("bearer" = [])),
    params(("id" = u64, Path, description = "After-sales case id")), request_body = ShipBackRequest,
    responses((status = 200, body = Envelope<AfterSale>), AuthErrors))]
pub async fn ship_back(
    State(app): State<App>,
    caller: Caller,
    Param(id): Param<AfterSaleId>,
    Body(r): Body<ShipBackRequest>,
) -> ApiResult<Data<AfterSale>> {
    let tracking = r.tracking_no.trim();
    let actor = Actor::Buyer(caller.user.id);
    Ok(Data(app.mall.after_sale_step(actor, id, AfterSaleAction::ShipBack, tracking).await?))
}
