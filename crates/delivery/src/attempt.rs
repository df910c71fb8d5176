//! One attempt: the request rendered from the integration and the event, sent with reqwest,
//! and what came back, ready to be recorded. Secret values are used on the wire only; what is
//! recorded shows their templates.

use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use ricochet_domain::integration::HttpMethod;
use ricochet_domain::outcome::{ErrorKind, Outcome, RetryAfter, parse_retry_after};
use ricochet_domain::payload::{self, EventView};
use ricochet_domain::template::{Template, Variable};
use ricochet_store::deliveries::{AttemptRecord, Claimed};
use serde_json::{Map, Value};
use uuid::Uuid;

/// How much of a response body is kept in the log.
pub const RESPONSE_BODY_LIMIT: usize = 4 * 1024;

/// Where secret values come from at send time.
pub trait SecretSource: Send + Sync {
    /// The current value of the tenant's secret `name`, if it exists.
    fn get(&self, tenant: Uuid, name: &str) -> Option<String>;
}

/// No secret store: every secret reference is missing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSecrets;

impl SecretSource for NoSecrets {
    fn get(&self, _tenant: Uuid, _name: &str) -> Option<String> {
        None
    }
}

/// The result of one attempt.
#[derive(Debug)]
pub struct AttemptResult {
    /// What to record.
    pub record: AttemptRecord,
    /// What the receiver (or the network) said.
    pub outcome: Outcome,
    /// The receiver's `Retry-After`, parsed.
    pub retry_after: Option<RetryAfter>,
    /// A permanent reason decided before sending (a missing secret).
    pub refused: Option<String>,
}

struct Rendered {
    wire: String,
    logged: String,
}

/// A template rendered twice: with secret values for the wire, with their templates for the log.
fn render(
    source: &str,
    claimed: &Claimed,
    attempt: i32,
    secrets: &dyn SecretSource,
) -> Result<Rendered, String> {
    let template = Template::parse(source).map_err(|e| format!("template: {e}"))?;
    let mut missing = None;
    let wire = template.render(|v| match v {
        Variable::Secret(name) => secrets.get(claimed.tenant_id, name).unwrap_or_else(|| {
            missing.get_or_insert_with(|| name.clone());
            String::new()
        }),
        other => plain(other, claimed, attempt),
    });
    if let Some(name) = missing {
        return Err(format!("missing_secret:{name}"));
    }
    let logged = template.render(|v| match v {
        Variable::Secret(_) => v.to_string(),
        other => plain(other, claimed, attempt),
    });
    Ok(Rendered { wire, logged })
}

fn plain(variable: &Variable, claimed: &Claimed, attempt: i32) -> String {
    match variable {
        Variable::EventId => claimed.event_id.clone(),
        Variable::EventType => claimed.event_type.clone(),
        Variable::TenantId => claimed.tenant_id.to_string(),
        Variable::IntegrationId => claimed.integration_id.to_string(),
        Variable::Attempt => attempt.to_string(),
        Variable::Data(path) => match payload::lookup(&claimed.data.0, &path.join(".")) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        },
        Variable::Secret(_) => String::new(),
    }
}

/// Makes the attempt number `claimed.attempt_count + 1` of a claimed delivery.
pub async fn perform(
    client: &reqwest::Client,
    claimed: &Claimed,
    secrets: &dyn SecretSource,
) -> AttemptResult {
    let settings = &claimed.settings.0;
    let attempt = claimed.attempt_count + 1;
    let started_at = Utc::now();
    let clock = Instant::now();
    let method = match settings.http_method {
        HttpMethod::Post => reqwest::Method::POST,
        HttpMethod::Put => reqwest::Method::PUT,
        HttpMethod::Patch => reqwest::Method::PATCH,
        HttpMethod::Delete => reqwest::Method::DELETE,
        HttpMethod::Get => reqwest::Method::GET,
    };
    let mut record = AttemptRecord {
        id: Uuid::now_v7(),
        started_at,
        duration_ms: 0,
        status_code: None,
        error_kind: None,
        error_message: None,
        request_method: method.to_string(),
        request_url: settings.url.clone(),
        request_headers: Value::Object(Map::new()),
        response_content_type: None,
        response_body: None,
        retry_after_ms: None,
        retry_after_note: None,
    };
    let refuse = |mut record: AttemptRecord, reason: String| {
        record.error_kind = Some(ErrorKind::Request.as_str().into());
        record.error_message = Some(reason.clone());
        AttemptResult {
            record,
            outcome: Outcome::Error(ErrorKind::Request),
            retry_after: None,
            refused: Some(reason),
        }
    };

    let url = match render(&settings.url, claimed, attempt, secrets) {
        Ok(url) => url,
        Err(reason) => return refuse(record, reason),
    };
    record.request_url = url.logged;
    let mut headers = HeaderMap::new();
    let mut logged = Map::new();
    let fixed = [
        ("content-type", settings.content_type.clone()),
        (
            "user-agent",
            concat!("Ricochet/", env!("CARGO_PKG_VERSION")).to_owned(),
        ),
        ("webhook-id", claimed.event_id.clone()),
        (
            "webhook-timestamp",
            claimed.created_at.timestamp().to_string(),
        ),
        ("x-ricochet-delivery-id", claimed.id.to_string()),
        ("x-ricochet-attempt", attempt.to_string()),
    ];
    for (name, value) in fixed {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), v);
            logged.insert(name.to_owned(), Value::String(value));
        }
    }
    for (name, template) in &settings.headers {
        let rendered = match render(template, claimed, attempt, secrets) {
            Ok(r) => r,
            Err(reason) => return refuse(record, reason),
        };
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&rendered.wire),
        ) {
            (Ok(n), Ok(v)) => {
                headers.insert(n, v);
                logged.insert(name.clone(), Value::String(rendered.logged));
            }
            _ => return refuse(record, format!("invalid_header:{name}")),
        }
    }
    record.request_headers = Value::Object(logged);

    let event = EventView {
        id: &claimed.event_id,
        kind: &claimed.event_type,
        tenant_id: claimed.tenant_id,
        occurred_at: claimed.occurred_at,
        data: &claimed.data.0,
    };
    let mut request = client
        .request(method.clone(), &url.wire)
        .headers(headers)
        .timeout(Duration::from_millis(
            u64::try_from(settings.request_timeout).unwrap_or(10_000),
        ));
    if method != reqwest::Method::GET {
        request = request.body(payload::body(settings, &event).to_string());
    }

    let (outcome, retry_after) = match request.send().await {
        Ok(mut response) => {
            let status = response.status().as_u16();
            record.status_code = Some(i32::from(status));
            record.response_content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .map(|v| parse_retry_after(v.to_str().unwrap_or_default(), Utc::now()));
            record.response_body = Some(read_prefix(&mut response).await);
            if !(200..300).contains(&status) {
                record.error_kind = Some("status".into());
            }
            (Outcome::Status(status), retry_after)
        }
        Err(err) => {
            // reqwest names the URL in its errors, and a URL may carry a secret.
            let err = err.without_url();
            let kind = error_kind(&err);
            record.error_kind = Some(kind.as_str().into());
            record.error_message = Some(describe(&err));
            (Outcome::Error(kind), None)
        }
    };
    record.duration_ms = i32::try_from(clock.elapsed().as_millis()).unwrap_or(i32::MAX);
    AttemptResult {
        record,
        outcome,
        retry_after,
        refused: None,
    }
}

/// The first `RESPONSE_BODY_LIMIT` bytes of the body; the rest is never read.
async fn read_prefix(response: &mut reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < RESPONSE_BODY_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    body.truncate(RESPONSE_BODY_LIMIT);
    String::from_utf8_lossy(&body).into_owned()
}

fn error_kind(err: &reqwest::Error) -> ErrorKind {
    if err.is_timeout() {
        return ErrorKind::Timeout;
    }
    let chain = describe(err).to_ascii_lowercase();
    if chain.contains("dns error") || chain.contains("failed to lookup address") {
        ErrorKind::Dns
    } else if chain.contains("certificate") || chain.contains("tls") || chain.contains("handshake")
    {
        ErrorKind::Tls
    } else if err.is_body() || err.is_decode() {
        ErrorKind::Body
    } else {
        ErrorKind::Connect
    }
}

/// The error and its causes, one line.
fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
