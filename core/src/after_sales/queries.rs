//! After-sales queries on [`Mall`]: an actor's paged case list.

use crate::after_sales::{AfterSale, AfterSaleFilter};
use crate::engine::Mall;
use crate::error::MallError;
use crate::order::Actor;
use crate::page::{Page, PageRequest};
use crate::storage::Store;

impl<S: Store> Mall<S> {
    /// One page of the cases `actor` may see that `filter` admits, newest
    /// first: a buyer their own, a merchant's staff their merchant's (another
    /// merchant named is refused), admins any.
    ///
    /// # Errors
    /// [`MallError::Forbidden`], [`MallError::Storage`].
    pub async fn after_sales(
        &self,
        actor: Actor,
        mut filter: AfterSaleFilter,
        page: PageRequest,
    ) -> Result<Page<AfterSale>, MallError> {
        crate::order::queries::scope(actor, &mut filter.user, &mut filter.merchant)?;
        Ok(self.store.list_after_sales(&filter, page).await?)
    }
}
