//! `/health` (the process answers) and `/ready` (the store answers too).

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::App;
use crate::envelope::{Data, Envelope};
use crate::error::ApiResult;

/// Health status.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

/// Liveness: answers while the process runs, touching nothing.
#[utoipa::path(get, path = "/health", tag = "system", responses((status = 200, body = Envelope<Health>)))]
pub async fn health() -> Data<Health> {
    Data(Health { status: "ok" })
}

/// Readiness: the store answers a read.
#[utoipa::path(get, path = "/ready", tag = "system",
    responses((status = 200, body = Envelope<Health>), (status = 503, body = crate::error::ErrorBody)))]
pub async fn ready(State(app): State<App>) -> ApiResult<Data<Health>> {
    app.mall.check_store().await?;
    Ok(Data(Health { status: "ok" }))
}
