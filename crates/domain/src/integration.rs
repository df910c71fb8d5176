//! Integrations: a target endpoint with its method, headers, payload shape and retry policy.
//!
//! `IntegrationIn` is what a client sends (the guide's payload verbatim, or less); missing
//! fields take their defaults during deserialization, so the stored and returned settings
//! are always complete.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::receiver_auth::ReceiverAuth;
use crate::receiver_tls::ReceiverTls;
use crate::retry::RetryPolicy;
use crate::signature::SignatureSettings;
use crate::template::{ParseTemplate, Segment, Template};
use crate::validation::{ValidationErrors, check_name};

/// Longest integration name.
pub const MAX_NAME_LEN: usize = 128;
/// Longest target URL, template included.
pub const MAX_URL_LEN: usize = 2_048;
/// Most custom headers on one integration.
pub const MAX_HEADERS: usize = 50;
/// Longest header name.
pub const MAX_HEADER_NAME_LEN: usize = 256;
/// Longest header value, template included.
pub const MAX_HEADER_VALUE_LEN: usize = 4_096;
/// Default `requestTimeout`: 10 s.
pub const DEFAULT_REQUEST_TIMEOUT_MS: i64 = 10_000;
/// Longest `requestTimeout`: 5 minutes.
pub const MAX_REQUEST_TIMEOUT_MS: i64 = 300_000;
/// Most transformations on one integration.
pub const MAX_TRANSFORMATIONS: usize = 100;
/// Longest body template.
pub const MAX_BODY_TEMPLATE_LEN: usize = 64 * 1024;

/// Headers Ricochet sets itself on every attempt; an integration may not override them.
pub const RESERVED_HEADERS: [&str; 10] = [
    "content-length",
    "content-type",
    "host",
    "transfer-encoding",
    "connection",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-ricochet-delivery-id",
    "x-ricochet-attempt",
];

/// The only integration type today.
pub const WEBHOOK: &str = "webhook";

/// An integration as a client creates or replaces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntegrationIn {
    /// Unique name within the tenant.
    #[schema(example = "CRM-Sync-Webhook-Resilient")]
    pub name: String,
    /// Integration type; only `webhook` exists.
    #[serde(rename = "type", default = "default_type")]
    #[schema(example = "webhook")]
    pub kind: String,
    /// A disabled integration gets no new deliveries.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Where and how to deliver.
    pub settings: IntegrationSettings,
}

/// Where and how an integration delivers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntegrationSettings {
    /// Target URL (http or https); may hold templates such as `{{data.customerId}}`.
    #[schema(example = "https://api.your-crm.com/v1/genesys-events")]
    pub url: String,
    /// Request method.
    #[serde(default)]
    pub http_method: HttpMethod,
    /// `Content-Type` of the request body.
    #[serde(default = "default_content_type")]
    #[schema(example = "application/json")]
    pub content_type: String,
    /// Extra request headers; values may hold templates such as `Bearer {{secret:crm_api_token}}`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// When and how often a failed delivery is retried.
    #[serde(default)]
    pub retry_policy: RetryPolicy,
    /// How long one attempt may take, in milliseconds. 1 to 300000.
    #[serde(default = "default_request_timeout")]
    #[schema(example = 10_000, minimum = 1, maximum = 300_000)]
    pub request_timeout: i64,
    /// Most attempts to this integration in flight at once, across every worker process.
    /// Deliveries beyond it wait (neither failed nor spending a retry). 1 to 256.
    #[serde(default = "default_max_concurrency")]
    #[schema(example = 10, minimum = 1, maximum = 256)]
    pub max_concurrency: i64,
    /// `perKey`: deliveries of events with the same `orderingKey` are attempted one at a time,
    /// in publish order (a retrying one holds back the ones behind it; a dead-lettered one
    /// releases them). `none` (the default): no order is kept.
    #[serde(default)]
    pub ordering: Ordering,
    /// Most attempts started per second or minute, across every worker process (none by
    /// default). First attempts and retries share it; deliveries over it wait (neither
    /// failed nor spending a retry).
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// When consecutive failures stop attempts for a cool-down, then let one probe through.
    #[serde(default)]
    pub circuit_breaker: CircuitBreaker,
    /// Whether a receiver answering `410 Gone` disables the integration at once.
    #[serde(default = "default_true")]
    pub disable_on_gone: bool,
    /// How long, in milliseconds, an integration may fail without a single success before it
    /// is disabled (default 5 days). 1000 to 31536000000 (a year).
    #[serde(default = "default_auto_disable_after")]
    #[schema(example = 432_000_000, minimum = 1000, maximum = 31_536_000_000_i64)]
    pub auto_disable_after: i64,
    /// What the request body holds.
    #[serde(default)]
    pub payload_format: PayloadFormat,
    /// Reshaping of the event's data, applied in order before sending.
    #[serde(default)]
    pub transformations: Vec<Transformation>,
    /// A body of your own instead of the JSON payload, with templates such as
    /// `{"text": "{{eventType}} for {{data.customer.name}}"}`. Values are inserted as they are.
    #[serde(default)]
    pub body_template: Option<String>,
    /// How Ricochet authenticates to the receiver: HTTP Basic or an OAuth 2.0 client-credentials
    /// token. Passwords and client secrets are `{{secret:NAME}}` references.
    #[serde(default)]
    pub auth: Option<ReceiverAuth>,
    /// Mutual TLS toward the receiver: a client certificate and key, and a CA trusted on top of
    /// the public roots, each a `{{secret:NAME}}` reference to a secret holding the PEM.
    #[serde(default)]
    pub tls: Option<ReceiverTls>,
    /// Which Standard Webhooks signatures requests carry: `v1` (HMAC with the `whsec_` secret,
    /// the default), `v1a` (Ed25519, verified with the public `whpk_` key) or `both`.
    #[serde(default)]
    pub signature: SignatureSettings,
}

/// Request method of an integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// POST (the default).
    #[default]
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
    /// GET (sent without a body).
    Get,
}

impl HttpMethod {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Get => "GET",
        }
    }
}

/// Whether an integration keeps the order of events with the same ordering key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Ordering {
    /// No order is kept (the default): every delivery runs as soon as it can.
    #[default]
    None,
    /// Deliveries with the same `orderingKey` run one at a time, in publish order.
    PerKey,
}

impl Ordering {
    /// The name stored in the settings and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Ordering::None => "none",
            Ordering::PerKey => "perKey",
        }
    }
}

/// A rate limit: at most `requests` attempts started per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimit {
    /// Attempts started per period. 1 to 100000.
    #[schema(example = 100, minimum = 1, maximum = 100_000)]
    pub requests: i64,
    /// The period.
    pub per: RatePeriod,
}

impl RateLimit {
    /// The time between two starts, in milliseconds.
    pub fn emission_ms(&self) -> f64 {
        let period: f64 = match self.per {
            RatePeriod::Second => 1_000.0,
            RatePeriod::Minute => 60_000.0,
        };
        // requests is validated to 1..=100000 at save; never divide by zero regardless.
        period / f64::from(u32::try_from(self.requests.max(1)).unwrap_or(u32::MAX))
    }
}

/// The period of a rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum RatePeriod {
    /// Per second.
    Second,
    /// Per minute.
    Minute,
}

/// The circuit breaker of an integration: after `failureThreshold` consecutive failed attempts
/// no attempt starts for `coolDown` (doubling on each re-open, up to `maxCoolDown`), then one
/// probe runs; its success closes the circuit. Deliveries waiting meanwhile keep their retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CircuitBreaker {
    /// Consecutive failed attempts that open the circuit. 1 to 10000.
    #[serde(default = "default_failure_threshold")]
    #[schema(example = 10, minimum = 1, maximum = 10_000)]
    pub failure_threshold: i64,
    /// The first cool-down, in milliseconds. 10 to 3600000.
    #[serde(default = "default_cool_down")]
    #[schema(example = 30_000, minimum = 10, maximum = 3_600_000)]
    pub cool_down: i64,
    /// The longest cool-down, in milliseconds (at least `coolDown`). Up to 86400000.
    #[serde(default = "default_max_cool_down")]
    #[schema(example = 600_000, minimum = 10, maximum = 86_400_000)]
    pub max_cool_down: i64,
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        CircuitBreaker {
            failure_threshold: default_failure_threshold(),
            cool_down: default_cool_down(),
            max_cool_down: default_max_cool_down(),
        }
    }
}

fn default_failure_threshold() -> i64 {
    10
}
fn default_cool_down() -> i64 {
    30_000
}
fn default_max_cool_down() -> i64 {
    600_000
}
fn default_auto_disable_after() -> i64 {
    5 * 24 * 3_600_000
}

/// What the request body holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum PayloadFormat {
    /// `{id, type, tenantId, occurredAt, data}`.
    #[default]
    Envelope,
    /// The event's data alone, as published or as the transformations shape it.
    Data,
}

/// One reshaping step applied to the event's data, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum Transformation {
    /// Copy `source` (in the event's data as published) to `destination` (dotted paths). Once
    /// any mapping exists, the body holds only mapped fields (and what later steps set).
    FieldMapping {
        /// Dotted path in the event's data.
        source: String,
        /// Dotted path in the body sent.
        destination: String,
    },
    /// Remove the field at `path` from the body.
    Remove {
        /// Dotted path in the body.
        path: String,
    },
    /// Set the field at `path` of the body to a fixed JSON value.
    Set {
        /// Dotted path in the body.
        path: String,
        /// The value: any JSON value.
        #[schema(value_type = serde_json::Value)]
        value: serde_json::Value,
    },
}

fn default_type() -> String {
    WEBHOOK.to_owned()
}
fn default_true() -> bool {
    true
}
fn default_content_type() -> String {
    "application/json".to_owned()
}
/// The in-flight cap of an integration that sets none (the claim's SQL says the same).
pub const DEFAULT_MAX_CONCURRENCY: i64 = 10;
/// The highest in-flight cap an integration may set.
pub const MAX_MAX_CONCURRENCY: i64 = 256;
fn default_max_concurrency() -> i64 {
    DEFAULT_MAX_CONCURRENCY
}
fn default_request_timeout() -> i64 {
    DEFAULT_REQUEST_TIMEOUT_MS
}

impl IntegrationIn {
    /// Checks every field, reporting each invalid one.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        check_name(&mut errors, "name", &self.name, MAX_NAME_LEN);
        if self.kind != WEBHOOK {
            errors.add(
                "type",
                format!(
                    "unknown integration type `{}`: only `webhook` is supported",
                    self.kind
                ),
            );
        }
        self.settings.validate(&mut errors);
        // Anything stored goes into PostgreSQL, which refuses NUL characters.
        if let Ok(whole) = serde_json::to_value(self) {
            crate::validation::check_no_nul(&mut errors, &whole, "");
        }
        errors.finish(())
    }
}

impl IntegrationSettings {
    /// How long one attempt may take, in milliseconds, within what a user can save: a stored
    /// value beyond it (a database edit, or a rollback past a version that allowed it) is
    /// taken at the nearest bound, as the claim's lease takes it.
    pub fn request_timeout_ms(&self) -> i64 {
        self.request_timeout.clamp(1, MAX_REQUEST_TIMEOUT_MS)
    }

    fn validate(&self, errors: &mut ValidationErrors) {
        validate_url(&self.url, errors);
        if !is_media_type(&self.content_type) {
            errors.add(
                "settings.contentType",
                "must be a media type such as `application/json`",
            );
        }
        self.validate_headers(errors);
        if let Some(auth) = &self.auth {
            auth.validate(errors);
            if let Some(name) = self
                .headers
                .keys()
                .find(|name| name.eq_ignore_ascii_case("authorization"))
            {
                errors.add(
                    format!("settings.headers.{name}"),
                    "cannot be set with settings.auth, which sets Authorization",
                );
            }
        }
        if let Some(tls) = &self.tls {
            tls.validate(errors);
        }
        self.retry_policy.validate("settings.retryPolicy", errors);
        errors.check_range(
            "settings.requestTimeout",
            self.request_timeout,
            1,
            MAX_REQUEST_TIMEOUT_MS,
        );
        errors.check_range(
            "settings.maxConcurrency",
            self.max_concurrency,
            1,
            MAX_MAX_CONCURRENCY,
        );
        if let Some(limit) = &self.rate_limit {
            errors.check_range("settings.rateLimit.requests", limit.requests, 1, 100_000);
        }
        let breaker = &self.circuit_breaker;
        errors.check_range(
            "settings.circuitBreaker.failureThreshold",
            breaker.failure_threshold,
            1,
            10_000,
        );
        errors.check_range(
            "settings.circuitBreaker.coolDown",
            breaker.cool_down,
            10,
            3_600_000,
        );
        errors.check_range(
            "settings.circuitBreaker.maxCoolDown",
            breaker.max_cool_down,
            breaker.cool_down.clamp(10, 3_600_000),
            86_400_000,
        );
        errors.check_range(
            "settings.autoDisableAfter",
            self.auto_disable_after,
            1_000,
            31_536_000_000,
        );
        if self.transformations.len() > MAX_TRANSFORMATIONS {
            errors.add(
                "settings.transformations",
                format!("must hold at most {MAX_TRANSFORMATIONS} steps"),
            );
        }
        for (i, step) in self.transformations.iter().enumerate() {
            let paths: Vec<(&str, &String)> = match step {
                Transformation::FieldMapping {
                    source,
                    destination,
                } => {
                    vec![("source", source), ("destination", destination)]
                }
                Transformation::Remove { path } | Transformation::Set { path, .. } => {
                    vec![("path", path)]
                }
            };
            if let Transformation::Set { value, .. } = step {
                crate::validation::check_depth(
                    errors,
                    &format!("settings.transformations[{i}].value"),
                    value,
                );
            }
            for (name, path) in paths {
                if let Err(message) = crate::template::check_path_size(path) {
                    errors.add(format!("settings.transformations[{i}].{name}"), message);
                } else if !crate::template::is_dotted_path(path) {
                    errors.add(
                        format!("settings.transformations[{i}].{name}"),
                        "must be a dotted path of non-empty names, such as `queue.name`",
                    );
                }
            }
        }
        if let Some(body) = &self.body_template {
            if body.len() > MAX_BODY_TEMPLATE_LEN {
                errors.add(
                    "settings.bodyTemplate",
                    format!("must be at most {MAX_BODY_TEMPLATE_LEN} bytes"),
                );
            } else if let Err(e) = Template::parse(body) {
                errors.add("settings.bodyTemplate", e.to_string());
            }
        }
    }

    fn validate_headers(&self, errors: &mut ValidationErrors) {
        if self.headers.len() > MAX_HEADERS {
            errors.add(
                "settings.headers",
                format!("must hold at most {MAX_HEADERS} headers"),
            );
        }
        let mut seen = std::collections::HashSet::new();
        for (name, value) in &self.headers {
            let field = format!("settings.headers.{name}");
            let lower = name.to_ascii_lowercase();
            if name.len() > MAX_HEADER_NAME_LEN {
                errors.add(
                    "settings.headers",
                    format!("header names must be at most {MAX_HEADER_NAME_LEN} bytes"),
                );
                continue;
            }
            if !is_header_name(name) {
                errors.add(
                    &field,
                    "is not a legal HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)",
                );
                continue;
            }
            if RESERVED_HEADERS.contains(&lower.as_str()) {
                let hint = if lower == "content-type" {
                    ": use settings.contentType"
                } else {
                    ": Ricochet sets it"
                };
                errors.add(&field, format!("cannot be set{hint}"));
            }
            if !seen.insert(lower) {
                errors.add(&field, "is given twice (header names are case-insensitive)");
            }
            if value.len() > MAX_HEADER_VALUE_LEN {
                errors.add(
                    &field,
                    format!("value must be at most {MAX_HEADER_VALUE_LEN} bytes"),
                );
            } else if value.chars().any(|c| c.is_control() && c != '\t') {
                errors.add(
                    &field,
                    "value must not contain control characters such as line breaks",
                );
            } else if let Err(e) = Template::parse(value) {
                errors.add(&field, e.to_string());
            }
        }
    }

    /// Every templated field of the settings with its JSON path: the URL, header values, the
    /// body template, the receiver credentials and the TLS client identity.
    pub fn template_fields(&self) -> Vec<(String, &str)> {
        let mut fields = vec![("settings.url".to_owned(), self.url.as_str())];
        fields.extend(
            self.headers
                .iter()
                .map(|(name, value)| (format!("settings.headers.{name}"), value.as_str())),
        );
        if let Some(body) = &self.body_template {
            fields.push(("settings.bodyTemplate".to_owned(), body.as_str()));
        }
        if let Some(auth) = &self.auth {
            fields.extend(auth.template_fields());
        }
        if let Some(tls) = &self.tls {
            fields.extend(tls.template_fields());
        }
        fields
    }

    /// The secrets the settings reference, each with the first field that does.
    pub fn secret_references(&self) -> Vec<(String, String)> {
        self.secret_references_with(&Template::parse_shared)
    }

    /// [`IntegrationSettings::secret_references`], each field parsed by `parse`.
    pub fn secret_references_with(&self, parse: ParseTemplate<'_>) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = Vec::new();
        for (field, source) in self.template_fields() {
            if Template::is_literal(source) {
                continue;
            }
            if let Ok(template) = parse(source) {
                for name in template.secret_names() {
                    if !found.iter().any(|(n, _)| n == name) {
                        found.push((name.to_owned(), field.clone()));
                    }
                }
            }
        }
        found
    }
}

fn validate_url(url: &str, errors: &mut ValidationErrors) {
    const FIELD: &str = "settings.url";
    if url.len() > MAX_URL_LEN {
        errors.add(FIELD, format!("must be at most {MAX_URL_LEN} characters"));
        return;
    }
    let template = match Template::parse(url) {
        Ok(t) => t,
        Err(e) => return errors.add(FIELD, e.to_string()),
    };
    // The host and port come from the saved URL only: a value filled in at send time must not
    // be able to choose where the request goes.
    let literal_prefix: String = template
        .0
        .iter()
        .map_while(|segment| match segment {
            Segment::Literal(text) => Some(text.as_str()),
            Segment::Variable(_) => None,
        })
        .collect();
    let has_variable = template.0.iter().any(|s| matches!(s, Segment::Variable(_)));
    let origin_closed = literal_prefix
        .split_once("://")
        .is_some_and(|(_, rest)| rest.contains(['/', '?', '#']));
    if has_variable && !origin_closed {
        return errors.add(
            FIELD,
            "placeholders may appear only in the path, query or fragment: the scheme, host and port come from the saved URL",
        );
    }
    // Placeholders are filled at send time; check the URL's shape with a stand-in value.
    let concrete = template.render(|_| "placeholder".to_owned());
    match url::Url::parse(&concrete) {
        Ok(parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            errors.add(
                FIELD,
                "must not carry credentials (user:password@); send them in a header with a {{secret:NAME}}",
            );
        }
        Ok(parsed) if !matches!(parsed.scheme(), "http" | "https") => {
            errors.add(
                FIELD,
                format!("scheme must be http or https, not `{}`", parsed.scheme()),
            );
        }
        Ok(parsed) if parsed.host_str().is_none_or(str::is_empty) => {
            errors.add(FIELD, "must name a host");
        }
        Ok(_) => {}
        Err(e) => errors.add(FIELD, format!("is not a valid absolute URL: {e}")),
    }
}

/// Whether `name` is an RFC 9110 token (a legal header name).
pub fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn is_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim();
    let mut parts = essence.splitn(2, '/');
    let (Some(kind), Some(sub)) = (parts.next(), parts.next()) else {
        return false;
    };
    value.len() <= 255
        && is_header_name(kind)
        && is_header_name(sub)
        && !value.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUIDE: &str = r#"{ "name": "CRM-Sync-Webhook-Resilient", "type": "webhook", "enabled": true,
      "settings": { "url": "https://api.your-crm.com/v1/genesys-events", "httpMethod": "POST",
        "contentType": "application/json",
        "headers": { "Authorization": "Bearer {{secret:crm_api_token}}", "X-Genesys-Event-Id": "{{eventId}}" },
        "retryPolicy": { "maxRetries": 5, "retryDelay": 1000, "retryPolicyType": "exponential", "jitter": true } } }"#;

    fn guide() -> IntegrationIn {
        serde_json::from_str(GUIDE).expect("the guide's payload deserializes")
    }

    fn errors_of(integration: &IntegrationIn) -> ValidationErrors {
        integration.validate().err().unwrap_or_default()
    }

    #[test]
    fn the_guides_payload_is_valid_and_gets_defaults() {
        let integration = guide();
        assert_eq!(integration.validate(), Ok(()));
        assert_eq!(
            integration.settings.request_timeout,
            DEFAULT_REQUEST_TIMEOUT_MS
        );
        assert_eq!(integration.settings.retry_policy.multiplier, 2.0);
        assert_eq!(integration.settings.payload_format, PayloadFormat::Envelope);
    }

    #[test]
    fn urls_must_be_absolute_http_or_https() {
        for (url, ok) in [
            ("ftp://example.com/x", false),
            ("not a url", false),
            ("https://", false),
            ("http://127.0.0.1:9000/hook", true),
            ("https://example.com/{{data.customer.id}}", true),
            ("https://example.com/{{nope}}", false),
        ] {
            let mut i = guide();
            i.settings.url = url.into();
            assert_eq!(!errors_of(&i).has("settings.url"), ok, "{url}");
        }
    }

    #[test]
    fn placeholders_in_the_scheme_or_authority_and_credentials_are_refused() {
        for (url, ok) in [
            ("http://{{data.host}}/", false),
            ("https://{{data.sub}}.example.com/x", false),
            ("https://example.com:{{data.port}}/x", false),
            ("https://example.com{{data.p}}", false),
            ("{{data.scheme}}://example.com/", false),
            ("http://user:pass@example.com/", false),
            ("http://user@example.com/", false),
            ("https://example.com/a/{{data.id}}/b", true),
            ("https://example.com?q={{data.q}}", true),
            ("https://example.com#{{eventId}}", true),
        ] {
            let mut i = guide();
            i.settings.url = url.into();
            assert_eq!(!errors_of(&i).has("settings.url"), ok, "{url}");
        }
    }

    #[test]
    fn illegal_reserved_and_duplicate_headers_are_named() {
        let mut i = guide();
        i.settings.headers.insert("Bad Header".into(), "x".into());
        i.settings.headers.insert("webhook-id".into(), "x".into());
        i.settings.headers.insert("X-Split".into(), "a\r\nb".into());
        i.settings
            .headers
            .insert("authorization".into(), "dup".into());
        let errors = errors_of(&i);
        for field in [
            "settings.headers.Bad Header",
            "settings.headers.webhook-id",
            "settings.headers.X-Split",
        ] {
            assert!(errors.has(field), "{field} missing in {errors:?}");
        }
        assert!(
            errors.has("settings.headers.authorization")
                || errors.has("settings.headers.Authorization")
        );
    }

    #[test]
    fn an_unknown_type_and_a_blank_name_are_both_reported() {
        let mut i = guide();
        i.kind = "carrier-pigeon".into();
        i.name = "  ".into();
        let errors = errors_of(&i);
        assert!(errors.has("type") && errors.has("name"));
    }

    #[test]
    fn the_guides_field_mapping_parses_and_bad_paths_do_not() {
        let mut i = guide();
        i.settings.transformations = serde_json::from_str(
            r#"[{"type":"fieldMapping","source":"queueName","destination":"queue"},
                {"type":"fieldMapping","source":"memberId","destination":"agentId"}]"#,
        )
        .expect("the guide's transformations deserialize");
        assert_eq!(i.validate(), Ok(()));
        i.settings
            .transformations
            .push(Transformation::FieldMapping {
                source: "a..b".into(),
                destination: "c".into(),
            });
        assert!(errors_of(&i).has("settings.transformations[2].source"));
    }
}
