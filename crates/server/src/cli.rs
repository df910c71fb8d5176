//! What each command does.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use opentelemetry::trace::TracerProvider as _;
use ricochet_delivery::WorkerConfig;
use ricochet_domain::TenantId;
use ricochet_domain::tenant::{ApiClientIn, TenantIn};
use ricochet_store::crypto::{Keyring, SharedKeyring};
use secrecy::ExposeSecret;

use crate::app::{ApiSettings, Application, shutdown_signal};
use crate::config::{
    ApiOpts, Cli, Command, DEFAULT_LISTEN, GlobalOpts, SecretsCommand, TenantsCommand, WorkerOpts,
};
use crate::data_dir::{self, DataDirLock};
use crate::database::Database;
use crate::keys::{self, Origin};

/// How often the stats rollups are compacted.
const ROLLUP_COMPACTION: Duration = Duration::from_secs(30);

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Openapi => print_openapi(),
        Command::Serve(opts) => serve(&cli.global, Some(opts.api), Some(opts.worker)).await,
        Command::Api(opts) => serve(&cli.global, Some(opts), None).await,
        Command::Worker(opts) => serve(&cli.global, None, Some(opts)).await,
        Command::Migrate => {
            let session = open_for_command(&cli.global, "migrate").await?;
            tracing::info!("migrations applied");
            session.close().await;
            Ok(())
        }
        Command::Tenants(TenantsCommand::Create { name, json }) => {
            create_tenant(&cli.global, name, json).await
        }
        Command::Tenants(TenantsCommand::List { json }) => {
            crate::operator::tenants_list(&cli.global, json).await
        }
        Command::Tenants(TenantsCommand::Show { name, json }) => {
            crate::operator::tenants_show(&cli.global, &name, json).await
        }
        Command::Status { json } => crate::operator::status(&cli.global, json).await,
        Command::Secrets(SecretsCommand::Rekey) => rekey(&cli.global).await,
    }
}

fn print_openapi() -> anyhow::Result<()> {
    let spec = ricochet_api::openapi_pretty_json();
    writeln!(std::io::stdout(), "{spec}").context("writing to stdout")
}

/// The database of a one-off command (`tenants create`, `migrate`, ...), and what it found.
struct Session {
    db: Database,
    /// Held while this command runs the embedded cluster itself (no server was running).
    lock: Option<DataDirLock>,
    /// The API of the server running on this data directory, if one runs and said where.
    server_url: Option<String>,
}

impl Session {
    async fn close(self) {
        self.db.close().await;
        drop(self.lock);
    }
}

/// Opens the database for a one-off command. On the embedded cluster it says on stderr
/// whether it found a running server (and its URL) or starts the cluster itself, and where.
async fn open_for_command(global: &GlobalOpts, command: &str) -> anyhow::Result<Session> {
    let (lock, server_url) = if global.database_url.is_none() {
        match DataDirLock::try_acquire(&global.data_dir, command)? {
            Ok(lock) => {
                writeln!(
                    std::io::stderr(),
                    "no Ricochet server is running on data directory {}: starting its PostgreSQL cluster in {} for this command",
                    global.data_dir.display(),
                    data_dir::cluster_dir(&global.data_dir).display()
                )?;
                (Some(lock), None)
            }
            Err(holder) => {
                let url = data_dir::server_url(&global.data_dir);
                writeln!(
                    std::io::stderr(),
                    "using the database of the Ricochet server running on data directory {} ({}{})",
                    global.data_dir.display(),
                    holder.describe(),
                    url.as_ref()
                        .map(|u| format!(", API at {u}"))
                        .unwrap_or_default()
                )?;
                (None, url)
            }
        }
    } else {
        (None, None)
    };
    let db = open(global).await?;
    Ok(Session {
        db,
        lock,
        server_url,
    })
}

pub(crate) async fn open(global: &GlobalOpts) -> anyhow::Result<Database> {
    let db = Database::open(
        global.database_url.as_ref(),
        &global.data_dir,
        global.db_max_connections,
        &global.pg_settings,
    )
    .await?;
    db.migrate().await?;
    Ok(db)
}

/// Runs the API (with `api`) and the worker (with `worker`) until SIGINT/SIGTERM.
///
/// On the embedded cluster the process takes the data directory's lock for its life and
/// supervises the cluster. A second `serve` on a locked data directory refuses to start; an
/// `api` or `worker` role joins the cluster of the process holding it (roles scale out on one
/// database), and takes the lock and the supervision over when that process exits.
async fn serve(
    global: &GlobalOpts,
    api: Option<ApiOpts>,
    worker: Option<WorkerOpts>,
) -> anyhow::Result<()> {
    let role = match (&api, &worker) {
        (Some(_), Some(_)) => "serve",
        (Some(_), None) => "api",
        _ => "worker",
    };
    let lock = match global.database_url {
        Some(_) => None,
        None => match DataDirLock::try_acquire(&global.data_dir, role)? {
            Ok(lock) => Some(lock),
            Err(holder) if role == "serve" => anyhow::bail!(
                "data directory {} is in use by {}: run one `ricochet serve` per data directory (stop the other, or use another --data-dir)",
                global.data_dir.display(),
                holder.describe()
            ),
            Err(holder) => {
                tracing::info!(holder = %holder.describe(), "joining the embedded cluster of the process holding the data directory");
                None
            }
        },
    };
    let mut db = open(global).await?;
    let holds_data_dir = lock.is_some();
    // The lock moves to the supervisor, which lives as long as the database handle.
    db.supervise(global.data_dir.clone(), role, lock);
    let result = run_roles(global, &db, api, worker, holds_data_dir).await;
    if holds_data_dir {
        data_dir::remove_listen_addr(&global.data_dir);
    }
    db.close().await;
    result
}

async fn run_roles(
    global: &GlobalOpts,
    db: &Database,
    api: Option<ApiOpts>,
    worker: Option<WorkerOpts>,
    holds_data_dir: bool,
) -> anyhow::Result<()> {
    let keyring = keyring(global)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let signal = tokio::spawn(async move {
        shutdown_signal().await;
        stop_tx.send_replace(true);
    });
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };
    ricochet_api::metrics::install();
    ricochet_delivery::observe::set_per_integration(global.metrics_per_integration);
    let compactor = crate::observe::spawn_rollup_compactor(db.pool.clone(), ROLLUP_COMPACTION);
    let sampler = crate::observe::spawn_sampler(
        db.pool.clone(),
        Duration::from_millis(global.metrics_sample_ms),
    );
    let metrics_task = match global.metrics_listen {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding --metrics-listen {addr}"))?;
            tracing::info!(addr = %listener.local_addr()?, "metrics listening");
            let serving = axum::serve(listener, ricochet_api::metrics::router())
                .with_graceful_shutdown(stopped());
            Some(tokio::spawn(async move {
                if let Err(e) = serving.await {
                    tracing::error!(error = %e, "serving /metrics failed");
                }
            }))
        }
        None => None,
    };
    let traces = crate::telemetry::traces(global.otlp_endpoint.as_ref())?;
    let tracer = traces.as_ref().map(|provider| provider.tracer("ricochet"));
    let targets = Arc::new(global.target_policy());
    let worker_config = worker.as_ref().map(|opts| WorkerConfig {
        targets: targets.clone(),
        tracer: tracer.clone(),
        ..worker_config(opts)
    });
    // With both roles in this process, new deliveries go from the publisher straight to the
    // worker when it has room.
    let handoff = worker_config
        .as_ref()
        .filter(|_| api.is_some() && worker.as_ref().is_some_and(|opts| opts.handoff))
        .map(WorkerConfig::handoff);
    let api_task = match api {
        Some(opts) => {
            let mut settings = api_settings(global, &opts, keyring.clone())?;
            settings.handoff = handoff.clone();
            settings.tracer = tracer;
            let app = Application::build(settings, db.pool.clone()).await?;
            let addr = app.local_addr()?;
            if holds_data_dir {
                // So that CLI commands on this data directory can say which server they use.
                data_dir::write_listen_addr(&global.data_dir, addr)?;
            }
            // `handoff`: whether new deliveries go straight to this process's worker.
            tracing::info!(addr = %addr, handoff = handoff.is_some(), "API listening");
            Some(tokio::spawn(app.run_until(stopped())))
        }
        None => None,
    };
    // Retention belongs to the worker role: any number of workers may run it side by side.
    let retention_task = worker.as_ref().map(|opts| {
        let mut config = ricochet_delivery::retention::RetentionConfig::new(opts.retention);
        config.every = opts.retention_interval;
        tokio::spawn(ricochet_delivery::retention::run(
            db.pool.clone(),
            config,
            stopped(),
        ))
    });
    let worker_task = worker_config.map(|config| {
        tokio::spawn(ricochet_delivery::run(
            db.pool.clone(),
            config,
            keyring.clone(),
            handoff,
            stopped(),
        ))
    });
    let api_run = async {
        match api_task {
            Some(task) => task.await.context("API task")?,
            None => Ok(()),
        }
    };
    let worker_run = async {
        match worker_task {
            Some(task) => task
                .await
                .context("worker task")?
                .map_err(anyhow::Error::from),
            None => Ok(()),
        }
    };
    let (api_result, worker_result) = tokio::join!(api_run, worker_run);
    if let Some(task) = retention_task {
        task.await.ok();
    }
    signal.abort();
    sampler.abort();
    compactor.abort();
    if let Some(task) = metrics_task {
        task.abort();
    }
    if let Some(provider) = traces {
        let _ = tokio::task::spawn_blocking(move || {
            crate::telemetry::shut_down_traces(&provider);
        })
        .await;
    }
    tracing::info!("stopped");
    api_result.and(worker_result)
}

/// The worker's configuration from its options.
pub fn worker_config(opts: &WorkerOpts) -> WorkerConfig {
    let mut config = WorkerConfig::new(
        opts.worker_concurrency as usize,
        opts.worker_batch_size as usize,
        Duration::from_millis(opts.lease_grace_ms),
    );
    config.shutdown_timeout = Duration::from_secs(opts.shutdown_timeout);
    config.max_body_bytes = opts.max_payload_bytes;
    config.prefetch = Duration::from_millis(opts.prefetch_ms);
    config.writers = usize::from(opts.record_writers);
    config.record_linger = Duration::from_millis(opts.record_linger_ms);
    config.max_lost_leases = opts.max_lost_leases;
    config
}

/// The keyring sealing secret values: from RICOCHET_MASTER_KEY, or the data directory's file.
pub fn keyring(global: &GlobalOpts) -> anyhow::Result<Arc<SharedKeyring>> {
    let keyring = match &global.master_key {
        Some(keys) => SharedKeyring::fixed(
            Keyring::parse(keys.expose_secret()).context("RICOCHET_MASTER_KEY")?,
        ),
        None => {
            let path = global.data_dir.join("master.keys");
            let keyring = SharedKeyring::from_file(&path)?;
            tracing::info!(path = %path.display(), "master keyring for secrets");
            keyring
        }
    };
    Ok(Arc::new(keyring))
}

/// How long `secrets rekey` waits before its second pass: longer than a server's write of a
/// secret or signing key, sealed just before the keyring's file changed, takes to commit.
const REKEY_SETTLE: std::time::Duration = std::time::Duration::from_secs(2);

/// `ricochet secrets rekey`.
async fn rekey(global: &GlobalOpts) -> anyhow::Result<()> {
    let keyring = keyring(global)?;
    if global.master_key.is_none() {
        keyring.rotate_file()?;
    }
    let session = open_for_command(global, "secrets rekey").await?;
    let result = ricochet_store::secrets::rekey_all(&session.db.pool, &keyring, REKEY_SETTLE).await;
    session.close().await;
    let (secrets, signing) = result?;
    let current = keyring.get().current_id().to_owned();
    writeln!(
        std::io::stdout(),
        "re-sealed {secrets} secret value(s) and {signing} signing key(s) under master key {current}"
    )?;
    Ok(())
}

fn api_settings(
    global: &GlobalOpts,
    opts: &ApiOpts,
    keyring: Arc<SharedKeyring>,
) -> anyhow::Result<ApiSettings> {
    let (admin_key, origin) = keys::load_or_generate(
        opts.admin_key.as_ref(),
        &global.data_dir,
        "admin.key",
        16,
        "admin key",
    )?;
    match origin {
        Origin::File(path) => {
            tracing::info!(path = %path.display(), "platform admin key (use it as `Authorization: Bearer <key>` on /api/v2/tenants)");
        }
        Origin::Configured => tracing::info!("platform admin key from RICOCHET_ADMIN_KEY"),
    }
    let (jwt_secret, _) = keys::load_or_generate(
        opts.jwt_secret.as_ref(),
        &global.data_dir,
        "jwt.key",
        32,
        "JWT secret",
    )?;
    let secrets = ricochet_api::auth::jwt_secrets(&jwt_secret);
    if secrets.is_empty() || secrets.iter().any(|s| s.len() < 32) {
        anyhow::bail!(
            "every JWT secret (comma-separated, the first signing) must be at least 32 characters"
        );
    }
    Ok(ApiSettings {
        listen: opts.listen,
        admin_key,
        jwt_secret,
        token_ttl: Duration::from_secs(opts.token_ttl),
        limits: ricochet_api::Limits {
            event_body_bytes: opts.max_event_bytes,
            token_rates: opts.token_rates(),
            batch_body_bytes: opts.max_batch_bytes,
        },
        keyring,
        publish_writers: usize::from(opts.publish_writers),
        publish_overflow_writers: usize::from(opts.publish_overflow_writers),
        publish_regather: Duration::from_micros(opts.publish_regather_us),
        handoff: None,
        tracer: None,
        metrics_on_api: global.metrics_listen.is_none(),
        targets: Arc::new(global.target_policy()),
    })
}

async fn create_tenant(global: &GlobalOpts, name: String, json: bool) -> anyhow::Result<()> {
    let input = TenantIn { name };
    if let Err(errors) = input.validate() {
        let reasons: Vec<String> = errors
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        anyhow::bail!("invalid tenant: {}", reasons.join("; "));
    }
    let session = open_for_command(global, "tenants create").await?;
    let result = provision(&session.db, &input).await;
    let server_url = session.server_url.clone();
    session.close().await;
    let (tenant, client) = result?;
    let mut out = std::io::stdout();
    if json {
        let value = serde_json::json!({
            "tenantId": tenant.id,
            "name": tenant.name,
            "clientId": client.client.client_id,
            "clientSecret": client.client_secret,
            "permissions": client.client.permissions,
        });
        writeln!(out, "{value}")?;
    } else {
        writeln!(out, "tenant:        {} ({})", tenant.name, tenant.id)?;
        writeln!(out, "client_id:     {}", client.client.client_id)?;
        writeln!(out, "client_secret: {}", client.client_secret)?;
        let (base, note) = match server_url {
            Some(url) => (url, String::new()),
            None => (
                format!("http://{DEFAULT_LISTEN}"),
                format!(
                    " (once `ricochet serve --data-dir {}` runs, at its default address)",
                    global.data_dir.display()
                ),
            ),
        };
        writeln!(out, "The secret is shown only now. Get a token{note} with:")?;
        writeln!(
            out,
            "  curl -s -u '{}:{}' -d grant_type=client_credentials {base}/oauth/token",
            client.client.client_id, client.client_secret
        )?;
    }
    Ok(())
}

async fn provision(
    db: &Database,
    input: &TenantIn,
) -> anyhow::Result<(
    ricochet_store::tenants::Tenant,
    ricochet_api::tenants::ApiClientCreated,
)> {
    let tenant = ricochet_store::tenants::create_tenant(&db.pool, TenantId::new(), &input.name)
        .await
        .map_err(|e| match e {
            ricochet_store::StoreError::Conflict(_) => {
                anyhow::anyhow!("a tenant named `{}` already exists", input.name)
            }
            other => anyhow::Error::new(other).context("creating the tenant"),
        })?;
    let client_in = ApiClientIn {
        name: "default".into(),
        permissions: None,
    };
    let client = ricochet_api::tenants::provision_client(&db.pool, TenantId(tenant.id), &client_in)
        .await
        .map_err(|e| anyhow::anyhow!("creating the API client: {e}"))?;
    Ok((tenant, client))
}
