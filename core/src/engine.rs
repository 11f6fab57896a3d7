//! The engine: [`Mall`] holds the store, clock, ids, payment provider and
//! policy; every area's commands are `impl Mall` blocks in that area's
//! `commands.rs`, and each runs the same loop: load through the storage
//! traits, decide with the area's pure rules, and apply one guarded batch
//! ([`Store::apply`]). A version conflict (another command changed the same
//! order, payment or case in between) re-runs the command from a fresh read,
//! at most [`MAX_RETRIES`] times ([`retrying!`]).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::clock::{Clock, IdGen};
use crate::ids::{LedgerEntryId, UserId};
use crate::money::Rounding;
use crate::payment::PaymentProvider;
use crate::points::{LedgerEntry, PointsAction, PointsSource};
use crate::policy::Policy;
use crate::storage::{Store, Write};

/// How many times a command re-runs after a version conflict.
pub const MAX_RETRIES: u32 = 8;

/// The engine: rules over a store, a clock, an id source and a payment provider.
pub struct Mall<S> {
    pub(crate) store: S,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGen>,
    pub(crate) provider: Arc<dyn PaymentProvider>,
    pub(crate) policy: Policy,
}

/// Runs `$body` (an expression yielding `Result<_, MallError>`) again while
/// it fails with [`crate::MallError::Conflict`], at most [`MAX_RETRIES`] more times.
macro_rules! retrying {
    ($body:expr) => {{
        let mut attempt = 0;
        loop {
            match $body {
                Err($crate::error::MallError::Conflict { .. }) if attempt < $crate::engine::MAX_RETRIES => attempt += 1,
                other => break other,
            }
        }
    }};
}
pub(crate) use retrying;

impl<S: Store> Mall<S> {
    /// An engine over `store`.
    pub fn new(
        store: S,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGen>,
        provider: Arc<dyn PaymentProvider>,
        policy: Policy,
    ) -> Mall<S> {
        Mall { store, clock, ids, provider, policy }
    }

    /// The store, for reads.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Checks that the store answers a cheap read (readiness).
    ///
    /// # Errors
    /// [`crate::MallError::Storage`] when it does not.
    pub async fn check_store(&self) -> Result<(), crate::MallError> {
        self.store.tiers().await?;
        Ok(())
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A fresh id (for the other command modules).
    pub(crate) fn next_id(&self) -> u64 {
        self.ids.next_id()
    }

    pub(crate) fn rounding(&self) -> Rounding {
        self.policy.pricing.rounding
    }

    pub(crate) fn number(&self, prefix: &str, id: u64) -> String {
        format!("{prefix}{}{id:06}", self.now().format("%Y%m%d"))
    }

    pub(crate) fn ledger_write(
        &self,
        user: UserId,
        source: PointsSource,
        action: PointsAction,
        reference: u64,
        points: i64,
        remark: &str,
    ) -> Write {
        Write::Points(self.ledger_entry(user, source, action, reference, points, remark))
    }

    pub(crate) fn ledger_entry(
        &self,
        user: UserId,
        source: PointsSource,
        action: PointsAction,
        reference: u64,
        points: i64,
        remark: &str,
    ) -> LedgerEntry {
        LedgerEntry {
            id: LedgerEntryId(self.ids.next_id()),
            user,
            source,
            action,
            reference,
            points,
            balance_delta: 0,
            frozen_delta: 0,
            balance_after: 0,
            remark: remark.to_owned(),
            at: self.now(),
        }
    }
}
