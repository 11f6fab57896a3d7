//! Cart reads: the store trait of this area (DESIGN §11), served by
//! every backend, and its forwarding through an `Arc` (also `Arc<dyn …>`).

use async_trait::async_trait;

use crate::cart::Cart;
use crate::ids::UserId;
use crate::storage::StoreError;

/// Cart reads.
#[async_trait]
pub trait CartStore: Send + Sync {
    /// A user's cart (empty when none).
    async fn cart(&self, user: UserId) -> Result<Cart, StoreError>;
}

#[async_trait]
impl<T: CartStore + ?Sized> CartStore for std::sync::Arc<T> {
    async fn cart(&self, user: UserId) -> Result<Cart, StoreError> {
        (**self).cart(user).await
    }
}
