//! Categories and products (seed 001 §4, seed 004 §4): public, no token.

use axum::extract::State;
use mallkit_core::ids::{CategoryId, MerchantId, ProductId};
use mallkit_core::storefront::{CategoryNode, ProductDetail, ProductQuery, ProductSort, ProductSummary};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::App;
use crate::envelope::{Data, Envelope, Page, PageQuery};
use crate::error::{ApiResult, PublicErrors};
use crate::extract::{Param, Params};

/// Product search parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProductParams {
    /// Only this category and its sub-categories.
    pub category_id: Option<CategoryId>,
    /// Only this seller's products.
    pub merchant_id: Option<MerchantId>,
    /// Name contains (case-insensitive; Chinese of any length; at most 50 characters).
    pub keyword: Option<String>,
    /// Lowest price at least, yuan.
    #[param(value_type = Option<String>)]
    pub min_price: Option<String>,
    /// Lowest price at most, yuan.
    #[param(value_type = Option<String>)]
    pub max_price: Option<String>,
    /// `newest` (default), `price_asc`, `price_desc`, `sales`.
    #[param(inline)]
    pub sort: Option<ProductSort>,
    /// Page, from 1.
    pub page: Option<u32>,
    /// Page size, 1–100 (default 20).
    pub page_size: Option<u32>,
}

fn price(field: &str, value: Option<&String>) -> ApiResult<Option<mallkit_core::Money>> {
    value
        .map(|v| {
            v.parse().map_err(|_| crate::error::ApiError::Decode {
                field: field.into(),
                message: "must be an amount in yuan".into(),
            })
        })
        .transpose()
}

/// The category tree.
#[utoipa::path(get, path = "/api/v1/categories", tag = "catalog",
    responses((status = 200, body = Envelope<Vec<CategoryNode>>)))]
pub async fn categories(State(app): State<App>) -> ApiResult<Data<Vec<CategoryNode>>> {
    Ok(Data(app.mall.category_tree().await?))
}

/// Searches products on sale.
#[utoipa::path(get, path = "/api/v1/products", tag = "catalog", params(ProductParams),
    responses((status = 200, body = Envelope<Page<ProductSummary>>), PublicErrors))]
pub async fn products(
    State(app): State<App>,
    Params(p): Params<ProductParams>,
) -> ApiResult<Data<Page<ProductSummary>>> {
    let page = PageQuery { page: p.page, page_size: p.page_size }.request()?;
    let query = ProductQuery {
        category: p.category_id,
        merchant: p.merchant_id,
        keyword: p.keyword,
        min_price: price("min_price", p.min_price.as_ref())?,
        max_price: price("max_price", p.max_price.as_ref())?,
        sort: p.sort.unwrap_or_default(),
    };
    Ok(Data(app.mall.search_products(&query, page).await?))
}

/// A product with its SKUs, stock and seller.
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "catalog",
    params(("id" = u64, Path, description = "Product id")),
    responses((status = 200, body = Envelope<ProductDetail>), PublicErrors))]
pub async fn product(State(app): State<App>, Param(id): Param<ProductId>) -> ApiResult<Data<ProductDetail>> {
    Ok(Data(app.mall.product_detail(id).await?))
}
