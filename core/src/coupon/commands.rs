//! Coupon commands (seed 004 §5): templates (admin), claims and voids.

use crate::coupon::CouponError;
use crate::coupon::{CouponTemplate, TemplateStatus, UserCoupon, UserCouponStatus, Validity};
use crate::engine::Mall;
use crate::error::{MallError, invalid, non_empty};
use crate::ids::{CouponTemplateId, UserCouponId, UserId};
use crate::order::Actor;
use crate::storage::{CouponWrite, Store, Write};

impl<S: Store> Mall<S> {
    /// Creates a template under a fresh id (`template.id`, `issued` and
    /// `used` are ignored) and returns it as stored.
    ///
    /// # Errors
    /// As [`Mall::save_template`].
    pub async fn create_template(&self, mut template: CouponTemplate) -> Result<CouponTemplate, MallError> {
        template.id = CouponTemplateId(self.ids.next_id());
        template.issued = 0;
        template.used = 0;
        self.save_template(template.clone()).await?;
        Ok(template)
    }

    /// Saves a coupon template. An existing template keeps its `issued` and
    /// `used` counters, and its total may not drop below what it has issued.
    ///
    /// # Errors
    /// [`MallError::Template`] naming the bad field; [`MallError::InvalidInput`]
    /// on `template.total_limit` below the coupons already issued.
    pub async fn save_template(&self, template: CouponTemplate) -> Result<(), MallError> {
        template.validate()?;
        non_empty("template.title", &template.title)?;
        if let (Some(limit), Some(stored)) = (template.total_limit, self.store.template(template.id).await?)
            && limit < stored.issued
        {
            let message = format!("{limit} is below the {} coupons already issued", stored.issued);
            return Err(invalid("template.total_limit", &message));
        }
        self.commit(Actor::System, vec![Write::Coupon(CouponWrite::PutTemplate(template))]).await
    }

    /// Enables or disables a template.
    ///
    /// # Errors
    /// [`MallError::NotFound`] for an unknown template.
    pub async fn set_template_status(
        &self,
        template: CouponTemplateId,
        status: TemplateStatus,
    ) -> Result<(), MallError> {
        self.commit(Actor::System, vec![Write::Coupon(CouponWrite::SetTemplateStatus { template, status })]).await
    }

    /// Claims a coupon from a template (seed 004 §5.2). The store enforces
    /// the total and per-user limits, also under concurrent claims.
    ///
    /// # Errors
    /// [`MallError::NotFound`], [`CouponError::NotClaimable`] (disabled
    /// or window over), [`CouponError::SoldOut`],
    /// [`CouponError::ClaimLimit`].
    pub async fn claim_coupon(&self, user: UserId, template: CouponTemplateId) -> Result<UserCoupon, MallError> {
        let now = self.now();
        let t =
            self.store.template(template).await?.ok_or_else(|| MallError::not_found("coupon_template", template))?;
        let (valid_from, valid_to) = t.validity.window(now);
        if t.status == TemplateStatus::Disabled || matches!(t.validity, Validity::Window { .. }) && now > valid_to {
            return Err(MallError::Coupon(CouponError::NotClaimable(template)));
        }
        let coupon = UserCoupon {
            id: UserCouponId(self.ids.next_id()),
            template,
            user,
            status: UserCouponStatus::Unused,
            valid_from,
            valid_to,
            claimed_at: now,
            checkout: None,
            used_at: None,
        };
        self.commit(Actor::Buyer(user), vec![Write::Coupon(CouponWrite::Issue(coupon.clone()))]).await?;
        Ok(coupon)
    }

    /// Voids a coupon the user has not used (admin; seed 004 status 3 已作废).
    ///
    /// # Errors
    /// [`MallError::NotFound`], [`CouponError::Unavailable`] when it is
    /// locked by a checkout, used or already void.
    pub async fn void_coupon(&self, coupon: UserCouponId) -> Result<(), MallError> {
        let c = self.store.user_coupon(coupon).await?.ok_or_else(|| MallError::not_found("user_coupon", coupon))?;
        if !matches!(c.status, UserCouponStatus::Unused | UserCouponStatus::Expired) {
            return Err(MallError::Coupon(CouponError::Unavailable { coupon, actual: c.status }));
        }
        let write = Write::Coupon(CouponWrite::SetStatus {
            coupon,
            from: c.status,
            to: UserCouponStatus::Void,
            checkout: None,
            at: self.now(),
        });
        self.commit(Actor::System, vec![write]).await
    }
}
