//! Points and member tiers (seed 001 §8, seed 002, DESIGN §5).

use axum::extract::State;
use mallkit_core::points::{LedgerEntry, PointsAccount, Tier, tier_for};
use mallkit_core::storage::PointsStore;
use serde::Serialize;
use utoipa::ToSchema;

use crate::App;
use crate::envelope::{Data, Envelope, Page, PageQuery};
use crate::error::{ApiResult, AuthErrors};
use crate::extract::{Caller, Params};

/// The caller's points and tier.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointsOverview {
    /// Balance, frozen, total earned and spent.
    pub account: PointsAccount,
    /// Current tier (by lifetime earned points).
    pub tier: Option<Tier>,
    /// The next tier up.
    pub next_tier: Option<Tier>,
    /// Points still to earn for the next tier.
    pub points_to_next_tier: Option<i64>,
    /// Redemption rate: points per yuan.
    pub redeem_points_per_yuan: i64,
}

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

async fn account_and_tiers(app: &App, caller: &Caller) -> ApiResult<(PointsAccount, Vec<Tier>)> {
    let account = app.store.points_account(caller.user.id).await.map_err(mallkit_core::MallError::from)?;
    let tiers = app.store.tiers().await.map_err(mallkit_core::MallError::from)?;
    Ok((account, tiers))
}

/// The caller's points account with tier progress.
#[utoipa::path(get, path = "/api/v1/points", tag = "points", security(("bearer" = [])),
    responses((status = 200, body = Envelope<PointsOverview>), AuthErrors))]
pub async fn overview(State(app): State<App>, caller: Caller) -> ApiResult<Data<PointsOverview>> {
    let (account, tiers) = account_and_tiers(&app, &caller).await?;
    let tier = tier_for(&tiers, account.total_earned).cloned();
    let next_tier = tiers.iter().filter(|t| t.min_points > account.total_earned).min_by_key(|t| t.min_points).cloned();
    Ok(Data(PointsOverview {
        points_to_next_tier: next_tier.as_ref().map(|t| t.min_points - account.total_earned),
        redeem_points_per_yuan: app.mall.policy().pricing.points.redeem_points_per_yuan,
        account,
        tier,
        next_tier,
    }))
}

/// The caller's points ledger, newest first.
#[utoipa::path(get, path = "/api/v1/points/ledger", tag = "points", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Envelope<Page<LedgerEntry>>), AuthErrors))]
pub async fn ledger(
    State(app): State<App>,
    caller: Caller,
    Params(page): Params<PageQuery>,
) -> ApiResult<Data<Page<LedgerEntry>>> {
    page.bounds()?;
    let mut rows = app.store.ledger(caller.user.id).await.map_err(mallkit_core::MallError::from)?;
    rows.reverse();
    Ok(Data(page.page(rows)?))
}

/// The caller's member tier and every tier's benefits.
#[utoipa::path(get, path = "/api/v1/member", tag = "points", security(("bearer" = [])),
    responses((status = 200, body = Envelope<MemberView>), AuthErrors))]
pub async fn member(State(app): State<App>, caller: Caller) -> ApiResult<Data<MemberView>> {
    let (account, tiers) = account_and_tiers(&app, &caller).await?;
    let tier = tier_for(&tiers, account.total_earned).cloned();
    Ok(Data(MemberView { total_earned: account.total_earned, tier, tiers }))
}
