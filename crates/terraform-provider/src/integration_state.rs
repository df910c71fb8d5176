//! `ricochet_integration`'s attributes: schema, server defaults for the plan, and the
//! conversions between Terraform state and the API's integration.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use tf_provider::schema::{Attribute, AttributeConstraint as C, AttributeType as T};
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use crate::client::{
    CircuitBreaker, DEFAULT_AUTO_DISABLE_AFTER, Integration, RateLimit, RetryPolicy, Settings,
};
use crate::integration_auth::{AUTH_TYPES, AuthState};
use crate::integration_tls::{SIGNATURE_SCHEMES, TlsState, signature_from_wire, signature_to_wire};
use crate::schema::{Num, attr, or_default};

/// Values the API accepts for the enumerated settings (checked at plan time too).
pub(crate) const HTTP_METHODS: &[&str] = &["POST", "PUT", "PATCH", "DELETE", "GET"];
pub(crate) const PAYLOAD_FORMATS: &[&str] = &["envelope", "data"];
pub(crate) const RETRY_POLICY_TYPES: &[&str] = &["exponential", "linear", "fixed", "none"];
pub(crate) const JITTER_MODES: &[&str] = &["ratio", "full"];
pub(crate) const TRANSFORMATION_TYPES: &[&str] = &["fieldMapping", "remove", "set"];
pub(crate) const RATE_PERIODS: &[&str] = &["second", "minute"];

/// The integration's state: its settings flattened to the top level.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct IntegrationState {
    pub(crate) id: Value<String>,
    pub(crate) version: Value<i64>,
    pub(crate) name: Value<String>,
    #[serde(rename = "type")]
    pub(crate) kind: Value<String>,
    pub(crate) enabled: Value<bool>,
    pub(crate) url: Value<String>,
    pub(crate) http_method: Value<String>,
    pub(crate) content_type: Value<String>,
    pub(crate) headers: Value<BTreeMap<String, Value<String>>>,
    pub(crate) retry_policy: Value<RetryPolicyState>,
    pub(crate) request_timeout: Value<i64>,
    pub(crate) max_concurrency: Value<i64>,
    pub(crate) ordering: Value<String>,
    pub(crate) rate_limit: Value<RateLimitState>,
    pub(crate) circuit_breaker: Value<CircuitBreakerState>,
    pub(crate) disable_on_gone: Value<bool>,
    pub(crate) auto_disable_after_ms: Value<i64>,
    pub(crate) payload_format: Value<String>,
    pub(crate) transformations: Value<Vec<TransformationState>>,
    pub(crate) body_template: Value<String>,
    pub(crate) auth: Value<AuthState>,
    pub(crate) tls: Value<TlsState>,
    pub(crate) signature_scheme: Value<String>,
}

/// `retry_policy`, a nested attribute.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct RetryPolicyState {
    pub(crate) retry_policy_type: Value<String>,
    pub(crate) max_retries: Value<i64>,
    pub(crate) retry_delay: Value<i64>,
    pub(crate) multiplier: Value<Num>,
    pub(crate) max_delay: Value<i64>,
    pub(crate) jitter: Value<bool>,
    pub(crate) jitter_ratio: Value<Num>,
    pub(crate) jitter_mode: Value<String>,
    pub(crate) retry_on_status: Value<Vec<i64>>,
    pub(crate) retry_on_timeout: Value<bool>,
    pub(crate) respect_retry_after: Value<bool>,
    pub(crate) max_retry_after: Value<i64>,
}

/// `rate_limit`, a nested attribute (none by default).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct RateLimitState {
    pub(crate) requests: Value<i64>,
    pub(crate) per: Value<String>,
}

/// `circuit_breaker`, a nested attribute.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct CircuitBreakerState {
    pub(crate) failure_threshold: Value<i64>,
    pub(crate) cool_down_ms: Value<i64>,
    pub(crate) max_cool_down_ms: Value<i64>,
}

/// One entry of `transformations`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct TransformationState {
    #[serde(rename = "type")]
    pub(crate) kind: Value<String>,
    pub(crate) source: Value<String>,
    pub(crate) destination: Value<String>,
    pub(crate) path: Value<String>,
    /// JSON text (`jsonencode(...)`) of a `set` step's value.
    pub(crate) value: Value<String>,
}

/// The attributes; `computed_only` makes every one computed (the data source).
pub(crate) fn attributes(computed_only: bool) -> HashMap<String, Attribute> {
    let c = |constraint: C| {
        if computed_only {
            C::Computed
        } else {
            constraint
        }
    };
    let mut retry = HashMap::new();
    for (name, ty, doc) in [
        (
            "retry_policy_type",
            T::String,
            "`exponential` (default), `linear`, `fixed` or `none`.",
        ),
        (
            "max_retries",
            T::Number,
            "Retries after the first attempt (default 5, at most 50).",
        ),
        ("retry_delay", T::Number, "Base delay in ms (default 1000)."),
        (
            "multiplier",
            T::Number,
            "Growth factor of `exponential` (default 2.0, 1.0 to 10.0).",
        ),
        (
            "max_delay",
            T::Number,
            "Cap of any delay in ms (default 3600000).",
        ),
        ("jitter", T::Bool, "Spread delays randomly (default true)."),
        (
            "jitter_ratio",
            T::Number,
            "Spread of `ratio` jitter, 0.0 to 1.0 (default 0.2).",
        ),
        ("jitter_mode", T::String, "`ratio` (default) or `full`."),
        (
            "retry_on_status",
            T::List(Box::new(T::Number)),
            "4xx/3xx statuses that retry too (default none).",
        ),
        (
            "retry_on_timeout",
            T::Bool,
            "Retry timeouts (default true).",
        ),
        (
            "respect_retry_after",
            T::Bool,
            "Honour `Retry-After` on 429/503 (default true).",
        ),
        (
            "max_retry_after",
            T::Number,
            "Cap of an honoured `Retry-After` in ms (default 3600000).",
        ),
    ] {
        retry.insert(name.to_owned(), attr(ty, c(C::OptionalComputed), doc));
    }
    let mut rate_limit = HashMap::new();
    for (name, ty, doc) in [
        (
            "requests",
            T::Number,
            "Attempts started per period (1 to 100000).",
        ),
        ("per", T::String, "The period: `second` or `minute`."),
    ] {
        rate_limit.insert(name.to_owned(), attr(ty, c(C::Required), doc));
    }
    let mut breaker = HashMap::new();
    for (name, doc) in [
        (
            "failure_threshold",
            "Consecutive failed attempts that open the circuit (1 to 10000, default 10).",
        ),
        (
            "cool_down_ms",
            "The first cool-down in ms, doubling on each re-open (10 to 3600000, default 30000).",
        ),
        (
            "max_cool_down_ms",
            "The longest cool-down in ms, at least `cool_down_ms` (up to 86400000, default 600000).",
        ),
    ] {
        breaker.insert(
            name.to_owned(),
            attr(T::Number, c(C::OptionalComputed), doc),
        );
    }
    let mut transformation = HashMap::new();
    for (name, constraint, doc) in [
        ("type", C::Required, "`fieldMapping`, `remove` or `set`."),
        (
            "source",
            C::Optional,
            "`fieldMapping`: dotted path in the event's data.",
        ),
        (
            "destination",
            C::Optional,
            "`fieldMapping`: dotted path in the body sent.",
        ),
        (
            "path",
            C::Optional,
            "`remove` and `set`: dotted path in the body.",
        ),
        (
            "value",
            C::Optional,
            "`set`: the value as JSON text, e.g. `jsonencode(\"x\")`.",
        ),
    ] {
        transformation.insert(name.to_owned(), attr(T::String, c(constraint), doc));
    }
    let mut attrs = HashMap::new();
    let mut add = |name: &str, attribute: Attribute| {
        attrs.insert(name.to_owned(), attribute);
    };
    add(
        "id",
        attr(
            T::String,
            C::Computed,
            "The integration's id (UUID); the import id.",
        ),
    );
    add(
        "version",
        attr(
            T::Number,
            C::Computed,
            "Version, sent back in `If-Match` on every update.",
        ),
    );
    add(
        "name",
        attr(T::String, c(C::Required), "Unique name within the tenant."),
    );
    add(
        "type",
        attr(
            T::String,
            c(C::OptionalComputed),
            "Integration type (default `webhook`).",
        ),
    );
    add(
        "enabled",
        attr(
            T::Bool,
            c(C::OptionalComputed),
            "Whether it gets new deliveries (default true).",
        ),
    );
    add(
        "url",
        attr(
            T::String,
            c(C::Required),
            "Target URL; may hold templates such as `{{secret:NAME}}`.",
        ),
    );
    add(
        "http_method",
        attr(
            T::String,
            c(C::OptionalComputed),
            "`POST` (default), `PUT`, `PATCH`, `DELETE` or `GET`.",
        ),
    );
    add(
        "content_type",
        attr(
            T::String,
            c(C::OptionalComputed),
            "Content-Type sent (default `application/json`).",
        ),
    );
    add(
        "headers",
        attr(
            T::Map(Box::new(T::String)),
            c(C::Optional),
            "Request headers; values may hold templates.",
        ),
    );
    add(
        "retry_policy",
        attr(
            T::AttributeSingle(retry),
            c(C::OptionalComputed),
            "When and how often a failed delivery is tried again; unset fields take the server's defaults.",
        ),
    );
    add(
        "request_timeout",
        attr(
            T::Number,
            c(C::OptionalComputed),
            "Request timeout in ms (default 10000).",
        ),
    );
    add(
        "max_concurrency",
        attr(
            T::Number,
            c(C::OptionalComputed),
            "Attempts in flight at once to this integration, across every worker (1 to 256, default 10).",
        ),
    );
    add(
        "ordering",
        attr(
            T::String,
            c(C::OptionalComputed),
            "`perKey`: events with the same ordering key are delivered one at a time, in publish order; `none` (default).",
        ),
    );
    add(
        "rate_limit",
        attr(
            T::AttributeSingle(rate_limit),
            c(C::Optional),
            "Most attempts started per second or minute, across every worker (none by default).",
        ),
    );
    add(
        "circuit_breaker",
        attr(
            T::AttributeSingle(breaker),
            c(C::OptionalComputed),
            "When consecutive failures pause attempts for a cool-down; unset fields take the server's defaults.",
        ),
    );
    add(
        "disable_on_gone",
        attr(
            T::Bool,
            c(C::OptionalComputed),
            "Whether a `410 Gone` answer disables the integration at once (default true).",
        ),
    );
    add(
        "auto_disable_after_ms",
        attr(
            T::Number,
            c(C::OptionalComputed),
            "How long in ms the integration may fail without a success before it is disabled (1000 to 31536000000, default 432000000: 5 days).",
        ),
    );
    add(
        "payload_format",
        attr(
            T::String,
            c(C::OptionalComputed),
            "`envelope` (default) or `data`.",
        ),
    );
    add(
        "transformations",
        attr(
            T::AttributeList(transformation),
            c(C::Optional),
            "Reshaping steps applied to the event's data, in order.",
        ),
    );
    add(
        "body_template",
        attr(T::String, c(C::Optional), "A template for the whole body."),
    );
    add(
        "auth",
        attr(
            T::AttributeSingle(crate::integration_auth::attributes(computed_only)),
            c(C::Optional),
            "How Ricochet authenticates to the receiver: `basic` (username, password) or `oauth2ClientCredentials` (token_url, client_id, client_secret, scope, audience). Passwords and client secrets are `{{secret:NAME}}` references.",
        ),
    );
    add(
        "tls",
        attr(
            T::AttributeSingle(crate::integration_tls::attributes(computed_only)),
            c(C::Optional),
            "Mutual TLS toward the receiver: client_certificate with client_key, and/or ca_certificate, each a `{{secret:NAME}}` reference to a secret holding the PEM.",
        ),
    );
    add(
        "signature_scheme",
        attr(
            T::String,
            c(C::OptionalComputed),
            "Standard Webhooks signatures sent: `v1` (HMAC, default), `v1a` (Ed25519, verified with the public key) or `both`.",
        ),
    );
    attrs
}

impl RetryPolicyState {
    fn defaults() -> RetryPolicy {
        RetryPolicy {
            retry_policy_type: "exponential".into(),
            max_retries: 5,
            retry_delay: 1_000,
            multiplier: 2.0,
            max_delay: 3_600_000,
            jitter: true,
            jitter_ratio: 0.2,
            jitter_mode: "ratio".into(),
            retry_on_status: Vec::new(),
            retry_on_timeout: true,
            respect_retry_after: true,
            max_retry_after: 3_600_000,
        }
    }

    /// The configured policy with the server's defaults in its unset fields.
    fn planned(config: &Value<RetryPolicyState>) -> Value<RetryPolicyState> {
        let d = Self::defaults();
        let empty = RetryPolicyState::default();
        let c = match config {
            Value::Unknown => return Value::Unknown,
            Value::Null => &empty,
            Value::Value(c) => c,
        };
        Value::Value(RetryPolicyState {
            retry_policy_type: or_default(&c.retry_policy_type, d.retry_policy_type),
            max_retries: or_default(&c.max_retries, d.max_retries),
            retry_delay: or_default(&c.retry_delay, d.retry_delay),
            multiplier: or_default(&c.multiplier, Num(d.multiplier)),
            max_delay: or_default(&c.max_delay, d.max_delay),
            jitter: or_default(&c.jitter, d.jitter),
            jitter_ratio: or_default(&c.jitter_ratio, Num(d.jitter_ratio)),
            jitter_mode: or_default(&c.jitter_mode, d.jitter_mode),
            retry_on_status: or_default(&c.retry_on_status, d.retry_on_status),
            retry_on_timeout: or_default(&c.retry_on_timeout, d.retry_on_timeout),
            respect_retry_after: or_default(&c.respect_retry_after, d.respect_retry_after),
            max_retry_after: or_default(&c.max_retry_after, d.max_retry_after),
        })
    }
}

impl CircuitBreakerState {
    /// The configured breaker with the server's defaults in its unset fields.
    fn planned(config: &Value<CircuitBreakerState>) -> Value<CircuitBreakerState> {
        let d = CircuitBreaker::default();
        let empty = CircuitBreakerState::default();
        let c = match config {
            Value::Unknown => return Value::Unknown,
            Value::Null => &empty,
            Value::Value(c) => c,
        };
        Value::Value(CircuitBreakerState {
            failure_threshold: or_default(&c.failure_threshold, d.failure_threshold),
            cool_down_ms: or_default(&c.cool_down_ms, d.cool_down),
            max_cool_down_ms: or_default(&c.max_cool_down_ms, d.max_cool_down),
        })
    }
}

impl IntegrationState {
    /// The plan: the configuration with the server's defaults for what it leaves unset, so
    /// the state read after apply equals it. `id` and `version` come from `prior`; the
    /// version becomes unknown when anything changes.
    pub(crate) fn planned(config: &IntegrationState, prior: Option<&IntegrationState>) -> Self {
        let mut planned = IntegrationState {
            id: prior.map_or(Value::Unknown, |p| p.id.clone()),
            version: prior.map_or(Value::Unknown, |p| p.version),
            name: config.name.clone(),
            kind: or_default(&config.kind, "webhook".into()),
            enabled: or_default(&config.enabled, true),
            url: config.url.clone(),
            http_method: or_default(&config.http_method, "POST".into()),
            content_type: or_default(&config.content_type, "application/json".into()),
            headers: config.headers.clone(),
            retry_policy: RetryPolicyState::planned(&config.retry_policy),
            request_timeout: or_default(&config.request_timeout, 10_000),
            max_concurrency: or_default(&config.max_concurrency, 10),
            ordering: or_default(&config.ordering, "none".into()),
            rate_limit: config.rate_limit.clone(),
            circuit_breaker: CircuitBreakerState::planned(&config.circuit_breaker),
            disable_on_gone: or_default(&config.disable_on_gone, true),
            auto_disable_after_ms: or_default(
                &config.auto_disable_after_ms,
                DEFAULT_AUTO_DISABLE_AFTER,
            ),
            payload_format: or_default(&config.payload_format, "envelope".into()),
            transformations: config.transformations.clone(),
            body_template: config.body_template.clone(),
            auth: config.auth.clone(),
            tls: config.tls.clone(),
            signature_scheme: or_default(&config.signature_scheme, "v1".into()),
        };
        if let Some(prior) = prior {
            let mut same = planned.clone();
            same.version = prior.version;
            if &same != prior {
                planned.version = Value::Unknown;
            }
        }
        planned
    }

    /// The plan-time checks of what the API would refuse, on the attribute concerned.
    pub(crate) fn validate(&self, diags: &mut Diagnostics) {
        one_of(
            diags,
            &self.http_method,
            HTTP_METHODS,
            AttributePath::new("http_method"),
        );
        one_of(
            diags,
            &self.payload_format,
            PAYLOAD_FORMATS,
            AttributePath::new("payload_format"),
        );
        if let Value::Value(policy) = &self.retry_policy {
            let at = |name: &'static str| AttributePath::new("retry_policy").attribute(name);
            one_of(
                diags,
                &policy.retry_policy_type,
                RETRY_POLICY_TYPES,
                at("retry_policy_type"),
            );
            one_of(diags, &policy.jitter_mode, JITTER_MODES, at("jitter_mode"));
        }
        if let Value::Value(limit) = &self.rate_limit {
            one_of(
                diags,
                &limit.per,
                RATE_PERIODS,
                AttributePath::new("rate_limit").attribute("per"),
            );
        }
        if let Value::Value(auth) = &self.auth {
            one_of(
                diags,
                &auth.kind,
                AUTH_TYPES,
                AttributePath::new("auth").attribute("type"),
            );
        }
        one_of(
            diags,
            &self.signature_scheme,
            SIGNATURE_SCHEMES,
            AttributePath::new("signature_scheme"),
        );
        if let Value::Value(steps) = &self.transformations {
            for (i, step) in steps.iter().enumerate() {
                let at = |name: &'static str| {
                    AttributePath::new("transformations")
                        .index(i as i64)
                        .attribute(name)
                };
                one_of(diags, &step.kind, TRANSFORMATION_TYPES, at("type"));
                if let Value::Value(text) = &step.value
                    && let Err(err) = serde_json::from_str::<Json>(text)
                {
                    diags.error(
                        "Invalid value",
                        format!("`value` must be JSON text (use jsonencode): {err}"),
                        at("value"),
                    );
                }
            }
        }
    }

    /// The API's body for this (fully known) state.
    pub(crate) fn to_wire(&self) -> Integration {
        let policy = match &self.retry_policy {
            Value::Value(p) => p.clone(),
            _ => RetryPolicyState::default(),
        };
        let d = RetryPolicyState::defaults();
        let s = |v: &Value<String>, default: &str| {
            v.as_ref_option()
                .cloned()
                .unwrap_or_else(|| default.to_owned())
        };
        Integration {
            id: String::new(),
            name: s(&self.name, ""),
            kind: s(&self.kind, "webhook"),
            enabled: self.enabled.as_ref_option().copied().unwrap_or(true),
            version: 0,
            settings: Settings {
                url: s(&self.url, ""),
                http_method: s(&self.http_method, "POST"),
                content_type: s(&self.content_type, "application/json"),
                headers: self
                    .headers
                    .as_ref_option()
                    .map(|h| {
                        h.iter()
                            .map(|(k, v)| {
                                (k.clone(), v.as_ref_option().cloned().unwrap_or_default())
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                retry_policy: RetryPolicy {
                    retry_policy_type: s(&policy.retry_policy_type, &d.retry_policy_type),
                    max_retries: policy.max_retries.unwrap_or(d.max_retries),
                    retry_delay: policy.retry_delay.unwrap_or(d.retry_delay),
                    multiplier: policy.multiplier.unwrap_or(Num(d.multiplier)).0,
                    max_delay: policy.max_delay.unwrap_or(d.max_delay),
                    jitter: policy.jitter.unwrap_or(d.jitter),
                    jitter_ratio: policy.jitter_ratio.unwrap_or(Num(d.jitter_ratio)).0,
                    jitter_mode: s(&policy.jitter_mode, &d.jitter_mode),
                    retry_on_status: policy.retry_on_status.unwrap_or(d.retry_on_status),
                    retry_on_timeout: policy.retry_on_timeout.unwrap_or(d.retry_on_timeout),
                    respect_retry_after: policy
                        .respect_retry_after
                        .unwrap_or(d.respect_retry_after),
                    max_retry_after: policy.max_retry_after.unwrap_or(d.max_retry_after),
                },
                request_timeout: self
                    .request_timeout
                    .as_ref_option()
                    .copied()
                    .unwrap_or(10_000),
                max_concurrency: self.max_concurrency.as_ref_option().copied().unwrap_or(10),
                ordering: s(&self.ordering, "none"),
                rate_limit: self.rate_limit.as_ref_option().map(|limit| RateLimit {
                    // Both are required, so known at apply; 0 and "" are for the API to refuse.
                    requests: limit.requests.as_ref_option().copied().unwrap_or(0),
                    per: s(&limit.per, ""),
                }),
                circuit_breaker: {
                    let d = CircuitBreaker::default();
                    let b = self.circuit_breaker.as_ref_option();
                    let n = |pick: fn(&CircuitBreakerState) -> &Value<i64>, default: i64| {
                        b.and_then(|b| pick(b).as_ref_option().copied())
                            .unwrap_or(default)
                    };
                    CircuitBreaker {
                        failure_threshold: n(|b| &b.failure_threshold, d.failure_threshold),
                        cool_down: n(|b| &b.cool_down_ms, d.cool_down),
                        max_cool_down: n(|b| &b.max_cool_down_ms, d.max_cool_down),
                    }
                },
                disable_on_gone: self
                    .disable_on_gone
                    .as_ref_option()
                    .copied()
                    .unwrap_or(true),
                auto_disable_after: self
                    .auto_disable_after_ms
                    .as_ref_option()
                    .copied()
                    .unwrap_or(DEFAULT_AUTO_DISABLE_AFTER),
                payload_format: s(&self.payload_format, "envelope"),
                transformations: self
                    .transformations
                    .as_ref_option()
                    .map(|steps| steps.iter().map(TransformationState::to_wire).collect())
                    .unwrap_or_default(),
                body_template: self.body_template.as_ref_option().cloned(),
                auth: self.auth.as_ref_option().map(AuthState::to_wire),
                tls: self.tls.as_ref_option().map(TlsState::to_wire),
                signature: Some(signature_to_wire(&s(&self.signature_scheme, "v1"))),
            },
        }
    }

    /// The state for what the API returned. `prior` (the state or plan Terraform holds)
    /// decides the representations the API cannot tell apart: no headers as `null` or `{}`,
    /// and JSON text of equal value.
    pub(crate) fn from_wire(wire: Integration, prior: Option<&IntegrationState>) -> Self {
        let s = wire.settings;
        let p = s.retry_policy;
        let prior_headers_null = prior.is_none_or(|p| p.headers.is_null());
        let prior_steps = prior.and_then(|p| p.transformations.as_ref_option());
        IntegrationState {
            id: Value::Value(wire.id),
            version: Value::Value(wire.version),
            name: Value::Value(wire.name),
            kind: Value::Value(wire.kind),
            enabled: Value::Value(wire.enabled),
            url: Value::Value(s.url),
            http_method: Value::Value(s.http_method),
            content_type: Value::Value(s.content_type),
            headers: if s.headers.is_empty() && prior_headers_null {
                Value::Null
            } else {
                Value::Value(
                    s.headers
                        .into_iter()
                        .map(|(k, v)| (k, Value::Value(v)))
                        .collect(),
                )
            },
            retry_policy: Value::Value(RetryPolicyState {
                retry_policy_type: Value::Value(p.retry_policy_type),
                max_retries: Value::Value(p.max_retries),
                retry_delay: Value::Value(p.retry_delay),
                multiplier: Value::Value(Num(p.multiplier)),
                max_delay: Value::Value(p.max_delay),
                jitter: Value::Value(p.jitter),
                jitter_ratio: Value::Value(Num(p.jitter_ratio)),
                jitter_mode: Value::Value(p.jitter_mode),
                retry_on_status: Value::Value(p.retry_on_status),
                retry_on_timeout: Value::Value(p.retry_on_timeout),
                respect_retry_after: Value::Value(p.respect_retry_after),
                max_retry_after: Value::Value(p.max_retry_after),
            }),
            request_timeout: Value::Value(s.request_timeout),
            max_concurrency: Value::Value(s.max_concurrency),
            ordering: Value::Value(s.ordering),
            rate_limit: s
                .rate_limit
                .map(|limit| RateLimitState {
                    requests: Value::Value(limit.requests),
                    per: Value::Value(limit.per),
                })
                .into(),
            circuit_breaker: Value::Value(CircuitBreakerState {
                failure_threshold: Value::Value(s.circuit_breaker.failure_threshold),
                cool_down_ms: Value::Value(s.circuit_breaker.cool_down),
                max_cool_down_ms: Value::Value(s.circuit_breaker.max_cool_down),
            }),
            disable_on_gone: Value::Value(s.disable_on_gone),
            auto_disable_after_ms: Value::Value(s.auto_disable_after),
            payload_format: Value::Value(s.payload_format),
            transformations: if s.transformations.is_empty() && prior_steps.is_none() {
                Value::Null
            } else {
                Value::Value(
                    s.transformations
                        .iter()
                        .enumerate()
                        .map(|(i, step)| {
                            TransformationState::from_wire(step, prior_steps.and_then(|p| p.get(i)))
                        })
                        .collect(),
                )
            },
            body_template: s.body_template.into(),
            auth: s.auth.as_ref().map(AuthState::from_wire).into(),
            tls: s.tls.as_ref().map(TlsState::from_wire).into(),
            signature_scheme: Value::Value(signature_from_wire(s.signature.as_ref())),
        }
    }
}

impl TransformationState {
    fn to_wire(&self) -> Json {
        let mut step = serde_json::Map::new();
        let mut put = |key: &str, value: &Value<String>| {
            if let Value::Value(v) = value {
                step.insert(key.to_owned(), Json::String(v.clone()));
            }
        };
        put("type", &self.kind);
        put("source", &self.source);
        put("destination", &self.destination);
        put("path", &self.path);
        if let Value::Value(text) = &self.value {
            // Checked at plan time; text that is not JSON goes as a string for the API to refuse.
            let value = serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.clone()));
            step.insert("value".into(), value);
        }
        Json::Object(step)
    }

    fn from_wire(step: &Json, prior: Option<&TransformationState>) -> Self {
        let text = |key: &str| -> Value<String> {
            step.get(key)
                .and_then(Json::as_str)
                .map(str::to_owned)
                .into()
        };
        let value = step.get("value").map(|v| {
            let same_as_prior = prior
                .and_then(|p| p.value.as_ref_option())
                .filter(|t| serde_json::from_str::<Json>(t).ok().as_ref() == Some(v));
            same_as_prior.cloned().unwrap_or_else(|| v.to_string())
        });
        TransformationState {
            kind: text("type"),
            source: text("source"),
            destination: text("destination"),
            path: text("path"),
            value: value.into(),
        }
    }
}

/// Checks an enumerated setting. The detail names the attribute too: Terraform points at the
/// attribute's line when it can, but not inside every configuration (override files).
fn one_of(diags: &mut Diagnostics, value: &Value<String>, allowed: &[&str], path: AttributePath) {
    if let Value::Value(v) = value
        && !allowed.contains(&v.as_str())
    {
        let allowed = allowed
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let name = crate::diag::path_name(&path);
        diags.error(
            format!("Invalid {name}"),
            format!("{name}: `{v}` is not one of {allowed}"),
            path,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> IntegrationState {
        IntegrationState {
            name: Value::Value("crm".into()),
            url: Value::Value("https://api.your-crm.com/v1/genesys-events".into()),
            retry_policy: Value::Value(RetryPolicyState {
                max_retries: Value::Value(5),
                retry_policy_type: Value::Value("exponential".into()),
                ..Default::default()
            }),
            transformations: Value::Value(vec![TransformationState {
                kind: Value::Value("set".into()),
                path: Value::Value("source".into()),
                value: Value::Value("{\"b\":1, \"a\":[true]}".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }
    }

    #[test]
    fn the_plan_of_a_sparse_configuration_equals_what_the_server_returns() {
        let planned = IntegrationState::planned(&config(), None);
        // What Ricochet answers: every default filled in, the JSON value re-serialised.
        let mut wire: Integration = serde_json::from_value(json!({
            "id": "0193", "name": "crm", "type": "webhook", "enabled": true, "version": 1,
            "settings": {
                "url": "https://api.your-crm.com/v1/genesys-events", "httpMethod": "POST",
                "contentType": "application/json", "headers": {},
                "retryPolicy": {
                    "retryPolicyType": "exponential", "maxRetries": 5, "retryDelay": 1000,
                    "multiplier": 2.0, "maxDelay": 3600000, "jitter": true, "jitterRatio": 0.2,
                    "jitterMode": "ratio", "retryOnStatus": [], "retryOnTimeout": true,
                    "respectRetryAfter": true, "maxRetryAfter": 3600000
                },
                "requestTimeout": 10000, "maxConcurrency": 10, "ordering": "none", "payloadFormat": "envelope",
                "requestTimeout": 10000, "maxConcurrency": 10, "rateLimit": null,
                "circuitBreaker": {"failureThreshold": 10, "coolDown": 30000, "maxCoolDown": 600000},
                "disableOnGone": true, "autoDisableAfter": 432000000, "payloadFormat": "envelope",
                "transformations": [{"type": "set", "path": "source", "value": {"a": [true], "b": 1}}]
            }
        }))
        .expect("an integration");
        wire.id = "0193".into();
        let read = IntegrationState::from_wire(wire, Some(&planned));
        let mut expected = planned;
        expected.id = Value::Value("0193".into());
        expected.version = Value::Value(1);
        assert_eq!(read, expected);
    }

    #[test]
    fn resilience_settings_plan_as_configured_with_the_servers_defaults_and_go_out_as_the_api_names_them()
     {
        let mut configured = config();
        configured.rate_limit = Value::Value(RateLimitState {
            requests: Value::Value(50),
            per: Value::Value("second".into()),
        });
        configured.circuit_breaker = Value::Value(CircuitBreakerState {
            failure_threshold: Value::Value(3),
            ..Default::default()
        });
        configured.disable_on_gone = Value::Value(false);
        let planned = IntegrationState::planned(&configured, None);
        assert_eq!(
            planned.circuit_breaker,
            Value::Value(CircuitBreakerState {
                failure_threshold: Value::Value(3),
                cool_down_ms: Value::Value(30_000),
                max_cool_down_ms: Value::Value(600_000),
            })
        );
        assert_eq!(planned.auto_disable_after_ms, Value::Value(432_000_000));
        let wire = serde_json::to_value(planned.to_wire()).expect("json");
        let settings = &wire["settings"];
        assert_eq!(
            settings["rateLimit"],
            json!({"requests": 50, "per": "second"})
        );
        assert_eq!(
            settings["circuitBreaker"],
            json!({"failureThreshold": 3, "coolDown": 30000, "maxCoolDown": 600000})
        );
        assert_eq!(settings["disableOnGone"], false);
        assert_eq!(settings["autoDisableAfter"], 432_000_000);
        // No rate limit goes out as none at all.
        let unlimited = IntegrationState::planned(&config(), None).to_wire();
        let unlimited = serde_json::to_value(unlimited).expect("json");
        assert_eq!(unlimited["settings"].get("rateLimit"), None);
        // What the server answers for it reads back as the plan.
        let mut answer: Integration = serde_json::from_value(wire).expect("an integration");
        answer.id = "0193".into();
        answer.version = 1;
        let read = IntegrationState::from_wire(answer, Some(&planned));
        let mut expected = planned;
        expected.id = Value::Value("0193".into());
        expected.version = Value::Value(1);
        assert_eq!(read, expected);
    }

    #[test]
    fn an_unchanged_configuration_keeps_the_version_and_a_change_makes_it_unknown() {
        let mut prior = IntegrationState::planned(&config(), None);
        prior.id = Value::Value("0193".into());
        prior.version = Value::Value(3);
        assert_eq!(
            IntegrationState::planned(&config(), Some(&prior)).version,
            Value::Value(3)
        );
        let mut changed = config();
        changed.url = Value::Value("https://other.example.com".into());
        assert_eq!(
            IntegrationState::planned(&changed, Some(&prior)).version,
            Value::Unknown
        );
    }
}
