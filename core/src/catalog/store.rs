//! Catalog reads: the store trait of this area (DESIGN §11), served by
//! every backend, and its forwarding through an `Arc` (also `Arc<dyn …>`).

use async_trait::async_trait;

use crate::catalog::{Category, Merchant, Product, ProductFilter, ProductSummary, Sku};
use crate::ids::{MerchantId, ProductId, SkuId};
use crate::page::{Page, PageRequest};
use crate::storage::StoreError;

/// Catalog reads.
#[async_trait]
pub trait CatalogStore: Send + Sync {
    /// Every category.
    async fn categories(&self) -> Result<Vec<Category>, StoreError>;
    /// A merchant.
    async fn merchant(&self, id: MerchantId) -> Result<Option<Merchant>, StoreError>;
    /// Every product, by id (reference reads for tests and invariant checks; no list reads it).
    async fn products(&self) -> Result<Vec<Product>, StoreError>;
    /// A product.
    async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError>;
    /// A SKU.
    async fn sku(&self, id: SkuId) -> Result<Option<Sku>, StoreError>;
    /// The SKUs of a product, by id.
    async fn skus_of(&self, product: ProductId) -> Result<Vec<Sku>, StoreError>;
    /// Every SKU, by id (reference reads for tests and invariant checks; no list reads it).
    async fn skus(&self) -> Result<Vec<Sku>, StoreError>;
    /// One page of the products `filter` admits, in its sort, each with
    /// its summary over its SKUs. `total` counts up to
    /// [`crate::page::COUNT_CAP`].
    async fn search_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Page<ProductSummary>, StoreError>;
}

#[async_trait]
impl<T: CatalogStore + ?Sized> CatalogStore for std::sync::Arc<T> {
    async fn categories(&self) -> Result<Vec<Category>, StoreError> {
        (**self).categories().await
    }
    async fn merchant(&self, id: MerchantId) -> Result<Option<Merchant>, StoreError> {
        (**self).merchant(id).await
    }
    async fn products(&self) -> Result<Vec<Product>, StoreError> {
        (**self).products().await
    }
    async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        (**self).product(id).await
    }
    async fn sku(&self, id: SkuId) -> Result<Option<Sku>, StoreError> {
        (**self).sku(id).await
    }
    async fn skus_of(&self, product: ProductId) -> Result<Vec<Sku>, StoreError> {
        (**self).skus_of(product).await
    }
    async fn skus(&self) -> Result<Vec<Sku>, StoreError> {
        (**self).skus().await
    }
    async fn search_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Page<ProductSummary>, StoreError> {
        (**self).search_products(filter, page).await
    }
}
