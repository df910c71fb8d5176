//! `Application`: the API bound to its listener, and the roles of one process sharing one
//! shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ricochet_api::{AppState, AuthKeys, Limits};
use ricochet_domain::target::TargetPolicy;
use ricochet_runtime::Handoff;
use ricochet_store::crypto::SharedKeyring;
use secrecy::SecretString;
use sqlx::PgPool;
use tokio::net::TcpListener;

/// What the API needs beyond the database.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Address to bind (port 0 picks one).
    pub listen: SocketAddr,
    /// The platform admin key.
    pub admin_key: SecretString,
    /// The token-signing secret.
    pub jwt_secret: SecretString,
    /// Access-token lifetime.
    pub token_ttl: Duration,
    /// Request size limits.
    pub limits: Limits,
    /// Seals secret values.
    pub keyring: Arc<SharedKeyring>,
    /// Publishing batches committed side by side.
    pub publish_writers: usize,
    /// Publishing writers that commit a batch beside the others only while events pile up
    /// (64 or more waiting, as batch publishes bring).
    pub publish_overflow_writers: usize,
    /// How long a publishing writer may hold its next batch for the callers it just answered.
    pub publish_regather: Duration,
    /// The hand-over to the delivery worker of this process, when it runs one.
    pub handoff: Option<Arc<Handoff>>,
    /// Makes OpenTelemetry spans of requests and publishes, when traces are exported.
    pub tracer: Option<opentelemetry_sdk::trace::SdkTracer>,
    /// Serve `GET /metrics` on the API listener.
    pub metrics_on_api: bool,
    /// Where integrations may point (checked again at send time by the worker).
    pub targets: Arc<TargetPolicy>,
}

/// The API, bound and ready to serve.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
}

impl Application {
    /// Binds the listener and builds the router.
    pub async fn build(settings: ApiSettings, pool: PgPool) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("binding {}", settings.listen))?;
        let auth = Arc::new(
            AuthKeys::new(&settings.jwt_secret, settings.admin_key, settings.token_ttl)
                .checking_clients_in(pool.clone()),
        );
        let publisher = ricochet_api::publisher::Publisher::spawn(
            &pool,
            settings.publish_writers,
            settings.publish_overflow_writers,
            settings.publish_regather,
            settings.handoff.as_ref(),
        )
        .traced(settings.tracer.clone());
        let token_limiter = Arc::new(ricochet_api::rate_limit::TokenLimiter::new(
            settings.limits.token_rates,
        ));
        let router = ricochet_api::router(AppState {
            pool,
            auth,
            token_limiter,
            limits: settings.limits,
            keyring: settings.keyring,
            publisher,
            metrics_on_api: settings.metrics_on_api,
            targets: settings.targets,
            tracer: settings.tracer,
        });
        Ok(Application { listener, router })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listener
            .local_addr()
            .context("reading the bound address")
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // The peer address feeds the token endpoint's per-address rate limit.
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP")
    }
}

/// Completes on SIGINT (ctrl-c) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "listening for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "listening for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested");
}
