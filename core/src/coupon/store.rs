//! Coupon reads: the store trait of this area (DESIGN §11), served by
//! every backend, and its forwarding through an `Arc` (also `Arc<dyn …>`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::coupon::{CouponTemplate, UserCoupon, UserCouponStatus};
use crate::ids::{CouponTemplateId, UserCouponId, UserId};
use crate::page::{Page, PageRequest};
use crate::storage::StoreError;

/// Coupon reads.
#[async_trait]
pub trait CouponStore: Send + Sync {
    /// A template.
    async fn template(&self, id: CouponTemplateId) -> Result<Option<CouponTemplate>, StoreError>;
    /// Every template, by id.
    async fn templates(&self) -> Result<Vec<CouponTemplate>, StoreError>;
    /// A user's coupon.
    async fn user_coupon(&self, id: UserCouponId) -> Result<Option<UserCoupon>, StoreError>;
    /// Every coupon a user holds, by id.
    async fn user_coupons(&self, user: UserId) -> Result<Vec<UserCoupon>, StoreError>;
    /// Every coupon claimed from a template (its claim records), by id.
    async fn coupons_of_template(&self, template: CouponTemplateId) -> Result<Vec<UserCoupon>, StoreError>;
    /// One page of every template, by id.
    async fn list_templates(&self, page: PageRequest) -> Result<Page<CouponTemplate>, StoreError>;
    /// One page of the coupons claimed from a template, by id.
    async fn template_claims(
        &self,
        template: CouponTemplateId,
        page: PageRequest,
    ) -> Result<Page<UserCoupon>, StoreError>;
    /// One page of a user's coupons, newest claim first (then id,
    /// descending), each with its status as of `now`
    /// ([`UserCoupon::status_at`]: an unused coupon past its window reads
    /// `expired`), only those of `status` when given.
    async fn held_coupons(
        &self,
        user: UserId,
        status: Option<UserCouponStatus>,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Page<UserCoupon>, StoreError>;
}

#[async_trait]
impl<T: CouponStore + ?Sized> CouponStore for std::sync::Arc<T> {
    async fn template(&self, id: CouponTemplateId) -> Result<Option<CouponTemplate>, StoreError> {
        (**self).template(id).await
    }
    async fn templates(&self) -> Result<Vec<CouponTemplate>, StoreError> {
        (**self).templates().await
    }
    async fn user_coupon(&self, id: UserCouponId) -> Result<Option<UserCoupon>, StoreError> {
        (**self).user_coupon(id).await
    }
    async fn user_coupons(&self, user: UserId) -> Result<Vec<UserCoupon>, StoreError> {
        (**self).user_coupons(user).await
    }
    async fn coupons_of_template(&self, template: CouponTemplateId) -> Result<Vec<UserCoupon>, StoreError> {
        (**self).coupons_of_template(template).await
    }
    async fn list_templates(&self, page: PageRequest) -> Result<Page<CouponTemplate>, StoreError> {
        (**self).list_templates(page).await
    }
    async fn template_claims(
        &self,
        template: CouponTemplateId,
        page: PageRequest,
    ) -> Result<Page<UserCoupon>, StoreError> {
        (**self).template_claims(template, page).await
    }
    async fn held_coupons(
        &self,
        user: UserId,
        status: Option<UserCouponStatus>,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Page<UserCoupon>, StoreError> {
        (**self).held_coupons(user, status, now, page).await
    }
}
