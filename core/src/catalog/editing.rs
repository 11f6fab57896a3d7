//! Merchants edit their own catalog (seed 002 §5.3–5.5 商家添加/更新/上下架商品,
//! §10.2 调整库存): create a product with its SKUs, rename or move it, put
//! it on or off sale, add and edit SKUs, and adjust stock.
//!
//! Who may: merchant staff for their own merchant's products (another
//! merchant's read as not found), admins for any; buyers never. Stock only
//! moves through guarded `StockWrite::Move` (`Receive`, `WriteOff`), so an
//! adjustment can never overwrite a concurrent reservation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::{CategoryTree, Product, ProductStatus, Sku};
use crate::engine::Mall;
use crate::error::MallError;
use crate::error::invalid;
use crate::ids::{CategoryId, MerchantId, ProductId, SkuId};
use crate::inventory::{Stock, StockMove};
use crate::money::Money;
use crate::order::Actor;
use crate::storage::{CatalogWrite, StockWrite, Store, Write};
use crate::storefront::ProductDetail;

/// Most units one stock adjustment may add or remove.
pub const MAX_STOCK_ADJUSTMENT: u32 = 1_000_000;

/// A SKU to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSku {
    /// Variant attributes such as `颜色 = 黑色`.
    pub attributes: BTreeMap<String, String>,
    /// Price, yuan, ≥ 0.
    pub price: Money,
    /// Crossed-out list price, yuan.
    pub original_price: Option<Money>,
    /// Weight in grams (weight-based shipping).
    pub weight_grams: Option<u32>,
    /// Initial available units, at most [`MAX_STOCK_ADJUSTMENT`].
    pub stock: u32,
}

impl NewSku {
    /// The SKU `id` of `product`, with its initial stock all available.
    fn into_sku(self, id: SkuId, product: ProductId) -> Sku {
        Sku {
            id,
            product,
            attributes: self.attributes,
            price: self.price,
            original_price: self.original_price,
            weight_grams: self.weight_grams,
            stock: Stock { available: self.stock, reserved: 0, sold: 0 },
        }
    }
}

/// Changes to a SKU's details; `None` keeps a field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SkuChange {
    /// New attributes.
    pub attributes: Option<BTreeMap<String, String>>,
    /// New price, yuan.
    pub price: Option<Money>,
    /// New list price, yuan (`Some(None)` removes it).
    pub original_price: Option<Option<Money>>,
    /// New weight (`Some(None)` removes it).
    pub weight_grams: Option<Option<u32>>,
}

fn check_name(name: &str) -> Result<(), MallError> {
    let len = name.trim().chars().count();
    if len == 0 || len > 100 { Err(invalid("name", "must be 1-100 characters")) } else { Ok(()) }
}

fn check_stock(field: &str, units: u32) -> Result<(), MallError> {
    if units > MAX_STOCK_ADJUSTMENT {
        return Err(invalid(field, &format!("must be at most {MAX_STOCK_ADJUSTMENT}")));
    }
    Ok(())
}

/// The merchant `actor` may edit as: its own for staff, `merchant` for an admin.
fn editing_merchant(actor: Actor, merchant: MerchantId) -> Result<MerchantId, MallError> {
    match actor {
        Actor::Merchant(own) if own == merchant => Ok(own),
        Actor::Merchant(_) => Err(MallError::Forbidden { role: "merchant", action: "edit another merchant's catalog" }),
        Actor::Admin(_) | Actor::System => Ok(merchant),
        Actor::Buyer(_) => Err(MallError::Forbidden { role: "customer", action: "edit the catalog" }),
    }
}

impl<S: Store> Mall<S> {
    async fn editable_product(&self, actor: Actor, id: ProductId) -> Result<Product, MallError> {
        if matches!(actor, Actor::Buyer(_)) {
            return Err(MallError::Forbidden { role: "customer", action: "edit the catalog" });
        }
        let product = self.store().product(id).await?.ok_or_else(|| MallError::not_found("product", id))?;
        match actor {
            Actor::Merchant(m) if m != product.merchant => Err(MallError::not_found("product", id)),
            _ => Ok(product),
        }
    }

    /// The SKU as stored (after a write: its stock may have moved meanwhile).
    async fn stored_sku(&self, id: SkuId) -> Result<Sku, MallError> {
        self.store().sku(id).await?.ok_or_else(|| MallError::not_found("sku", id))
    }

    async fn editable_sku(&self, actor: Actor, id: SkuId) -> Result<Sku, MallError> {
        let sku = self.stored_sku(id).await?;
        self.editable_product(actor, sku.product).await.map_err(|e| match e {
            MallError::NotFound { .. } => MallError::not_found("sku", id),
            other => other,
        })?;
        Ok(sku)
    }

    async fn check_category(&self, category: CategoryId) -> Result<(), MallError> {
        let categories = self.store().categories().await?;
        CategoryTree::new(&categories)?;
        if categories.iter().any(|c| c.id == category) {
            Ok(())
        } else {
            Err(invalid("category_id", &format!("no category {category}")))
        }
    }

    /// Creates a product with its SKUs in one batch, under fresh ids.
    ///
    /// # Errors
    /// [`MallError::Forbidden`] for a buyer or another merchant's staff;
    /// [`MallError::NotFound`] for an unknown merchant;
    /// [`MallError::InvalidInput`] naming `name`, `category_id`, `skus`
    /// (none given, at most 50) or `skus[i].stock`; [`MallError::Catalog`]
    /// for a negative price.
    pub async fn create_product(
        &self,
        actor: Actor,
        merchant: MerchantId,
        category: CategoryId,
        name: &str,
        skus: Vec<NewSku>,
    ) -> Result<ProductDetail, MallError> {
        let merchant = editing_merchant(actor, merchant)?;
        check_name(name)?;
        if self.store().merchant(merchant).await?.is_none() {
            return Err(MallError::not_found("merchant", merchant));
        }
        self.check_category(category).await?;
        if skus.is_empty() || skus.len() > 50 {
            return Err(invalid("skus", "give 1-50 SKUs"));
        }
        let product = Product {
            id: ProductId(self.next_id()),
            merchant,
            category,
            name: name.trim().to_owned(),
            status: ProductStatus::OnSale,
        };
        let mut writes = vec![Write::Catalog(CatalogWrite::PutProduct(product.clone()))];
        for (i, new) in skus.into_iter().enumerate() {
            check_stock(&format!("skus[{i}].stock"), new.stock)?;
            let sku = new.into_sku(SkuId(self.next_id()), product.id);
            sku.validate()?;
            writes.push(Write::Catalog(CatalogWrite::PutSku(sku)));
        }
        self.commit(actor, writes).await?;
        self.product_detail(product.id).await
    }

    /// Renames a product or moves it to another category.
    ///
    /// # Errors
    /// As [`Mall::create_product`]; [`MallError::NotFound`] for another merchant's product.
    pub async fn update_product(
        &self,
        actor: Actor,
        id: ProductId,
        name: Option<&str>,
        category: Option<CategoryId>,
    ) -> Result<ProductDetail, MallError> {
        let mut product = self.editable_product(actor, id).await?;
        if let Some(name) = name {
            check_name(name)?;
            product.name = name.trim().to_owned();
        }
        if let Some(category) = category {
            self.check_category(category).await?;
            product.category = category;
        }
        self.commit(actor, vec![Write::Catalog(CatalogWrite::PutProduct(product))]).await?;
        self.product_detail(id).await
    }

    /// Puts a product on or off sale (seed 002 §5.5 上下架). Off sale, it
    /// leaves the product list and cannot be added to carts or bought; orders
    /// already placed are not affected.
    ///
    /// # Errors
    /// As [`Mall::update_product`].
    pub async fn set_product_status(
        &self,
        actor: Actor,
        id: ProductId,
        status: ProductStatus,
    ) -> Result<ProductDetail, MallError> {
        let mut product = self.editable_product(actor, id).await?;
        product.status = status;
        self.commit(actor, vec![Write::Catalog(CatalogWrite::PutProduct(product))]).await?;
        self.product_detail(id).await
    }

    /// Adds a SKU to a product.
    ///
    /// # Errors
    /// As [`Mall::update_product`]; [`MallError::InvalidInput`] on `stock`.
    pub async fn add_sku(&self, actor: Actor, product: ProductId, new: NewSku) -> Result<Sku, MallError> {
        self.editable_product(actor, product).await?;
        check_stock("stock", new.stock)?;
        let sku = new.into_sku(SkuId(self.next_id()), product);
        sku.validate()?;
        self.commit(actor, vec![Write::Catalog(CatalogWrite::PutSku(sku.clone()))]).await?;
        Ok(sku)
    }

    /// Changes a SKU's details (never its stock). A new price applies to
    /// carts and checkouts from now on; placed orders keep theirs.
    ///
    /// # Errors
    /// [`MallError::NotFound`] (also for another merchant's SKU),
    /// [`MallError::Forbidden`], [`MallError::Catalog`] for a negative price.
    pub async fn update_sku(&self, actor: Actor, id: SkuId, change: SkuChange) -> Result<Sku, MallError> {
        let mut sku = self.editable_sku(actor, id).await?;
        if let Some(v) = change.attributes {
            sku.attributes = v;
        }
        if let Some(v) = change.price {
            sku.price = v;
        }
        if let Some(v) = change.original_price {
            sku.original_price = v;
        }
        if let Some(v) = change.weight_grams {
            sku.weight_grams = v;
        }
        sku.validate()?;
        self.commit(actor, vec![Write::Catalog(CatalogWrite::PutSku(sku))]).await?;
        self.stored_sku(id).await
    }

    /// Adds (`change` > 0) or removes (`change` < 0) available units
    /// (seed 002 §10.2 调整库存). Removing never takes reserved or sold units.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] on `change` for zero or more than
    /// [`MAX_STOCK_ADJUSTMENT`] units, and on `reason` when empty;
    /// [`StockError::Insufficient`](crate::inventory::StockError::Insufficient) when removing more than is available;
    /// [`MallError::NotFound`], [`MallError::Forbidden`].
    pub async fn adjust_stock(&self, actor: Actor, id: SkuId, change: i64, reason: &str) -> Result<Sku, MallError> {
        self.editable_sku(actor, id).await?;
        let units = u32::try_from(change.unsigned_abs()).unwrap_or(u32::MAX);
        if change == 0 || units > MAX_STOCK_ADJUSTMENT {
            return Err(invalid(
                "change",
                &format!("must be a non-zero number of units up to ±{MAX_STOCK_ADJUSTMENT}"),
            ));
        }
        if reason.trim().is_empty() {
            return Err(invalid("reason", "must not be empty"));
        }
        let movement = if change > 0 { StockMove::Receive } else { StockMove::WriteOff };
        self.commit(actor, vec![Write::Stock(StockWrite::Move { sku: id, movement, quantity: units })]).await?;
        self.stored_sku(id).await
    }
}
