//! Payment queries on [`Mall`].

use crate::engine::Mall;
use crate::error::MallError;
use crate::order::Actor;
use crate::payment::Payment;
use crate::storage::Store;

impl<S: Store> Mall<S> {
    /// A payment by its number as `actor` may see it: the payer's own, any
    /// for an admin or the system (a provider callback).
    ///
    /// # Errors
    /// [`MallError::NotFound`] when it does not exist or is not the actor's.
    pub async fn payment_by_number(&self, actor: Actor, number: &str) -> Result<Payment, MallError> {
        let payment = self.store.payment_by_number(number).await?;
        let visible = |p: &Payment| match actor {
            Actor::Buyer(u) => p.user == u,
            Actor::Admin(_) | Actor::System => true,
            Actor::Merchant(_) => false,
        };
        payment.filter(visible).ok_or_else(|| MallError::not_found("payment", number))
    }
}
