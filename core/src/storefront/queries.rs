//! The storefront queries on [`Mall`]: the category tree, paged product
//! search, product detail, the coupon market, held coupons and the coupon check.

use std::collections::HashMap;

use crate::catalog::{CategoryTree, Keyword, ProductFilter, ProductStatus};
use crate::coupon::{TemplateStatus, UserCouponStatus};
use crate::engine::Mall;
use crate::error::MallError;
use crate::ids::{CouponTemplateId, ProductId, UserCouponId, UserId};
use crate::money::Money;
use crate::page::{Page, PageRequest};
use crate::storage::Store;
use crate::storefront::*;

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
            Some(k) => Keyword::parse(k)?,
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
        let now = self.now();
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

    /// One page of the buyer's coupons with their templates, newest claim
    /// first, each with its status as of now, only those of `status` when given.
    ///
    /// # Errors
    /// [`MallError::Storage`].
    pub async fn held_coupons(
        &self,
        user: UserId,
        status: Option<UserCouponStatus>,
        page: PageRequest,
    ) -> Result<Page<HeldCoupon>, MallError> {
        let coupons = self.store.held_coupons(user, status, self.now(), page).await?;
        let mut templates: HashMap<CouponTemplateId, CouponTemplate> = HashMap::new();
        for c in &coupons.items {
            if !templates.contains_key(&c.template) {
                let t = self
                    .store
                    .template(c.template)
                    .await?
                    .ok_or_else(|| MallError::not_found("coupon_template", c.template))?;
                templates.insert(t.id, t);
            }
        }
        // Every template was read above (or the call failed), so the index holds.
        Ok(coupons.map(|coupon| HeldCoupon { template: templates[&coupon.template].clone(), coupon }))
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
        let now = self.now();
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
