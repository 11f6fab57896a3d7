//! Storage traits (DESIGN §11).
//!
//! Reads go through one trait per area; every write of a command goes through
//! [`Store::apply`] as one list of [`Write`]s that the store commits together
//! or not at all. Each write carries its own guard, phrased so a database can
//! enforce it under concurrency with one statement:
//!
//! | write | guard | SQL shape |
//! |---|---|---|
//! | [`StockWrite::Move`] | source bucket ≥ n | `UPDATE skus SET available = available - $n … WHERE id = $1 AND available >= $n` |
//! | [`CouponWrite::Issue`] | issued < total limit, user's claims < per-user limit | conditional `UPDATE coupon_templates`, per-user counter row |
//! | [`CouponWrite::SetStatus`] | status is still `from` | `UPDATE user_coupons SET status = $to WHERE id = $1 AND status = $from` |
//! | [`PointsWrite::Post`] | balance/frozen stay ≥ 0; (user, source, action, reference) unique | conditional `UPDATE points_accounts`, unique index on the ledger |
//! | `Update` of orders, payments, cases | stored version equals the entity's | `UPDATE … WHERE id = $1 AND version = $v` |
//! | `Insert` of orders, payments, cases | id not taken | primary key |
//!
//! Each area's writes are its own enum beside its model (`<area>/writes.rs`);
//! [`Write`] has one variant per area, so each store dispatches a batch to
//! its per-area code with one arm per area.
//!
//! A failed guard is a [`GuardFailure`]; the services turn it into the
//! domain's typed error, or re-read and retry on a version conflict.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::coupon::CouponError;
use crate::coupon::{ClaimRefused, UserCoupon, UserCouponStatus};
use crate::error::MallError;
use crate::event::DomainEvent;
use crate::identity::IdentityError;
use crate::ids::{CouponTemplateId, SkuId, UserCouponId, UserId};
use crate::inventory::StockError;
use crate::inventory::StockShort;
use crate::points::PointsError;
use crate::points::PointsShort;
use crate::points::{PointsAction, PointsSource};

pub use crate::after_sales::store::AfterSalesStore;
pub use crate::after_sales::writes::AfterSaleWrite;
pub use crate::cart::store::CartStore;
pub use crate::cart::writes::CartWrite;
pub use crate::catalog::store::CatalogStore;
pub use crate::catalog::writes::CatalogWrite;
pub use crate::coupon::store::CouponStore;
pub use crate::coupon::writes::CouponWrite;
pub use crate::event::store::EventStore;
pub use crate::identity::store::IdentityStore;
pub use crate::inventory::writes::StockWrite;
pub use crate::order::store::OrderStore;
pub use crate::order::writes::OrderWrite;
pub use crate::payment::store::PaymentStore;
pub use crate::payment::writes::PaymentWrite;
pub use crate::points::store::PointsStore;
pub use crate::points::writes::PointsWrite;

/// A guard that refused a write; nothing of the batch was applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardFailure {
    /// Fewer units in the source bucket than moved.
    #[error("sku {sku}: {requested} requested, {available} available")]
    InsufficientStock {
        /// SKU.
        sku: SkuId,
        /// Units asked for.
        requested: u32,
        /// Units there were.
        available: u32,
    },
    /// A freeze or deduction larger than the balance.
    #[error("user {user}: {needed} points needed, balance {balance}")]
    InsufficientPoints {
        /// Account owner.
        user: UserId,
        /// Points needed.
        needed: i64,
        /// Balance there was.
        balance: i64,
    },
    /// A spend or unfreeze larger than the frozen points.
    #[error("user {user}: {needed} frozen points needed, {frozen} frozen")]
    InsufficientFrozen {
        /// Account owner.
        user: UserId,
        /// Points needed.
        needed: i64,
        /// Frozen there were.
        frozen: i64,
    },
    /// A ledger row with a negative number of points where only positive ones make sense.
    #[error("user {user}: {action:?} of {points} points must be positive")]
    NonPositivePoints {
        /// Account owner.
        user: UserId,
        /// Action.
        action: PointsAction,
        /// Points given.
        points: i64,
    },
    /// The ledger already holds this (user, source, action, reference).
    #[error("points {action:?} for {points_source:?} {reference} of user {user} was already applied")]
    PointsSourceApplied {
        /// Account owner.
        user: UserId,
        /// Source.
        points_source: PointsSource,
        /// Action.
        action: PointsAction,
        /// Order, after-sale or adjustment.
        reference: u64,
    },
    /// A coupon whose status moved since it was read.
    #[error("coupon {coupon} is {actual:?}, expected {expected:?}")]
    CouponStatusChanged {
        /// Coupon.
        coupon: UserCouponId,
        /// Status the write expected.
        expected: UserCouponStatus,
        /// Status found.
        actual: UserCouponStatus,
    },
    /// The template has issued its total.
    #[error("coupon template {template} has issued all {limit}")]
    TemplateExhausted {
        /// Template.
        template: CouponTemplateId,
        /// Its total limit.
        limit: u32,
    },
    /// The user holds as many as the per-user limit.
    #[error("user {user} already claimed {limit} of template {template}")]
    ClaimLimitReached {
        /// Template.
        template: CouponTemplateId,
        /// User.
        user: UserId,
        /// Per-user limit.
        limit: u32,
    },
    /// A claim on a disabled template.
    #[error("coupon template {0} is disabled")]
    TemplateDisabled(CouponTemplateId),
    /// The entity changed since it was read (optimistic concurrency).
    #[error("{entity} {id} changed concurrently")]
    VersionConflict {
        /// Entity kind.
        entity: &'static str,
        /// Id.
        id: u64,
    },
    /// An insert whose id is taken.
    #[error("{entity} {id} already exists")]
    AlreadyExists {
        /// Entity kind.
        entity: &'static str,
        /// Id.
        id: u64,
    },
    /// A username, phone, e-mail, WeChat open id or token digest that
    /// belongs to another row.
    #[error("{field} is already taken")]
    Taken {
        /// The unique field.
        field: &'static str,
    },
    /// A write to something that does not exist.
    #[error("{entity} {id} does not exist")]
    NotFound {
        /// Entity kind.
        entity: &'static str,
        /// Id.
        id: u64,
    },
}

impl GuardFailure {
    /// The guard failure of a claim of `coupon` that its template refused.
    pub fn of_claim(coupon: &UserCoupon, refused: ClaimRefused) -> GuardFailure {
        match refused {
            ClaimRefused::Disabled => GuardFailure::TemplateDisabled(coupon.template),
            ClaimRefused::Exhausted { limit } => GuardFailure::TemplateExhausted { template: coupon.template, limit },
            ClaimRefused::PerUserLimit { limit } => {
                GuardFailure::ClaimLimitReached { template: coupon.template, user: coupon.user, limit }
            }
        }
    }
}

impl From<StockShort> for GuardFailure {
    fn from(s: StockShort) -> GuardFailure {
        GuardFailure::InsufficientStock { sku: s.sku, requested: s.requested, available: s.available }
    }
}

impl From<PointsShort> for GuardFailure {
    fn from(p: PointsShort) -> GuardFailure {
        match p {
            PointsShort::NonPositive { user, action, points } => {
                GuardFailure::NonPositivePoints { user, action, points }
            }
            PointsShort::Balance { user, needed, balance } => {
                GuardFailure::InsufficientPoints { user, needed, balance }
            }
            PointsShort::Frozen { user, needed, frozen } => GuardFailure::InsufficientFrozen { user, needed, frozen },
        }
    }
}

/// Why a store call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A guard refused the batch; nothing was written.
    #[error(transparent)]
    Guard(#[from] GuardFailure),
    /// The backend failed (connection, I/O); nothing was written.
    #[error("storage backend: {0}")]
    Backend(String),
}

/// One write of a command's batch: one variant per area, holding that
/// area's own write enum (`<area>/writes.rs`). See the module table for
/// each guard.
// An order or a case is large and a stock move small; a batch is a short
// `Vec` built once per command, so boxing would only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Categories, merchants, products and SKU details.
    Catalog(CatalogWrite),
    /// Stock moves.
    Stock(StockWrite),
    /// Coupon templates, claims and coupon moves.
    Coupon(CouponWrite),
    /// Member tiers and ledger rows.
    Points(PointsWrite),
    /// Carts.
    Cart(CartWrite),
    /// Orders.
    Order(OrderWrite),
    /// Payments.
    Payment(PaymentWrite),
    /// After-sales cases.
    AfterSale(AfterSaleWrite),
    /// Appends an event to the log (no guard; it commits with the batch).
    AppendEvent(DomainEvent),
}

/// A complete store: every read trait, and atomic batches of writes.
#[async_trait]
pub trait Store:
    EventStore + CatalogStore + CouponStore + PointsStore + CartStore + OrderStore + PaymentStore + AfterSalesStore
{
    /// Applies every write of `writes` or none of them.
    ///
    /// # Errors
    /// [`StoreError::Guard`] with the first guard that failed;
    /// [`StoreError::Backend`] when the backend fails. Either way nothing of
    /// the batch is visible.
    async fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError>;
}

/// A stored response to replay for a repeated `Idempotency-Key` (DESIGN §10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// Response body (JSON text).
    pub body: String,
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is new: the caller runs the request and then finishes or releases it.
    Started,
    /// The same key and request already finished: replay this.
    Replay(StoredResponse),
    /// The same key is running right now.
    InProgress,
    /// The key was used with a different request.
    Mismatch,
}

/// Idempotency keys of creating requests (orders, payments, after-sales).
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `(user, key)` for a request with `fingerprint` (a digest of
    /// method, path and body). A claim still running after `stale_after`
    /// (the caller died) may be taken over.
    async fn claim_idempotency(
        &self,
        user: UserId,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        stale_after: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError>;
    /// Records the response of a started key.
    async fn finish_idempotency(&self, user: UserId, key: &str, response: StoredResponse) -> Result<(), StoreError>;
    /// Forgets a started key (the request failed; the client may retry with it).
    async fn release_idempotency(&self, user: UserId, key: &str) -> Result<(), StoreError>;
    /// Forgets every key claimed before `before` (the retention sweep);
    /// returns how many.
    async fn purge_idempotency(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
}

// ---- shared handles ----
//
// A store behind an `Arc` (also `Arc<dyn …>`) is a store: adapters that pick
// the backend at run time (the HTTP API, `mallkit serve`) hold one.

#[async_trait]
impl<T: Store + ?Sized> Store for std::sync::Arc<T> {
    async fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        (**self).apply(writes).await
    }
}

#[async_trait]
impl<T: IdempotencyStore + ?Sized> IdempotencyStore for std::sync::Arc<T> {
    async fn claim_idempotency(
        &self,
        user: UserId,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        stale_after: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError> {
        (**self).claim_idempotency(user, key, fingerprint, now, stale_after).await
    }
    async fn finish_idempotency(&self, user: UserId, key: &str, response: StoredResponse) -> Result<(), StoreError> {
        (**self).finish_idempotency(user, key, response).await
    }
    async fn release_idempotency(&self, user: UserId, key: &str) -> Result<(), StoreError> {
        (**self).release_idempotency(user, key).await
    }
    async fn purge_idempotency(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        (**self).purge_idempotency(before).await
    }
}

impl From<StoreError> for MallError {
    fn from(e: StoreError) -> MallError {
        use GuardFailure as G;
        match e {
            StoreError::Backend(m) => MallError::Storage(m),
            StoreError::Guard(g) => match g {
                G::InsufficientStock { sku, requested, available } => {
                    MallError::Stock(StockError::Insufficient { sku, requested, available })
                }
                G::InsufficientPoints { needed, balance, .. } => {
                    MallError::Points(PointsError::Insufficient { needed, balance })
                }
                G::CouponStatusChanged { coupon, actual, .. } => {
                    MallError::Coupon(CouponError::Unavailable { coupon, actual })
                }
                G::TemplateExhausted { template, limit } => MallError::Coupon(CouponError::SoldOut { template, limit }),
                G::ClaimLimitReached { template, user, limit } => {
                    MallError::Coupon(CouponError::ClaimLimit { template, user, limit })
                }
                G::TemplateDisabled(t) => MallError::Coupon(CouponError::NotClaimable(t)),
                G::NotFound { entity, id } => MallError::not_found(entity, id),
                G::Taken { field } => MallError::Identity(IdentityError::LoginTaken { field }),
                G::VersionConflict { entity, id } | G::AlreadyExists { entity, id } => {
                    MallError::Conflict { entity, id }
                }
                // A ledger source applied twice, or a frozen/positivity guard: a
                // concurrent command did this step already.
                G::PointsSourceApplied { user, .. }
                | G::InsufficientFrozen { user, .. }
                | G::NonPositivePoints { user, .. } => MallError::Conflict { entity: "points_account", id: user.0 },
            },
        }
    }
}
