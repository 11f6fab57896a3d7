//! The success envelope and list pages (DESIGN §10, seed 001 §1.2).

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

/// `{"code":0,"message":"success","data":…}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Envelope<T> {
    /// Always 0 on success.
    pub code: u32,
    /// Always `success`.
    pub message: &'static str,
    /// The payload.
    pub data: T,
}

/// A handler's success: `data` wrapped in the envelope, status 200.
#[derive(Debug)]
pub struct Data<T>(pub T);

impl<T: Serialize> IntoResponse for Data<T> {
    fn into_response(self) -> Response {
        Json(Envelope { code: 0, message: "success", data: self.0 }).into_response()
    }
}

/// Pagination query: `page` from 1, `page_size` 1–100 (default 20).
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1 (default 1).
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 20).
    pub page_size: Option<u32>,
}

impl PageQuery {
    /// Checks the bounds and returns (page, page_size).
    ///
    /// # Errors
    /// [`ApiError::Decode`] naming `page` or `page_size`.
    pub fn bounds(&self) -> Result<(u32, u32), ApiError> {
        let page = self.page.unwrap_or(1);
        let size = self.page_size.unwrap_or(20);
        if page == 0 {
            return Err(ApiError::Decode { field: "page".into(), message: "must be at least 1".into() });
        }
        if !(1..=100).contains(&size) {
            return Err(ApiError::Decode { field: "page_size".into(), message: "must be 1-100".into() });
        }
        Ok((page, size))
    }

    /// One page of `items`.
    ///
    /// # Errors
    /// As [`PageQuery::bounds`].
    pub fn page<T>(&self, items: Vec<T>) -> Result<Page<T>, ApiError> {
        let (page, page_size) = self.bounds()?;
        let total = items.len() as u64;
        let skip = (u64::from(page) - 1) * u64::from(page_size);
        let items: Vec<T> =
            items.into_iter().skip(usize::try_from(skip).unwrap_or(usize::MAX)).take(page_size as usize).collect();
        let has_more = skip + (items.len() as u64) < total;
        Ok(Page { items, total, page, page_size, has_more })
    }
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Items in the whole list.
    pub total: u64,
    /// This page, from 1.
    pub page: u32,
    /// Page size.
    pub page_size: u32,
    /// True when a later page has items.
    pub has_more: bool,
}
