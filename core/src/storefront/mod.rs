//! What a buyer browses before checkout: the category tree, product search
//! and detail (seed 001 §4, seed 004 §4), the coupon market with
//! `is_received` and the coupon check for an amount (seed 004 §5).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::{Category, Merchant, Product, Sku};
pub use crate::catalog::{ProductSort, ProductSummary, summarize};
use crate::coupon::{CouponTemplate, UserCoupon, Validity};
use crate::ids::{CategoryId, MerchantId, UserCouponId};
use crate::money::Money;

pub mod queries;

/// A node of the category tree with its children, by `sort` then id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryNode {
    /// Id.
    pub id: CategoryId,
    /// Name.
    pub name: String,
    /// Sort key (smaller first).
    pub sort: i32,
    /// Sub-categories.
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub children: Vec<CategoryNode>,
}

/// Builds the nested tree from the flat list: roots first, every level by
/// `sort` then id.
pub fn category_tree(categories: &[Category]) -> Vec<CategoryNode> {
    fn children(of: Option<CategoryId>, all: &[Category]) -> Vec<CategoryNode> {
        let mut level: Vec<&Category> = all.iter().filter(|c| c.parent == of).collect();
        level.sort_by_key(|c| (c.sort, c.id));
        level
            .into_iter()
            .map(|c| CategoryNode { id: c.id, name: c.name.clone(), sort: c.sort, children: children(Some(c.id), all) })
            .collect()
    }
    children(None, categories)
}

/// A product search (seed 001 §4.1, seed 004 §4.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductQuery {
    /// Only products in this category or below it.
    pub category: Option<CategoryId>,
    /// Only this seller's products.
    pub merchant: Option<MerchantId>,
    /// Only products whose name contains this text (case-insensitive,
    /// any length of Chinese; at most 50 characters).
    pub keyword: Option<String>,
    /// Only products whose lowest SKU price is at least this, yuan.
    pub min_price: Option<Money>,
    /// Only products whose lowest SKU price is at most this, yuan.
    pub max_price: Option<Money>,
    /// Order; ties by id descending.
    pub sort: ProductSort,
}

/// A product with its SKUs and seller (seed 004 §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductDetail {
    /// The product.
    pub product: Product,
    /// The seller.
    pub merchant: Option<Merchant>,
    /// Its SKUs, by id.
    pub skus: Vec<Sku>,
    /// Price range, units sold and in stock.
    pub summary: ProductSummary,
}

/// A template in the coupon market, with whether the buyer holds one (seed 004 §5.1 `is_received`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarketCoupon {
    /// The template.
    pub template: CouponTemplate,
    /// The buyer holds at least one coupon of it.
    pub is_received: bool,
    /// Coupons of it the buyer holds.
    pub received: u32,
    /// The buyer may claim another now (enabled, not sold out, under the per-user limit, window open).
    pub claimable: bool,
    /// Coupons left to issue; `None` when unlimited.
    pub remaining: Option<u32>,
}

/// A held coupon with its template and its status at the time of asking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeldCoupon {
    /// The coupon (its `status` is the status now: an unused coupon past its window reads `expired`).
    pub coupon: UserCoupon,
    /// Its template.
    pub template: CouponTemplate,
}

/// Whether a held coupon takes something off an amount (seed 004 §5.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CouponCheck {
    /// The coupon.
    pub coupon: UserCouponId,
    /// It applies to the amount now.
    pub usable: bool,
    /// What it takes off, yuan (0 when not usable).
    pub discount: Money,
    /// Why not, when not: `not_usable`, `disabled`, `not_yet_valid`, `expired`, `below_threshold`.
    pub reason: Option<String>,
    /// How far below the threshold the amount is, yuan.
    pub short_by: Option<Money>,
}

fn window_open(template: &CouponTemplate, now: DateTime<Utc>) -> bool {
    match template.validity {
        Validity::Window { to, .. } => now <= to,
        Validity::DaysAfterClaim { .. } => true,
    }
}
