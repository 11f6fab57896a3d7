//! Shopping cart (seed 001 §5, seed 004 preview items).

use serde::{Deserialize, Serialize};

use crate::ids::{SkuId, UserId};

pub mod commands;
pub mod queries;
pub mod store;
pub mod writes;

/// The most units of one SKU a cart line or order line may hold (a guard
/// against typos and overflow; seed 001 §5 limits cart quantities too).
pub const MAX_LINE_QUANTITY: u32 = 999;

/// One SKU in a cart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CartItem {
    /// SKU.
    pub sku: SkuId,
    /// Units, at least 1.
    pub quantity: u32,
    /// Ticked for checkout (default true).
    #[serde(default = "yes")]
    pub selected: bool,
}

fn yes() -> bool {
    true
}

/// A user's cart: at most one item per SKU.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cart {
    /// Owner.
    pub user: UserId,
    /// Items in the order they were added.
    pub items: Vec<CartItem>,
}

impl Cart {
    /// Adds `quantity` units of `sku`, merging with an existing item.
    pub fn add(&mut self, sku: SkuId, quantity: u32) {
        match self.items.iter_mut().find(|i| i.sku == sku) {
            Some(item) => item.quantity = item.quantity.saturating_add(quantity),
            None => self.items.push(CartItem { sku, quantity, selected: true }),
        }
    }

    /// Sets the quantity of `sku`; zero removes it.
    pub fn set_quantity(&mut self, sku: SkuId, quantity: u32) {
        if quantity == 0 {
            self.items.retain(|i| i.sku != sku);
        } else {
            match self.items.iter_mut().find(|i| i.sku == sku) {
                Some(item) => item.quantity = quantity,
                None => self.items.push(CartItem { sku, quantity, selected: true }),
            }
        }
    }

    /// Ticks or unticks `sku` for checkout; false when it is not in the cart.
    pub fn select(&mut self, sku: SkuId, selected: bool) -> bool {
        self.items.iter_mut().find(|i| i.sku == sku).map(|i| i.selected = selected).is_some()
    }

    /// The selected items.
    pub fn selected(&self) -> impl Iterator<Item = &CartItem> {
        self.items.iter().filter(|i| i.selected)
    }
}
