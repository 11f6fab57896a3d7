//! Order queries on [`Mall`]: an actor's paged order list and the buyers'
//! order figures for the back office.

use crate::engine::Mall;
use crate::error::MallError;
use crate::ids::UserId;
use crate::order::{Actor, CustomerStats, Order, OrderFilter};
use crate::page::{Page, PageRequest};
use crate::storage::Store;

/// `filter` narrowed to what `actor` may see: a buyer their own orders, a
/// merchant's staff their merchant's, admins and the system any.
///
/// # Errors
/// [`MallError::Forbidden`] when merchant staff name another merchant.
pub fn scoped(actor: Actor, mut filter: OrderFilter) -> Result<OrderFilter, MallError> {
    match actor {
        Actor::Buyer(u) => filter.user = Some(u),
        Actor::Merchant(m) => {
            if filter.merchant.is_some_and(|asked| asked != m) {
                return Err(MallError::Forbidden { role: "merchant", action: "see another merchant's records" });
            }
            filter.merchant = Some(m);
        }
        Actor::Admin(_) | Actor::System => {}
    }
    Ok(filter)
}

impl<S: Store> Mall<S> {
    /// One page of the orders `actor` may see that `filter` admits, newest
    /// first (seed 004 §6.3 order list; the back office's order list).
    ///
    /// # Errors
    /// [`MallError::Forbidden`] (see [`scoped`]), [`MallError::Storage`].
    pub async fn orders(&self, actor: Actor, filter: OrderFilter, page: PageRequest) -> Result<Page<Order>, MallError> {
        let filter = scoped(actor, filter)?;
        Ok(self.store.list_orders(&filter, page).await?)
    }

    /// The order figures (count, net paid in yuan, latest order time) of
    /// each of `users`, in the same order, from one store aggregate.
    ///
    /// # Errors
    /// [`MallError::Storage`].
    pub async fn customer_stats(&self, users: &[UserId]) -> Result<Vec<CustomerStats>, MallError> {
        Ok(self.store.customer_stats(users).await?)
    }
}
