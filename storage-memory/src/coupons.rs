//! Coupon templates, claim counters and the coupons users hold. Coupons are
//! indexed per user (newest claim first) and per template (by id), so a
//! page of either reads only its own rows.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mallkit_core::coupon::{CouponTemplate, TemplateStatus, UserCoupon, UserCouponStatus, used_delta};
use mallkit_core::ids::{CheckoutId, CouponTemplateId, UserCouponId, UserId};
use mallkit_core::page::{Page, PageRequest};
use mallkit_core::storage::{CouponStore, CouponWrite, GuardFailure, StoreError};

use crate::{MemoryStore, Staged, missing};

/// A coupon's place in its holder's list: newest claim first, then id descending.
type HeldKey = (Reverse<DateTime<Utc>>, Reverse<UserCouponId>);

fn held_key(c: &UserCoupon) -> HeldKey {
    (Reverse(c.claimed_at), Reverse(c.id))
}

/// Templates, claim counters, coupons and their indexes.
#[derive(Debug, Default)]
pub(crate) struct Coupons {
    templates: BTreeMap<CouponTemplateId, CouponTemplate>,
    claims: BTreeMap<(UserId, CouponTemplateId), u32>,
    coupons: BTreeMap<UserCouponId, UserCoupon>,
    /// Each user's coupons, newest claim first.
    by_user: HashMap<UserId, BTreeSet<HeldKey>>,
    /// Each template's coupons, by id.
    by_template: HashMap<CouponTemplateId, BTreeSet<UserCouponId>>,
}

/// Templates, counters and coupons written by a batch.
#[derive(Default)]
pub(crate) struct CouponBatch {
    templates: Staged<CouponTemplateId, CouponTemplate>,
    claims: Staged<(UserId, CouponTemplateId), u32>,
    coupons: Staged<UserCouponId, UserCoupon>,
}

impl CouponBatch {
    /// Stages one coupon write.
    pub(crate) fn stage(&mut self, base: &Coupons, write: CouponWrite) -> Result<(), GuardFailure> {
        match write {
            CouponWrite::PutTemplate(t) => self.put_template(base, t),
            CouponWrite::SetTemplateStatus { template, status } => self.set_template_status(base, template, status)?,
            CouponWrite::Issue(coupon) => self.issue(base, coupon)?,
            CouponWrite::SetStatus { coupon, from, to, checkout, at } => {
                self.set_status(base, coupon, from, to, checkout, at)?
            }
        }
        Ok(())
    }

    /// Creates or replaces a template, keeping the stored counters.
    pub(crate) fn put_template(&mut self, base: &Coupons, mut t: CouponTemplate) {
        if let Some(old) = self.templates.get(&base.templates, t.id) {
            (t.issued, t.used) = (old.issued, old.used);
        }
        self.templates.put(t.id, t);
    }

    pub(crate) fn set_template_status(
        &mut self,
        base: &Coupons,
        template: CouponTemplateId,
        status: TemplateStatus,
    ) -> Result<(), GuardFailure> {
        let t = self.templates.get(&base.templates, template).ok_or(missing("coupon_template", template.0))?;
        t.status = status;
        Ok(())
    }

    /// Guards: a new id; an enabled template with issues left; the user
    /// under the per-user limit.
    pub(crate) fn issue(&mut self, base: &Coupons, coupon: UserCoupon) -> Result<(), GuardFailure> {
        if self.coupons.exists(&base.coupons, coupon.id) {
            return Err(GuardFailure::AlreadyExists { entity: "user_coupon", id: coupon.id.0 });
        }
        let t = self
            .templates
            .get(&base.templates, coupon.template)
            .ok_or(missing("coupon_template", coupon.template.0))?;
        let key = (coupon.user, coupon.template);
        let held = base.claims.get(&key).copied().unwrap_or(0);
        let held = self.claims.0.get(&key).copied().unwrap_or(held);
        t.admit_claim(held).map_err(|r| GuardFailure::of_claim(&coupon, r))?;
        t.issued += 1;
        self.claims.put(key, held + 1);
        self.coupons.put(coupon.id, coupon);
        Ok(())
    }

    /// Guard: the coupon is still `from`. A move into `Used` counts a use
    /// on the template, out of it un-counts.
    pub(crate) fn set_status(
        &mut self,
        base: &Coupons,
        coupon: UserCouponId,
        from: UserCouponStatus,
        to: UserCouponStatus,
        checkout: Option<CheckoutId>,
        at: DateTime<Utc>,
    ) -> Result<(), GuardFailure> {
        let c = self.coupons.get(&base.coupons, coupon).ok_or(missing("user_coupon", coupon.0))?;
        if c.status != from {
            return Err(GuardFailure::CouponStatusChanged { coupon, expected: from, actual: c.status });
        }
        c.status = to;
        match to {
            UserCouponStatus::Unused | UserCouponStatus::Expired => {
                c.checkout = None;
                c.used_at = None;
            }
            UserCouponStatus::Used => c.used_at = Some(at),
            _ => {}
        }
        if checkout.is_some() {
            c.checkout = checkout;
        }
        let template = c.template;
        let delta = used_delta(from, to);
        if delta != 0
            && let Some(t) = self.templates.get(&base.templates, template)
        {
            t.used = t.used.saturating_add_signed(delta);
        }
        Ok(())
    }

    pub(crate) fn commit(self, state: &mut Coupons) {
        self.templates.commit(&mut state.templates);
        self.claims.commit(&mut state.claims);
        for (id, new) in &self.coupons.0 {
            if let Some(old) = state.coupons.get(id) {
                if old.user == new.user && old.claimed_at == new.claimed_at && old.template == new.template {
                    continue;
                }
                if let Some(held) = state.by_user.get_mut(&old.user) {
                    held.remove(&held_key(old));
                }
                if let Some(claims) = state.by_template.get_mut(&old.template) {
                    claims.remove(id);
                }
            }
            state.by_user.entry(new.user).or_default().insert(held_key(new));
            state.by_template.entry(new.template).or_default().insert(*id);
        }
        self.coupons.commit(&mut state.coupons);
    }
}

impl Coupons {
    fn held(&self, user: UserId) -> impl Iterator<Item = &UserCoupon> {
        self.by_user.get(&user).into_iter().flatten().filter_map(|(_, Reverse(id))| self.coupons.get(id))
    }

    fn of_template(&self, template: CouponTemplateId) -> impl Iterator<Item = &UserCoupon> {
        self.by_template.get(&template).into_iter().flatten().filter_map(|id| self.coupons.get(id))
    }
}

impl MemoryStore {
    /// Every user coupon, by id.
    pub fn all_user_coupons(&self) -> Vec<UserCoupon> {
        self.read().coupons.coupons.values().cloned().collect()
    }
}

#[async_trait]
impl CouponStore for MemoryStore {
    async fn template(&self, id: CouponTemplateId) -> Result<Option<CouponTemplate>, StoreError> {
        Ok(self.read().coupons.templates.get(&id).cloned())
    }
    async fn templates(&self) -> Result<Vec<CouponTemplate>, StoreError> {
        Ok(self.read().coupons.templates.values().cloned().collect())
    }
    async fn user_coupon(&self, id: UserCouponId) -> Result<Option<UserCoupon>, StoreError> {
        Ok(self.read().coupons.coupons.get(&id).cloned())
    }
    async fn user_coupons(&self, user: UserId) -> Result<Vec<UserCoupon>, StoreError> {
        let mut held: Vec<UserCoupon> = self.read().coupons.held(user).cloned().collect();
        held.sort_unstable_by_key(|c| c.id);
        Ok(held)
    }
    async fn coupons_of_template(&self, template: CouponTemplateId) -> Result<Vec<UserCoupon>, StoreError> {
        Ok(self.read().coupons.of_template(template).cloned().collect())
    }
    async fn list_templates(&self, page: PageRequest) -> Result<Page<CouponTemplate>, StoreError> {
        Ok(page.page_from_iter(self.read().coupons.templates.values()).map(CouponTemplate::clone))
    }
    async fn template_claims(
        &self,
        template: CouponTemplateId,
        page: PageRequest,
    ) -> Result<Page<UserCoupon>, StoreError> {
        Ok(page.page_from_iter(self.read().coupons.of_template(template)).map(UserCoupon::clone))
    }
    async fn held_coupons(
        &self,
        user: UserId,
        status: Option<UserCouponStatus>,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Page<UserCoupon>, StoreError> {
        let state = self.read();
        let held = state.coupons.held(user).filter(|c| status.is_none_or(|s| c.status_at(now) == s));
        Ok(page.page_from_iter(held).map(|c| UserCoupon { status: c.status_at(now), ..c.clone() }))
    }
}
