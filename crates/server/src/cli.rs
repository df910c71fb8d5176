//! What each command does.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ricochet_delivery::WorkerConfig;
use ricochet_domain::TenantId;
use ricochet_domain::tenant::{ApiClientIn, TenantIn};
use ricochet_store::crypto::{Keyring, SharedKeyring};
use secrecy::ExposeSecret;

use crate::app::{ApiSettings, Application, shutdown_signal};
use crate::config::{
    ApiOpts, Cli, Command, GlobalOpts, SecretsCommand, TenantsCommand, WorkerOpts,
};
use crate::database::Database;
use crate::keys::{self, Origin};

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Openapi => print_openapi(),
        Command::Serve(opts) => serve(&cli.global, Some(opts.api), Some(opts.worker)).await,
        Command::Api(opts) => serve(&cli.global, Some(opts), None).await,
        Command::Worker(opts) => serve(&cli.global, None, Some(opts)).await,
        Command::Migrate => {
            let db = open(&cli.global).await?;
            tracing::info!("migrations applied");
            db.close().await;
            Ok(())
        }
        Command::Tenants(TenantsCommand::Create { name, json }) => {
            create_tenant(&cli.global, name, json).await
        }
        Command::Secrets(SecretsCommand::Rekey) => rekey(&cli.global).await,
    }
}

fn print_openapi() -> anyhow::Result<()> {
    let spec = ricochet_api::openapi()
        .to_pretty_json()
        .context("rendering the OpenAPI document")?;
    writeln!(std::io::stdout(), "{spec}").context("writing to stdout")
}

async fn open(global: &GlobalOpts) -> anyhow::Result<Database> {
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
async fn serve(
    global: &GlobalOpts,
    api: Option<ApiOpts>,
    worker: Option<WorkerOpts>,
) -> anyhow::Result<()> {
    let db = open(global).await?;
    let result = run_roles(global, &db, api, worker).await;
    db.close().await;
    result
}

async fn run_roles(
    global: &GlobalOpts,
    db: &Database,
    api: Option<ApiOpts>,
    worker: Option<WorkerOpts>,
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
    let targets = Arc::new(global.target_policy());
    let worker_config = worker.as_ref().map(|opts| WorkerConfig {
        targets: targets.clone(),
        ..worker_config(opts)
    });
    // With both roles in this process, new deliveries go from the publisher straight to the
    // worker when it has room.
    let handoff = worker_config
        .as_ref()
        .filter(|_| api.is_some())
        .map(WorkerConfig::handoff);
    let api_task = match api {
        Some(opts) => {
            let mut settings = api_settings(global, &opts, keyring.clone())?;
            settings.handoff = handoff.clone();
            let app = Application::build(settings, db.pool.clone()).await?;
            tracing::info!(addr = %app.local_addr()?, "API listening");
            Some(tokio::spawn(app.run_until(stopped())))
        }
        None => None,
    };
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
    signal.abort();
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

/// `ricochet secrets rekey`.
async fn rekey(global: &GlobalOpts) -> anyhow::Result<()> {
    let keyring = keyring(global)?;
    if global.master_key.is_none() {
        keyring.rotate_file()?;
    }
    let db = open(global).await?;
    let result = ricochet_store::secrets::rekey(&db.pool, &keyring).await;
    db.close().await;
    let count = result?;
    let current = keyring.get().current_id().to_owned();
    writeln!(
        std::io::stdout(),
        "re-sealed {count} secret value(s) under master key {current}"
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
    Ok(ApiSettings {
        listen: opts.listen,
        admin_key,
        jwt_secret,
        token_ttl: Duration::from_secs(opts.token_ttl),
        limits: ricochet_api::Limits {
            event_body_bytes: opts.max_event_bytes,
        },
        keyring,
        publish_writers: usize::from(opts.publish_writers),
        handoff: None,
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
    let db = open(global).await?;
    let result = provision(&db, &input).await;
    db.close().await;
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
        writeln!(out, "The secret is shown only now. Get a token with:")?;
        writeln!(
            out,
            "  curl -s -u '{}:{}' -d grant_type=client_credentials http://127.0.0.1:8080/oauth/token",
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
