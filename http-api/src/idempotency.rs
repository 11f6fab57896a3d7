//! `Idempotency-Key` on creating requests (DESIGN §10): the same key with the
//! same request replays the first response; with a different request it is
//! refused with 409. Only successes are stored: a failed request releases
//! its key, so the client may retry it.

use std::future::Future;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use mallkit_core::ids::UserId;
use mallkit_core::storage::{IdempotencyClaim, StoredResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::App;
use crate::envelope::Envelope;
use crate::error::{ApiError, ApiResult};
use crate::extract::IdempotencyKey;

/// Days a key is kept; [`sweep`] forgets older ones. A retry with the same
/// key within this time replays the first answer.
pub const RETENTION_DAYS: i64 = 7;

/// Forgets the keys claimed more than [`RETENTION_DAYS`] ago; returns how many.
///
/// # Errors
/// [`ApiError::Domain`] with the storage error.
pub async fn sweep(app: &App) -> ApiResult<u64> {
    let before = app.clock.now() - Duration::days(RETENTION_DAYS);
    Ok(app.store.purge_idempotency(before).await.map_err(mallkit_core::MallError::from)?)
}

/// Seconds after which an unfinished claim may be taken over (24 hours).
/// A claim stays unfinished when its process died or its request timed out,
/// possibly after the work committed; taking it over sooner could do the
/// work twice, so until then the key answers 409 in progress and the client
/// uses a new key.
const STALE_AFTER_SECONDS: i64 = 24 * 3600;

/// A response that cannot be written as JSON is a bug, answered 500.
fn unrenderable(e: &serde_json::Error) -> ApiError {
    tracing::error!(error = %e, "a response could not be written as JSON");
    ApiError::Internal
}

fn json_response(status: StatusCode, body: String, replayed: bool) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// Runs `work` once per (user, key): `scope` names the endpoint and
/// `request` is the decoded body, together the request's fingerprint.
///
/// # Errors
/// [`ApiError::IdempotencyKeyReused`], [`ApiError::IdempotencyInProgress`],
/// and whatever `work` returns.
pub async fn once<T, F>(
    app: &App,
    user: UserId,
    key: IdempotencyKey,
    scope: &str,
    request: &impl Serialize,
    work: F,
) -> ApiResult<Response>
where
    T: Serialize,
    F: Future<Output = ApiResult<T>>,
{
    let render = |data: T| serde_json::to_string(&Envelope { code: 0, message: "success", data });
    let Some(key) = key.0 else {
        let body = render(work.await?).map_err(|e| unrenderable(&e))?;
        return Ok(json_response(StatusCode::OK, body, false));
    };
    let mut hasher = Sha256::new();
    hasher.update(scope.as_bytes());
    hasher.update([0]);
    hasher.update(serde_json::to_vec(request).unwrap_or_default());
    let fingerprint = hex::encode(hasher.finalize());
    let now = app.clock.now();
    let stale = now - Duration::seconds(STALE_AFTER_SECONDS);
    let claim = app
        .store
        .claim_idempotency(user, &key, &fingerprint, now, stale)
        .await
        .map_err(mallkit_core::MallError::from)?;
    match claim {
        IdempotencyClaim::Replay(stored) => {
            let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
            Ok(json_response(status, stored.body, true))
        }
        IdempotencyClaim::InProgress => Err(ApiError::IdempotencyInProgress),
        IdempotencyClaim::Mismatch => Err(ApiError::IdempotencyKeyReused),
        IdempotencyClaim::Started => match work.await.and_then(|data| render(data).map_err(|e| unrenderable(&e))) {
            Ok(body) => {
                let stored = StoredResponse { status: 200, body: body.clone() };
                app.store.finish_idempotency(user, &key, stored).await.map_err(mallkit_core::MallError::from)?;
                Ok(json_response(StatusCode::OK, body, false))
            }
            Err(e) => {
                app.store.release_idempotency(user, &key).await.map_err(mallkit_core::MallError::from)?;
                Err(e)
            }
        },
    }
}
