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

use crate::after_sales::{AfterSale, AfterSaleFilter};
use crate::cart::Cart;
use crate::catalog::{Category, Merchant, Product, ProductFilter, ProductSummary, Sku, StockMove, summarize};
use crate::coupon::{CouponTemplate, TemplateStatus, UserCoupon, UserCouponStatus};
use crate::identity::{Address, LoginFailures, Session, User, UserFilter, VerificationCode};
use crate::ids::{
    AddressId, AfterSaleId, CheckoutId, CouponTemplateId, MerchantId, OrderId, PaymentId, ProductId, SessionId, SkuId,
    UserCouponId, UserId,
};
use crate::order::{CustomerStats, Order, OrderFilter, OrderStatus};
use crate::page::{Page, PageRequest};
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
    /// Creates a SKU with its initial stock, or replaces an existing SKU's
    /// details (product, attributes, prices, weight) keeping its stored
    /// stock: stock only ever moves through [`Write::MoveStock`], so an edit
    /// can never overwrite a concurrent reservation.
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
    /// Every SKU, by id (one read for a product list, not one per product).
    async fn skus(&self) -> Result<Vec<Sku>, StoreError>;
    /// One page of the products `filter` admits, in its sort, each with
    /// its summary over its SKUs. `total` counts up to
    /// [`crate::page::COUNT_CAP`].
    async fn search_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Page<ProductSummary>, StoreError> {
        // Reference behaviour (a whole-table scan) until each store serves it from an index.
        let products = self.products().await?;
        let mut skus: std::collections::HashMap<ProductId, Vec<Sku>> = std::collections::HashMap::new();
        for sku in self.skus().await? {
            skus.entry(sku.product).or_default().push(sku);
        }
        let mut found: Vec<ProductSummary> = products
            .iter()
            .map(|p| (p, summarize(p, skus.get(&p.id).map_or(&[][..], Vec::as_slice))))
            .filter(|(p, s)| filter.admits(p, s))
            .map(|(_, s)| s)
            .collect();
        found.sort_by(|a, b| filter.sort.compare(a, b));
        Ok(page.page_from_iter(found.into_iter()))
    }
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
    /// Every coupon claimed from a template (its claim records), by id.
    async fn coupons_of_template(&self, template: CouponTemplateId) -> Result<Vec<UserCoupon>, StoreError>;
    /// One page of every template, by id.
    async fn list_templates(&self, page: PageRequest) -> Result<Page<CouponTemplate>, StoreError> {
        Ok(page.page_from_iter(self.templates().await?.into_iter()))
    }
    /// One page of the coupons claimed from a template, by id.
    async fn template_claims(
        &self,
        template: CouponTemplateId,
        page: PageRequest,
    ) -> Result<Page<UserCoupon>, StoreError> {
        Ok(page.page_from_iter(self.coupons_of_template(template).await?.into_iter()))
    }
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
    ) -> Result<Page<UserCoupon>, StoreError> {
        let mut held: Vec<UserCoupon> = self.user_coupons(user).await?;
        for c in &mut held {
            c.status = c.status_at(now);
        }
        held.retain(|c| status.is_none_or(|s| c.status == s));
        held.sort_by(|a, b| b.claimed_at.cmp(&a.claimed_at).then(b.id.cmp(&a.id)));
        Ok(page.page_from_iter(held.into_iter()))
    }
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
    /// One page of a user's ledger, newest first, only rows of `source` when given.
    async fn ledger_page(
        &self,
        user: UserId,
        source: Option<PointsSource>,
        page: PageRequest,
    ) -> Result<Page<LedgerEntry>, StoreError> {
        let rows = self.ledger(user).await?;
        Ok(page.page_from_iter(rows.into_iter().rev().filter(|r| source.is_none_or(|s| r.source == s))))
    }
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
    /// A user's orders, newest first (by creation time, then id: with several
    /// processes on one database, ids do not follow time).
    async fn orders_of_user(&self, user: UserId) -> Result<Vec<Order>, StoreError>;
    /// A merchant's orders, newest first by creation time, then id (the back office's order list).
    async fn orders_of_merchant(&self, merchant: MerchantId) -> Result<Vec<Order>, StoreError>;
    /// The orders of one checkout, by id.
    async fn orders_of_checkout(&self, checkout: CheckoutId) -> Result<Vec<Order>, StoreError>;
    /// Orders in `status` whose deadline (payment deadline for
    /// `pending_payment`, auto-confirm time for `shipped`) is at or before
    /// `now`, by id.
    async fn orders_due(&self, status: OrderStatus, now: DateTime<Utc>) -> Result<Vec<OrderId>, StoreError>;
    /// One page of the orders `filter` admits, newest first by creation
    /// time, then id. A filter needs a user or a merchant on PostgreSQL's
    /// indexes to stay fast; none lists every order (admins).
    async fn list_orders(&self, filter: &OrderFilter, page: PageRequest) -> Result<Page<Order>, StoreError> {
        let all = match (filter.user, filter.merchant) {
            (Some(u), _) => self.orders_of_user(u).await?,
            (None, Some(m)) => self.orders_of_merchant(m).await?,
            (None, None) => return Err(StoreError::Backend("list_orders needs a user or a merchant".into())),
        };
        Ok(page.page_from_iter(all.into_iter().filter(|o| filter.admits(o))))
    }
    /// The order figures of each of `users`, in the same order (a user
    /// without orders has zero figures): one aggregate, not one read per user.
    async fn customer_stats(&self, users: &[UserId]) -> Result<Vec<CustomerStats>, StoreError> {
        let mut out = Vec::with_capacity(users.len());
        for &u in users {
            out.push(CustomerStats::of(u, &self.orders_of_user(u).await?));
        }
        Ok(out)
    }
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
    /// The cases of a merchant's orders, newest first by creation time, then id (the back office's queue).
    async fn after_sales_of_merchant(&self, merchant: MerchantId) -> Result<Vec<AfterSale>, StoreError>;
    /// One page of the cases `filter` admits, newest first by creation
    /// time, then id.
    async fn list_after_sales(
        &self,
        filter: &AfterSaleFilter,
        page: PageRequest,
    ) -> Result<Page<AfterSale>, StoreError> {
        let all = match (filter.order, filter.merchant) {
            (Some(o), _) => {
                let mut v = self.after_sales_of_order(o).await?;
                v.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
                v
            }
            (None, Some(m)) => self.after_sales_of_merchant(m).await?,
            (None, None) => return Err(StoreError::Backend("list_after_sales needs an order or a merchant".into())),
        };
        Ok(page.page_from_iter(all.into_iter().filter(|c| filter.admits(c))))
    }
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

/// Identity storage (DESIGN §9): users, sessions, codes and addresses. Each
/// call is atomic on its own; identity has no multi-row commands.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// A user.
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// The user whose username, phone or e-mail equals `login` exactly.
    async fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError>;
    /// The user with this WeChat open id.
    async fn user_by_wechat(&self, openid: &str) -> Result<Option<User>, StoreError>;
    /// Every user, by id.
    async fn users(&self) -> Result<Vec<User>, StoreError>;
    /// Inserts a user.
    ///
    /// # Errors
    /// [`GuardFailure::Taken`] naming `username`, `phone`, `email` or
    /// `wechat_openid` when another user has it; [`GuardFailure::AlreadyExists`] for a taken id.
    async fn insert_user(&self, user: User) -> Result<(), StoreError>;
    /// Replaces a user whose stored version equals `user.version` (and bumps it).
    ///
    /// # Errors
    /// [`GuardFailure::VersionConflict`], [`GuardFailure::Taken`], [`GuardFailure::NotFound`].
    async fn update_user(&self, user: User) -> Result<(), StoreError>;
    /// Inserts a session.
    ///
    /// # Errors
    /// [`GuardFailure::Taken`] when a digest is taken.
    async fn insert_session(&self, session: Session) -> Result<(), StoreError>;
    /// The session whose access digest is `digest`.
    async fn session_by_access(&self, digest: &str) -> Result<Option<Session>, StoreError>;
    /// The session whose refresh digest is `digest`.
    async fn session_by_refresh(&self, digest: &str) -> Result<Option<Session>, StoreError>;
    /// Revokes a session; true when this call revoked it (false when it was
    /// already revoked or does not exist).
    async fn revoke_session(&self, id: SessionId) -> Result<bool, StoreError>;
    /// Revokes every session of a user.
    async fn revoke_sessions_of(&self, user: UserId) -> Result<(), StoreError>;
    /// The live code of a phone.
    async fn verification_code(&self, phone: &str) -> Result<Option<VerificationCode>, StoreError>;
    /// Creates or replaces the code of `code.phone`.
    async fn put_verification_code(&self, code: VerificationCode) -> Result<(), StoreError>;
    /// Uses up one guess of the code of `phone` atomically: when it has
    /// fewer than `max` attempts, adds one and returns the code (as after
    /// the increment); otherwise (no code, or burnt) `None`.
    async fn use_code_attempt(&self, phone: &str, max: u32) -> Result<Option<VerificationCode>, StoreError>;
    /// The failed logins counted for `login` since `window_started_at`.
    async fn login_failures(&self, login: &str) -> Result<Option<LoginFailures>, StoreError>;
    /// Counts one more failed login for `login` atomically: in the current
    /// window when it started after `window_cutoff`, else in a new window
    /// starting `now`. Returns the count after it.
    async fn record_login_failure(
        &self,
        login: &str,
        now: DateTime<Utc>,
        window_cutoff: DateTime<Utc>,
    ) -> Result<LoginFailures, StoreError>;
    /// Forgets the failed logins of `login` (after a successful one).
    async fn clear_login_failures(&self, login: &str) -> Result<(), StoreError>;
    /// A user's addresses, by id.
    async fn addresses(&self, user: UserId) -> Result<Vec<Address>, StoreError>;
    /// Creates or replaces an address of `address.user`; when it is the
    /// default, the same call clears the flag on the user's other addresses.
    ///
    /// # Errors
    /// [`GuardFailure::NotFound`] when the id belongs to another user's address.
    async fn put_address(&self, address: Address) -> Result<(), StoreError>;
    /// Deletes an address of `user`; true when one was deleted.
    async fn delete_address(&self, user: UserId, id: AddressId) -> Result<bool, StoreError>;
    /// One page of the users `filter` admits, newest first (highest id).
    async fn list_users(&self, filter: &UserFilter, page: PageRequest) -> Result<Page<User>, StoreError> {
        let mut users = self.users().await?;
        users.retain(|u| filter.admits(u));
        users.sort_by_key(|u| std::cmp::Reverse(u.id));
        Ok(page.page_from_iter(users.into_iter()))
    }
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
impl<T: CatalogStore + ?Sized> CatalogStore for std::sync::Arc<T> {
    async fn categories(&self) -> Result<Vec<Category>, StoreError> {
        (**self).categories().await
    }
    async fn merchant(&self, id: MerchantId) -> Result<Option<Merchant>, StoreError> {
        (**self).merchant(id).await
    }
    async fn products(&self) -> Result<Vec<Product>, StoreError> {
        (**self).products().await
    }
    async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        (**self).product(id).await
    }
    async fn sku(&self, id: SkuId) -> Result<Option<Sku>, StoreError> {
        (**self).sku(id).await
    }
    async fn skus_of(&self, product: ProductId) -> Result<Vec<Sku>, StoreError> {
        (**self).skus_of(product).await
    }
    async fn skus(&self) -> Result<Vec<Sku>, StoreError> {
        (**self).skus().await
    }
    async fn search_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Page<ProductSummary>, StoreError> {
        (**self).search_products(filter, page).await
    }
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

#[async_trait]
impl<T: PointsStore + ?Sized> PointsStore for std::sync::Arc<T> {
    async fn points_account(&self, user: UserId) -> Result<PointsAccount, StoreError> {
        (**self).points_account(user).await
    }
    async fn ledger(&self, user: UserId) -> Result<Vec<LedgerEntry>, StoreError> {
        (**self).ledger(user).await
    }
    async fn tiers(&self) -> Result<Vec<Tier>, StoreError> {
        (**self).tiers().await
    }
    async fn ledger_page(
        &self,
        user: UserId,
        source: Option<PointsSource>,
        page: PageRequest,
    ) -> Result<Page<LedgerEntry>, StoreError> {
        (**self).ledger_page(user, source, page).await
    }
}

#[async_trait]
impl<T: CartStore + ?Sized> CartStore for std::sync::Arc<T> {
    async fn cart(&self, user: UserId) -> Result<Cart, StoreError> {
        (**self).cart(user).await
    }
}

#[async_trait]
impl<T: OrderStore + ?Sized> OrderStore for std::sync::Arc<T> {
    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        (**self).order(id).await
    }
    async fn orders_of_user(&self, user: UserId) -> Result<Vec<Order>, StoreError> {
        (**self).orders_of_user(user).await
    }
    async fn orders_of_merchant(&self, merchant: MerchantId) -> Result<Vec<Order>, StoreError> {
        (**self).orders_of_merchant(merchant).await
    }
    async fn orders_of_checkout(&self, checkout: CheckoutId) -> Result<Vec<Order>, StoreError> {
        (**self).orders_of_checkout(checkout).await
    }
    async fn orders_due(&self, status: OrderStatus, now: DateTime<Utc>) -> Result<Vec<OrderId>, StoreError> {
        (**self).orders_due(status, now).await
    }
    async fn list_orders(&self, filter: &OrderFilter, page: PageRequest) -> Result<Page<Order>, StoreError> {
        (**self).list_orders(filter, page).await
    }
    async fn customer_stats(&self, users: &[UserId]) -> Result<Vec<CustomerStats>, StoreError> {
        (**self).customer_stats(users).await
    }
}

#[async_trait]
impl<T: PaymentStore + ?Sized> PaymentStore for std::sync::Arc<T> {
    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>, StoreError> {
        (**self).payment(id).await
    }
    async fn payment_by_number(&self, number: &str) -> Result<Option<Payment>, StoreError> {
        (**self).payment_by_number(number).await
    }
}

#[async_trait]
impl<T: AfterSalesStore + ?Sized> AfterSalesStore for std::sync::Arc<T> {
    async fn after_sale(&self, id: AfterSaleId) -> Result<Option<AfterSale>, StoreError> {
        (**self).after_sale(id).await
    }
    async fn after_sales_of_order(&self, order: OrderId) -> Result<Vec<AfterSale>, StoreError> {
        (**self).after_sales_of_order(order).await
    }
    async fn after_sales_of_merchant(&self, merchant: MerchantId) -> Result<Vec<AfterSale>, StoreError> {
        (**self).after_sales_of_merchant(merchant).await
    }
    async fn list_after_sales(
        &self,
        filter: &AfterSaleFilter,
        page: PageRequest,
    ) -> Result<Page<AfterSale>, StoreError> {
        (**self).list_after_sales(filter, page).await
    }
}

#[async_trait]
impl<T: Store + ?Sized> Store for std::sync::Arc<T> {
    async fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        (**self).apply(writes).await
    }
}

#[async_trait]
impl<T: IdentityStore + ?Sized> IdentityStore for std::sync::Arc<T> {
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        (**self).user(id).await
    }
    async fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        (**self).user_by_login(login).await
    }
    async fn user_by_wechat(&self, openid: &str) -> Result<Option<User>, StoreError> {
        (**self).user_by_wechat(openid).await
    }
    async fn users(&self) -> Result<Vec<User>, StoreError> {
        (**self).users().await
    }
    async fn insert_user(&self, user: User) -> Result<(), StoreError> {
        (**self).insert_user(user).await
    }
    async fn update_user(&self, user: User) -> Result<(), StoreError> {
        (**self).update_user(user).await
    }
    async fn insert_session(&self, session: Session) -> Result<(), StoreError> {
        (**self).insert_session(session).await
    }
    async fn session_by_access(&self, digest: &str) -> Result<Option<Session>, StoreError> {
        (**self).session_by_access(digest).await
    }
    async fn session_by_refresh(&self, digest: &str) -> Result<Option<Session>, StoreError> {
        (**self).session_by_refresh(digest).await
    }
    async fn revoke_session(&self, id: SessionId) -> Result<bool, StoreError> {
        (**self).revoke_session(id).await
    }
    async fn revoke_sessions_of(&self, user: UserId) -> Result<(), StoreError> {
        (**self).revoke_sessions_of(user).await
    }
    async fn verification_code(&self, phone: &str) -> Result<Option<VerificationCode>, StoreError> {
        (**self).verification_code(phone).await
    }
    async fn put_verification_code(&self, code: VerificationCode) -> Result<(), StoreError> {
        (**self).put_verification_code(code).await
    }
    async fn use_code_attempt(&self, phone: &str, max: u32) -> Result<Option<VerificationCode>, StoreError> {
        (**self).use_code_attempt(phone, max).await
    }
    async fn login_failures(&self, login: &str) -> Result<Option<LoginFailures>, StoreError> {
        (**self).login_failures(login).await
    }
    async fn record_login_failure(
        &self,
        login: &str,
        now: DateTime<Utc>,
        window_cutoff: DateTime<Utc>,
    ) -> Result<LoginFailures, StoreError> {
        (**self).record_login_failure(login, now, window_cutoff).await
    }
    async fn clear_login_failures(&self, login: &str) -> Result<(), StoreError> {
        (**self).clear_login_failures(login).await
    }
    async fn addresses(&self, user: UserId) -> Result<Vec<Address>, StoreError> {
        (**self).addresses(user).await
    }
    async fn put_address(&self, address: Address) -> Result<(), StoreError> {
        (**self).put_address(address).await
    }
    async fn delete_address(&self, user: UserId, id: AddressId) -> Result<bool, StoreError> {
        (**self).delete_address(user, id).await
    }
    async fn list_users(&self, filter: &UserFilter, page: PageRequest) -> Result<Page<User>, StoreError> {
        (**self).list_users(filter, page).await
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
