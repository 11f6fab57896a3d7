//! The caller's cart (seed 001 §5), shown with SKU names, prices and stock.

use axum::extract::State;
use mallkit_core::Money;
use mallkit_core::cart::Cart;
use mallkit_core::ids::{ProductId, SkuId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::App;
use crate::envelope::{Data, Envelope};
use crate::error::{ApiResult, AuthErrors};
use crate::extract::{Body, Caller, Param};

/// A cart line as shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CartLineView {
    /// SKU.
    pub sku_id: SkuId,
    /// Its product.
    pub product_id: Option<ProductId>,
    /// Product name.
    pub name: String,
    /// SKU attributes (colour, size…).
    pub attributes: std::collections::BTreeMap<String, String>,
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
#[derive(Debug, Serialize, ToSchema)]
pub struct CartView {
    /// Lines in the order they were added.
    pub items: Vec<CartLineView>,
    /// Units ticked for checkout.
    pub selected_quantity: u32,
    /// Σ subtotal of the ticked lines, yuan (the checkout preview gives the payable).
    pub selected_subtotal: Money,
}

/// Add units of a SKU.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddCartItemRequest {
    /// SKU.
    pub sku_id: SkuId,
    /// Units to add, 1–999.
    pub quantity: u32,
}

/// Change a cart line.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCartItemRequest {
    /// New units, 0–999 (0 removes the line).
    pub quantity: Option<u32>,
    /// Tick or untick for checkout.
    pub selected: Option<bool>,
}

async fn view(app: &App, cart: Cart) -> ApiResult<CartView> {
    use mallkit_core::catalog::ProductStatus;
    use mallkit_core::storage::CatalogStore;
    let mut items = Vec::with_capacity(cart.items.len());
    for item in cart.items {
        let sku = app.store.sku(item.sku).await.map_err(mallkit_core::MallError::from)?;
        let product = match &sku {
            Some(s) => app.store.product(s.product).await.map_err(mallkit_core::MallError::from)?,
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

/// The caller's cart.
#[utoipa::path(get, path = "/api/v1/cart", tag = "cart", security(("bearer" = [])),
    responses((status = 200, body = Envelope<CartView>), AuthErrors))]
pub async fn get_cart(State(app): State<App>, caller: Caller) -> ApiResult<Data<CartView>> {
    use mallkit_core::storage::CartStore;
    let cart = app.store.cart(caller.user.id).await.map_err(mallkit_core::MallError::from)?;
    Ok(Data(view(&app, cart).await?))
}

/// Adds units of a SKU (merged with its line).
#[utoipa::path(post, path = "/api/v1/cart/items", tag = "cart", security(("bearer" = [])),
    request_body = AddCartItemRequest, responses((status = 200, body = Envelope<CartView>), AuthErrors))]
pub async fn add_item(
    State(app): State<App>,
    caller: Caller,
    Body(r): Body<AddCartItemRequest>,
) -> ApiResult<Data<CartView>> {
    let cart = app.mall.add_to_cart(caller.user.id, r.sku_id, r.quantity).await?;
    Ok(Data(view(&app, cart).await?))
}

/// Sets a line's units and/or ticks it.
#[utoipa::path(put, path = "/api/v1/cart/items/{sku_id}", tag = "cart", security(("bearer" = [])),
    params(("sku_id" = u64, Path, description = "SKU id")), request_body = UpdateCartItemRequest,
    responses((status = 200, body = Envelope<CartView>), AuthErrors))]
pub async fn update_item(
    State(app): State<App>,
    caller: Caller,
    Param(sku): Param<SkuId>,
    Body(r): Body<UpdateCartItemRequest>,
) -> ApiResult<Data<CartView>> {
    if r.quantity.is_none() && r.selected.is_none() {
        return Err(crate::error::ApiError::Decode {
            field: "body".into(),
            message: "give quantity or selected".into(),
        });
    }
    let cart = app.mall.update_cart_item(caller.user.id, sku, r.quantity, r.selected).await?;
    Ok(Data(view(&app, cart).await?))
}

/// Removes a line.
#[utoipa::path(delete, path = "/api/v1/cart/items/{sku_id}", tag = "cart", security(("bearer" = [])),
    params(("sku_id" = u64, Path, description = "SKU id")),
    responses((status = 200, body = Envelope<CartView>), AuthErrors))]
pub async fn remove_item(
    State(app): State<App>,
    caller: Caller,
    Param(sku): Param<SkuId>,
) -> ApiResult<Data<CartView>> {
    let cart = app.mall.set_cart_quantity(caller.user.id, sku, 0).await?;
    Ok(Data(view(&app, cart).await?))
}

/// Empties the cart.
#[utoipa::path(delete, path = "/api/v1/cart", tag = "cart", security(("bearer" = [])),
    responses((status = 200, body = Envelope<CartView>), AuthErrors))]
pub async fn clear_cart(State(app): State<App>, caller: Caller) -> ApiResult<Data<CartView>> {
    let cart = app.mall.clear_cart(caller.user.id).await?;
    Ok(Data(view(&app, cart).await?))
}
