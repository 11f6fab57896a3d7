//! Coupons' writes: templates, claims and status moves.

use chrono::{DateTime, Utc};

use crate::coupon::{CouponTemplate, TemplateStatus, UserCoupon, UserCouponStatus};
use crate::event::{Aggregate, Event};
use crate::ids::{CheckoutId, CouponTemplateId, UserCouponId};

/// A write to coupons.
#[derive(Debug, Clone, PartialEq)]
pub enum CouponWrite {
    /// Creates or replaces a coupon template; the store keeps its own
    /// `issued` and `used` counters for an existing template.
    PutTemplate(CouponTemplate),
    /// Enables or disables a template.
    SetTemplateStatus {
        /// Template.
        template: CouponTemplateId,
        /// New status.
        status: TemplateStatus,
    },
    /// Issues a claimed coupon: counts it against the template's total and
    /// the user's per-user limit ([`CouponTemplate::admit_claim`], the rule
    /// both stores run).
    Issue(UserCoupon),
    /// Moves a coupon from `from` to `to` (lock, use, release, expire);
    /// a move into `Used` counts a use on the template, out of it un-counts
    /// ([`crate::coupon::used_delta`]).
    SetStatus {
        /// Coupon.
        coupon: UserCouponId,
        /// Status it must have now.
        from: UserCouponStatus,
        /// Status to set.
        to: UserCouponStatus,
        /// The checkout holding it (kept when `None` and `to` is not `Unused`).
        checkout: Option<CheckoutId>,
        /// When.
        at: DateTime<Utc>,
    },
}

impl CouponWrite {
    /// The event this write makes: a template saved or switched, a coupon
    /// claimed or moved.
    pub fn event(&self) -> (Aggregate, u64, Event) {
        match self {
            CouponWrite::PutTemplate(t) => {
                (Aggregate::Template, t.id.0, Event::TemplateSaved { title: t.title.clone() })
            }
            CouponWrite::SetTemplateStatus { template, status } => {
                (Aggregate::Template, template.0, Event::TemplateStatusChanged { status: *status })
            }
            CouponWrite::Issue(c) => {
                (Aggregate::Coupon, c.id.0, Event::CouponClaimed { template: c.template, user: c.user })
            }
            CouponWrite::SetStatus { coupon, from, to, .. } => {
                (Aggregate::Coupon, coupon.0, Event::CouponStatusChanged { from: *from, to: *to })
            }
        }
    }
}
