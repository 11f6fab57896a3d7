//! Coupon queries on [`Mall`] for the back office: templates with their
//! issued and used counters, and a template's claims, paged.

use crate::coupon::{CouponTemplate, UserCoupon};
use crate::engine::Mall;
use crate::error::MallError;
use crate::ids::CouponTemplateId;
use crate::page::{Page, PageRequest};
use crate::storage::Store;

impl<S: Store> Mall<S> {
    /// One page of every template, by id, with `issued` and `used`.
    ///
    /// # Errors
    /// [`MallError::Storage`].
    pub async fn templates(&self, page: PageRequest) -> Result<Page<CouponTemplate>, MallError> {
        Ok(self.store.list_templates(page).await?)
    }

    /// A template.
    ///
    /// # Errors
    /// [`MallError::NotFound`].
    pub async fn template(&self, id: CouponTemplateId) -> Result<CouponTemplate, MallError> {
        self.store.template(id).await?.ok_or_else(|| MallError::not_found("coupon_template", id))
    }

    /// One page of the coupons claimed from a template, by id (its claim records).
    ///
    /// # Errors
    /// [`MallError::NotFound`] for an unknown template.
    pub async fn template_claims(
        &self,
        id: CouponTemplateId,
        page: PageRequest,
    ) -> Result<Page<UserCoupon>, MallError> {
        self.template(id).await?;
        Ok(self.store.template_claims(id, page).await?)
    }
}
