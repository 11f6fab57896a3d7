//! Cart commands (seed 004 §3): add, change, tick and clear lines.

use crate::cart::{Cart, MAX_LINE_QUANTITY};
use crate::engine::Mall;
use crate::error::{MallError, invalid};
use crate::ids::{SkuId, UserId};
use crate::order::Actor;
use crate::storage::{CartWrite, Store, Write};

impl<S: Store> Mall<S> {
    /// Adds units of a SKU to the buyer's cart.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] on `quantity` for zero units or a line
    /// above [`MAX_LINE_QUANTITY`], [`MallError::NotFound`],
    /// [`CatalogError::OffSale`](crate::catalog::CatalogError::OffSale).
    pub async fn add_to_cart(&self, user: UserId, sku: SkuId, quantity: u32) -> Result<Cart, MallError> {
        check_quantity("quantity", quantity)?;
        self.sellable(sku).await?;
        let mut cart = self.store.cart(user).await?;
        cart.user = user;
        cart.add(sku, quantity);
        if cart.items.iter().any(|i| i.quantity > MAX_LINE_QUANTITY) {
            return Err(invalid("quantity", &format!("the line would exceed {MAX_LINE_QUANTITY} units")));
        }
        self.commit(Actor::Buyer(user), vec![Write::Cart(CartWrite::Put(cart.clone()))]).await?;
        Ok(cart)
    }

    /// Sets the units of a SKU in the cart; zero removes it.
    ///
    /// # Errors
    /// [`MallError::NotFound`] for an unknown SKU; [`MallError::InvalidInput`]
    /// on `quantity` above [`MAX_LINE_QUANTITY`].
    pub async fn set_cart_quantity(&self, user: UserId, sku: SkuId, quantity: u32) -> Result<Cart, MallError> {
        self.update_cart_item(user, sku, Some(quantity), None).await
    }

    /// Changes one cart line in one write: its units (zero removes it) and/or
    /// whether it is ticked for checkout. Nothing is saved when either part
    /// is refused.
    ///
    /// # Errors
    /// [`MallError::NotFound`] for an unknown SKU, or when ticking a SKU that
    /// is not (or no longer) in the cart; [`CatalogError::OffSale`](crate::catalog::CatalogError::OffSale);
    /// [`MallError::InvalidInput`] on `quantity` above [`MAX_LINE_QUANTITY`].
    pub async fn update_cart_item(
        &self,
        user: UserId,
        sku: SkuId,
        quantity: Option<u32>,
        selected: Option<bool>,
    ) -> Result<Cart, MallError> {
        let mut cart = self.store.cart(user).await?;
        cart.user = user;
        if let Some(quantity) = quantity {
            if quantity > 0 {
                check_quantity("quantity", quantity)?;
                self.sellable(sku).await?;
            }
            cart.set_quantity(sku, quantity);
        }
        if let Some(selected) = selected
            && !cart.select(sku, selected)
        {
            return Err(MallError::not_found("cart_item", sku));
        }
        self.commit(Actor::Buyer(user), vec![Write::Cart(CartWrite::Put(cart.clone()))]).await?;
        Ok(cart)
    }

    /// Empties the buyer's cart.
    ///
    /// # Errors
    /// [`MallError::Storage`].
    pub async fn clear_cart(&self, user: UserId) -> Result<Cart, MallError> {
        let cart = Cart { user, items: Vec::new() };
        self.commit(Actor::Buyer(user), vec![Write::Cart(CartWrite::Put(cart.clone()))]).await?;
        Ok(cart)
    }
}

/// Checks a line's units: 1 to [`MAX_LINE_QUANTITY`].
///
/// # Errors
/// [`MallError::InvalidInput`] naming `field`.
pub(crate) fn check_quantity(field: &str, quantity: u32) -> Result<(), MallError> {
    if quantity == 0 {
        return Err(invalid(field, "must be at least 1"));
    }
    if quantity > MAX_LINE_QUANTITY {
        return Err(invalid(field, &format!("must be at most {MAX_LINE_QUANTITY}")));
    }
    Ok(())
}
