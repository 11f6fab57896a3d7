//! # mallkit-http
//!
//! The HTTP adapter of mallkit (DESIGN §10): an axum router over the
//! commands of `mallkit-core`, for any store that implements its traits. It
//! decodes, authenticates, authorises, calls core and encodes; the rules live
//! in core.
//!
//! - [`App`] holds the engine ([`Mall`]), identity ([`Accounts`]) and the store;
//! - [`router`] builds the routes, the generated spec at `/openapi.json`, the
//!   offline docs page at `/docs`, `/health` and `/ready`, and the safe
//!   defaults (body limit, timeout, CORS, request ids, tracing);
//! - [`openapi`] gives the spec without a server (for `mallkit openapi` and
//!   the committed `openapi/openapi.json`).
//!
//! Conventions: base path `/api/v1`; success `{"code":0,"message":"success","data":…}`;
//! failure with a real status and `{"code":4005,"message":…,"error":{"type":…,"detail":…},"request_id":…}`
//! ([`error`]); amounts are JSON numbers of yuan, read exactly ([`amount`]);
//! lists take `page`/`page_size` ([`envelope::PageQuery`]).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode, header};
use mallkit_core::clock::{Clock, IdGen};
use mallkit_core::identity::{Accounts, IdentityPolicy, IdentityProvider, SmsSender};
use mallkit_core::payment::PaymentProvider;
use mallkit_core::storage::{IdempotencyStore, IdentityStore, Store};
use mallkit_core::{Mall, Policy};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

pub mod amount;
pub mod crypto;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod idempotency;
mod routes;

pub use crypto::{Argon2Credentials, DevSms, DevWechat, NoSms, NoWechat};

/// Largest request body accepted, bytes (64 KiB).
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// Everything the API needs from a store: the commerce traits, identity and idempotency keys.
pub trait Backend: Store + IdentityStore + IdempotencyStore + 'static {}
impl<T: Store + IdentityStore + IdempotencyStore + 'static> Backend for T {}

/// A store chosen at run time (memory or PostgreSQL).
pub type SharedStore = Arc<dyn Backend>;

/// Server settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Origins allowed by CORS; empty allows none (same-origin only), `*` any.
    pub cors_origins: Vec<String>,
    /// Time a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// Key of the simulated provider's callback HMAC.
    pub callback_key: Vec<u8>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            cors_origins: Vec::new(),
            request_timeout: Duration::from_secs(30),
            callback_key: b"mallkit-dev-callback-key".to_vec(),
        }
    }
}

/// The engine behind the routes.
pub struct AppParts {
    /// The store.
    pub store: SharedStore,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Ids.
    pub ids: Arc<dyn IdGen>,
    /// The payment provider.
    pub provider: Arc<dyn PaymentProvider>,
    /// Commerce policy.
    pub policy: Policy,
    /// Identity policy.
    pub identity: IdentityPolicy,
    /// Where forgot-password codes are sent ([`DevSms`] in development, [`NoSms`] when none is configured).
    pub sms: Arc<dyn SmsSender>,
    /// WeChat-style code login ([`DevWechat`] in development, [`NoWechat`] when none is configured).
    pub wechat: Arc<dyn IdentityProvider>,
}

/// Shared state of the routes.
pub struct AppState {
    /// Commerce commands.
    pub mall: Mall<SharedStore>,
    /// Identity commands.
    pub accounts: Accounts<SharedStore>,
    /// The store, for idempotency keys only: routes reach data through `mall` and `accounts`.
    pub store: SharedStore,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Callback HMAC key.
    pub callback_key: Vec<u8>,
}

/// Cheap handle on [`AppState`].
pub type App = Arc<AppState>;

/// Builds the state.
pub fn app(parts: AppParts, settings: &HttpSettings) -> App {
    let AppParts { store, clock, ids, provider, policy, identity, sms, wechat } = parts;
    let credentials = Arc::new(Argon2Credentials::default());
    let accounts = Accounts::new(store.clone(), clock.clone(), ids.clone(), credentials, sms, wechat, identity);
    Arc::new(AppState {
        mall: Mall::new(store.clone(), clock.clone(), ids, provider, policy),
        accounts,
        store,
        clock,
        callback_key: settings.callback_key.clone(),
    })
}

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some("An access token from /api/v1/auth/login (opaque, 2 hours).".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "mallkit",
        description = "The commerce engine's HTTP API: catalog, cart, coupons, checkout, orders, payments, \
                       points, member tiers, after-sales, identity and the back office. Amounts are yuan \
                       (JSON numbers, two decimals); times RFC 3339 UTC; enums snake_case.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0")
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "system", description = "Health and readiness"),
        (name = "auth", description = "Register, log in, sessions, password reset (DESIGN §9)"),
        (name = "account", description = "Profile and address book"),
        (name = "catalog", description = "Categories and products"),
        (name = "cart", description = "Shopping cart"),
        (name = "coupons", description = "Coupon market, claiming, held coupons"),
        (name = "orders", description = "Checkout preview, orders"),
        (name = "payments", description = "Payments and the simulated provider's callback"),
        (name = "points", description = "Points and member tiers"),
        (name = "after-sales", description = "After-sales (售后) for buyers"),
        (name = "back-office", description = "Merchant and admin endpoints")
    )
)]
struct ApiDoc;

fn api() -> (Router<App>, utoipa::openapi::OpenApi) {
    routes::register(OpenApiRouter::with_openapi(ApiDoc::openapi())).split_for_parts()
}

/// The OpenAPI document the routes generate.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().1
}

#[derive(Clone, Default)]
struct RequestIds {
    prefix: u32,
    next: Arc<std::sync::atomic::AtomicU64>,
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        HeaderValue::from_str(&format!("{:08x}-{n:06}", self.prefix)).ok().map(RequestId::new)
    }
}

/// The whole HTTP service: API routes, spec, docs, health, and the layers.
pub fn router(app: App, settings: &HttpSettings) -> Router {
    let (api, spec) = api();
    let request_id = HeaderName::from_static("x-request-id");
    let mut prefix = [0u8; 4];
    let _ = getrandom::fill(&mut prefix);
    let ids = RequestIds { prefix: u32::from_le_bytes(prefix), next: Arc::default() };
    let cors = if settings.cors_origins.iter().any(|o| o == "*") {
        CorsLayer::new().allow_origin(AllowOrigin::any())
    } else {
        let origins = settings.cors_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok());
        CorsLayer::new().allow_origin(AllowOrigin::list(origins))
    }
    .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
    .allow_headers([
        header::AUTHORIZATION,
        header::CONTENT_TYPE,
        header::ACCEPT_LANGUAGE,
        HeaderName::from_static("idempotency-key"),
    ]);
    api.merge(SwaggerUi::new("/docs").url("/openapi.json", spec))
        .fallback(|| async { error::ApiError::NoRoute })
        .with_state(app)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, settings.request_timeout))
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::from_fn(error::render_errors))
        .layer(cors)
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
                    tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(request_id, ids))
}
