//! Catalog: the category tree, merchants, products (SPU) and their SKUs with
//! stock (seed 002 §3–§5, seed 001 SKUs by colour/size).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::ids::{CategoryId, MerchantId, ProductId, SkuId};
use crate::money::Money;

pub mod commands;
pub mod editing;
pub mod error;
pub mod search;
pub mod store;
pub mod writes;

pub use crate::inventory::{Stock, StockMove};

pub use error::CatalogError;
pub use search::{Keyword, ProductFilter, ProductSort, ProductSummary, search_tokens, summarize};

/// A node of the category tree; `parent` is `None` for a root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Category {
    /// Id.
    pub id: CategoryId,
    /// Parent node, `None` for a root category.
    pub parent: Option<CategoryId>,
    /// Display name (e.g. "手机数码").
    pub name: String,
    /// Sort position among siblings, ascending.
    #[serde(default)]
    pub sort: i32,
}

/// A merchant (seller) that owns products and ships its orders (seed 002).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Merchant {
    /// Id.
    pub id: MerchantId,
    /// Shop name.
    pub name: String,
}

/// Whether a product can be bought (seed 002 listing/unlisting).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    /// Listed: can be added to a cart and ordered.
    #[default]
    OnSale,
    /// Unlisted: visible in old orders only.
    OffSale,
}

/// A product (SPU): name, category and merchant; its variants are [`Sku`]s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    /// Id.
    pub id: ProductId,
    /// Owning merchant.
    pub merchant: MerchantId,
    /// Leaf (or any) category the product is filed under.
    pub category: CategoryId,
    /// Product name.
    pub name: String,
    /// Listing status.
    #[serde(default)]
    pub status: ProductStatus,
}

/// A sellable variant of a product, with its price and stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sku {
    /// Id.
    pub id: SkuId,
    /// The product (SPU) it belongs to.
    pub product: ProductId,
    /// Variant attributes such as `颜色 = 黑色`, `尺码 = M`.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Selling price per unit, yuan.
    pub price: Money,
    /// Struck-through list price per unit, yuan, when shown.
    #[serde(default)]
    pub original_price: Option<Money>,
    /// Weight of one unit in grams, for weight-based shipping.
    #[serde(default)]
    pub weight_grams: Option<u32>,
    /// Stock in units.
    pub stock: Stock,
}

impl Sku {
    /// Checks the prices: neither `price` nor `original_price` may be negative.
    ///
    /// # Errors
    /// [`CatalogError::NegativePrice`] naming the field.
    pub fn validate(&self) -> Result<(), CatalogError> {
        for (field, price) in [("price", Some(self.price)), ("original_price", self.original_price)] {
            if price.is_some_and(Money::is_negative) {
                return Err(CatalogError::NegativePrice { sku: self.id, field });
            }
        }
        Ok(())
    }
}

/// The category tree, indexed for ancestor lookups.
#[derive(Debug, Clone, Default)]
pub struct CategoryTree {
    parent: HashMap<CategoryId, Option<CategoryId>>,
}

impl CategoryTree {
    /// Builds the tree.
    ///
    /// # Errors
    /// [`CatalogError::UnknownCategory`] for a parent that is not in the list,
    /// [`CatalogError::CategoryCycle`] for a loop.
    pub fn new(categories: &[Category]) -> Result<CategoryTree, CatalogError> {
        let tree = CategoryTree { parent: categories.iter().map(|c| (c.id, c.parent)).collect() };
        for c in categories {
            if let Some(p) = c.parent
                && !tree.parent.contains_key(&p)
            {
                return Err(CatalogError::UnknownCategory(p));
            }
            let mut steps = 0;
            let mut at = c.parent;
            while let Some(p) = at {
                steps += 1;
                if p == c.id || steps > categories.len() {
                    return Err(CatalogError::CategoryCycle(c.id));
                }
                at = tree.parent.get(&p).copied().flatten();
            }
        }
        Ok(tree)
    }

    /// `category` and every category below it, sorted (just `category` when
    /// it is unknown or has no children).
    pub fn subtree(&self, category: CategoryId) -> Vec<CategoryId> {
        let mut out: Vec<CategoryId> =
            self.parent.keys().copied().filter(|&c| c == category || self.path(c).contains(&category)).collect();
        if out.is_empty() {
            out.push(category);
        }
        out.sort_unstable();
        out
    }

    /// `category` followed by its ancestors up to the root. An unknown
    /// category yields just itself.
    pub fn path(&self, category: CategoryId) -> Vec<CategoryId> {
        let mut path = vec![category];
        let mut at = self.parent.get(&category).copied().flatten();
        while let Some(p) = at {
            if path.contains(&p) {
                break;
            }
            path.push(p);
            at = self.parent.get(&p).copied().flatten();
        }
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subtree_holds_the_category_and_every_descendant() {
        let c = |id, parent: Option<u64>| Category {
            id: CategoryId(id),
            parent: parent.map(CategoryId),
            name: String::new(),
            sort: 0,
        };
        let tree =
            CategoryTree::new(&[c(1, None), c(2, Some(1)), c(3, Some(2)), c(4, None), c(5, Some(1))]).expect("tree");
        assert_eq!(tree.subtree(CategoryId(1)), [1, 2, 3, 5].map(CategoryId).to_vec());
        assert_eq!(tree.subtree(CategoryId(3)), vec![CategoryId(3)]);
        assert_eq!(tree.subtree(CategoryId(99)), vec![CategoryId(99)]);
    }

    #[test]
    fn category_paths_and_cycles() {
        let c = |id, parent: Option<u64>| Category {
            id: CategoryId(id),
            parent: parent.map(CategoryId),
            name: String::new(),
            sort: 0,
        };
        let tree = CategoryTree::new(&[c(1, None), c(2, Some(1)), c(3, Some(2))]).expect("tree");
        assert_eq!(tree.path(CategoryId(3)), vec![CategoryId(3), CategoryId(2), CategoryId(1)]);
        assert_eq!(
            CategoryTree::new(&[c(1, Some(2)), c(2, Some(1))]).err(),
            Some(CatalogError::CategoryCycle(CategoryId(1)))
        );
    }
}
