//! Points' writes: tiers and ledger rows.

use crate::event::{Aggregate, Event};
use crate::points::{LedgerEntry, Tier};

/// A write to points and tiers.
#[derive(Debug, Clone, PartialEq)]
pub enum PointsWrite {
    /// Creates or replaces a member tier, keyed by level.
    PutTier(Tier),
    /// Appends a ledger row and moves the account by it
    /// ([`crate::points::PointsAccount::apply`], the rule both stores run);
    /// a second row for the same (user, source, action, reference) is refused.
    Post(LedgerEntry),
}

impl PointsWrite {
    /// The event this write makes: a tier saved, or points posted.
    pub fn event(&self) -> (Aggregate, u64, Event) {
        match self {
            PointsWrite::PutTier(t) => (Aggregate::Tier, u64::from(t.level), Event::TierSaved { name: t.name.clone() }),
            PointsWrite::Post(e) => (
                Aggregate::Points,
                e.user.0,
                Event::PointsPosted { source: e.source, action: e.action, points: e.points, reference: e.reference },
            ),
        }
    }
}
