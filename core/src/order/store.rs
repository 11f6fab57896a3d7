//! Order reads: the store trait of this area (DESIGN §11), served by
//! every backend, and its forwarding through an `Arc` (also `Arc<dyn …>`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::ids::{CheckoutId, MerchantId, OrderId, UserId};
use crate::order::{CustomerStats, Order, OrderFilter, OrderStatus};
use crate::page::{Page, PageRequest};
use crate::storage::StoreError;

/// Order reads.
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// An order.
    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError>;
    /// A user's orders, newest first (by creation time, then id: with several
    /// processes on one database, ids do not follow time).
    async fn orders_of_user(&self, user: UserId) -> Result<Vec<Order>, StoreError>;
    /// A merchant's orders, newest first by creation time, then id (the back office's order list).
    async fn orders_of_merchant(&self, merchant: MerchantId) -> Result<Vec<Order>, StoreError>;
    /// The orders of one checkout, by id.
    async fn orders_of_checkout(&self, checkout: CheckoutId) -> Result<Vec<Order>, StoreError>;
    /// Orders in `status` whose deadline (payment deadline for
    /// `pending_payment`, auto-confirm time for `shipped`) is at or before
    /// `now`, by id.
    async fn orders_due(&self, status: OrderStatus, now: DateTime<Utc>) -> Result<Vec<OrderId>, StoreError>;
    /// One page of the orders `filter` admits, newest first by creation
    /// time, then id. A filter needs a user or a merchant on PostgreSQL's
    /// indexes to stay fast; none lists every order (admins).
    async fn list_orders(&self, filter: &OrderFilter, page: PageRequest) -> Result<Page<Order>, StoreError>;
    /// The order figures of each of `users`, in the same order (a user
    /// without orders has zero figures): one aggregate, not one read per user.
    async fn customer_stats(&self, users: &[UserId]) -> Result<Vec<CustomerStats>, StoreError>;
}

#[async_trait]
impl<T: OrderStore + ?Sized> OrderStore for std::sync::Arc<T> {
    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        (**self).order(id).await
    }
    async fn orders_of_user(&self, user: UserId) -> Result<Vec<Order>, StoreError> {
        (**self).orders_of_user(user).await
    }
    async fn orders_of_merchant(&self, merchant: MerchantId) -> Result<Vec<Order>, StoreError> {
        (**self).orders_of_merchant(merchant).await
    }
    async fn orders_of_checkout(&self, checkout: CheckoutId) -> Result<Vec<Order>, StoreError> {
        (**self).orders_of_checkout(checkout).await
    }
    async fn orders_due(&self, status: OrderStatus, now: DateTime<Utc>) -> Result<Vec<OrderId>, StoreError> {
        (**self).orders_due(status, now).await
    }
    async fn list_orders(&self, filter: &OrderFilter, page: PageRequest) -> Result<Page<Order>, StoreError> {
        (**self).list_orders(filter, page).await
    }
    async fn customer_stats(&self, users: &[UserId]) -> Result<Vec<CustomerStats>, StoreError> {
        (**self).customer_stats(users).await
    }
}
