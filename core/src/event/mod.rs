//! Domain events (DESIGN §11): what each command did, appended in the same
//! batch as its writes, committed or discarded with them, in an
//! append-only log (PostgreSQL: the `domain_events` outbox table). The
//! audit log, inventory logs, feeds, notifications and provider sends of
//! later areas read it. [`crate::Mall`] derives a command's events from its
//! writes ([`crate::engine`]), so no command can forget them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::after_sales::{AfterSaleAction, AfterSaleStatus};
use crate::catalog::ProductStatus;
use crate::coupon::{TemplateStatus, UserCouponStatus};
use crate::identity::{LoginVia, Role, UserStatus};
use crate::ids::{CouponTemplateId, MerchantId, OrderId, ProductId, SessionId, UserId};
use crate::inventory::StockMove;
use crate::money::Money;
use crate::order::{Actor, OrderStatus};
use crate::payment::PaymentStatus;
use crate::points::{PointsAction, PointsSource};

pub mod store;

/// The kind of thing an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// A category.
    Category,
    /// A merchant.
    Merchant,
    /// A product (SPU).
    Product,
    /// A SKU and its stock.
    Sku,
    /// A member tier (by level).
    Tier,
    /// A coupon template.
    Template,
    /// A user's coupon.
    Coupon,
    /// A user's points account.
    Points,
    /// A user's cart.
    Cart,
    /// An order.
    Order,
    /// A payment.
    Payment,
    /// An after-sales case.
    AfterSale,
    /// A user account.
    User,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A category was saved.
    CategorySaved {
        /// Name.
        name: String,
    },
    /// A merchant was saved.
    MerchantSaved {
        /// Name.
        name: String,
    },
    /// A product was saved (created, renamed, moved, put on or off sale).
    ProductSaved {
        /// Name.
        name: String,
        /// Seller.
        merchant: MerchantId,
        /// Listing status.
        status: ProductStatus,
    },
    /// A SKU's details were saved.
    SkuSaved {
        /// Its product.
        product: ProductId,
        /// Price, yuan.
        price: Money,
    },
    /// Units moved between stock buckets (an inventory log row).
    StockMoved {
        /// Movement.
        movement: StockMove,
        /// Units.
        quantity: u32,
        /// The order of the same batch that moved it, if any.
        order: Option<OrderId>,
    },
    /// A member tier was saved.
    TierSaved {
        /// Name.
        name: String,
    },
    /// A coupon template was saved.
    TemplateSaved {
        /// Title.
        title: String,
    },
    /// A template was enabled or disabled.
    TemplateStatusChanged {
        /// New status.
        status: TemplateStatus,
    },
    /// A user claimed a coupon.
    CouponClaimed {
        /// Template.
        template: CouponTemplateId,
        /// Holder.
        user: UserId,
    },
    /// A coupon was locked, used, released, expired or voided.
    CouponStatusChanged {
        /// Status before.
        from: UserCouponStatus,
        /// Status after.
        to: UserCouponStatus,
    },
    /// A ledger row was posted.
    PointsPosted {
        /// Source.
        source: PointsSource,
        /// Action.
        action: PointsAction,
        /// Points.
        points: i64,
        /// Order, case or adjustment.
        reference: u64,
    },
    /// A cart changed.
    CartChanged {
        /// Lines in it now.
        lines: u32,
    },
    /// An order was placed.
    OrderPlaced {
        /// Order number.
        number: String,
        /// Buyer.
        user: UserId,
        /// Seller.
        merchant: MerchantId,
        /// Payable, yuan.
        payable: Money,
    },
    /// An order moved (paid, shipped, completed, cancelled, closed) or was
    /// otherwise updated (`from == to`: after-sales units, refunds).
    OrderChanged {
        /// Status before the command's last history row.
        from: Option<OrderStatus>,
        /// Status now.
        to: OrderStatus,
        /// The history row's remark.
        remark: String,
        /// Refunded in all, yuan.
        refunded_total: Money,
    },
    /// A payment was created.
    PaymentCreated {
        /// Number.
        number: String,
        /// Amount, yuan.
        amount: Money,
    },
    /// A payment was confirmed or (partly) refunded.
    PaymentChanged {
        /// Status now.
        status: PaymentStatus,
        /// Refunded in all, yuan.
        refunded_amount: Money,
        /// Refund numbers sent to the provider.
        refunds: Vec<String>,
    },
    /// A case was applied for.
    AfterSaleApplied {
        /// Its order.
        order: OrderId,
        /// Refund asked, yuan.
        refund_amount: Money,
    },
    /// A case moved one step.
    AfterSaleStepped {
        /// The step.
        action: AfterSaleAction,
        /// Status now.
        status: AfterSaleStatus,
    },
    /// An account was created (registration, a first WeChat login, set-up).
    UserRegistered {
        /// Its role.
        role: Role,
    },
    /// A user logged in or refreshed their session.
    UserLoggedIn {
        /// How.
        via: LoginVia,
        /// The new session.
        session: SessionId,
    },
    /// Profile fields changed (nickname, avatar, e-mail, phone).
    ProfileUpdated,
    /// The password was changed or reset; every session was revoked.
    PasswordChanged,
    /// The account was frozen or unfrozen.
    UserStatusChanged {
        /// Status now.
        status: UserStatus,
    },
}

/// One event of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainEvent {
    /// Id (from the engine's id source).
    pub id: u64,
    /// When, the command's clock.
    pub at: DateTime<Utc>,
    /// Who ran the command.
    pub actor: Actor,
    /// What it is about.
    pub aggregate: Aggregate,
    /// Its id (a tier's level, a cart's user).
    pub aggregate_id: u64,
    /// What happened.
    pub event: Event,
}
