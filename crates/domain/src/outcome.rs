//! What an attempt's outcome means: success, worth retrying, or a permanent failure; and what
//! a receiver's `Retry-After` asks for.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::retry::RetryPolicy;

/// Why an attempt got no HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The receiver took longer than `requestTimeout`.
    Timeout,
    /// The connection could not be made (refused, reset, unreachable).
    Connect,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed.
    Tls,
    /// The response body could not be read.
    Body,
    /// The request could not be built (a template's secret is missing, say).
    Request,
    /// The target is not an address Ricochet may connect to (see `target`); never retried.
    BlockedTarget,
    /// The receiver's credentials could not be obtained (the OAuth 2.0 token endpoint failed or
    /// refused): retried like a network error.
    Auth,
    /// The integration's `settings.tls` cannot be used: a referenced secret is missing, or its
    /// PEM is not a certificate or key. Never retried: the configuration must change.
    TlsConfig,
    /// Ricochet failed while making the attempt (a bug, caught): retried like a network error,
    /// so a delivery that keeps hitting it ends dead-lettered when its retries run out.
    Internal,
}

impl ErrorKind {
    /// The name recorded on the attempt.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Dns => "dns",
            ErrorKind::Tls => "tls",
            ErrorKind::Body => "body",
            ErrorKind::Request => "request",
            ErrorKind::BlockedTarget => "blocked_target",
            ErrorKind::Auth => "auth",
            ErrorKind::TlsConfig => "tls_config",
            ErrorKind::Internal => "internal_error",
        }
    }
}

/// What one attempt got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver answered with this status.
    Status(u16),
    /// No status: the attempt failed on the way.
    Error(ErrorKind),
}

/// What an outcome means for the delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Delivered.
    Success,
    /// Failed, but worth another attempt.
    Retryable,
    /// Failed for good; the reason is recorded on the dead letter.
    Permanent(String),
}

/// Classifies an outcome under a policy: 2xx succeeds; network errors, 408, 429 and 5xx retry
/// (a timeout only when `retryOnTimeout`); 413 and every other status are permanent unless
/// `retryOnStatus` lists them.
pub fn classify(policy: &RetryPolicy, outcome: &Outcome) -> Verdict {
    match *outcome {
        Outcome::Status(code) if (200..300).contains(&code) => Verdict::Success,
        Outcome::Status(code) if policy.retry_on_status.contains(&code) => Verdict::Retryable,
        Outcome::Status(413) => Verdict::Permanent("payload_too_large".into()),
        Outcome::Status(code) if code == 408 || code == 429 || (500..600).contains(&code) => {
            Verdict::Retryable
        }
        Outcome::Status(code) => Verdict::Permanent(format!("non_retryable_status:{code}")),
        Outcome::Error(ErrorKind::Timeout) if !policy.retry_on_timeout => {
            Verdict::Permanent("timeout".into())
        }
        Outcome::Error(ErrorKind::Request) => Verdict::Permanent("request".into()),
        Outcome::Error(ErrorKind::BlockedTarget) => Verdict::Permanent("blocked_target".into()),
        Outcome::Error(ErrorKind::TlsConfig) => Verdict::Permanent("tls_config".into()),
        Outcome::Error(_) => Verdict::Retryable,
    }
}

/// What a `Retry-After` header said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// Wait this long (from delta-seconds, or an HTTP-date minus now; never negative).
    Wait(Duration),
    /// The value was neither form; the policy's own delay applies.
    Unparseable,
}

/// Parses `Retry-After` in both forms (RFC 9110 §10.2.3): delta-seconds or an HTTP-date.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> RetryAfter {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return RetryAfter::Wait(Duration::from_secs(seconds));
    }
    match DateTime::parse_from_rfc2822(value) {
        Ok(at) => {
            let wait = at.with_timezone(&Utc) - now;
            // An HTTP-date has whole seconds: round a wait up so we are never early.
            RetryAfter::Wait(wait.to_std().map(ceil_to_ms).unwrap_or(Duration::ZERO))
        }
        Err(_) => RetryAfter::Unparseable,
    }
}

fn ceil_to_ms(d: Duration) -> Duration {
    let ms = d.as_nanos().div_ceil(1_000_000);
    Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::default()
    }

    #[test]
    fn statuses_classify_as_the_policy_says() {
        let p = policy();
        assert_eq!(classify(&p, &Outcome::Status(204)), Verdict::Success);
        for code in [408, 429, 500, 502, 503, 599] {
            assert_eq!(
                classify(&p, &Outcome::Status(code)),
                Verdict::Retryable,
                "{code}"
            );
        }
        for code in [301, 400, 401, 403, 404, 409, 410, 422] {
            assert_eq!(
                classify(&p, &Outcome::Status(code)),
                Verdict::Permanent(format!("non_retryable_status:{code}"))
            );
        }
        assert_eq!(
            classify(&p, &Outcome::Status(413)),
            Verdict::Permanent("payload_too_large".into())
        );
    }

    #[test]
    fn retry_on_status_makes_a_4xx_retry() {
        let p = RetryPolicy {
            retry_on_status: vec![409],
            ..policy()
        };
        assert_eq!(classify(&p, &Outcome::Status(409)), Verdict::Retryable);
    }

    #[test]
    fn a_timeout_retries_only_when_the_policy_says_so() {
        assert_eq!(
            classify(&policy(), &Outcome::Error(ErrorKind::Timeout)),
            Verdict::Retryable
        );
        let p = RetryPolicy {
            retry_on_timeout: false,
            ..policy()
        };
        assert_eq!(
            classify(&p, &Outcome::Error(ErrorKind::Timeout)),
            Verdict::Permanent("timeout".into())
        );
        assert_eq!(
            classify(&p, &Outcome::Error(ErrorKind::Connect)),
            Verdict::Retryable
        );
    }

    #[test]
    fn retry_after_parses_both_forms() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .expect("date")
            .with_timezone(&Utc);
        assert_eq!(
            parse_retry_after("120", now),
            RetryAfter::Wait(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            RetryAfter::Wait(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            RetryAfter::Wait(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), RetryAfter::Unparseable);
        assert_eq!(parse_retry_after("-5", now), RetryAfter::Unparseable);
    }
}
