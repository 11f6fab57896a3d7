//! The cart's writes.

use crate::cart::Cart;
use crate::event::{Aggregate, Event};

/// A write to carts.
#[derive(Debug, Clone, PartialEq)]
pub enum CartWrite {
    /// Replaces a user's cart.
    Put(Cart),
}

impl CartWrite {
    /// The event this write makes: the cart changed, with its line count.
    pub fn event(&self) -> (Aggregate, u64, Event) {
        match self {
            CartWrite::Put(c) => (
                Aggregate::Cart,
                c.user.0,
                Event::CartChanged { lines: u32::try_from(c.items.len()).unwrap_or(u32::MAX) },
            ),
        }
    }
}
