//! Order queries on [`Mall`]: an actor's paged order list and the buyers'
//! order figures for the back office.

use crate::engine::Mall;
use crate::error::MallError;
use crate::ids::{MerchantId, UserId};
use crate::order::{Actor, CustomerStats, Order, OrderFilter};
use crate::page::{Page, PageRequest};
use crate::storage::Store;

/// Narrows a list's `user` and `merchant` to what `actor` may see: a buyer
/// their own rows, a merchant's staff their merchant's, admins and the
/// system any (the rule of [`Actor::may_see`], for lists).
///
/// # Errors
/// [`MallError::Forbidden`] when merchant staff name another merchant.
pub fn scope(actor: Actor, user: &mut Option<UserId>, merchant: &mut Option<MerchantId>) -> Result<(), MallError> {
    match actor {
        Actor::Buyer(u) => *user = Some(u),
        Actor::Merchant(m) => {
            if merchant.is_some_and(|asked| asked != m) {
                return Err(MallError::Forbidden { role: "merchant", action: "see another merchant's records" });
            }
            *merchant = Some(m);
        }
        Actor::Admin(_) | Actor::System => {}
    }
    Ok(())
}

impl<S: Store> Mall<S> {
    /// One page of the orders `actor` may see that `filter` admits, newest
    /// first (seed 004 §6.3 order list; the back office's order list).
    ///
    /// # Errors
    /// [`MallError::Forbidden`] (see [`scope`]), [`MallError::Storage`].
    pub async fn orders(&self, actor: Actor, filter: OrderFilter, page: PageRequest) -> Result<Page<Order>, MallError> {
        let mut filter = filter;
        scope(actor, &mut filter.user, &mut filter.merchant)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_actor_sees_its_own_rows() {
        let (mut user, mut merchant) = (Some(UserId(2)), None);
        scope(Actor::Buyer(UserId(1)), &mut user, &mut merchant).expect("buyer");
        assert_eq!((user, merchant), (Some(UserId(1)), None));
        let (mut user, mut merchant) = (None, None);
        scope(Actor::Merchant(MerchantId(3)), &mut user, &mut merchant).expect("staff");
        assert_eq!(merchant, Some(MerchantId(3)));
        let mut other = Some(MerchantId(4));
        let refused = scope(Actor::Merchant(MerchantId(3)), &mut None, &mut other);
        assert!(matches!(refused, Err(MallError::Forbidden { .. })));
        let mut any = Some(MerchantId(4));
        scope(Actor::Admin(UserId(9)), &mut None, &mut any).expect("admin");
        assert_eq!(any, Some(MerchantId(4)));
    }
}
