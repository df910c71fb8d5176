//! The request an attempt sends, built from an integration's settings and an event: method,
//! URL, headers and body, each rendered twice, with secret values for the wire and with their
//! templates for everything a person may read (logs, previews, errors).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::encode::{DotSegment, Encoder, Target};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::integration::{HttpMethod, IntegrationSettings};
use crate::payload::{self, EventView};
use crate::receiver_auth::ReceiverAuth;
use crate::signature::{Signer, signature_header};
use crate::template::{ParseTemplate, Segment, Template, Variable};

/// How the `Authorization` header of an OAuth 2.0 receiver is shown (the token is fetched at
/// send time and never recorded).
pub const OAUTH_TOKEN_SHOWN: &str = "Bearer <token from settings.auth.tokenUrl>";

/// A rendered value: what is sent, and what may be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// With secret values: only ever sent to the receiver.
    pub wire: String,
    /// With `{{secret:NAME}}` in place of each value; none when that is `wire` itself (no
    /// secret in it), which is then not kept twice.
    masked: Option<String>,
}

impl Rendered {
    /// A value without secrets: sent and shown as it is.
    pub fn plain(text: String) -> Rendered {
        Rendered {
            wire: text,
            masked: None,
        }
    }

    /// A value sent as `wire` and shown as `shown`.
    pub fn new(wire: String, shown: String) -> Rendered {
        let masked = (shown != wire).then_some(shown);
        Rendered { wire, masked }
    }

    /// What may be shown.
    pub fn shown(&self) -> &str {
        self.masked.as_deref().unwrap_or(&self.wire)
    }

    /// What may be shown, taken.
    pub fn into_shown(self) -> String {
        self.masked.unwrap_or(self.wire)
    }
}

/// Who and what the request is for.
#[derive(Debug, Clone)]
pub struct RequestContext<'a> {
    /// The event.
    pub event: EventView<'a>,
    /// The integration.
    pub integration_id: Uuid,
    /// The delivery, when there is one (not in a preview).
    pub delivery_id: Option<Uuid>,
    /// When this attempt is sent (`webhook-timestamp`, which receivers check against their
    /// clock: a retry hours later must carry its own time, not the delivery's).
    pub sent_at: DateTime<Utc>,
    /// The attempt number.
    pub attempt: i32,
}

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    /// The method.
    pub method: HttpMethod,
    /// The URL.
    pub url: Rendered,
    /// Ricochet's own headers, then the integration's. Ricochet's own names are borrowed static
    /// lowercase text (a sender can use them without a copy); the integration's are owned.
    pub headers: Vec<(Cow<'static, str>, Rendered)>,
    /// The body (none for GET).
    pub body: Option<Rendered>,
}

/// Why a request could not be built: the reason recorded on the dead letter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrepareError {
    /// A referenced secret does not exist (any more).
    #[error("missing_secret:{0}")]
    MissingSecret(String),
    /// A stored template no longer parses (it was valid when saved, so this is a bug).
    #[error("template:{0}")]
    Template(String),
    /// A value would change the request's shape (a `..` path segment, say).
    #[error("unsafe_value:{0}")]
    UnsafeValue(String),
}

impl From<DotSegment> for PrepareError {
    fn from(e: DotSegment) -> Self {
        PrepareError::UnsafeValue(e.to_string())
    }
}

/// Builds the request, parsing its templates as it goes. `secret` gives a secret's current
/// value by name.
pub fn prepare(
    settings: &IntegrationSettings,
    ctx: &RequestContext<'_>,
    secret: &dyn Fn(&str) -> Option<String>,
) -> Result<PreparedRequest, PrepareError> {
    prepare_with(settings, ctx, secret, &Template::parse_shared)
}

/// [`prepare`], with the templates parsed by `parse` (the worker keeps each template it
/// parsed, by text, so an integration's templates are parsed once, not per attempt).
pub fn prepare_with(
    settings: &IntegrationSettings,
    ctx: &RequestContext<'_>,
    secret: &dyn Fn(&str) -> Option<String>,
    parse: ParseTemplate<'_>,
) -> Result<PreparedRequest, PrepareError> {
    let render = |source: &str, target| render(source, target, ctx, secret, parse);
    let url = render(&settings.url, Target::Url)?;
    check_origin(&settings.url, &url.wire, parse)?;
    let fixed = [
        ("content-type", settings.content_type.clone()),
        (
            "user-agent",
            concat!("Ricochet/", env!("CARGO_PKG_VERSION")).to_owned(),
        ),
        ("webhook-id", webhook_id(ctx)),
        ("webhook-timestamp", ctx.sent_at.timestamp().to_string()),
        (
            "x-ricochet-delivery-id",
            ctx.delivery_id
                .map_or_else(|| "preview".to_owned(), |id| id.to_string()),
        ),
        ("x-ricochet-attempt", ctx.attempt.to_string()),
    ];
    let mut headers: Vec<(Cow<'static, str>, Rendered)> = fixed
        .into_iter()
        .map(|(name, value)| (Cow::Borrowed(name), Rendered::plain(value)))
        .collect();
    for (name, value) in &settings.headers {
        headers.push((Cow::Owned(name.clone()), render(value, Target::Text)?));
    }
    if let Some(ReceiverAuth::Basic { username, password }) = &settings.auth {
        let (user, pass) = (
            render(username, Target::Text)?,
            render(password, Target::Text)?,
        );
        let credentials = STANDARD.encode(format!("{}:{}", user.wire, pass.wire));
        headers.push((
            Cow::Borrowed("authorization"),
            Rendered::new(
                format!("Basic {credentials}"),
                format!("Basic <{}:{}>", user.shown(), pass.shown()),
            ),
        ));
    }
    if let Some(ReceiverAuth::Oauth2ClientCredentials { .. }) = &settings.auth {
        // The delivery worker puts the access token in its place; previews and logs show this.
        headers.push((
            Cow::Borrowed("authorization"),
            Rendered::plain(OAUTH_TOKEN_SHOWN.to_owned()),
        ));
    }
    let body = match (settings.http_method, &settings.body_template) {
        (HttpMethod::Get, _) => None,
        (_, Some(template)) => Some(render(template, Target::for_body(&settings.content_type))?),
        (_, None) => Some(Rendered::plain(payload::body(settings, &ctx.event))),
    };
    Ok(PreparedRequest {
        method: settings.http_method,
        url,
        headers,
        body,
    })
}

/// The `webhook-id`: the event's id, the same on every attempt, so receivers can drop
/// duplicates. An id with a `.` would make the signed `id.timestamp.body` ambiguous, so such
/// events are named by their delivery instead (`msg_<delivery id>`, as stable).
fn webhook_id(ctx: &RequestContext<'_>) -> String {
    if ctx.event.id.contains('.') {
        ctx.delivery_id.map_or_else(
            || "msg_preview".to_owned(),
            |id| format!("msg_{}", id.simple()),
        )
    } else {
        ctx.event.id.to_owned()
    }
}

impl PreparedRequest {
    /// Adds `webhook-signature` over the `webhook-id`, `webhook-timestamp` and body as they are
    /// sent, with each of `keys` (none: no header).
    pub fn sign(&mut self, keys: &[Signer]) {
        if keys.is_empty() {
            return;
        }
        let header = |name: &str| {
            self.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.wire.as_str())
        };
        let id = header("webhook-id").unwrap_or_default();
        let timestamp = header("webhook-timestamp")
            .and_then(|t| t.parse().ok())
            .unwrap_or_default();
        let body = self.body.as_ref().map_or(&b""[..], |b| b.wire.as_bytes());
        let value = signature_header(keys, id, timestamp, body);
        self.headers
            .push((Cow::Borrowed("webhook-signature"), Rendered::plain(value)));
    }
}

/// Renders `source` for `target`: each value encoded for where it lands (see
/// [`crate::encode`]), secret values on the wire only.
fn render(
    source: &str,
    target: Target,
    ctx: &RequestContext<'_>,
    secret: &dyn Fn(&str) -> Option<String>,
    parse: ParseTemplate<'_>,
) -> Result<Rendered, PrepareError> {
    // Text without a placeholder's opening is all literal: sent and shown as it is.
    if Template::is_literal(source) {
        return Ok(Rendered::plain(source.to_owned()));
    }
    let template = parse(source).map_err(|e| PrepareError::Template(e.to_string()))?;
    let mut encoder = Encoder::new(target);
    let (mut wire, mut shown) = (String::new(), String::new());
    for segment in &template.0 {
        match segment {
            Segment::Literal(text) => {
                encoder.literal(text);
                wire.push_str(text);
                shown.push_str(text);
            }
            Segment::Variable(Variable::Secret(name)) => {
                let value =
                    secret(name).ok_or_else(|| PrepareError::MissingSecret(name.clone()))?;
                wire.push_str(&encoder.value(Some(&Value::String(value)))?);
                shown.push_str(&Variable::Secret(name.clone()).to_string());
            }
            Segment::Variable(variable) => {
                let value = value_of(variable, ctx);
                let text = encoder.value(value.as_ref())?;
                wire.push_str(&text);
                shown.push_str(&text);
            }
        }
    }
    Ok(Rendered::new(wire, shown))
}

/// The value a (non-secret) variable stands for; `None` for data that is not there.
fn value_of(variable: &Variable, ctx: &RequestContext<'_>) -> Option<Value> {
    Some(match variable {
        Variable::EventId => Value::String(ctx.event.id.to_owned()),
        Variable::EventType => Value::String(ctx.event.kind.to_owned()),
        Variable::TenantId => Value::String(ctx.event.tenant_id.to_string()),
        Variable::IntegrationId => Value::String(ctx.integration_id.to_string()),
        Variable::Attempt => Value::from(ctx.attempt),
        Variable::Data(path) => payload::lookup(ctx.event.data, &path.join("."))?.clone(),
        Variable::Secret(_) => return None,
    })
}

/// The rendered URL must keep the saved URL's scheme, host and port (placeholders there are
/// refused at save and values are encoded; this holds that line if either ever slips).
fn check_origin(
    template: &str,
    rendered: &str,
    parse: ParseTemplate<'_>,
) -> Result<(), PrepareError> {
    // A URL without placeholders renders as itself: nothing moved.
    if rendered == template {
        return Ok(());
    }
    let saved = parse(template)
        .map_err(|e| PrepareError::Template(e.to_string()))?
        .render(|_| "placeholder".to_owned());
    let origin = |url: &str| {
        url::Url::parse(url).ok().map(|u| {
            (
                u.scheme().to_owned(),
                u.host_str().map(str::to_owned),
                u.port_or_known_default(),
            )
        })
    };
    match (origin(&saved), origin(rendered)) {
        (Some(a), Some(b)) if a == b => Ok(()),
        _ => Err(PrepareError::UnsafeValue(
            "the rendered URL does not keep the saved scheme, host and port".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn settings(value: Value) -> IntegrationSettings {
        serde_json::from_value(value).expect("valid settings")
    }

    fn ctx(data: &Value) -> RequestContext<'_> {
        RequestContext {
            event: EventView {
                id: "evt-1",
                kind: "a.b",
                tenant_id: Uuid::nil(),
                occurred_at: Utc::now(),
                data,
            },
            integration_id: Uuid::nil(),
            delivery_id: None,
            sent_at: Utc::now(),
            attempt: 2,
        }
    }

    #[test]
    fn a_secret_goes_on_the_wire_and_its_template_everywhere_else() {
        let s = settings(
            json!({"url": "https://x.test/{{data.id}}", "headers": {"Authorization": "Bearer {{secret:tok}}"}}),
        );
        let data = json!({"id": 7});
        let request = prepare(&s, &ctx(&data), &|name| {
            (name == "tok").then(|| "s3cr3t".to_owned())
        })
        .expect("prepared");
        let auth = &request
            .headers
            .iter()
            .find(|(n, _)| n == "Authorization")
            .expect("header")
            .1;
        assert_eq!(auth.wire, "Bearer s3cr3t");
        assert_eq!(auth.shown(), "Bearer {{secret:tok}}");
        assert_eq!(request.url.wire, "https://x.test/7");
        assert!(
            !request
                .headers
                .iter()
                .any(|(_, v)| v.shown().contains("s3cr3t"))
        );
    }

    #[test]
    fn basic_auth_sends_the_password_and_shows_its_template() {
        let s = settings(json!({"url": "https://x.test/",
            "auth": {"type": "basic", "username": "rico", "password": "{{secret:pw}}"}}));
        let data = json!({});
        let request = prepare(&s, &ctx(&data), &|name| {
            (name == "pw").then(|| "p@ss:w".to_owned())
        })
        .expect("prepared");
        let auth = &request
            .headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .expect("header")
            .1;
        assert_eq!(
            auth.wire,
            format!("Basic {}", STANDARD.encode("rico:p@ss:w"))
        );
        assert_eq!(auth.shown(), "Basic <rico:{{secret:pw}}>");
    }

    #[test]
    fn what_is_shown_is_kept_apart_only_when_a_secret_makes_it_differ() {
        let s = settings(json!({"url": "https://x.test/{{eventType}}",
            "headers": {"X-Key": "k-{{secret:key}}", "X-Plain": "{{eventId}}"}}));
        let data = json!({"n": 1});
        let request = prepare(&s, &ctx(&data), &|name| {
            (name == "key").then(|| "s3cr3t".to_owned())
        })
        .expect("prepared");
        let header = |name: &str| {
            &request
                .headers
                .iter()
                .find(|(n, _)| n == name)
                .expect("header")
                .1
        };
        // With a secret: sent with its value, shown with its placeholder.
        assert_eq!(header("X-Key").wire, "k-s3cr3t");
        assert_eq!(header("X-Key").shown(), "k-{{secret:key}}");
        assert_eq!(header("X-Key").clone().into_shown(), "k-{{secret:key}}");
        // Without one: shown as sent, and not kept twice.
        assert_eq!(header("X-Plain").shown(), "evt-1");
        assert_eq!(header("X-Plain"), &Rendered::plain("evt-1".into()));
        assert_eq!(request.url.shown(), "https://x.test/a.b");
        let body = request.body.expect("a body");
        assert_eq!(body.shown(), body.wire);
        assert_eq!(body, Rendered::plain(body.wire.clone()));
        assert_eq!(
            Rendered::new("same".into(), "same".into()),
            Rendered::plain("same".into())
        );
    }

    #[test]
    fn a_missing_secret_is_named() {
        let s = settings(json!({"url": "https://x.test/", "headers": {"A": "<<secret:gone>>"}}));
        let data = json!({});
        assert_eq!(
            prepare(&s, &ctx(&data), &|_| None).err(),
            Some(PrepareError::MissingSecret("gone".into()))
        );
    }

    #[test]
    fn a_body_template_replaces_the_json_payload_and_get_sends_none() {
        let s = settings(
            json!({"url": "https://x.test/", "bodyTemplate": "{\"text\": \"{{eventType}} #{{attempt}}\"}"}),
        );
        let data = json!({});
        let body = prepare(&s, &ctx(&data), &|_| None)
            .expect("prepared")
            .body
            .expect("a body");
        assert_eq!(body.wire, "{\"text\": \"a.b #2\"}");
        let get = settings(json!({"url": "https://x.test/", "httpMethod": "GET"}));
        assert!(
            prepare(&get, &ctx(&data), &|_| None)
                .expect("prepared")
                .body
                .is_none()
        );
    }
}
