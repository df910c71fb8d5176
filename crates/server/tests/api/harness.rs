//! The test harness: one embedded PostgreSQL cluster per test run (shared by every test
//! process), a migrated template database, and a fresh database per test cloned from it, so a
//! test starts in milliseconds. Each test spawns the real application on port 0.

use std::fs::OpenOptions;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::{Client, RequestBuilder, Response, StatusCode};
use ricochet_delivery::WorkerConfig;
use ricochet_domain::target::TargetPolicy;
use ricochet_runtime::Handoff;
use ricochet_server::database::{embedded_options, ensure_database};
use ricochet_server::embedded_pg::{EmbeddedOptions, EmbeddedPostgres};
use ricochet_server::{ApiSettings, Application};
use ricochet_store::crypto::{Keyring, SharedKeyring};
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};

pub(crate) const ADMIN_KEY: &str = "test-admin-key-0123456789";
/// The value of the `crm_api_token` secret every test tenant starts with.
pub(crate) const GUIDE_TOKEN: &str = "guide-token-3f9a1c";
pub(crate) const JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef0123456789";

/// The shared cluster of this test run: `RICOCHET_TEST_PG_DIR`, or a directory in the system
/// temp dir named after this checkout.
fn cluster() -> &'static EmbeddedPostgres {
    static CLUSTER: OnceLock<EmbeddedPostgres> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let dir = std::env::var_os("RICOCHET_TEST_PG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let mut h = DefaultHasher::new();
                env!("CARGO_MANIFEST_DIR").hash(&mut h);
                std::env::temp_dir().join(format!("ricochet-test-pg-{:08x}", h.finish() as u32))
            });
        let options = EmbeddedOptions {
            cluster_dir: dir,
            ephemeral: true,
            settings: vec![("max_connections".into(), "400".into())],
        };
        EmbeddedPostgres::start(options)
            .expect("the test cluster must start (are PostgreSQL's binaries installed?)")
    })
}

/// Name of the template database for the current migrations.
fn template_name() -> String {
    let mut h = DefaultHasher::new();
    for m in ricochet_store::MIGRATOR.iter() {
        m.version.hash(&mut h);
        m.checksum.hash(&mut h);
    }
    format!("ricochet_tmpl_{:016x}", h.finish())
}

/// Creates the migrated template once per cluster, serialised across test processes.
async fn ensure_template(maintenance: &PgConnectOptions) -> String {
    let name = template_name();
    let lock_path = std::env::temp_dir().join(format!("{name}.lock"));
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .expect("template lock file");
    lock.lock().expect("locking the template lock file");
    let mut conn = sqlx::PgConnection::connect_with(maintenance)
        .await
        .expect("maintenance connection");
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await
            .expect("checking for the template");
    if !exists {
        let building = format!("{name}_building");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {building}"
        )))
        .execute(&mut conn)
        .await
        .expect("drop");
        ensure_database(maintenance, &building)
            .await
            .expect("creating the template");
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(maintenance.clone().database(&building))
            .await
            .expect("template pool");
        ricochet_store::MIGRATOR
            .run(&pool)
            .await
            .expect("migrating the template");
        pool.close().await;
        // Renamed only once complete, so a crash midway never leaves a half-migrated template.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {building} RENAME TO {name}"
        )))
        .execute(&mut conn)
        .await
        .expect("publishing the template");
    }
    conn.close().await.ok();
    drop(lock);
    name
}

/// A fresh, migrated database of its own.
pub(crate) async fn fresh_database() -> PgPool {
    let maintenance = embedded_options(cluster());
    let template = ensure_template(&maintenance).await;
    let name = format!("test_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect_with(&maintenance)
        .await
        .expect("maintenance connection");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {name} TEMPLATE {template}"
    )))
    .execute(&mut conn)
    .await
    .expect("cloning the template");
    conn.close().await.ok();
    test_pool(&maintenance, &name).await
}

/// An empty database of its own, with no migration applied: an upgrade test starts from one.
pub(crate) async fn empty_database() -> PgPool {
    let maintenance = embedded_options(cluster());
    let name = format!("test_{}", uuid::Uuid::now_v7().simple());
    ensure_database(&maintenance, &name)
        .await
        .expect("creating an empty database");
    test_pool(&maintenance, &name).await
}

/// A test's pool on its database `name`.
async fn test_pool(maintenance: &PgConnectOptions, name: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(5)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(maintenance.clone().database(name))
        .await
        .expect("test database pool")
}

/// A worker tuned for tests: short leases and quick reaping, so crash recovery takes
/// moments, not minutes.
pub(crate) fn test_worker_config() -> WorkerConfig {
    let mut config = WorkerConfig::new(32, 16, Duration::from_millis(500));
    config.targets = loopback_allowed();
    config.reap_every = Duration::from_millis(100);
    config.max_idle = Duration::from_secs(1);
    config
}

/// What every test app allows beyond public addresses, as `--allow-targets
/// 127.0.0.0/8,::1/128` does: receivers run on loopback.
pub(crate) fn loopback_allowed() -> Arc<TargetPolicy> {
    Arc::new(TargetPolicy {
        allow: vec![
            "127.0.0.0/8".parse().expect("a CIDR"),
            "::1/128".parse().expect("a CIDR"),
        ],
        require_https: false,
    })
}

/// The real application (API and delivery worker) on a free port, with its own database.
pub(crate) struct TestApp {
    pub(crate) base: String,
    pub(crate) pool: PgPool,
    pub(crate) http: Client,
    keyring: Arc<SharedKeyring>,
}

impl TestApp {
    pub(crate) async fn spawn() -> TestApp {
        Self::spawn_with_ttl(Duration::from_secs(3600)).await
    }

    pub(crate) async fn spawn_with_ttl(token_ttl: Duration) -> TestApp {
        // As `ricochet serve` runs both: new deliveries are handed to the worker.
        let worker = test_worker_config();
        let handoff = worker.handoff();
        let app = Self::api(token_ttl, Some(handoff.clone()), loopback_allowed()).await;
        app.start_worker_with(worker, Some(handoff));
        app
    }

    /// The application with a worker of `config` (its targets and name lookup, say).
    pub(crate) async fn spawn_with_worker(config: WorkerConfig) -> TestApp {
        let handoff = config.handoff();
        let app = Self::api(
            Duration::from_secs(3600),
            Some(handoff.clone()),
            loopback_allowed(),
        )
        .await;
        app.start_worker_with(config, Some(handoff));
        app
    }

    /// An application run as by default: without `--allow-targets`, so only public addresses
    /// may be reached.
    pub(crate) async fn spawn_public_only() -> TestApp {
        let targets = Arc::new(TargetPolicy::public_only());
        let mut worker = test_worker_config();
        worker.targets = targets.clone();
        let handoff = worker.handoff();
        let app = Self::api(Duration::from_secs(3600), Some(handoff.clone()), targets).await;
        app.start_worker_with(worker, Some(handoff));
        app
    }

    /// The API alone, handing new deliveries over through `handoff` to a worker that never
    /// takes them (one that died after its hand-over opened); see [`TestApp::start_worker`].
    pub(crate) async fn spawn_api_handing_to(handoff: Arc<Handoff>) -> TestApp {
        Self::api(Duration::from_secs(3600), Some(handoff), loopback_allowed()).await
    }

    async fn api(
        token_ttl: Duration,
        handoff: Option<Arc<Handoff>>,
        targets: Arc<TargetPolicy>,
    ) -> TestApp {
        let pool = fresh_database().await;
        let keyring = Arc::new(SharedKeyring::fixed(
            Keyring::parse(&Keyring::generate_key()).expect("a generated key parses"),
        ));
        let settings = ApiSettings {
            listen: "127.0.0.1:0".parse().expect("a literal address"),
            admin_key: SecretString::from(ADMIN_KEY),
            jwt_secret: SecretString::from(JWT_SECRET),
            token_ttl,
            limits: ricochet_api::Limits::default(),
            keyring: keyring.clone(),
            publish_writers: 3,
            publish_overflow_writers: 1,
            publish_regather: Duration::from_millis(1),
            handoff,
            tracer: None,
            metrics_on_api: true,
            targets,
        };
        let app = Application::build(settings, pool.clone())
            .await
            .expect("the application builds");
        let addr = app.local_addr().expect("bound address");
        tokio::spawn(app.run_until(std::future::pending()));
        TestApp {
            base: format!("http://{addr}"),
            pool,
            http: Client::new(),
            keyring,
        }
    }

    /// The API alone on an existing database, signing tokens with `jwt_secret` (a
    /// comma-separated list: the first signs, each verifies), as a restarted server would.
    pub(crate) async fn spawn_api_on(pool: PgPool, jwt_secret: &str) -> TestApp {
        let keyring = Arc::new(SharedKeyring::fixed(
            Keyring::parse(&Keyring::generate_key()).expect("a generated key parses"),
        ));
        let settings = ApiSettings {
            listen: "127.0.0.1:0".parse().expect("a literal address"),
            admin_key: SecretString::from(ADMIN_KEY),
            jwt_secret: SecretString::from(jwt_secret),
            token_ttl: Duration::from_secs(3600),
            limits: ricochet_api::Limits::default(),
            keyring: keyring.clone(),
            publish_writers: 1,
            publish_overflow_writers: 1,
            publish_regather: Duration::from_millis(1),
            handoff: None,
            metrics_on_api: true,
            targets: loopback_allowed(),
            tracer: None,
        };
        let app = Application::build(settings, pool.clone())
            .await
            .expect("the application builds");
        let addr = app.local_addr().expect("bound address");
        tokio::spawn(app.run_until(std::future::pending()));
        TestApp {
            base: format!("http://{addr}"),
            pool,
            http: Client::new(),
            keyring,
        }
    }

    /// Starts another delivery worker on the app's database (it claims; nothing is handed to
    /// it).
    pub(crate) fn start_worker(&self) {
        self.start_worker_with(test_worker_config(), None);
    }

    fn start_worker_with(&self, config: WorkerConfig, handoff: Option<Arc<Handoff>>) {
        tokio::spawn(ricochet_delivery::run(
            self.pool.clone(),
            config,
            self.keyring.clone(),
            handoff,
            std::future::pending(),
        ));
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) fn admin(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(ADMIN_KEY)
    }

    /// Creates a tenant through the admin API and returns it with a full-permission client.
    /// Like a tenant following the guide, it has the `crm_api_token` secret
    /// (value [`GUIDE_TOKEN`]) that the guide's integration references.
    pub(crate) async fn tenant(&self, name: &str) -> Tenant {
        let tenant = self.bare_tenant(name).await;
        let token = self.token(&tenant.client_id, &tenant.secret, None).await;
        let secret = self
            .http
            .post(self.url("/api/v2/secrets"))
            .bearer_auth(token)
            .json(&json!({ "name": "crm_api_token", "value": GUIDE_TOKEN }))
            .send()
            .await
            .expect("request");
        assert_eq!(secret.status(), StatusCode::CREATED);
        tenant
    }

    /// Creates a tenant with a full-permission client and nothing else.
    pub(crate) async fn bare_tenant(&self, name: &str) -> Tenant {
        let tenant = self
            .admin(reqwest::Method::POST, "/api/v2/tenants")
            .json(&json!({ "name": name }))
            .send()
            .await
            .expect("request");
        assert_eq!(tenant.status(), StatusCode::CREATED);
        let tenant: Value = tenant.json().await.expect("json");
        let id = tenant["id"].as_str().expect("tenant id").to_owned();
        self.with_client(id, "tests").await
    }

    /// The existing tenant `id` with a new full-permission client named `name`.
    pub(crate) async fn with_client(&self, id: String, name: &str) -> Tenant {
        let client = self.client(&id, json!({ "name": name })).await;
        Tenant {
            id,
            client_id: client["clientId"].as_str().expect("clientId").into(),
            secret: client["clientSecret"].as_str().expect("secret").into(),
        }
    }

    /// Creates an API client for tenant `id` with the given body.
    pub(crate) async fn client(&self, tenant: &str, body: Value) -> Value {
        let response = self
            .admin(
                reqwest::Method::POST,
                &format!("/api/v2/tenants/{tenant}/clients"),
            )
            .json(&body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.expect("json")
    }

    /// A token for the client, optionally narrowed to `scope`.
    pub(crate) async fn token(&self, client_id: &str, secret: &str, scope: Option<&str>) -> String {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let response = self
            .http
            .post(self.url("/oauth/token"))
            .form(&form)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK, "token request failed");
        let body: Value = response.json().await.expect("json");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// Rows of `table` belonging to `tenant` (to prove a refused request wrote nothing).
    pub(crate) async fn count(&self, table: &str, tenant: &str) -> i64 {
        let tenant = uuid::Uuid::parse_str(tenant).expect("tenant uuid");
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {table} WHERE tenant_id = $1"
        )))
        .bind(tenant)
        .fetch_one(&self.pool)
        .await
        .expect("count")
    }
}

/// A tenant with a client holding every permission.
pub(crate) struct Tenant {
    pub(crate) id: String,
    pub(crate) client_id: String,
    pub(crate) secret: String,
}

/// A tenant's session: requests carry its token.
pub(crate) struct Session<'a> {
    pub(crate) app: &'a TestApp,
    pub(crate) token: String,
}

impl<'a> Session<'a> {
    pub(crate) async fn new(app: &'a TestApp, tenant: &Tenant) -> Session<'a> {
        Session {
            app,
            token: app.token(&tenant.client_id, &tenant.secret, None).await,
        }
    }

    pub(crate) fn req(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.app
            .http
            .request(method, self.app.url(path))
            .bearer_auth(&self.token)
    }

    pub(crate) async fn create_integration(&self, body: &Value) -> Response {
        self.req(reqwest::Method::POST, "/api/v2/integrations")
            .json(body)
            .send()
            .await
            .expect("request")
    }
}

/// Settings for an integration a test makes fail, about something else than receiver
/// protection: its circuit never opens and a `410 Gone` does not disable it (it is just a
/// status that is not retried).
pub(crate) static PLAIN_FAILURES: std::sync::LazyLock<Value> = std::sync::LazyLock::new(
    || json!({ "circuitBreaker": { "failureThreshold": 10000 }, "disableOnGone": false }),
);

/// The guide's integration payload, verbatim.
pub(crate) fn guide_integration() -> Value {
    serde_json::from_str(include_str!("guide_integration.json")).expect("the fixture is JSON")
}

/// Asserts a problem+json response with `status` and returns its body.
pub(crate) async fn problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    response.json().await.expect("a problem body is JSON")
}

/// The `field` of every error of a validation problem.
pub(crate) fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

impl Session<'_> {
    /// Creates an integration named `name` posting to `url`, with `settings` merged over the
    /// defaults; returns its id.
    pub(crate) async fn integration(&self, name: &str, url: &str, settings: Value) -> String {
        let mut body = json!({ "name": name, "settings": { "url": url } });
        if let (Some(target), Value::Object(extra)) = (body["settings"].as_object_mut(), settings) {
            target.extend(extra);
        }
        let response = self.create_integration(&body).await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "creating integration {name}"
        );
        let created: Value = response.json().await.expect("json");
        created["id"].as_str().expect("id").to_owned()
    }

    /// An integration named `name` posting to `url` with `settings` (see
    /// [`Session::integration`]), bound to `order.created`; returns its id.
    pub(crate) async fn order_hook(&self, name: &str, url: &str, settings: Value) -> String {
        let id = self.integration(name, url, settings).await;
        self.bind(&id, &["order.created"]).await;
        id
    }

    /// Binds `events` to an integration.
    pub(crate) async fn bind(&self, integration: &str, events: &[&str]) {
        let response = self
            .req(
                reqwest::Method::POST,
                &format!("/api/v2/integrations/{integration}/eventbindings"),
            )
            .json(&json!({ "events": events }))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::CREATED, "binding {events:?}");
    }

    /// Replays a dead letter; the answer's status.
    pub(crate) async fn replay(&self, delivery: &str) -> StatusCode {
        self.req(
            reqwest::Method::POST,
            &format!("/api/v2/deadletters/{delivery}/replay"),
        )
        .send()
        .await
        .expect("replay")
        .status()
    }

    /// Publishes an event; returns the status and the body.
    pub(crate) async fn publish(&self, body: &Value) -> (StatusCode, Value) {
        let response = self
            .req(reqwest::Method::POST, "/api/v2/events")
            .json(body)
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Publishes `events` as one batch; returns the status and the body.
    pub(crate) async fn publish_batch(&self, events: &[Value]) -> (StatusCode, Value) {
        let response = self
            .req(reqwest::Method::POST, "/api/v2/events/batch")
            .json(&json!({ "events": events }))
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// GETs `path` and returns the JSON body, asserting 200.
    pub(crate) async fn get_json(&self, path: &str) -> Value {
        let response = self
            .req(reqwest::Method::GET, path)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.expect("json")
    }

    /// Polls a delivery until `done` holds for it, failing after `deadline`.
    pub(crate) async fn wait_delivery(
        &self,
        id: &str,
        deadline: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let start = std::time::Instant::now();
        loop {
            let delivery = self.get_json(&format!("/api/v2/deliveries/{id}")).await;
            if done(&delivery) {
                return delivery;
            }
            assert!(
                start.elapsed() < deadline,
                "delivery {id} did not reach the expected state: {delivery}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// An `order.created` event of `tenant` with `id` and `data`, as the publisher's writer batches
/// it (`patterns`: `matching_patterns("order.created")`), for tests that publish through the
/// runtime directly.
pub(crate) fn order_created<'a>(
    tenant: ricochet_domain::TenantId,
    id: &'a str,
    data: &'a Value,
    patterns: &'a [String],
) -> ricochet_store::events::BatchEvent<'a> {
    ricochet_store::events::BatchEvent {
        tenant,
        event: ricochet_store::events::NewEvent {
            id,
            kind: "order.created",
            occurred_at: chrono::Utc::now(),
            data,
            ordering_key: None,
            traceparent: None,
        },
        patterns,
    }
}
