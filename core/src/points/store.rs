//! Points and tier reads: the store trait of this area (DESIGN §11), served by
//! every backend, and its forwarding through an `Arc` (also `Arc<dyn …>`).

use async_trait::async_trait;

use crate::ids::UserId;
use crate::page::{Page, PageRequest};
use crate::points::{LedgerEntry, PointsAccount, PointsSource, Tier};
use crate::storage::StoreError;

/// Points and tier reads.
#[async_trait]
pub trait PointsStore: Send + Sync {
    /// A user's account (all zero when the user has none yet).
    async fn points_account(&self, user: UserId) -> Result<PointsAccount, StoreError>;
    /// A user's ledger, oldest first.
    async fn ledger(&self, user: UserId) -> Result<Vec<LedgerEntry>, StoreError>;
    /// The member tiers, by level.
    async fn tiers(&self) -> Result<Vec<Tier>, StoreError>;
    /// One page of a user's ledger, newest first, only rows of `source` when given.
    async fn ledger_page(
        &self,
        user: UserId,
        source: Option<PointsSource>,
        page: PageRequest,
    ) -> Result<Page<LedgerEntry>, StoreError>;
}

#[async_trait]
impl<T: PointsStore + ?Sized> PointsStore for std::sync::Arc<T> {
    async fn points_account(&self, user: UserId) -> Result<PointsAccount, StoreError> {
        (**self).points_account(user).await
    }
    async fn ledger(&self, user: UserId) -> Result<Vec<LedgerEntry>, StoreError> {
        (**self).ledger(user).await
    }
    async fn tiers(&self) -> Result<Vec<Tier>, StoreError> {
        (**self).tiers().await
    }
    async fn ledger_page(
        &self,
        user: UserId,
        source: Option<PointsSource>,
        page: PageRequest,
    ) -> Result<Page<LedgerEntry>, StoreError> {
        (**self).ledger_page(user, source, page).await
    }
}
