//! What a buyer browses before checkout: the category tree, product search
//! and detail (seed 001 §4, seed 004 §4), the coupon market with
//! `is_received` and the coupon check for an amount (seed 004 §5).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::{Category, CategoryTree, Keyword, Merchant, Product, ProductFilter, ProductStatus, Sku};
pub use crate::catalog::{ProductSort, ProductSummary, summarize};
use crate::coupon::{CouponTemplate, TemplateStatus, UserCoupon, UserCouponStatus, Validity};
use crate::error::MallError;
use crate::ids::{CategoryId, CouponTemplateId, MerchantId, ProductId, UserCouponId, UserId};
use crate::money::Money;
use crate::page::{Page, PageRequest};
use crate::service::Mall;
use crate::storage::Store;

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

impl<S: Store> Mall<S> {
    /// The category tree.
    ///
    /// # Errors
    /// [`MallError::Storage`].
    pub async fn category_tree(&self) -> Result<Vec<CategoryNode>, MallError> {
        Ok(category_tree(&self.store().categories().await?))
    }

    /// One page of the on-sale products matching `query`, in its order
    /// (served by the store's indexes).
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] on `keyword` above 50 characters;
    /// [`MallError::Catalog`] for a broken category tree; [`MallError::Storage`].
    pub async fn search_products(
        &self,
        query: &ProductQuery,
        page: PageRequest,
    ) -> Result<Page<ProductSummary>, MallError> {
        let store = self.store();
        let keyword = match &query.keyword {
            Some(k) => Keyword::parse(k).map_err(|e| MallError::InvalidInput {
                field: "keyword".into(),
                message: e.to_string().trim_start_matches("keyword: ").to_owned(),
            })?,
            None => None,
        };
        let categories = match query.category {
            Some(c) => Some(CategoryTree::new(&store.categories().await?)?.subtree(c)),
            None => None,
        };
        let filter = ProductFilter {
            categories,
            merchant: query.merchant,
            keyword,
            min_price: query.min_price,
            max_price: query.max_price,
            status: Some(ProductStatus::OnSale),
            sort: query.sort,
        };
        Ok(store.search_products(&filter, page).await?)
    }

    /// A product with its SKUs. Off-sale products are shown too (an old
    /// order links to them), with their status.
    ///
    /// # Errors
    /// [`MallError::NotFound`].
    pub async fn product_detail(&self, id: ProductId) -> Result<ProductDetail, MallError> {
        let store = self.store();
        let product = store.product(id).await?.ok_or_else(|| MallError::not_found("product", id))?;
        let skus = store.skus_of(id).await?;
        let merchant = store.merchant(product.merchant).await?;
        let summary = summarize(&product, &skus);
        Ok(ProductDetail { product, merchant, skus, summary })
    }

    /// The enabled templates whose window is still open, by id, with what the buyer holds.
    ///
    /// # Errors
    /// [`MallError::Storage`].
    pub async fn coupon_market(&self, user: UserId) -> Result<Vec<MarketCoupon>, MallError> {
        let now = self.clock_now();
        let held = self.store().user_coupons(user).await?;
        let mut held_by: HashMap<CouponTemplateId, u32> = HashMap::new();
        for c in &held {
            *held_by.entry(c.template).or_default() += 1;
        }
        let templates = self.store().templates().await?;
        Ok(templates
            .into_iter()
            .filter(|t| t.status == TemplateStatus::Enabled && window_open(t, now))
            .map(|template| {
                let received = held_by.get(&template.id).copied().unwrap_or(0);
                let remaining = template.total_limit.map(|l| l.saturating_sub(template.issued));
                let claimable = remaining != Some(0) && received < template.per_user_limit;
                MarketCoupon { is_received: received > 0, received, claimable, remaining, template }
            })
            .collect())
    }

    /// The buyer's coupons with their templates, newest claim first, optionally of one status (as of now).
    ///
    /// # Errors
    /// [`MallError::Storage`].
    pub async fn held_coupons(
        &self,
        user: UserId,
        status: Option<UserCouponStatus>,
    ) -> Result<Vec<HeldCoupon>, MallError> {
        let now = self.clock_now();
        let mut out = Vec::new();
        for mut coupon in self.store().user_coupons(user).await? {
            coupon.status = coupon.status_at(now);
            if status.is_some_and(|s| s != coupon.status) {
                continue;
            }
            let template = self
                .store()
                .template(coupon.template)
                .await?
                .ok_or_else(|| MallError::not_found("coupon_template", coupon.template))?;
            out.push(HeldCoupon { coupon, template });
        }
        out.sort_by(|a, b| b.coupon.claimed_at.cmp(&a.coupon.claimed_at).then(b.coupon.id.cmp(&a.coupon.id)));
        Ok(out)
    }

    /// Checks one of the buyer's coupons against an eligible amount (scope is
    /// the caller's business: the amount is taken as all in scope).
    ///
    /// # Errors
    /// [`MallError::NotFound`] when the coupon is not the buyer's;
    /// [`MallError::InvalidInput`] on `amount` when negative.
    pub async fn check_coupon(&self, user: UserId, id: UserCouponId, amount: Money) -> Result<CouponCheck, MallError> {
        if amount.is_negative() {
            return Err(MallError::InvalidInput { field: "amount".into(), message: "must not be negative".into() });
        }
        let now = self.clock_now();
        let coupon = self.store().user_coupon(id).await?.filter(|c| c.user == user);
        let coupon = coupon.ok_or_else(|| MallError::not_found("coupon", id))?;
        let template = self
            .store()
            .template(coupon.template)
            .await?
            .ok_or_else(|| MallError::not_found("coupon_template", coupon.template))?;
        let refuse = |reason: &str, short_by| CouponCheck {
            coupon: id,
            usable: false,
            discount: Money::ZERO,
            reason: Some(reason.to_owned()),
            short_by,
        };
        let check = match coupon.status_at(now) {
            UserCouponStatus::Expired => refuse("expired", None),
            UserCouponStatus::Unused if template.status == TemplateStatus::Disabled => refuse("disabled", None),
            UserCouponStatus::Unused if now < coupon.valid_from => refuse("not_yet_valid", None),
            UserCouponStatus::Unused => match template.kind.discount(amount, self.policy().pricing.rounding) {
                Ok(discount) => CouponCheck { coupon: id, usable: true, discount, reason: None, short_by: None },
                Err(short_by) => refuse("below_threshold", Some(short_by)),
            },
            _ => refuse("not_usable", None),
        };
        Ok(check)
    }
}
