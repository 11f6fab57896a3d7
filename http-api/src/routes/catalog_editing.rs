//! Merchants edit their catalog (seed 002 §5.3–5.5, §10.2): products, SKUs,
//! on/off sale, stock adjustments. Merchant staff edit their own merchant's
//! products; admins any (naming the merchant when creating).

use std::collections::BTreeMap;

use axum::extract::State;
use mallkit_core::catalog::editing::{NewSku, SkuChange};
use mallkit_core::catalog::{ProductStatus, Sku};
use mallkit_core::ids::{CategoryId, MerchantId, ProductId, SkuId};
use mallkit_core::storefront::ProductDetail;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::App;
use crate::amount::Amount;
use crate::envelope::{Data, Envelope};
use crate::error::{ApiError, ApiResult, AuthErrors};
use crate::extract::{Body, Param, Staff};

/// A SKU to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkuRequest {
    /// Variant attributes such as `{"颜色": "黑色"}`.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Price, yuan.
    #[schema(value_type = mallkit_core::Money)]
    pub price: Amount,
    /// Crossed-out list price, yuan.
    #[schema(value_type = Option<mallkit_core::Money>)]
    pub original_price: Option<Amount>,
    /// Weight, grams.
    pub weight_grams: Option<u32>,
    /// Initial available units (0–1,000,000).
    pub stock: u32,
}

impl From<SkuRequest> for NewSku {
    fn from(r: SkuRequest) -> NewSku {
        NewSku {
            attributes: r.attributes,
            price: r.price.0,
            original_price: r.original_price.map(|a| a.0),
            weight_grams: r.weight_grams,
            stock: r.stock,
        }
    }
}

/// A product to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductRequest {
    /// The merchant: required for an admin; merchant staff create for their own.
    pub merchant_id: Option<MerchantId>,
    /// Category.
    pub category_id: CategoryId,
    /// Name, 1–100 characters.
    #[schema(example = "小米14 Pro")]
    pub name: String,
    /// Its SKUs (1–50).
    pub skus: Vec<SkuRequest>,
}

/// Product fields to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductChangeRequest {
    /// New name.
    pub name: Option<String>,
    /// New category.
    pub category_id: Option<CategoryId>,
}

/// On or off sale.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductStatusRequest {
    /// `on_sale` or `off_sale`.
    pub status: ProductStatus,
}

/// SKU fields to change (never the stock: see the stock endpoint).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkuChangeRequest {
    /// New attributes.
    pub attributes: Option<BTreeMap<String, String>>,
    /// New price, yuan.
    #[schema(value_type = Option<mallkit_core::Money>)]
    pub price: Option<Amount>,
    /// New list price, yuan.
    #[schema(value_type = Option<mallkit_core::Money>)]
    pub original_price: Option<Amount>,
    /// New weight, grams.
    pub weight_grams: Option<u32>,
}

/// A stock adjustment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockAdjustRequest {
    /// Units to add (positive) or remove from available (negative).
    pub change: i64,
    /// Why (盘点, 入库, 报损…).
    pub reason: String,
}

/// Creates a product with its SKUs (on sale).
#[utoipa::path(post, path = "/api/v1/admin/products", tag = "back-office", security(("bearer" = [])),
    request_body = ProductRequest, responses((status = 200, body = Envelope<ProductDetail>), AuthErrors))]
pub async fn create_product(
    State(app): State<App>,
    staff: Staff,
    Body(r): Body<ProductRequest>,
) -> ApiResult<Data<ProductDetail>> {
    let merchant = match (staff.merchant, r.merchant_id) {
        (Some(own), _) => r.merchant_id.unwrap_or(own),
        (None, Some(m)) => m,
        (None, None) => {
            return Err(ApiError::Decode { field: "merchant_id".into(), message: "is required for an admin".into() });
        }
    };
    let skus = r.skus.into_iter().map(NewSku::from).collect();
    Ok(Data(app.mall.create_product(staff.caller.actor(), merchant, r.category_id, &r.name, skus).await?))
}

/// Renames a product or moves it to another category.
#[utoipa::path(put, path = "/api/v1/admin/products/{id}", tag = "back-office", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Product id")), request_body = ProductChangeRequest,
    responses((status = 200, body = Envelope<ProductDetail>), AuthErrors))]
pub async fn update_product(
    State(app): State<App>,
    staff: Staff,
    Param(id): Param<ProductId>,
    Body(r): Body<ProductChangeRequest>,
) -> ApiResult<Data<ProductDetail>> {
    Ok(Data(app.mall.update_product(staff.caller.actor(), id, r.name.as_deref(), r.category_id).await?))
}

/// Puts a product on or off sale (上下架).
#[utoipa::path(put, path = "/api/v1/admin/products/{id}/status", tag = "back-office", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Product id")), request_body = ProductStatusRequest,
    responses((status = 200, body = Envelope<ProductDetail>), AuthErrors))]
pub async fn set_product_status(
    State(app): State<App>,
    staff: Staff,
    Param(id): Param<ProductId>,
    Body(r): Body<ProductStatusRequest>,
) -> ApiResult<Data<ProductDetail>> {
    Ok(Data(app.mall.set_product_status(staff.caller.actor(), id, r.status).await?))
}

/// Adds a SKU to a product.
#[utoipa::path(post, path = "/api/v1/admin/products/{id}/skus", tag = "back-office", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Product id")), request_body = SkuRequest,
    responses((status = 200, body = Envelope<Sku>), AuthErrors))]
pub async fn add_sku(
    State(app): State<App>,
    staff: Staff,
    Param(id): Param<ProductId>,
    Body(r): Body<SkuRequest>,
) -> ApiResult<Data<Sku>> {
    Ok(Data(app.mall.add_sku(staff.caller.actor(), id, r.into()).await?))
}

/// Changes a SKU's attributes, prices or weight.
#[utoipa::path(put, path = "/api/v1/admin/skus/{id}", tag = "back-office", security(("bearer" = [])),
    params(("id" = u64, Path, description = "SKU id")), request_body = SkuChangeRequest,
    responses((status = 200, body = Envelope<Sku>), AuthErrors))]
pub async fn update_sku(
    State(app): State<App>,
    staff: Staff,
    Param(id): Param<SkuId>,
    Body(r): Body<SkuChangeRequest>,
) -> ApiResult<Data<Sku>> {
    let change = SkuChange {
        attributes: r.attributes,
        price: r.price.map(|a| a.0),
        original_price: r.original_price.map(|a| Some(a.0)),
        weight_grams: r.weight_grams.map(Some),
    };
    Ok(Data(app.mall.update_sku(staff.caller.actor(), id, change).await?))
}

/// Adds or removes available units (调整库存); never touches reserved or sold units.
#[utoipa::path(post, path = "/api/v1/admin/skus/{id}/stock", tag = "back-office", security(("bearer" = [])),
    params(("id" = u64, Path, description = "SKU id")), request_body = StockAdjustRequest,
    responses((status = 200, body = Envelope<Sku>), AuthErrors))]
pub async fn adjust_stock(
    State(app): State<App>,
    staff: Staff,
    Param(id): Param<SkuId>,
    Body(r): Body<StockAdjustRequest>,
) -> ApiResult<Data<Sku>> {
    Ok(Data(app.mall.adjust_stock(staff.caller.actor(), id, r.change, &r.reason).await?))
}
