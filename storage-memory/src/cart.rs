//! Carts: one per user, replaced whole.

use std::collections::BTreeMap;

use async_trait::async_trait;
use mallkit_core::cart::Cart;
use mallkit_core::ids::UserId;
use mallkit_core::storage::{CartStore, CartWrite, StoreError};

use crate::{MemoryStore, Staged};

/// The carts, by user.
#[derive(Debug, Default)]
pub(crate) struct Carts {
    carts: BTreeMap<UserId, Cart>,
}

/// Carts replaced by a batch.
#[derive(Default)]
pub(crate) struct CartBatch {
    carts: Staged<UserId, Cart>,
}

impl CartBatch {
    /// Stages one cart write.
    pub(crate) fn stage(&mut self, write: CartWrite) {
        match write {
            CartWrite::Put(cart) => self.put(cart),
        }
    }

    pub(crate) fn put(&mut self, cart: Cart) {
        self.carts.put(cart.user, cart);
    }

    pub(crate) fn commit(self, state: &mut Carts) {
        self.carts.commit(&mut state.carts);
    }
}

#[async_trait]
impl CartStore for MemoryStore {
    async fn cart(&self, user: UserId) -> Result<Cart, StoreError> {
        Ok(self.read().carts.carts.get(&user).cloned().unwrap_or(Cart { user, items: Vec::new() }))
    }
}
