//! Ricochet's HTTP API: the axum router, authentication, handlers, problem+json errors and
//! the OpenAPI document generated from the handlers' own types.

pub mod activity;
pub mod auth;
pub mod batch;
pub mod bindings;
pub mod dead_letters;
pub mod error;
pub mod events;
pub mod extract;
pub mod health;
pub mod integrations;
pub mod logs;
pub mod metrics;
pub mod oauth;
pub mod overview;
pub mod pagination;
pub mod permit;
pub mod preview;
pub mod publisher;
pub mod rate_limit;
pub mod references;
pub mod secrets;
pub mod signing;
pub mod spec;
pub mod stats;
pub mod tenants;
pub mod trace;
pub mod ui;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRef};
use axum::response::{IntoResponse, Response};
use sqlx::PgPool;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

pub use auth::AuthKeys;
use error::ApiError;

/// Request bodies larger than this are refused with 413.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// Default limit of a published event's body: 256 KiB.
pub const DEFAULT_EVENT_BODY_LIMIT: usize = 256 * 1024;
/// Default limit of a batch of events' body (`POST /api/v2/events/batch`): 8 MiB.
pub const DEFAULT_BATCH_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// What every handler can reach: cheap clones of shared handles.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub pool: PgPool,
    /// Token and admin-key checking.
    pub auth: Arc<AuthKeys>,
    /// Size limits of requests.
    pub limits: Limits,
    /// Seals secret values.
    pub keyring: Arc<ricochet_store::crypto::SharedKeyring>,
    /// Publishes events with group commit.
    pub publisher: publisher::Publisher,
    /// Serves `GET /metrics` on the API listener (false when a private `--metrics-listen`
    /// port serves it, or metrics are off).
    pub metrics_on_api: bool,
    /// Where integrations may point: literal addresses are checked when they are saved.
    pub targets: Arc<ricochet_domain::target::TargetPolicy>,
    /// Rate limits of `POST /oauth/token` (built from `limits.token_rates`).
    pub token_limiter: Arc<rate_limit::TokenLimiter>,
    /// Makes OpenTelemetry spans of requests when traces are exported (`--otlp-endpoint`).
    pub tracer: Option<opentelemetry_sdk::trace::SdkTracer>,
}

/// Size limits of requests.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest event body accepted by `POST /api/v2/events`, and largest event of a batch.
    pub event_body_bytes: usize,
    /// Rate limits of `POST /oauth/token`.
    pub token_rates: rate_limit::TokenRates,
    /// Largest body accepted by `POST /api/v2/events/batch`.
    pub batch_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            event_body_bytes: DEFAULT_EVENT_BODY_LIMIT,
            token_rates: rate_limit::TokenRates::default(),
            batch_body_bytes: DEFAULT_BATCH_BODY_LIMIT,
        }
    }
}

impl FromRef<AppState> for Arc<AuthKeys> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ricochet",
        description = "Multi-tenant control plane for outbound webhooks: integrations, event bindings, secrets, events, delivery logs and dead letters.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(logs::StatusClass, logs::AttemptOutcome)),
    servers((url = "/", description = "The Ricochet server that serves this document")),
    tags(
        (name = "auth", description = "OAuth2 client-credentials tokens"),
        (name = "tenants", description = "Tenants and their API clients (platform admin key)"),
        (name = "integrations", description = "Target endpoints and their retry policies"),
        (name = "event bindings", description = "Which event types reach which integration"),
        (name = "secrets", description = "Values substituted into requests at send time; write-only"),
        (name = "events", description = "Publishing events, and the events published"),
        (name = "logs", description = "Deliveries and their attempts"),
        (name = "stats", description = "Delivery statistics: success rate, response times, status codes"),
        (name = "dead letters", description = "Deliveries that will not be attempted again, until replayed"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
struct ApiDoc;

/// The API's routes; the batch route reads bodies up to `batch_body_bytes`, the others up to
/// the router's default limit.
fn api_router(batch_body_bytes: usize) -> OpenApiRouter<AppState> {
    let (schemas, paths, batch) = routes!(batch::publish_events_batch);
    let batch = batch.layer(DefaultBodyLimit::max(batch_body_bytes));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(oauth::issue_token))
        .routes(routes!(tenants::create_tenant, tenants::list_tenants))
        .routes(routes!(tenants::get_tenant, tenants::delete_tenant))
        .routes(routes!(tenants::create_client, tenants::list_clients))
        .routes(routes!(tenants::revoke_client))
        .routes(routes!(overview::get_overview))
        .routes(routes!(
            integrations::create_integration,
            integrations::list_integrations
        ))
        .routes(routes!(
            integrations::get_integration,
            integrations::replace_integration,
            integrations::patch_integration,
            integrations::delete_integration
        ))
        .routes(routes!(signing::get_signing_secret))
        .routes(routes!(signing::rotate_signing_secret))
        .routes(routes!(preview::preview_unsaved))
        .routes(routes!(preview::preview_integration))
        .routes(routes!(secrets::create_secret, secrets::list_secrets))
        .routes(routes!(
            secrets::get_secret,
            secrets::update_secret,
            secrets::delete_secret
        ))
        .routes(routes!(bindings::create_bindings, bindings::list_bindings))
        .routes(routes!(bindings::delete_binding))
        .routes(routes!(events::publish_event, activity::list_events))
        .routes(routes!(activity::get_event))
        .routes((schemas, paths, batch))
        // Not in the document: the event whose id is `batch`, under the batch route's path.
        .route(
            "/api/v2/events/batch",
            axum::routing::get(activity::get_event_named_batch),
        )
        .routes(routes!(activity::list_deliveries))
        .routes(routes!(stats::integration_stats))
        .routes(routes!(stats::tenant_stats))
        .routes(routes!(logs::list_logs))
        .routes(routes!(logs::get_delivery_with_attempts))
        .routes(routes!(dead_letters::list_dead_letters))
        .routes(routes!(dead_letters::replay_dead_letters))
        .routes(routes!(dead_letters::replay_dead_letter))
        .routes(routes!(dead_letters::purge_dead_letter))
}

/// The OpenAPI document of the API, as served at `/openapi.json`.
pub fn openapi() -> serde_json::Value {
    spec::finish(&api_router(DEFAULT_BATCH_BODY_LIMIT).into_openapi())
}

/// The OpenAPI document as the checked-in `openapi/openapi.json` holds it.
pub fn openapi_pretty_json() -> String {
    serde_json::to_string_pretty(&openapi()).expect("a JSON value renders")
}

/// The whole HTTP application: API, `/openapi.json`, the docs page at `/docs` and the
/// console at `/ui`.
pub fn router(state: AppState) -> axum::Router {
    let (router, spec) = api_router(state.limits.batch_body_bytes).split_for_parts();
    // Authorize in the docs page takes a client id and secret and gets a token in one step
    // (the oauth2 client-credentials scheme); the secret is sent with HTTP Basic.
    let swagger = SwaggerUi::new("/docs")
        .external_url_unchecked("/openapi.json", spec::finish(&spec))
        .config(utoipa_swagger_ui::Config::default().persist_authorization(true));
    let router = if state.metrics_on_api {
        router.route("/metrics", axum::routing::get(metrics::render))
    } else {
        router
    };
    let router = router
        .merge(swagger)
        .merge(ui::router())
        .route_layer(axum::middleware::from_fn(metrics::track));
    // Without traces exported, no layer at all: requests pay nothing for them.
    let router = match state.tracer.clone() {
        Some(tracer) => {
            router.route_layer(axum::middleware::from_fn_with_state(tracer, trace::request))
        }
        None => router,
    };
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(
            DEFAULT_BODY_LIMIT.max(state.limits.event_body_bytes),
        ))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                ApiError::internal("a handler panicked").into_response()
            },
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> Response {
    ApiError::NotFound("route").into_response()
}

async fn method_not_allowed() -> Response {
    ApiError::MethodNotAllowed.into_response()
}
