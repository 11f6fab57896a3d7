//! After-sales reads: the store trait of this area (DESIGN §11), served by
//! every backend, and its forwarding through an `Arc` (also `Arc<dyn …>`).

use async_trait::async_trait;

use crate::after_sales::{AfterSale, AfterSaleFilter};
use crate::ids::{AfterSaleId, MerchantId, OrderId};
use crate::page::{Page, PageRequest};
use crate::storage::StoreError;

/// After-sales reads.
#[async_trait]
pub trait AfterSalesStore: Send + Sync {
    /// An after-sales case.
    async fn after_sale(&self, id: AfterSaleId) -> Result<Option<AfterSale>, StoreError>;
    /// The cases of an order, by id.
    async fn after_sales_of_order(&self, order: OrderId) -> Result<Vec<AfterSale>, StoreError>;
    /// The cases of a merchant's orders, newest first by creation time, then id (the back office's queue).
    async fn after_sales_of_merchant(&self, merchant: MerchantId) -> Result<Vec<AfterSale>, StoreError>;
    /// One page of the cases `filter` admits, newest first by creation
    /// time, then id.
    async fn list_after_sales(
        &self,
        filter: &AfterSaleFilter,
        page: PageRequest,
    ) -> Result<Page<AfterSale>, StoreError>;
}

#[async_trait]
impl<T: AfterSalesStore + ?Sized> AfterSalesStore for std::sync::Arc<T> {
    async fn after_sale(&self, id: AfterSaleId) -> Result<Option<AfterSale>, StoreError> {
        (**self).after_sale(id).await
    }
    async fn after_sales_of_order(&self, order: OrderId) -> Result<Vec<AfterSale>, StoreError> {
        (**self).after_sales_of_order(order).await
    }
    async fn after_sales_of_merchant(&self, merchant: MerchantId) -> Result<Vec<AfterSale>, StoreError> {
        (**self).after_sales_of_merchant(merchant).await
    }
    async fn list_after_sales(
        &self,
        filter: &AfterSaleFilter,
        page: PageRequest,
    ) -> Result<Page<AfterSale>, StoreError> {
        (**self).list_after_sales(filter, page).await
    }
}
