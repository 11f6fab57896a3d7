//! Catalog set-up commands (admin, demo loaders): categories, merchants,
//! products and SKUs, each checked before it is written.

use crate::catalog::CatalogError;
use crate::catalog::{Category, CategoryTree, Merchant, Product, ProductStatus, Sku};
use crate::engine::Mall;
use crate::error::{MallError, non_empty};
use crate::ids::SkuId;
use crate::order::Actor;
use crate::storage::{CatalogWrite, Store, Write};

impl<S: Store> Mall<S> {
    /// Saves a category after checking the whole tree.
    ///
    /// # Errors
    /// [`MallError::Catalog`] for an unknown parent or a cycle.
    pub async fn save_category(&self, category: Category) -> Result<(), MallError> {
        let mut all = self.store.categories().await?;
        all.retain(|c| c.id != category.id);
        all.push(category.clone());
        CategoryTree::new(&all)?;
        self.commit(Actor::System, vec![Write::Catalog(CatalogWrite::PutCategory(category))]).await
    }

    /// Saves a merchant.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] for an empty name.
    pub async fn save_merchant(&self, merchant: Merchant) -> Result<(), MallError> {
        non_empty("merchant.name", &merchant.name)?;
        self.commit(Actor::System, vec![Write::Catalog(CatalogWrite::PutMerchant(merchant))]).await
    }

    /// Saves a product.
    ///
    /// # Errors
    /// [`MallError::NotFound`] for an unknown merchant or category,
    /// [`MallError::InvalidInput`] for an empty name.
    pub async fn save_product(&self, product: Product) -> Result<(), MallError> {
        non_empty("product.name", &product.name)?;
        if self.store.merchant(product.merchant).await?.is_none() {
            return Err(MallError::not_found("merchant", product.merchant));
        }
        if !self.store.categories().await?.iter().any(|c| c.id == product.category) {
            return Err(MallError::not_found("category", product.category));
        }
        self.commit(Actor::System, vec![Write::Catalog(CatalogWrite::PutProduct(product))]).await
    }

    /// Saves a SKU with its stock.
    ///
    /// # Errors
    /// [`MallError::NotFound`] for an unknown product, [`MallError::Catalog`]
    /// for a negative price.
    pub async fn save_sku(&self, sku: Sku) -> Result<(), MallError> {
        if self.store.product(sku.product).await?.is_none() {
            return Err(MallError::not_found("product", sku.product));
        }
        sku.validate()?;
        self.commit(Actor::System, vec![Write::Catalog(CatalogWrite::PutSku(sku))]).await
    }

    pub(crate) async fn sellable(&self, sku: SkuId) -> Result<(Sku, Product), MallError> {
        let s = self.store.sku(sku).await?.ok_or_else(|| MallError::not_found("sku", sku))?;
        let p = self.store.product(s.product).await?.ok_or_else(|| MallError::not_found("product", s.product))?;
        if p.status != ProductStatus::OnSale {
            return Err(MallError::Catalog(CatalogError::OffSale(p.id)));
        }
        Ok((s, p))
    }
}
