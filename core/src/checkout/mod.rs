//! Checkout (seed 004 §6.1–6.2): what a buyer asks to buy and what a
//! checkout makes of it (one order per merchant). The preview and the order
//! price with the same pure function ([`crate::pricing::quote`]); the
//! commands are in [`commands`].

use serde::{Deserialize, Serialize};

use crate::ids::{CheckoutId, SkuId};
use crate::order::Order;
use crate::pricing::{CouponChoice, PointsChoice, Quote};

pub mod commands;

/// What to check out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum CheckoutItems {
    /// The selected items of the buyer's cart (bought items leave the cart).
    Cart,
    /// Explicit lines (seed 004 §6.1 `items`).
    Lines {
        /// (SKU, units).
        lines: Vec<(SkuId, u32)>,
    },
}

/// A preview or checkout request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckoutRequest {
    /// What to buy.
    pub items: CheckoutItems,
    /// Coupons.
    #[serde(default)]
    pub coupons: CouponChoice,
    /// Points.
    #[serde(default)]
    pub points: PointsChoice,
    /// Buyer's remark.
    #[serde(default)]
    pub remark: String,
}

/// The result of a checkout: one order per merchant, and the quote they came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Checkout {
    /// Checkout id.
    pub id: CheckoutId,
    /// Orders, by merchant id.
    pub orders: Vec<Order>,
    /// The quote charged.
    pub quote: Quote,
}
