//! Payments (seed 004 §7, seed 003 multi-order payment, DESIGN §7) and the
//! simulated provider's signed callback.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use mallkit_core::ids::OrderId;
use mallkit_core::order::Actor;
use mallkit_core::payment::{Payment, PaymentChannel};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::App;
use crate::amount::Amount;
use crate::envelope::{Data, Envelope};
use crate::error::{ApiError, ApiResult, AuthErrors, ErrorBody};
use crate::extract::{Body, Caller, IdempotencyKey, Param, decode};
use crate::idempotency;

/// Header carrying the callback's HMAC-SHA256 (hex) over the raw body.
pub const SIGNATURE_HEADER: &str = "x-mallkit-signature";

/// Pay one or more of the caller's unpaid orders.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayRequest {
    /// Orders to pay together (each at most once).
    pub order_ids: Vec<OrderId>,
    /// Channel (`simulated`; `wechat` and `alipay` go through the configured provider too).
    #[serde(default = "simulated")]
    pub channel: PaymentChannel,
}

fn simulated() -> PaymentChannel {
    PaymentChannel::Simulated
}

/// What the simulated provider posts when a payment settles.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallbackRequest {
    /// The payment number (`PAY…`).
    pub payment_no: String,
    /// The provider's transaction number.
    pub provider_txn: String,
    /// Amount paid, yuan; must equal the payment's amount.
    #[schema(value_type = mallkit_core::Money)]
    pub amount: Amount,
    /// `success` (anything else is acknowledged and changes nothing).
    pub status: String,
}

/// Starts a payment. The simulated provider in instant mode confirms it at
/// once (orders move to awaiting shipment); in callback mode it stays
/// pending until the signed callback arrives. Send an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/payments", tag = "payments", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: same key and body, same result")),
    request_body = PayRequest, responses((status = 200, body = Envelope<Payment>), AuthErrors))]
pub async fn create(
    State(app): State<App>,
    caller: Caller,
    key: IdempotencyKey,
    Body(r): Body<PayRequest>,
) -> ApiResult<Response> {
    let user = caller.user.id;
    idempotency::once(&app, user, key, "payments", &r, async { Ok(app.mall.pay(user, &r.order_ids, r.channel).await?) })
        .await
}

/// A payment of the caller, by number.
#[utoipa::path(get, path = "/api/v1/payments/{number}", tag = "payments", security(("bearer" = [])),
    params(("number" = String, Path, description = "Payment number")),
    responses((status = 200, body = Envelope<Payment>), AuthErrors))]
pub async fn status(State(app): State<App>, caller: Caller, Param(number): Param<String>) -> ApiResult<Data<Payment>> {
    Ok(Data(app.mall.payment_by_number(Actor::Buyer(caller.user.id), &number).await?))
}

/// The simulated provider's callback: signed with HMAC-SHA256 over the raw
/// body in `X-Mallkit-Signature`; idempotent (the same transaction again
/// changes nothing); the amount must match; a success for an order that
/// closed meanwhile is refunded automatically.
#[utoipa::path(post, path = "/api/v1/payments/callback/simulated", tag = "payments",
    params(("X-Mallkit-Signature" = String, Header, description = "hex HMAC-SHA256 of the raw body")),
    request_body = CallbackRequest,
    responses((status = 200, body = Envelope<Payment>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody, description = "Bad signature"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn callback(State(app): State<App>, headers: HeaderMap, body: Bytes) -> ApiResult<Data<Payment>> {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !crate::crypto::verify(&app.callback_key, &body, signature) {
        return Err(ApiError::BadSignature);
    }
    let r: CallbackRequest = decode(&body)?;
    if r.status != "success" {
        return Ok(Data(app.mall.payment_by_number(Actor::System, &r.payment_no).await?));
    }
    Ok(Data(app.mall.confirm_payment(&r.payment_no, &r.provider_txn, r.amount.0).await?))
}
