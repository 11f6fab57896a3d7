//! The failure envelope (DESIGN §10): a real HTTP status, a seed 001 code, a
//! stable `error.type`, a message in Chinese (default) or English, and the
//! request id.
//!
//! Handlers return [`ApiError`]; its response carries the error as an
//! extension, and the [`render_errors`] middleware writes the body, because
//! only the middleware sees the request's `Accept-Language` and id.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mallkit_core::{ErrorClass, MallError};
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

/// seed 001 §1.2 codes.
pub mod code {
    /// Not logged in, or the token expired.
    pub const UNAUTHENTICATED: u32 = 4001;
    /// Logged in, but not allowed.
    pub const FORBIDDEN: u32 = 4002;
    /// No such resource (or not yours).
    pub const NOT_FOUND: u32 = 4003;
    /// Malformed or invalid input.
    pub const BAD_REQUEST: u32 = 4004;
    /// A business rule refused the request.
    pub const CONFLICT: u32 = 4005;
    /// Internal error.
    pub const INTERNAL: u32 = 5001;
    /// A dependency (database, payment provider) is unavailable.
    pub const UNAVAILABLE: u32 = 5002;
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// A domain refusal from core.
    Domain(MallError),
    /// Input that could not be decoded (bad JSON, a wrong type, an unknown
    /// field or enum value); `field` is the JSON path when known.
    Decode {
        /// JSON path such as `items[0].quantity`, or `body`.
        field: String,
        /// What was wrong.
        message: String,
    },
    /// A body over the size limit.
    TooLarge {
        /// Limit, bytes.
        limit: usize,
    },
    /// No route.
    NoRoute,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// The same `Idempotency-Key` with a different request.
    IdempotencyKeyReused,
    /// The same `Idempotency-Key` is being processed right now.
    IdempotencyInProgress,
    /// A bad callback signature.
    BadSignature,
    /// The request took longer than the server's timeout.
    Timeout,
    /// A bug: a handler panicked (caught, logged, answered 500).
    Internal,
}

impl From<MallError> for ApiError {
    fn from(e: MallError) -> ApiError {
        ApiError::Domain(e)
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;

/// The `error` member of a failure.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable reason, snake_case (e.g. `coupon_expired`, `invalid_input`).
    #[serde(rename = "type")]
    #[schema(example = "insufficient_stock")]
    pub kind: String,
    /// Technical detail in English, with the values involved.
    pub detail: String,
    /// The input field at fault, when there is one (JSON path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// A failure body (DESIGN §10).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// seed 001 code: 4001 unauthenticated, 4002 forbidden, 4003 not found,
    /// 4004 bad request, 4005 business conflict, 5001 internal, 5002 unavailable.
    #[schema(example = 4005)]
    pub code: u32,
    /// Human-readable message, Chinese by default, English with `Accept-Language: en`.
    pub message: String,
    /// The machine-readable part.
    pub error: ErrorDetail,
    /// The request id (also in the `x-request-id` response header).
    pub request_id: String,
}

/// Failures every authenticated endpoint can return (for the spec only:
/// never constructed, hence the `dead_code` allowance).
#[allow(dead_code)]
#[derive(IntoResponses)]
pub enum AuthErrors {
    /// Bad input, with the field named.
    #[response(status = 400)]
    BadRequest(#[to_schema] ErrorBody),
    /// Missing, unknown or expired token.
    #[response(status = 401)]
    Unauthenticated(ErrorBody),
    /// The caller's role may not do this, or the account is frozen.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such resource, or not the caller's.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// A business rule refused (stock, coupon, status, idempotency key).
    #[response(status = 409)]
    Conflict(ErrorBody),
}

/// Failures of endpoints that need no token (for the spec only).
#[allow(dead_code)]
#[derive(IntoResponses)]
pub enum PublicErrors {
    /// Bad input, with the field named.
    #[response(status = 400)]
    BadRequest(#[to_schema] ErrorBody),
    /// Wrong credentials.
    #[response(status = 401)]
    Unauthenticated(ErrorBody),
    /// No such resource.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// A business rule refused.
    #[response(status = 409)]
    Conflict(ErrorBody),
}

impl ApiError {
    /// HTTP status and seed 001 code.
    pub fn status(&self) -> (StatusCode, u32) {
        use StatusCode as S;
        match self {
            ApiError::Decode { .. } => (S::BAD_REQUEST, code::BAD_REQUEST),
            ApiError::TooLarge { .. } => (S::PAYLOAD_TOO_LARGE, code::BAD_REQUEST),
            ApiError::NoRoute => (S::NOT_FOUND, code::NOT_FOUND),
            ApiError::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, code::BAD_REQUEST),
            ApiError::IdempotencyKeyReused | ApiError::IdempotencyInProgress => (S::CONFLICT, code::CONFLICT),
            ApiError::BadSignature => (S::UNAUTHORIZED, code::UNAUTHENTICATED),
            ApiError::Timeout => (S::REQUEST_TIMEOUT, code::UNAVAILABLE),
            ApiError::Internal => (S::INTERNAL_SERVER_ERROR, code::INTERNAL),
            ApiError::Domain(e) => match e.class() {
                ErrorClass::InvalidInput => (S::BAD_REQUEST, code::BAD_REQUEST),
                ErrorClass::NotFound => (S::NOT_FOUND, code::NOT_FOUND),
                ErrorClass::Conflict => (S::CONFLICT, code::CONFLICT),
                ErrorClass::Forbidden => (S::FORBIDDEN, code::FORBIDDEN),
                ErrorClass::Unauthenticated => (S::UNAUTHORIZED, code::UNAUTHENTICATED),
                ErrorClass::TooManyRequests => (S::TOO_MANY_REQUESTS, code::CONFLICT),
                ErrorClass::Unavailable => (S::SERVICE_UNAVAILABLE, code::UNAVAILABLE),
            },
        }
    }

    /// The stable `error.type`.
    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::Domain(e) => e.kind(),
            ApiError::Decode { .. } => "invalid_input",
            ApiError::TooLarge { .. } => "payload_too_large",
            ApiError::NoRoute => "route_not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::IdempotencyInProgress => "idempotency_key_in_progress",
            ApiError::BadSignature => "bad_signature",
            ApiError::Timeout => "request_timeout",
            ApiError::Internal => "internal_error",
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            ApiError::Decode { field, .. } => Some(field.clone()),
            ApiError::Domain(e) => e.field().map(str::to_owned),
            ApiError::TooLarge { .. } => Some("body".to_owned()),
            _ => None,
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Domain(e) => e.to_string(),
            ApiError::Decode { field, message } => format!("{field}: {message}"),
            ApiError::TooLarge { limit } => format!("the body is larger than {limit} bytes"),
            ApiError::NoRoute => "no such route".to_owned(),
            ApiError::MethodNotAllowed => "method not allowed on this route".to_owned(),
            ApiError::IdempotencyKeyReused => "this Idempotency-Key was used with a different request".to_owned(),
            ApiError::IdempotencyInProgress => "a request with this Idempotency-Key is still running".to_owned(),
            ApiError::BadSignature => "the callback signature does not match".to_owned(),
            ApiError::Timeout => "the request took too long".to_owned(),
            ApiError::Internal => "internal error".to_owned(),
        }
    }

    /// The message in Chinese, with the field at fault in brackets.
    fn message_zh(&self) -> String {
        let field = self.field().map(|f| format!("（{f}）")).unwrap_or_default();
        let text = match self {
            ApiError::Domain(e) => e.message_zh(),
            ApiError::Decode { .. } => "请求参数错误",
            ApiError::TooLarge { .. } => "请求体过大",
            ApiError::NoRoute => "接口不存在",
            ApiError::MethodNotAllowed => "请求方法不被允许",
            ApiError::IdempotencyKeyReused => "幂等键已用于不同的请求",
            ApiError::IdempotencyInProgress => "相同幂等键的请求正在处理",
            ApiError::BadSignature => "签名校验失败",
            ApiError::Timeout => "请求超时",
            ApiError::Internal => "服务器内部错误",
        };
        format!("{text}{field}")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, _) = self.status();
        let mut response = status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// True when the request asks for English (`Accept-Language` starting with `en`).
fn wants_english(request: &Request) -> bool {
    request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("en"))
}

/// Middleware: renders the body of every [`ApiError`] response in the
/// caller's language with the request id, and turns the empty 405, 408 and
/// 413 responses of the router and layers into the same envelope.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let english = wants_english(&request);
    let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let mut response = next.run(request).await;
    let error = match response.extensions_mut().remove::<ApiError>() {
        Some(error) => error,
        None if response.status() == StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        None if response.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::TooLarge { limit: crate::BODY_LIMIT_BYTES }
        }
        None if response.status() == StatusCode::REQUEST_TIMEOUT => ApiError::Timeout,
        None if response.status() == StatusCode::INTERNAL_SERVER_ERROR => ApiError::Internal,
        None => return response,
    };
    let (status, code) = error.status();
    // A server-side failure's text (database messages, constraint names)
    // stays in the log; the client gets the kind and the request id.
    let detail = if status.is_server_error() {
        tracing::error!(kind = error.kind(), detail = %error.detail(), request_id, "request failed");
        format!("{}; the server log has the details under request id {request_id}", error.kind().replace('_', " "))
    } else {
        error.detail()
    };
    let message = if english { detail.clone() } else { error.message_zh() };
    let body = ErrorBody {
        code,
        message,
        error: ErrorDetail { kind: error.kind().to_owned(), detail, field: error.field() },
        request_id,
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut rendered = (status, bytes).into_response();
    rendered.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(id) = response.headers().get("x-request-id") {
        rendered.headers_mut().insert("x-request-id", id.clone());
    }
    rendered
}
