//! One attempt: the request built from the integration and the event (secret values read at
//! send time), sent with reqwest, and what came back, ready to be recorded. Secret values go
//! on the wire only; what is recorded shows their templates.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use ricochet_domain::integration::HttpMethod;
use ricochet_domain::outcome::{ErrorKind, Outcome, RetryAfter, parse_retry_after};
use ricochet_domain::payload::EventView;
use ricochet_domain::request::{Rendered, RequestContext, prepare_with};

use ricochet_domain::signature::Signer;
use ricochet_domain::target::TargetPolicy;
use ricochet_domain::trace_context::TRACEPARENT;
use ricochet_store::deliveries::{AttemptRecord, Claimed};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::error_chain::describe;
use crate::receiver_auth::{AuthFailure, Token, TokenCache};
use crate::templates::ParsedTemplates;
use crate::tls::TlsClients;
use crate::urls::ParsedUrls;

/// How much of a response body is kept in the log.
pub const RESPONSE_BODY_LIMIT: usize = 4 * 1024;

/// The result of one attempt.
#[derive(Debug)]
pub struct AttemptResult {
    /// What to record.
    pub record: AttemptRecord,
    /// What the receiver (or the network) said.
    pub outcome: Outcome,
    /// The receiver's `Retry-After`, parsed.
    pub retry_after: Option<RetryAfter>,
    /// A permanent reason found before sending (a missing secret, a body over the limit).
    pub refused: Option<String>,
}

/// How attempts reach receivers: the guarded client, where it may connect, the receivers'
/// OAuth 2.0 tokens, and the clients of receivers that ask for mutual TLS.
pub(crate) struct Outbound<'a> {
    pub(crate) client: &'a reqwest::Client,
    pub(crate) targets: &'a TargetPolicy,
    pub(crate) tokens: &'a TokenCache,
    pub(crate) tls: &'a TlsClients,
    pub(crate) urls: &'a ParsedUrls,
    pub(crate) templates: &'a ParsedTemplates,
}

/// Makes attempt number `claimed.attempt_count + 1` of a claimed delivery through `outbound`,
/// with the tenant's current `secrets`, signed with each of `signing` (Standard Webhooks), and
/// bodies up to `max_body` bytes, authenticated as `settings.auth` says. A `traceparent`
/// (traces exported) is sent as that header, in place of one the integration's own headers
/// would set, and recorded with the others.
pub(crate) async fn perform(
    outbound: Outbound<'_>,
    claimed: &Claimed,
    secrets: &HashMap<String, String>,
    signing: &[Signer],
    max_body: usize,
    traceparent: Option<&str>,
) -> AttemptResult {
    let Outbound {
        client,
        targets,
        tokens,
        tls,
        urls,
        templates,
    } = outbound;
    let settings = &claimed.settings;
    let clock = Instant::now();
    let method = method_of(settings.http_method);
    let mut record = blank_record(claimed);
    let ctx = RequestContext {
        event: EventView {
            id: &claimed.event_id,
            kind: &claimed.event_type,
            tenant_id: claimed.tenant_id,
            occurred_at: claimed.occurred_at,
            data: &claimed.data,
        },
        integration_id: claimed.integration_id,
        delivery_id: Some(claimed.id),
        sent_at: Utc::now(),
        attempt: claimed.attempt_count + 1,
    };
    // `reason` goes on the dead letter, `message` (more detail) on the attempt.
    let refuse_as =
        |kind: ErrorKind, mut record: AttemptRecord, reason: String, message: String| {
            record.error_kind = Some(kind.as_str().into());
            record.error_message = Some(message);
            AttemptResult {
                record,
                outcome: Outcome::Error(kind),
                retry_after: None,
                refused: Some(reason),
            }
        };
    let refuse =
        |record, reason: String| refuse_as(ErrorKind::Request, record, reason.clone(), reason);
    let secret = |name: &str| secrets.get(name).cloned();
    let mut prepared =
        match prepare_with(settings, &ctx, &secret, &|source| templates.parse(source)) {
            Ok(prepared) => prepared,
            Err(reason) => return refuse(record, reason.to_string()),
        };
    prepared.sign(signing);
    if let Some(traceparent) = traceparent {
        prepared
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case(TRACEPARENT));
        prepared.headers.push((
            Cow::Borrowed(TRACEPARENT),
            Rendered::plain(traceparent.to_owned()),
        ));
    }
    record.request_url = prepared.url.shown().to_owned();
    record.request_headers = shown_headers(&prepared.headers);
    if prepared
        .body
        .as_ref()
        .is_some_and(|b| b.wire.len() > max_body)
    {
        return refuse(record, "payload_too_large".into());
    }
    // Literal addresses never reach the guard's resolver: check them (and the scheme) here.
    // Parsed once (a literal URL once per worker): the request is sent to this `Url`, not to
    // the text parsed again.
    let url = match urls.parse(&prepared.url.wire, prepared.url.wire == settings.url) {
        Ok(url) => {
            if let Err(blocked) = targets.check_url(&url) {
                return refuse_as(
                    ErrorKind::BlockedTarget,
                    record,
                    ErrorKind::BlockedTarget.as_str().to_owned(),
                    blocked.to_string(),
                );
            }
            url
        }
        Err(e) => return refuse(record, format!("invalid_url: {e}")),
    };
    let mut headers = HeaderMap::with_capacity(prepared.headers.len());
    // Each value's text becomes the header's bytes as it is, not copied.
    for (name, value) in prepared.headers {
        match (
            header_name(&name),
            HeaderValue::from_maybe_shared(bytes::Bytes::from(value.wire)),
        ) {
            (Ok(n), Ok(v)) => {
                headers.insert(n, v);
            }
            _ => return refuse(record, format!("invalid_header:{name}")),
        }
    }
    let timeout =
        Duration::from_millis(u64::try_from(settings.request_timeout_ms()).unwrap_or(10_000));
    // The whole attempt (waiting for a token, a second request after a 401) fits in
    // requestTimeout, so it always ends within the lease taken for it.
    let deadline = tokio::time::Instant::now() + timeout;
    let left = || {
        deadline
            .saturating_duration_since(tokio::time::Instant::now())
            .max(Duration::from_millis(1))
    };
    let credentials = match settings
        .auth
        .as_ref()
        .map(|auth| auth.client_credentials(&|name| secrets.get(name).cloned()))
    {
        Some(Ok(credentials)) => credentials,
        Some(Err(name)) => return refuse(record, format!("missing_secret:{name}")),
        None => None,
    };
    // A receiver asking for mutual TLS gets a client with the identity (the token endpoint,
    // another server, keeps the default one). Material that cannot be used is a configuration
    // error: no attempt can succeed until it changes, so none is retried.
    let receiver_client = match &settings.tls {
        None => client.clone(),
        Some(config) => {
            let failed = |record, message: String| {
                refuse_as(
                    ErrorKind::TlsConfig,
                    record,
                    ErrorKind::TlsConfig.as_str().to_owned(),
                    message,
                )
            };
            let material = match config.material(&|name| secrets.get(name).cloned()) {
                Ok(material) => material,
                Err(name) => {
                    return failed(
                        record,
                        format!("settings.tls: secret {name} does not exist"),
                    );
                }
            };
            match tls.client(claimed.tenant_id, &material) {
                Ok(client) => client,
                Err(e) => return failed(record, e.to_string()),
            }
        }
    };
    // Shared, not copied, by each request built from it.
    let body = prepared.body.map(|b| bytes::Bytes::from(b.wire));
    // Built whole rather than through a `RequestBuilder`, which would insert the headers one by
    // one into a map of its own. The headers are copied only for an attempt that may be sent
    // twice (a refused token is replaced once).
    let retry_headers = credentials.as_ref().map(|_| headers.clone());
    let build = |mut headers: HeaderMap, bearer: Option<&Token>| {
        if let Some(value) =
            bearer.and_then(|t| HeaderValue::from_str(&format!("Bearer {}", t.value)).ok())
        {
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let mut request = reqwest::Request::new(method.clone(), url.clone());
        *request.headers_mut() = headers;
        *request.timeout_mut() = Some(left());
        *request.body_mut() = body.clone().map(reqwest::Body::from);
        receiver_client.execute(request)
    };
    // The token futures (a request to the token endpoint) are boxed: only receivers with OAuth
    // take them (see `worker::deliver`'s size).
    let mut bearer = None;
    if let Some(credentials) = &credentials {
        match token_within(
            deadline,
            Box::pin(tokens.token(client, targets, claimed.integration_id, credentials, left())),
        )
        .await
        {
            Ok(token) => bearer = Some(token),
            Err(failure) => return auth_failed(record, clock, failure),
        }
    }
    let mut sent = build(headers, bearer.as_ref()).await;
    // A refused token is replaced once and the attempt sent again at once: the receiver
    // revoked it or expired it early, which is no fault of the delivery.
    if let (Ok(response), Some(credentials), Some(token)) = (&sent, &credentials, &bearer)
        && response.status() == reqwest::StatusCode::UNAUTHORIZED
    {
        Box::pin(tokens.refused(claimed.integration_id, credentials, token)).await;
        match token_within(
            deadline,
            Box::pin(tokens.token(client, targets, claimed.integration_id, credentials, left())),
        )
        .await
        {
            Ok(token) => sent = build(retry_headers.unwrap_or_default(), Some(&token)).await,
            Err(failure) => return auth_failed(record, clock, failure),
        }
    }

    let (outcome, retry_after) = match sent {
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

/// The token, unless `deadline` passes first.
async fn token_within(
    deadline: tokio::time::Instant,
    fetch: impl Future<Output = Result<Token, AuthFailure>>,
) -> Result<Token, AuthFailure> {
    tokio::time::timeout_at(deadline, fetch)
        .await
        .unwrap_or_else(|_| {
            Err(AuthFailure {
                kind: ErrorKind::Auth,
                message: "no token from the token endpoint within requestTimeout".into(),
            })
        })
}

/// The attempt ends without reaching the receiver: no credentials could be had. A blocked
/// token endpoint is permanent, like a blocked receiver; anything else is retried.
fn auth_failed(mut record: AttemptRecord, clock: Instant, failure: AuthFailure) -> AttemptResult {
    record.error_kind = Some(failure.kind.as_str().into());
    record.error_message = Some(failure.message);
    record.duration_ms = i32::try_from(clock.elapsed().as_millis()).unwrap_or(i32::MAX);
    let refused = (failure.kind == ErrorKind::BlockedTarget)
        .then(|| ErrorKind::BlockedTarget.as_str().into());
    AttemptResult {
        record,
        outcome: Outcome::Error(failure.kind),
        retry_after: None,
        refused,
    }
}

/// A header's name: one of Ricochet's own (static lowercase text, see
/// [`ricochet_domain::request::PreparedRequest::headers`]) without a copy, the integration's
/// checked and copied.
#[expect(
    clippy::ptr_arg,
    reason = "whether the name is borrowed static text is what it looks at"
)]
fn header_name(name: &Cow<'static, str>) -> Result<HeaderName, reqwest::header::InvalidHeaderName> {
    match name {
        Cow::Borrowed(own) => Ok(HeaderName::from_static(own)),
        Cow::Owned(name) => HeaderName::from_bytes(name.as_bytes()),
    }
}

fn method_of(method: HttpMethod) -> reqwest::Method {
    match method {
        HttpMethod::Post => reqwest::Method::POST,
        HttpMethod::Put => reqwest::Method::PUT,
        HttpMethod::Patch => reqwest::Method::PATCH,
        HttpMethod::Delete => reqwest::Method::DELETE,
        HttpMethod::Get => reqwest::Method::GET,
    }
}

/// The record of an attempt of `claimed` starting now, before anything is known: the saved
/// URL template, no headers, no answer.
pub fn blank_record(claimed: &Claimed) -> AttemptRecord {
    let settings = &claimed.settings;
    AttemptRecord {
        id: Uuid::now_v7(),
        started_at: Utc::now(),
        duration_ms: 0,
        status_code: None,
        error_kind: None,
        error_message: None,
        request_method: method_of(settings.http_method).to_string(),
        request_url: settings.url.clone(),
        request_headers: AttemptRecord::no_headers(),
        response_content_type: None,
        response_body: None,
        retry_after_ms: None,
        retry_after_note: None,
    }
}

/// The headers as the attempt records them: a JSON object of each name and the value shown
/// (the last of a name sent twice, as PostgreSQL's `jsonb` keeps it), written as JSON at once.
fn shown_headers(headers: &[(Cow<'static, str>, Rendered)]) -> Box<RawValue> {
    struct Shown<'a>(&'a [(Cow<'static, str>, Rendered)]);
    impl Serialize for Shown<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_map(self.0.iter().map(|(name, value)| (name, value.shown())))
        }
    }
    // Strings always serialize; were it to fail, the attempt is recorded without its headers.
    serde_json::value::to_raw_value(&Shown(headers)).unwrap_or_else(|_| AttemptRecord::no_headers())
}

/// The first `RESPONSE_BODY_LIMIT` bytes of the body as storable text; the rest is never read.
async fn read_prefix(response: &mut reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < RESPONSE_BODY_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    body.truncate(RESPONSE_BODY_LIMIT);
    storable_text(&body)
}

/// `bytes` as text PostgreSQL can store: UTF-8 text as it is, except that NUL (which `text`
/// refuses) is written `\x00` and every byte that is not UTF-8 (a binary answer) `\xNN`, so a
/// text answer reads as text and a binary one shows its bytes. A character cut in two by the
/// length limit is dropped.
pub fn storable_text(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(bytes.len());
    let mut chunks = bytes.utf8_chunks().peekable();
    while let Some(chunk) = chunks.next() {
        let valid = chunk.valid();
        if valid.contains('\0') {
            text.push_str(&valid.replace('\0', "\\x00"));
        } else {
            text.push_str(valid);
        }
        let last = chunks.peek().is_none();
        // An incomplete character at the very end was cut by the limit, not sent broken.
        if last && chunk.invalid().len() < 4 && bytes.len() >= RESPONSE_BODY_LIMIT {
            break;
        }
        for byte in chunk.invalid() {
            let _ = write!(text, "\\x{byte:02x}");
        }
    }
    text
}

fn error_kind(err: &reqwest::Error) -> ErrorKind {
    if crate::guard::is_blocked(err) {
        return ErrorKind::BlockedTarget;
    }
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

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use chrono::Utc;
    use reqwest::header::HeaderName;
    use ricochet_domain::integration::IntegrationSettings;
    use ricochet_domain::payload::EventView;
    use ricochet_domain::request::{Rendered, RequestContext, prepare};
    use ricochet_domain::signature::{Signer, SigningKey};
    use ricochet_domain::trace_context::TRACEPARENT;
    use uuid::Uuid;

    use super::{header_name, storable_text};

    #[test]
    fn every_header_name_sent_is_the_same_from_static_text_or_checked() {
        let settings: IntegrationSettings = serde_json::from_value(serde_json::json!({
            "url": "https://x.test/",
            "headers": {"X-Custom-Name": "v"},
            "auth": {"type": "basic", "username": "u", "password": "p"},
        }))
        .expect("valid settings");
        let data = serde_json::json!({});
        let ctx = RequestContext {
            event: EventView {
                id: "evt-1",
                kind: "a.b",
                tenant_id: Uuid::nil(),
                occurred_at: Utc::now(),
                data: &data,
            },
            integration_id: Uuid::nil(),
            delivery_id: Some(Uuid::now_v7()),
            sent_at: Utc::now(),
            attempt: 1,
        };
        let mut request = prepare(&settings, &ctx, &|_| None).expect("prepared");
        request.sign(&[Signer::V1(SigningKey::generate())]);
        // As an attempt adds it when traces are exported.
        request.headers.push((
            Cow::Borrowed(TRACEPARENT),
            Rendered::plain("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
        ));
        // Ricochet's own six, the basic credentials, the signature and the trace context.
        let own = request
            .headers
            .iter()
            .filter(|(name, _)| matches!(name, Cow::Borrowed(_)))
            .count();
        assert_eq!(own, 9);
        for (name, _) in &request.headers {
            assert_eq!(
                header_name(name).expect("a valid name"),
                HeaderName::from_bytes(name.as_bytes()).expect("a valid name")
            );
        }
        assert!(header_name(&Cow::Owned("bad name".into())).is_err());
    }

    #[test]
    fn text_stays_text_and_nul_and_binary_bytes_are_escaped() {
        assert_eq!(
            storable_text("héllo {\"ok\":1}".as_bytes()),
            "héllo {\"ok\":1}"
        );
        assert_eq!(storable_text(b"a\0b"), "a\\x00b");
        assert_eq!(storable_text(&[0xff, b'x', 0x00, 0xc3]), "\\xffx\\x00\\xc3");
        assert!(!storable_text(&[0u8, 0xfe, 0xfd]).contains('\0'));
    }
}
