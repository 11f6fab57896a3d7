//! Storage traits (DESIGN §11).
//!
//! Reads go through one trait per area; every write of a command goes through
//! [`Store::apply`] as one list of [`Write`]s that the store commits together
//! or not at all. Each write carries its own guard, phrased so a database can
//! enforce it under concurrency with one statement:
//!
//! | write | guard | SQL shape |
//! |---|---|---|
//! | [`Write::MoveStock`] | source bucket ≥ n | `UPDATE skus SET available = available - $n … WHERE id = $1 AND available >= $n` |
//! | [`Write::IssueCoupon`] | issued < total limit, user's claims < per-user limit | conditional `UPDATE coupon_templates`, per-user counter row |
//! | [`Write::SetCouponStatus`] | status is still `from` | `UPDATE user_coupons SET status = $to WHERE id = $1 AND status = $from` |
//! | [`Write::Points`] | balance/frozen stay ≥ 0; (user, source, action, reference) unique | conditional `UPDATE points_accounts`, unique index on the ledger |
//! | `Update*` | stored version equals the entity's | `UPDATE … WHERE id = $1 AND version = $v` |
//! | `Insert*` | id not taken | primary key |
//!
//! A failed guard is a [`GuardFailure`]; the services turn it into the
//! domain's typed error, or re-read and retry on a version conflict.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::after_sales::AfterSale;
use crate::cart::Cart;
use crate::catalog::{Category, Merchant, Product, Sku, StockMove};
use crate::coupon::{CouponTemplate, TemplateStatus, UserCoupon, UserCouponStatus};
use crate::ids::{
    AfterSaleId, CheckoutId, CouponTemplateId, MerchantId, OrderId, PaymentId, ProductId, SkuId, UserCouponId, UserId,
};
use crate::order::{Order, OrderStatus};
use crate::payment::Payment;
use crate::points::{LedgerEntry, PointsAccount, PointsAction, PointsSource, Tier};

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
    /// A write to something that does not exist.
    #[error("{entity} {id} does not exist")]
    NotFound {
        /// Entity kind.
        entity: &'static str,
        /// Id.
        id: u64,
    },
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

/// One write of a command's batch. See the module table for each guard.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Creates or replaces a category.
    PutCategory(Category),
    /// Creates or replaces a merchant.
    PutMerchant(Merchant),
    /// Creates or replaces a product.
    PutProduct(Product),
    /// Creates or replaces a SKU, stock included (catalog set-up and stock
    /// adjustment; checkout uses [`Write::MoveStock`]).
    PutSku(Sku),
    /// Creates or replaces a member tier, keyed by level.
    PutTier(Tier),
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
    /// Moves `quantity` units of a SKU between stock buckets.
    MoveStock {
        /// SKU.
        sku: SkuId,
        /// Movement.
        movement: StockMove,
        /// Units.
        quantity: u32,
    },
    /// Issues a claimed coupon: counts it against the template's total and
    /// the user's per-user limit.
    IssueCoupon(UserCoupon),
    /// Moves a coupon from `from` to `to` (lock, use, release, expire);
    /// a move into `Used` counts a use on the template, out of it un-counts.
    SetCouponStatus {
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
    /// Appends a ledger row and moves the account by it.
    Points(LedgerEntry),
    /// Replaces a user's cart.
    PutCart(Cart),
    /// Inserts a new order (version 0).
    InsertOrder(Order),
    /// Replaces an order whose stored version equals `order.version`.
    UpdateOrder(Order),
    /// Inserts a new payment.
    InsertPayment(Payment),
    /// Replaces a payment whose stored version equals `payment.version`.
    UpdatePayment(Payment),
    /// Inserts a new after-sales case.
    InsertAfterSale(AfterSale),
    /// Replaces an after-sales case whose stored version equals its `version`.
    UpdateAfterSale(AfterSale),
}

/// Catalog reads.
#[async_trait]
pub trait CatalogStore: Send + Sync {
    /// Every category.
    async fn categories(&self) -> Result<Vec<Category>, StoreError>;
    /// A merchant.
    async fn merchant(&self, id: MerchantId) -> Result<Option<Merchant>, StoreError>;
    /// Every product, by id.
    async fn products(&self) -> Result<Vec<Product>, StoreError>;
    /// A product.
    async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError>;
    /// A SKU.
    async fn sku(&self, id: SkuId) -> Result<Option<Sku>, StoreError>;
    /// The SKUs of a product, by id.
    async fn skus_of(&self, product: ProductId) -> Result<Vec<Sku>, StoreError>;
}

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
}

/// Points and tier reads.
#[async_trait]
pub trait PointsStore: Send + Sync {
    /// A user's account (all zero when the user has none yet).
    async fn points_account(&self, user: UserId) -> Result<PointsAccount, StoreError>;
    /// A user's ledger, oldest first.
    async fn ledger(&self, user: UserId) -> Result<Vec<LedgerEntry>, StoreError>;
    /// The member tiers, by level.
    async fn tiers(&self) -> Result<Vec<Tier>, StoreError>;
}

/// Cart reads.
#[async_trait]
pub trait CartStore: Send + Sync {
    /// A user's cart (empty when none).
    async fn cart(&self, user: UserId) -> Result<Cart, StoreError>;
}

/// Order reads.
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// An order.
    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError>;
    /// A user's orders, newest first.
    async fn orders_of_user(&self, user: UserId) -> Result<Vec<Order>, StoreError>;
    /// The orders of one checkout, by id.
    async fn orders_of_checkout(&self, checkout: CheckoutId) -> Result<Vec<Order>, StoreError>;
    /// Orders in `status` whose deadline (payment deadline for
    /// `pending_payment`, auto-confirm time for `shipped`) is at or before
    /// `now`, by id.
    async fn orders_due(&self, status: OrderStatus, now: DateTime<Utc>) -> Result<Vec<OrderId>, StoreError>;
}

/// Payment reads.
#[async_trait]
pub trait PaymentStore: Send + Sync {
    /// A payment.
    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>, StoreError>;
    /// A payment by its number.
    async fn payment_by_number(&self, number: &str) -> Result<Option<Payment>, StoreError>;
}

/// After-sales reads.
#[async_trait]
pub trait AfterSalesStore: Send + Sync {
    /// An after-sales case.
    async fn after_sale(&self, id: AfterSaleId) -> Result<Option<AfterSale>, StoreError>;
    /// The cases of an order, by id.
    async fn after_sales_of_order(&self, order: OrderId) -> Result<Vec<AfterSale>, StoreError>;
}

/// A complete store: every read trait, and atomic batches of writes.
#[async_trait]
pub trait Store:
    CatalogStore + CouponStore + PointsStore + CartStore + OrderStore + PaymentStore + AfterSalesStore
{
    /// Applies every write of `writes` or none of them.
    ///
    /// # Errors
    /// [`StoreError::Guard`] with the first guard that failed;
    /// [`StoreError::Backend`] when the backend fails. Either way nothing of
    /// the batch is visible.
    async fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError>;
}
