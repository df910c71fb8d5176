//! The slice of Ricochet's HTTP API the bench drives: admin set-up, a tenant session, publishing
//! events and reading deliveries back.

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// The HTTP client every part of the bench uses (publishing, API calls, the self-test).
pub(crate) fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()
        .context("building the HTTP client")
}

/// A Ricochet API endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    http: reqwest::Client,
    base_url: String,
}

/// A tenant with a bearer token for its API client.
#[derive(Debug, Clone)]
pub(crate) struct TenantSession {
    api: Api,
    bearer: HeaderValue,
}

/// The retry policy of a bench integration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FixedRetry {
    /// Milliseconds between attempts.
    pub(crate) delay_ms: u64,
    /// Retries after the first attempt.
    pub(crate) max_retries: u32,
}

/// A delivery made by a publish.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeliveryRef {
    /// Its id.
    pub(crate) delivery_id: Uuid,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublishedOut {
    deliveries: Vec<DeliveryRef>,
}

/// The counts of a batch publish's answer (its per-event results are not read).
#[derive(Debug, Deserialize)]
pub(crate) struct BatchCounts {
    /// Events stored.
    pub(crate) created: usize,
    /// Events whose id was already stored.
    pub(crate) duplicates: usize,
    /// Events refused.
    pub(crate) failed: usize,
}

/// One attempt of a delivery, as GET /api/v2/deliveries/{id} shows it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AttemptOut {
    /// 1, 2, ...
    pub(crate) attempt_number: i32,
    /// When it started.
    pub(crate) started_at: DateTime<Utc>,
    /// When the next attempt was scheduled, if one was.
    pub(crate) next_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's status code.
    pub(crate) status_code: Option<i32>,
}

/// A delivery with its attempts.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeliveryOut {
    /// `succeeded`, `pending`, ...
    pub(crate) status: String,
    /// Its attempts.
    pub(crate) attempts: Vec<AttemptOut>,
}

impl Api {
    /// The API at `base_url` (no trailing slash).
    pub(crate) fn new(http: reqwest::Client, base_url: &str) -> Api {
        Api {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// Creates a tenant and an API client with the admin key, and exchanges the client's
    /// credentials for a token.
    pub(crate) async fn new_tenant(&self, admin_key: &str) -> anyhow::Result<TenantSession> {
        let name = format!("bench-{}", Uuid::now_v7().simple());
        let tenant = self
            .post_json("/api/v2/tenants", admin_key, &json!({ "name": name }))
            .await
            .context("creating a tenant")?;
        let tenant_id = text_field(&tenant, "id")?;
        let client = self
            .post_json(
                &format!("/api/v2/tenants/{tenant_id}/clients"),
                admin_key,
                &json!({ "name": "bench" }),
            )
            .await
            .context("creating an API client")?;
        let client_id = text_field(&client, "clientId")?;
        let client_secret = text_field(&client, "clientSecret")?;
        let response = self
            .http
            .post(format!("{}/oauth/token", self.base_url))
            .basic_auth(&client_id, Some(&client_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .context("requesting a token")?;
        let token = expect_status(response, 200)
            .await
            .context("requesting a token")?;
        let access_token = text_field(&token, "access_token")?;
        let bearer = HeaderValue::from_str(&format!("Bearer {access_token}"))
            .context("the access token is not a header value")?;
        Ok(TenantSession {
            api: self.clone(),
            bearer,
        })
    }

    async fn post_json(&self, path: &str, bearer: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(bearer)
            .json(body)
            .send()
            .await?;
        expect_status(response, 201).await
    }
}

impl TenantSession {
    /// Creates an integration posting to `url`; returns its id.
    pub(crate) async fn create_integration(
        &self,
        url: &str,
        retry: FixedRetry,
    ) -> anyhow::Result<Uuid> {
        self.create_integration_with(url, retry, &Map::new()).await
    }

    /// Creates an integration posting to `url` with `extra` merged into its settings (e.g.
    /// `signature` or `rateLimit`); returns its id.
    pub(crate) async fn create_integration_with(
        &self,
        url: &str,
        retry: FixedRetry,
        extra: &Map<String, Value>,
    ) -> anyhow::Result<Uuid> {
        // The highest in-flight cap: throughput scenarios measure the delivery path, not the
        // receiver protection an integration opts into (default 10).
        self.create(url, retry, 256, extra).await
    }

    /// Creates an integration posting to `url` with at most `max_concurrency` attempts in
    /// flight; returns its id.
    pub(crate) async fn create_capped_integration(
        &self,
        url: &str,
        retry: FixedRetry,
        max_concurrency: u32,
    ) -> anyhow::Result<Uuid> {
        self.create(url, retry, max_concurrency, &Map::new()).await
    }

    async fn create(
        &self,
        url: &str,
        retry: FixedRetry,
        max_concurrency: u32,
        extra: &Map<String, Value>,
    ) -> anyhow::Result<Uuid> {
        let mut settings = json!({
            "url": url,
            "maxConcurrency": max_concurrency,
            "retryPolicy": {
                "retryPolicyType": "fixed",
                "retryDelay": retry.delay_ms,
                "maxRetries": retry.max_retries,
                "jitter": false,
            },
        });
        if let Some(settings) = settings.as_object_mut() {
            settings.extend(extra.clone());
        }
        let body = json!({
            "name": format!("bench-{}", Uuid::now_v7().simple()),
            "settings": settings,
        });
        let created = self
            .send(self.post("/api/v2/integrations").json(&body), 201)
            .await
            .context("creating an integration")?;
        text_field(&created, "id")?
            .parse()
            .context("the integration id is not a UUID")
    }

    /// Binds `event_types` to `integration`.
    pub(crate) async fn bind(&self, integration: Uuid, event_types: &[&str]) -> anyhow::Result<()> {
        let request = self
            .post(&format!("/api/v2/integrations/{integration}/eventbindings"))
            .json(&json!({ "events": event_types }));
        self.send(request, 201).await.context("binding events")?;
        Ok(())
    }

    /// Publishes one event; returns the deliveries it made.
    pub(crate) async fn publish(
        &self,
        event_type: &str,
        event_id: &str,
        data: &Value,
    ) -> anyhow::Result<Vec<DeliveryRef>> {
        let body = json!({ "type": event_type, "id": event_id, "data": data });
        let response = self.post("/api/v2/events").json(&body).send().await?;
        let status = response.status();
        if status.as_u16() != 202 {
            let text = response.text().await.unwrap_or_default();
            bail!("publish answered {status}: {}", truncate(&text));
        }
        let published: PublishedOut = response.json().await.context("the publish answer")?;
        Ok(published.deliveries)
    }

    /// Publishes `events` (event bodies) as one batch; returns what the answer counts.
    pub(crate) async fn publish_batch(&self, events: &[Value]) -> anyhow::Result<BatchCounts> {
        let body = json!({ "events": events });
        let response = self.post("/api/v2/events/batch").json(&body).send().await?;
        let status = response.status();
        if status.as_u16() != 200 {
            let text = response.text().await.unwrap_or_default();
            bail!("batch publish answered {status}: {}", truncate(&text));
        }
        response.json().await.context("the batch publish answer")
    }

    /// Reads a delivery and its attempts.
    pub(crate) async fn delivery(&self, id: Uuid) -> anyhow::Result<DeliveryOut> {
        let response = self
            .api
            .http
            .get(format!("{}/api/v2/deliveries/{id}", self.api.base_url))
            .header(AUTHORIZATION, self.bearer.clone())
            .send()
            .await?;
        let value = expect_status(response, 200).await?;
        serde_json::from_value(value).context("the delivery's JSON")
    }

    /// GETs `path` and returns its JSON, expecting 200.
    pub(crate) async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let request = self
            .api
            .http
            .get(format!("{}{path}", self.api.base_url))
            .header(AUTHORIZATION, self.bearer.clone());
        self.send(request, 200).await
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.api
            .http
            .post(format!("{}{path}", self.api.base_url))
            .header(AUTHORIZATION, self.bearer.clone())
    }

    async fn send(&self, request: reqwest::RequestBuilder, status: u16) -> anyhow::Result<Value> {
        expect_status(request.send().await?, status).await
    }
}

async fn expect_status(response: reqwest::Response, expected: u16) -> anyhow::Result<Value> {
    let status = response.status();
    let text = response.text().await.context("reading the answer")?;
    if status.as_u16() != expected {
        bail!(
            "answered {status} (expected {expected}): {}",
            truncate(&text)
        );
    }
    serde_json::from_str(&text).context("the answer is not JSON")
}

fn text_field(value: &Value, name: &str) -> anyhow::Result<String> {
    value
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .with_context(|| format!("the answer has no `{name}`"))
}

fn truncate(text: &str) -> String {
    text.chars().take(300).collect()
}
