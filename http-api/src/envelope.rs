//! The success envelope and list pages (DESIGN §10, seed 001 §1.2).

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use mallkit_core::page::Page;
use mallkit_core::page::PageRequest;

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
    /// The checked request.
    ///
    /// # Errors
    /// [`ApiError::Decode`] naming `page` or `page_size`.
    pub fn request(&self) -> Result<PageRequest, ApiError> {
        PageRequest::new(self.page, self.page_size).map_err(|e| ApiError::Decode {
            field: e.field().into(),
            message: e.to_string()[e.field().len() + 2..].into(),
        })
    }

    /// Checks the bounds and returns (page, page_size).
    ///
    /// # Errors
    /// [`ApiError::Decode`] naming `page` or `page_size`.
    pub fn bounds(&self) -> Result<(u32, u32), ApiError> {
        let r = self.request()?;
        Ok((r.page(), r.page_size()))
    }

    /// One page of `items`.
    ///
    /// # Errors
    /// As [`PageQuery::bounds`].
    pub fn page<T>(&self, items: Vec<T>) -> Result<Page<T>, ApiError> {
        Ok(self.request()?.page_from_iter(items.into_iter()))
    }
}
