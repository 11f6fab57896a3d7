//! Request extractors whose failures are envelope errors naming the field:
//! JSON bodies, path ids, queries, the caller behind a bearer token, and the
//! `Idempotency-Key` header.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, RawPathParams, Request};
use axum::http::header;
use axum::http::request::Parts;
use mallkit_core::MallError;
use mallkit_core::identity::{Role, User};
use mallkit_core::ids::{MerchantId, SessionId};
use mallkit_core::order::Actor;
use serde::de::DeserializeOwned;

use crate::App;
use crate::error::ApiError;

/// A JSON body; a decoding failure names the JSON path of the bad field.
#[derive(Debug)]
pub struct Body<T>(pub T);

/// Decodes `bytes` as `T`, naming the JSON path of the first bad field.
///
/// # Errors
/// [`ApiError::Decode`].
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        let message = e.into_inner().to_string();
        // serde_json appends " at line L column C"; the path says more.
        let message = message.split(" at line ").next().unwrap_or_default().to_owned();
        ApiError::Decode { field, message }
    })?;
    de.end().map_err(|e| ApiError::Decode { field: "body".into(), message: e.to_string() })?;
    Ok(value)
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"));
        if !json {
            return Err(ApiError::Decode {
                field: "content-type".into(),
                message: "the body must be JSON (Content-Type: application/json)".into(),
            });
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge { limit: crate::BODY_LIMIT_BYTES }
            } else {
                ApiError::Decode { field: "body".into(), message: e.body_text() }
            }
        })?;
        // Every request body is a JSON object; serde would also take a
        // struct written as an array, which no client means.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| *b == b'[') {
            return Err(ApiError::Decode { field: "body".into(), message: "must be a JSON object".into() });
        }
        decode(&bytes).map(Body)
    }
}

/// A path parameter (an id); a bad one is a 400 naming the parameter.
#[derive(Debug)]
pub struct Param<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Param<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Param(value)),
            Err(e) => {
                // Our routes take one parameter: name it.
                let name = match RawPathParams::from_request_parts(parts, state).await {
                    Ok(params) => params.iter().next().map(|(k, _)| k.to_owned()),
                    Err(_) => None,
                };
                Err(ApiError::Decode { field: name.unwrap_or_else(|| "path".into()), message: e.body_text() })
            }
        }
    }
}

/// Query parameters; a bad one is a 400 naming it (unknown ones too).
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(Params).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { "query".to_owned() } else { path };
            ApiError::Decode { field, message: e.into_inner().to_string() }
        })
    }
}

/// The logged-in user behind `Authorization: Bearer <access token>`.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user.
    pub user: User,
    /// The session of the token.
    pub session: SessionId,
}

impl Caller {
    /// The order/after-sales actor this caller acts as: the buyer for a
    /// customer, the merchant for merchant staff, admin for an admin.
    pub fn actor(&self) -> Actor {
        match (self.user.role, self.user.merchant) {
            (Role::Admin, _) => Actor::Admin(self.user.id),
            (Role::Merchant, Some(m)) => Actor::Merchant(m),
            _ => Actor::Buyer(self.user.id),
        }
    }
}

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(MallError::Unauthenticated)?;
        let (user, session) = app.accounts.authenticate(token).await?;
        Ok(Caller { user, session })
    }
}

/// Merchant staff or an admin (order shipping, after-sales handling).
#[derive(Debug, Clone)]
pub struct Staff {
    /// The caller.
    pub caller: Caller,
    /// The merchant a merchant user works for; `None` for an admin.
    pub merchant: Option<MerchantId>,
}

impl FromRequestParts<App> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, app).await?;
        match caller.user.role {
            Role::Admin => Ok(Staff { caller, merchant: None }),
            Role::Merchant => Ok(Staff { merchant: caller.user.merchant, caller }),
            Role::Customer => Err(MallError::Forbidden { role: "customer", action: "use the back office" }.into()),
        }
    }
}

/// An admin (coupon templates, points, tiers, customers).
#[derive(Debug, Clone)]
pub struct Admin(pub Caller);

impl FromRequestParts<App> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, app).await?;
        match caller.user.role {
            Role::Admin => Ok(Admin(caller)),
            Role::Merchant => Err(MallError::Forbidden { role: "merchant", action: "use admin endpoints" }.into()),
            Role::Customer => Err(MallError::Forbidden { role: "customer", action: "use admin endpoints" }.into()),
        }
    }
}

/// The `Idempotency-Key` header, 1–128 visible ASCII characters, when sent.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(IdempotencyKey(None));
        };
        let key = value.to_str().ok().map(str::trim).filter(|k| !k.is_empty() && k.len() <= 128).ok_or_else(|| {
            ApiError::Decode {
                field: "Idempotency-Key".into(),
                message: "must be 1-128 visible ASCII characters".into(),
            }
        })?;
        Ok(IdempotencyKey(Some(key.to_owned())))
    }
}
