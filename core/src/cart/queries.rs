//! Cart queries on [`Mall`]: the cart as shown, with each line's SKU, name,
//! price and stock now (seed 001 §5).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::ProductStatus;
use crate::engine::Mall;
use crate::error::MallError;
use crate::ids::{ProductId, SkuId, UserId};
use crate::money::Money;
use crate::storage::Store;

/// A cart line as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CartLineView {
    /// SKU.
    pub sku_id: SkuId,
    /// Its product.
    pub product_id: Option<ProductId>,
    /// Product name.
    pub name: String,
    /// SKU attributes (colour, size…).
    pub attributes: BTreeMap<String, String>,
    /// Current SKU price, yuan (before member discount and coupons).
    pub unit_price: Money,
    /// Units.
    pub quantity: u32,
    /// Ticked for checkout.
    pub selected: bool,
    /// unit_price × quantity, yuan.
    pub subtotal: Money,
    /// Units in stock now.
    pub available: u32,
    /// False when the SKU or product is gone or off sale.
    pub on_sale: bool,
}

/// The cart as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CartView {
    /// Lines in the order they were added.
    pub items: Vec<CartLineView>,
    /// Units ticked for checkout.
    pub selected_quantity: u32,
    /// Σ subtotal of the ticked lines, yuan (the checkout preview gives the payable).
    pub selected_subtotal: Money,
}

impl<S: Store> Mall<S> {
    /// The buyer's cart as shown (a cart holds at most a few dozen lines:
    /// one SKU and one product read per line).
    ///
    /// # Errors
    /// [`MallError::Storage`].
    pub async fn cart_view(&self, user: UserId) -> Result<CartView, MallError> {
        let cart = self.store.cart(user).await?;
        let mut items = Vec::with_capacity(cart.items.len());
        for item in cart.items {
            let sku = self.store.sku(item.sku).await?;
            let product = match &sku {
                Some(s) => self.store.product(s.product).await?,
                None => None,
            };
            let unit_price = sku.as_ref().map_or(Money::ZERO, |s| s.price);
            items.push(CartLineView {
                sku_id: item.sku,
                product_id: product.as_ref().map(|p| p.id),
                name: product.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
                attributes: sku.as_ref().map(|s| s.attributes.clone()).unwrap_or_default(),
                unit_price,
                quantity: item.quantity,
                selected: item.selected,
                subtotal: unit_price.times(item.quantity),
                available: sku.as_ref().map_or(0, |s| s.stock.available),
                on_sale: product.is_some_and(|p| p.status == ProductStatus::OnSale),
            });
        }
        let selected = items.iter().filter(|i| i.selected);
        Ok(CartView {
            selected_quantity: selected.clone().map(|i| i.quantity).sum(),
            selected_subtotal: selected.map(|i| i.subtotal).sum(),
            items,
        })
    }
}
