//! Points and tier queries on [`Mall`]: the account with tier progress,
//! the tiers, and the paged ledger.

use serde::{Deserialize, Serialize};

use crate::engine::Mall;
use crate::error::MallError;
use crate::ids::UserId;
use crate::page::{Page, PageRequest};
use crate::points::{LedgerEntry, PointsAccount, PointsSource, Tier, next_tier, tier_for};
use crate::storage::Store;

/// A user's points with tier progress (seed 001 §8 会员, seed 004 §4.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

impl<S: Store> Mall<S> {
    /// A user's points account (all zero before the first ledger row).
    ///
    /// # Errors
    /// [`MallError::Storage`].
    pub async fn points_account(&self, user: UserId) -> Result<PointsAccount, MallError> {
        Ok(self.store.points_account(user).await?)
    }

    /// The member tiers, by level.
    ///
    /// # Errors
    /// [`MallError::Storage`].
    pub async fn tiers(&self) -> Result<Vec<Tier>, MallError> {
        Ok(self.store.tiers().await?)
    }

    /// A user's account, tier and what the next tier needs.
    ///
    /// # Errors
    /// [`MallError::Storage`].
    pub async fn points_overview(&self, user: UserId) -> Result<PointsOverview, MallError> {
        let account = self.store.points_account(user).await?;
        let tiers = self.store.tiers().await?;
        let next = next_tier(&tiers, account.total_earned).cloned();
        Ok(PointsOverview {
            tier: tier_for(&tiers, account.total_earned).cloned(),
            points_to_next_tier: next.as_ref().map(|t| t.min_points - account.total_earned),
            next_tier: next,
            redeem_points_per_yuan: self.policy.pricing.points.redeem_points_per_yuan,
            account,
        })
    }

    /// One page of a user's ledger, newest first, only rows of `source` when given.
    ///
    /// # Errors
    /// [`MallError::Storage`].
    pub async fn ledger(
        &self,
        user: UserId,
        source: Option<PointsSource>,
        page: PageRequest,
    ) -> Result<Page<LedgerEntry>, MallError> {
        Ok(self.store.ledger_page(user, source, page).await?)
    }
}
