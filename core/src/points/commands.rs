//! Points and tier commands: tiers (admin set-up) and admin adjustments.

use crate::engine::Mall;
use crate::error::check_text;
use crate::error::{MallError, invalid};
use crate::ids::{LedgerEntryId, UserId};
use crate::order::Actor;
use crate::points::{PointsAction, PointsSource, Tier};
use crate::storage::{PointsWrite, Store, Write};

/// The most points one admin adjustment may add or remove.
pub const MAX_POINTS_ADJUSTMENT: u64 = 1_000_000_000;

impl<S: Store> Mall<S> {
    /// Saves a member tier.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] for an empty name, a negative
    /// `min_points` or a member discount above 1.
    pub async fn save_tier(&self, tier: Tier) -> Result<(), MallError> {
        tier.validate().map_err(|(field, message)| invalid(&format!("tier.{field}"), message))?;
        self.commit(Actor::System, vec![Write::Points(PointsWrite::PutTier(tier))]).await
    }

    /// An admin adds (positive) or removes (negative) points (seed 004 admin
    /// points adjustment). Returns the ledger row's id.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] for zero points or more than
    /// [`MAX_POINTS_ADJUSTMENT`],
    /// [`PointsError::Insufficient`](crate::points::PointsError::Insufficient) when removing more than the balance.
    pub async fn adjust_points(&self, user: UserId, points: i64, remark: &str) -> Result<LedgerEntryId, MallError> {
        check_text("remark", remark, 1, crate::error::MAX_NOTE_CHARS)?;
        if points == 0 || points.unsigned_abs() > MAX_POINTS_ADJUSTMENT {
            return Err(invalid("points", &format!("must be non-zero and at most ±{MAX_POINTS_ADJUSTMENT}")));
        }
        let reference = self.ids.next_id();
        let entry =
            self.ledger_entry(user, PointsSource::AdminAdjustment, PointsAction::Adjust, reference, points, remark);
        let id = entry.id;
        self.commit(Actor::System, vec![Write::Points(PointsWrite::Post(entry))]).await?;
        Ok(id)
    }
}
