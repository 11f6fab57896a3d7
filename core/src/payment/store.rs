//! Payment reads: the store trait of this area (DESIGN §11), served by
//! every backend, and its forwarding through an `Arc` (also `Arc<dyn …>`).

use async_trait::async_trait;

use crate::ids::PaymentId;
use crate::payment::Payment;
use crate::storage::StoreError;

/// Payment reads.
#[async_trait]
pub trait PaymentStore: Send + Sync {
    /// A payment.
    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>, StoreError>;
    /// A payment by its number.
    async fn payment_by_number(&self, number: &str) -> Result<Option<Payment>, StoreError>;
}

#[async_trait]
impl<T: PaymentStore + ?Sized> PaymentStore for std::sync::Arc<T> {
    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>, StoreError> {
        (**self).payment(id).await
    }
    async fn payment_by_number(&self, number: &str) -> Result<Option<Payment>, StoreError> {
        (**self).payment_by_number(number).await
    }
}
