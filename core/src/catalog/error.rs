//! The catalog's refusals.

use crate::error::class::{AreaError, ErrorClass};
use crate::ids::{CategoryId, ProductId, SkuId};

/// Why a catalog entry cannot be saved, or a product cannot be bought.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// A category's parent chain loops back to itself.
    #[error("category {0} would become its own ancestor")]
    CategoryCycle(CategoryId),
    /// A reference to a category that does not exist.
    #[error("category {0} does not exist")]
    UnknownCategory(CategoryId),
    /// A price below zero.
    #[error("sku {sku}: {field} must not be negative")]
    NegativePrice {
        /// The SKU.
        sku: SkuId,
        /// `price` or `original_price`.
        field: &'static str,
    },
    /// A product that is not on sale (carts and checkout refuse it).
    #[error("product {0} is not on sale")]
    OffSale(ProductId),
}

impl AreaError for CatalogError {
    fn kind(&self) -> &'static str {
        match self {
            CatalogError::OffSale(_) => "product_off_sale",
            _ => "invalid_catalog",
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            CatalogError::OffSale(_) => ErrorClass::Conflict,
            _ => ErrorClass::InvalidInput,
        }
    }

    fn message_zh(&self) -> &'static str {
        match self {
            CatalogError::CategoryCycle(_) => "分类不能成为自己的上级",
            CatalogError::UnknownCategory(_) => "分类不存在",
            CatalogError::NegativePrice { .. } => "价格不能为负数",
            CatalogError::OffSale(_) => "商品已下架",
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            CatalogError::NegativePrice { field, .. } => Some(field),
            _ => None,
        }
    }
}
