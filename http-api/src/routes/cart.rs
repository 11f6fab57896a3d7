//! The caller's cart (seed 001 §5), shown with SKU names, prices and stock.

use axum::extract::State;
use mallkit_core::cart::queries::CartView;
use mallkit_core::ids::SkuId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::App;
use crate::envelope::{Data, Envelope};
use crate::error::{ApiResult, AuthErrors};
use crate::extract::{Body, Caller, Param};

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

/// The caller's cart.
#[utoipa::path(get, path = "/api/v1/cart", tag = "cart", security(("bearer" = [])),
    responses((status = 200, body = Envelope<CartView>), AuthErrors))]
pub async fn get_cart(State(app): State<App>, caller: Caller) -> ApiResult<Data<CartView>> {
    Ok(Data(app.mall.cart_view(caller.user.id).await?))
}

/// Adds units of a SKU (merged with its line).
#[utoipa::path(post, path = "/api/v1/cart/items", tag = "cart", security(("bearer" = [])),
    request_body = AddCartItemRequest, responses((status = 200, body = Envelope<CartView>), AuthErrors))]
pub async fn add_item(
    State(app): State<App>,
    caller: Caller,
    Body(r): Body<AddCartItemRequest>,
) -> ApiResult<Data<CartView>> {
    app.mall.add_to_cart(caller.user.id, r.sku_id, r.quantity).await?;
    Ok(Data(app.mall.cart_view(caller.user.id).await?))
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
    app.mall.update_cart_item(caller.user.id, sku, r.quantity, r.selected).await?;
    Ok(Data(app.mall.cart_view(caller.user.id).await?))
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
    app.mall.set_cart_quantity(caller.user.id, sku, 0).await?;
    Ok(Data(app.mall.cart_view(caller.user.id).await?))
}

/// Empties the cart.
#[utoipa::path(delete, path = "/api/v1/cart", tag = "cart", security(("bearer" = [])),
    responses((status = 200, body = Envelope<CartView>), AuthErrors))]
pub async fn clear_cart(State(app): State<App>, caller: Caller) -> ApiResult<Data<CartView>> {
    app.mall.clear_cart(caller.user.id).await?;
    Ok(Data(app.mall.cart_view(caller.user.id).await?))
}
