//! The engine: [`Mall`] holds the store, clock, ids, payment provider and
//! policy; every area's commands are `impl Mall` blocks in that area's
//! `commands.rs`, and each runs the same loop: load through the storage
//! traits, decide with the area's pure rules, and apply one guarded batch
//! ([`Store::apply`]). A version conflict (another command changed the same
//! order, payment or case in between) re-runs the command from a fresh read,
//! at most [`MAX_RETRIES`] times (`retrying!`).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::clock::{Clock, IdGen};
use crate::event::{Aggregate, DomainEvent, Event};
use crate::ids::{LedgerEntryId, UserId};
use crate::money::Rounding;
use crate::order::Actor;
use crate::payment::PaymentProvider;
use crate::points::{LedgerEntry, PointsAction, PointsSource};
use crate::policy::Policy;
use crate::storage::{PointsWrite, Store, Write};

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

    /// Applies a command's `writes` with the events they make (see
    /// [`events_of`]), all in one batch: done by `actor` now.
    ///
    /// # Errors
    /// The store's, as [`crate::MallError`].
    pub(crate) async fn commit(&self, actor: Actor, mut writes: Vec<Write>) -> Result<(), crate::MallError> {
        let now = self.now();
        let events = events_of(&writes);
        writes.extend(events.into_iter().map(|(aggregate, aggregate_id, event)| {
            Write::AppendEvent(DomainEvent { id: self.ids.next_id(), at: now, actor, aggregate, aggregate_id, event })
        }));
        Ok(self.store.apply(writes).await?)
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
        Write::Points(PointsWrite::Post(self.ledger_entry(user, source, action, reference, points, remark)))
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

/// The events a batch of writes makes, in write order: one per write, each
/// from its area's `event()`, but none for the log itself. A stock move
/// names the order of the batch whose lines hold its SKU.
pub fn events_of(writes: &[Write]) -> Vec<(Aggregate, u64, Event)> {
    let order_of = |sku| {
        writes.iter().find_map(|w| match w {
            Write::Order(o) if o.order().lines.iter().any(|l| l.sku == sku) => Some(o.order().id),
            _ => None,
        })
    };
    writes
        .iter()
        .filter_map(|w| match w {
            Write::Catalog(w) => Some(w.event()),
            Write::Stock(w) => Some(w.event(order_of)),
            Write::Coupon(w) => Some(w.event()),
            Write::Points(w) => Some(w.event()),
            Write::Cart(w) => Some(w.event()),
            Write::Order(w) => Some(w.event()),
            Write::Payment(w) => Some(w.event()),
            Write::AfterSale(w) => w.event(),
            Write::AppendEvent(_) => None,
        })
        .collect()
}
