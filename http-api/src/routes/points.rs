//! Points and member tiers (seed 001 §8, seed 002, DESIGN §5).

use axum::extract::State;
use mallkit_core::points::{LedgerEntry, PointsOverview, Tier};
use serde::Serialize;
use utoipa::ToSchema;

use crate::App;
use crate::envelope::{Data, Envelope, Page, PageQuery};
use crate::error::{ApiResult, AuthErrors};
use crate::extract::{Caller, Params};

/// The caller's tier among all tiers.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    /// Lifetime earned points.
    pub total_earned: i64,
    /// Current tier.
    pub tier: Option<Tier>,
    /// Every tier with its benefits, by level.
    pub tiers: Vec<Tier>,
}

/// The caller's points account with tier progress.
#[utoipa::path(get, path = "/api/v1/points", tag = "points", security(("bearer" = [])),
    responses((status = 200, body = Envelope<PointsOverview>), AuthErrors))]
pub async fn overview(State(app): State<App>, caller: Caller) -> ApiResult<Data<PointsOverview>> {
    Ok(Data(app.mall.points_overview(caller.user.id).await?))
}

/// The caller's points ledger, newest first.
#[utoipa::path(get, path = "/api/v1/points/ledger", tag = "points", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Envelope<Page<LedgerEntry>>), AuthErrors))]
pub async fn ledger(
    State(app): State<App>,
    caller: Caller,
    Params(page): Params<PageQuery>,
) -> ApiResult<Data<Page<LedgerEntry>>> {
    Ok(Data(app.mall.ledger(caller.user.id, None, page.request()?).await?))
}

/// The caller's member tier and every tier's benefits.
#[utoipa::path(get, path = "/api/v1/member", tag = "points", security(("bearer" = [])),
    responses((status = 200, body = Envelope<MemberView>), AuthErrors))]
pub async fn member(State(app): State<App>, caller: Caller) -> ApiResult<Data<MemberView>> {
    let overview = app.mall.points_overview(caller.user.id).await?;
    let tiers = app.mall.tiers().await?;
    Ok(Data(MemberView { total_earned: overview.account.total_earned, tier: overview.tier, tiers }))
}
