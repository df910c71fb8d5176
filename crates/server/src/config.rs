//! The command line and its `RICOCHET_*` environment equivalents: defaults, then flags, then
//! environment, validated at start.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

/// Where the API listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Ricochet: a multi-tenant control plane for outbound webhooks.
#[derive(Debug, Parser)]
#[command(name = "ricochet", version, about)]
pub struct Cli {
    /// Options every command shares.
    #[command(flatten)]
    pub global: GlobalOpts,
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command shares.
#[derive(Debug, Args)]
pub struct GlobalOpts {
    /// Directory for the embedded PostgreSQL cluster and generated keys.
    #[arg(
        long,
        env = "RICOCHET_DATA_DIR",
        default_value = "./.ricochet",
        global = true
    )]
    pub data_dir: PathBuf,
    /// PostgreSQL URL of an existing server; without it Ricochet runs its own cluster in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<SecretString>,
    /// Log format.
    #[arg(long, env = "RICOCHET_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,
    /// Log filter (tracing's EnvFilter syntax).
    #[arg(long, env = "RICOCHET_LOG", default_value = "info", global = true)]
    pub log: String,
    /// Master key(s) sealing secret values: base64 32-byte keys, comma-separated, the first
    /// sealing. Without it, a keyring file in the data directory is used (generated once).
    #[arg(
        long,
        env = "RICOCHET_MASTER_KEY",
        hide_env_values = true,
        global = true
    )]
    pub master_key: Option<SecretString>,
    /// Most database connections this process opens.
    #[arg(
        long,
        env = "RICOCHET_DB_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    pub db_max_connections: u32,
    /// A PostgreSQL setting for the embedded cluster, `NAME=VALUE` (repeatable; several are
    /// separated by `;`), applied when Ricochet starts the cluster, e.g.
    /// `shared_buffers=256MB` or `shared_preload_libraries=pg_stat_statements`.
    #[arg(
        long = "pg-setting",
        env = "RICOCHET_PG_SETTINGS",
        value_name = "NAME=VALUE",
        value_parser = parse_pg_setting,
        value_delimiter = ';',
        global = true
    )]
    pub pg_settings: Vec<(String, String)>,
    /// Serve Prometheus `/metrics` on this address only (a private port), not on the API's.
    #[arg(long, env = "RICOCHET_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<SocketAddr>,
    /// Label attempt metrics with tenant and integration ids too: one series per
    /// integration, so only where their number is small.
    #[arg(long, env = "RICOCHET_METRICS_PER_INTEGRATION", global = true)]
    pub metrics_per_integration: bool,
    /// How often the queue's depth and lag and the integrations' circuits are sampled for
    /// `/metrics`, in ms.
    #[arg(long, env = "RICOCHET_METRICS_SAMPLE_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(100..=600_000), global = true)]
    pub metrics_sample_ms: u64,
    /// Address ranges (CIDR, comma-separated) deliveries may reach beyond public addresses,
    /// e.g. `10.0.0.0/8,fd00::/8` for receivers on a private network. Checked on the address
    /// connected, after DNS resolution.
    #[arg(
        long,
        env = "RICOCHET_ALLOW_TARGETS",
        value_name = "CIDR,...",
        value_delimiter = ',',
        global = true
    )]
    pub allow_targets: Vec<ipnet::IpNet>,
    /// Refuse integrations (and attempts) whose URL is not https.
    #[arg(long, env = "RICOCHET_REQUIRE_HTTPS", global = true)]
    pub require_https: bool,
    /// Export OpenTelemetry traces over OTLP/HTTP (protobuf) to this collector, e.g.
    /// `http://localhost:4318` (`/v1/traces` is added unless given), and send a W3C
    /// `traceparent` with every delivery. Off by default; the standard
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) turns it on too.
    #[arg(long, env = "RICOCHET_OTLP_ENDPOINT", value_name = "URL", value_parser = parse_http_url, global = true)]
    pub otlp_endpoint: Option<url::Url>,
}

impl GlobalOpts {
    /// Where deliveries may connect.
    pub fn target_policy(&self) -> ricochet_domain::target::TargetPolicy {
        ricochet_domain::target::TargetPolicy {
            allow: self.allow_targets.clone(),
            require_https: self.require_https,
        }
    }
}

/// `NAME=VALUE`, where NAME is a PostgreSQL setting name (letters, digits, `_` and `.`).
fn parse_pg_setting(raw: &str) -> Result<(String, String), String> {
    let (name, value) = raw
        .split_once('=')
        .ok_or_else(|| format!("`{raw}` is not NAME=VALUE"))?;
    let name = name.trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        return Err(format!("`{name}` is not a PostgreSQL setting name"));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

/// An http(s) URL.
fn parse_http_url(raw: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("`{raw}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("`{raw}` is not an http:// or https:// URL"));
    }
    Ok(url)
}

/// A humane, non-zero duration: `30d`, `12h`, `1h 30m`, `90s`.
fn parse_duration(raw: &str) -> Result<std::time::Duration, String> {
    let duration = humantime::parse_duration(raw)
        .map_err(|e| format!("`{raw}` is not a duration like 30d, 12h or 90s: {e}"))?;
    if duration.is_zero() {
        return Err("a duration must be longer than zero".into());
    }
    Ok(duration)
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API and the delivery worker in one process.
    Serve(ServeOpts),
    /// Run the API only.
    Api(ApiOpts),
    /// Run the delivery worker only.
    Worker(WorkerOpts),
    /// Apply the database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Manage tenants.
    #[command(subcommand)]
    Tenants(TenantsCommand),
    /// Queue depth, lag and failing integrations across tenants.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Manage secrets.
    #[command(subcommand)]
    Secrets(SecretsCommand),
}

/// Secret commands.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Re-seal every secret value under a new master key while the server runs. With the
    /// keyring file, a new key is generated and put first; with RICOCHET_MASTER_KEY, values
    /// are re-sealed under its first key (put the new key first, keep the old one after it).
    Rekey,
}

/// Options of `serve`: both roles.
#[derive(Debug, Clone, Args)]
pub struct ServeOpts {
    /// The API's options.
    #[command(flatten)]
    pub api: ApiOpts,
    /// The worker's options.
    #[command(flatten)]
    pub worker: WorkerOpts,
}

/// Options of the delivery worker role.
#[derive(Debug, Clone, Args)]
pub struct WorkerOpts {
    // Sized for the hand-over (BENCHMARKS.md, the "late night" section of 2026-12-06): at 256,
    // a fan-out of 10 published flat out outran it, and every delivery was then claimed from a
    // backlog, at about twice PostgreSQL's CPU per delivery.
    /// Attempts in flight at once, and deliveries a publisher may hand over to this worker.
    #[arg(long, env = "RICOCHET_WORKER_CONCURRENCY", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub worker_concurrency: u32,
    /// Deliveries claimed per query.
    #[arg(long, env = "RICOCHET_WORKER_BATCH_SIZE", default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub worker_batch_size: u32,
    /// Lease beyond an integration's request timeout, in ms: an attempt unfinished by then (a killed worker) runs again.
    #[arg(long, env = "RICOCHET_LEASE_GRACE_MS", default_value_t = 30_000)]
    pub lease_grace_ms: u64,
    /// Leases of one delivery that may expire without a recorded attempt (a killed or stuck
    /// worker each time) before it is dead-lettered with reason worker_lost.
    #[arg(long, env = "RICOCHET_MAX_LOST_LEASES", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_lost_leases: u32,
    /// How far ahead of its due time a delivery is claimed, in ms, so that its attempt starts on
    /// time (held by this worker meanwhile; 0 claims only what is due).
    #[arg(long, env = "RICOCHET_PREFETCH_MS", default_value_t = 250, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub prefetch_ms: u64,
    /// Batches of finished attempts recorded side by side (one writer records everything that
    /// finished while it wrote the previous batch).
    #[arg(long, env = "RICOCHET_RECORD_WRITERS", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub record_writers: u16,
    /// How long, in ms, a batch of finished attempts waits for more while the worker holds
    /// other deliveries (running, or waiting for their time) before it is recorded (0: at
    /// once). A worker holding nothing else records an attempt at once.
    #[arg(long, env = "RICOCHET_RECORD_LINGER_MS", default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=100))]
    pub record_linger_ms: u64,
    /// Under `serve`, hand new deliveries from the publisher straight to this worker when it
    /// has room, rather than letting it claim them from the database (`false` to measure
    /// without it; see BENCHMARKS.md).
    #[arg(long, env = "RICOCHET_HANDOFF", default_value_t = true, action = clap::ArgAction::Set)]
    pub handoff: bool,
    /// How long shutdown waits for attempts in flight, in seconds.
    #[arg(long, env = "RICOCHET_SHUTDOWN_TIMEOUT", default_value_t = 30)]
    pub shutdown_timeout: u64,
    /// How long finished deliveries (succeeded, cancelled, purged), their attempts and the
    /// events no delivery still needs are kept, e.g. `30d`, `12h`; dead letters are kept until
    /// replayed or purged, however old.
    #[arg(long, env = "RICOCHET_RETENTION", default_value = "30d", value_parser = parse_duration)]
    pub retention: std::time::Duration,
    /// How often the retention pass runs, e.g. `1m`.
    #[arg(long, env = "RICOCHET_RETENTION_INTERVAL", default_value = "1m", value_parser = parse_duration)]
    pub retention_interval: std::time::Duration,
    /// Largest request body sent, in bytes (after transformations); bigger ones are dead-lettered as payload_too_large.
    #[arg(long, env = "RICOCHET_MAX_PAYLOAD_BYTES", default_value_t = 1024 * 1024)]
    pub max_payload_bytes: usize,
}

/// Options of the API role.
#[derive(Debug, Clone, Args)]
pub struct ApiOpts {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "RICOCHET_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// The platform admin key; generated into the data directory when absent.
    #[arg(long, env = "RICOCHET_ADMIN_KEY", hide_env_values = true)]
    pub admin_key: Option<SecretString>,
    /// Secrets that sign access tokens (HS256, each at least 32 bytes), comma-separated: the first signs, every one verifies (rotation: deploy NEW,OLD, then NEW once old tokens expired); generated into the data directory when absent.
    #[arg(long, env = "RICOCHET_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<SecretString>,
    /// Lifetime of an access token, in seconds.
    #[arg(long, env = "RICOCHET_TOKEN_TTL", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(60..=86_400))]
    pub token_ttl: u64,
    /// Largest event body accepted by POST /api/v2/events, in bytes.
    #[arg(long, env = "RICOCHET_MAX_EVENT_BYTES", default_value_t = 256 * 1024)]
    pub max_event_bytes: usize,
    /// Largest body accepted by POST /api/v2/events/batch, in bytes (each of its events is
    /// also held to --max-event-bytes).
    #[arg(long, env = "RICOCHET_MAX_BATCH_BYTES", default_value_t = ricochet_api::DEFAULT_BATCH_BODY_LIMIT)]
    pub max_batch_bytes: usize,
    /// Publishing batches committed side by side (group commit: events published meanwhile
    /// share the next batch of a free writer; one writer commits everything published while it
    /// wrote the previous batch).
    #[arg(long, env = "RICOCHET_PUBLISH_WRITERS", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub publish_writers: u16,
    /// Publishing writers that commit a batch beside the writers above only while events pile
    /// up (64 or more waiting, as batch publishes bring), so that those are written on more
    /// than one core; ordinary publishing never calls them, so its batches stay whole. Events
    /// with an ordering key are still committed in the order they came.
    #[arg(long, env = "RICOCHET_PUBLISH_OVERFLOW_WRITERS", default_value_t = 1, value_parser = clap::value_parser!(u16).range(0..=64))]
    pub publish_overflow_writers: u16,
    /// How long, in µs after it answers a batch of publishes, a writer may hold its next batch
    /// for the callers it answered to come back with their next event (as a service publishing
    /// from its request handlers does), so that they share one commit rather than split into
    /// groups taking turns. Never held past this after an answer, nor once as many events are
    /// waiting as that batch answered (0: take the next batch at once).
    #[arg(long, env = "RICOCHET_PUBLISH_REGATHER_US", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    pub publish_regather_us: u64,
    /// Token requests a second per client id at POST /oauth/token, sustained (then 429).
    #[arg(long, env = "RICOCHET_TOKEN_RATE_PER_CLIENT", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub token_rate_per_client: u32,
    /// Token requests per client id allowed at once after a quiet spell.
    #[arg(long, env = "RICOCHET_TOKEN_BURST_PER_CLIENT", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub token_burst_per_client: u32,
    /// Token requests a second per source address (IPv6: per /64), sustained (then 429).
    #[arg(long, env = "RICOCHET_TOKEN_RATE_PER_ADDRESS", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub token_rate_per_address: u32,
    /// Token requests per source address allowed at once after a quiet spell.
    #[arg(long, env = "RICOCHET_TOKEN_BURST_PER_ADDRESS", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub token_burst_per_address: u32,
}

impl ApiOpts {
    /// The token endpoint's rate limits.
    pub fn token_rates(&self) -> ricochet_api::rate_limit::TokenRates {
        use ricochet_api::rate_limit::{Rate, TokenRates};
        let rate = |per_second, burst| {
            Rate::new(per_second, burst).expect("clap keeps rates and bursts at 1 or more")
        };
        TokenRates {
            per_client: rate(self.token_rate_per_client, self.token_burst_per_client),
            per_address: rate(self.token_rate_per_address, self.token_burst_per_address),
        }
    }
}

/// Tenant commands.
#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// Create a tenant and its first API client (every permission); prints the client's credentials.
    Create {
        /// The tenant's unique name.
        name: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List every tenant with its integrations and dead letters.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show a tenant's integrations with their health over the last hour.
    Show {
        /// The tenant's name.
        name: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, parse_pg_setting};

    #[test]
    fn a_pg_setting_is_name_equals_value() {
        assert_eq!(
            parse_pg_setting("shared_buffers = 512MB"),
            Ok(("shared_buffers".to_owned(), "512MB".to_owned()))
        );
        assert_eq!(
            parse_pg_setting("auto_explain.log_min_duration=5"),
            Ok(("auto_explain.log_min_duration".to_owned(), "5".to_owned()))
        );
        assert!(parse_pg_setting("shared_buffers").is_err());
        assert!(parse_pg_setting("=1").is_err());
        assert!(parse_pg_setting("bad name=1").is_err());
        assert!(parse_pg_setting("x';DROP=1").is_err());
    }

    #[test]
    fn retention_takes_humane_durations_and_defaults_to_30_days() {
        let cli = Cli::try_parse_from(["ricochet", "worker"]).expect("parses");
        let super::Command::Worker(opts) = cli.command else {
            panic!("a worker command");
        };
        assert_eq!(opts.retention, std::time::Duration::from_secs(30 * 86_400));
        let cli = Cli::try_parse_from(["ricochet", "serve", "--retention", "12h"]).expect("parses");
        let super::Command::Serve(opts) = cli.command else {
            panic!("a serve command");
        };
        assert_eq!(
            opts.worker.retention,
            std::time::Duration::from_secs(12 * 3600)
        );
        for bad in ["30", "soon", "0s"] {
            assert!(
                Cli::try_parse_from(["ricochet", "worker", "--retention", bad]).is_err(),
                "{bad} must be refused"
            );
        }
    }

    #[test]
    fn the_otlp_endpoint_is_an_http_url_and_off_by_default() {
        let cli = Cli::try_parse_from(["ricochet", "serve"]).expect("parses");
        assert!(cli.global.otlp_endpoint.is_none());
        let cli = Cli::try_parse_from([
            "ricochet",
            "--otlp-endpoint",
            "http://localhost:4318",
            "serve",
        ])
        .expect("parses");
        assert_eq!(
            cli.global.otlp_endpoint.map(String::from).as_deref(),
            Some("http://localhost:4318/")
        );
        for bad in ["localhost:4318", "ftp://collector", "not a url"] {
            assert!(
                Cli::try_parse_from(["ricochet", "--otlp-endpoint", bad, "serve"]).is_err(),
                "{bad} must be refused"
            );
        }
    }

    #[test]
    fn several_pg_settings_are_separated_by_semicolons_and_keep_their_commas() {
        let cli = Cli::try_parse_from([
            "ricochet",
            "--pg-setting=shared_preload_libraries=pg_stat_statements,auto_explain;work_mem=8MB",
            "--pg-setting",
            "fsync=on",
            "migrate",
        ])
        .expect("parses");
        assert_eq!(
            cli.global.pg_settings,
            vec![
                (
                    "shared_preload_libraries".to_owned(),
                    "pg_stat_statements,auto_explain".to_owned()
                ),
                ("work_mem".to_owned(), "8MB".to_owned()),
                ("fsync".to_owned(), "on".to_owned()),
            ]
        );
    }
}
