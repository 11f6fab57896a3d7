//! The catalog's writes (guards: DESIGN §11, the table in [`crate::storage`]).

use crate::catalog::{Category, Merchant, Product, Sku};
use crate::event::{Aggregate, Event};

/// A write to the catalog.
#[derive(Debug, Clone, PartialEq)]
pub enum CatalogWrite {
    /// Creates or replaces a category.
    PutCategory(Category),
    /// Creates or replaces a merchant.
    PutMerchant(Merchant),
    /// Creates or replaces a product.
    PutProduct(Product),
    /// Creates a SKU with its initial stock, or replaces an existing SKU's
    /// details (product, attributes, prices, weight) keeping its stored
    /// stock: stock only ever moves through
    /// [`StockWrite::Move`](crate::inventory::writes::StockWrite::Move), so
    /// an edit can never overwrite a concurrent reservation.
    PutSku(Sku),
}

impl CatalogWrite {
    /// The event this write makes: the category, merchant, product or SKU saved.
    pub fn event(&self) -> (Aggregate, u64, Event) {
        match self {
            CatalogWrite::PutCategory(c) => {
                (Aggregate::Category, c.id.0, Event::CategorySaved { name: c.name.clone() })
            }
            CatalogWrite::PutMerchant(m) => {
                (Aggregate::Merchant, m.id.0, Event::MerchantSaved { name: m.name.clone() })
            }
            CatalogWrite::PutProduct(p) => (
                Aggregate::Product,
                p.id.0,
                Event::ProductSaved { name: p.name.clone(), merchant: p.merchant, status: p.status },
            ),
            CatalogWrite::PutSku(s) => (Aggregate::Sku, s.id.0, Event::SkuSaved { product: s.product, price: s.price }),
        }
    }
}
