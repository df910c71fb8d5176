//! The retry policy of an integration: its fields, their defaults and their allowed ranges.
//!
//! Every field has a default so the guide's four-field policy is complete once stored, and a
//! response always shows the policy that will actually run.

use serde::{Deserialize, Serialize};

use crate::validation::ValidationErrors;

/// Most retries a policy may ask for (`maxRetries`): 50 retries at a one-hour cap already
/// span two days.
pub const MAX_RETRIES_CAP: i64 = 50;
/// Longest base delay or cap between attempts: 7 days, in milliseconds.
pub const MAX_DELAY_CAP_MS: i64 = 7 * 24 * 3_600_000;
/// Longest wait a receiver's `Retry-After` may impose: 1 day, in milliseconds.
pub const MAX_RETRY_AFTER_CAP_MS: i64 = 24 * 3_600_000;

/// How the delay grows from one retry to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum RetryPolicyType {
    /// `retryDelay × multiplier^(n-1)`.
    #[default]
    Exponential,
    /// `retryDelay × n`.
    Linear,
    /// `retryDelay` every time.
    Fixed,
    /// No retries: the first failure dead-letters the delivery.
    None,
}

/// How jitter spreads a delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum JitterMode {
    /// Uniform within ±`jitterRatio` of the delay.
    #[default]
    Ratio,
    /// Uniform in `[0, delay]` ("full jitter").
    Full,
}

/// When and how often a failed delivery is tried again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Growth of the delay between retries.
    pub retry_policy_type: RetryPolicyType,
    /// Retries after the first attempt: 5 means up to 6 attempts. 0 to 50.
    #[schema(example = 5, minimum = 0, maximum = 50)]
    pub max_retries: i64,
    /// Base delay in milliseconds. 0 to 604800000 (7 days).
    #[schema(example = 1000, minimum = 0, maximum = 604_800_000)]
    pub retry_delay: i64,
    /// Growth factor of `exponential`. 1.0 to 10.0.
    #[schema(example = 2.0, minimum = 1.0, maximum = 10.0)]
    pub multiplier: f64,
    /// Cap on any one delay, in milliseconds; at least `retryDelay`.
    #[schema(example = 3_600_000, minimum = 0, maximum = 604_800_000)]
    pub max_delay: i64,
    /// Spread each delay randomly so failed deliveries do not retry in lockstep.
    pub jitter: bool,
    /// Width of `ratio` jitter as a fraction of the delay. 0.0 to 1.0.
    #[schema(example = 0.2, minimum = 0.0, maximum = 1.0)]
    pub jitter_ratio: f64,
    /// Shape of the jitter.
    pub jitter_mode: JitterMode,
    /// Extra status codes that retry (by default only 408, 429 and 5xx do).
    #[schema(example = json!([409]))]
    pub retry_on_status: Vec<u16>,
    /// Whether a request that times out is retried.
    pub retry_on_timeout: bool,
    /// Whether a `Retry-After` on 429 or 503 is honoured.
    pub respect_retry_after: bool,
    /// Longest `Retry-After` honoured, in milliseconds. 0 to 86400000 (1 day).
    #[schema(example = 3_600_000, minimum = 0, maximum = 86_400_000)]
    pub max_retry_after: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            retry_policy_type: RetryPolicyType::Exponential,
            max_retries: 5,
            retry_delay: 1_000,
            multiplier: 2.0,
            max_delay: 3_600_000,
            jitter: true,
            jitter_ratio: 0.2,
            jitter_mode: JitterMode::Ratio,
            retry_on_status: Vec::new(),
            retry_on_timeout: true,
            respect_retry_after: true,
            max_retry_after: 3_600_000,
        }
    }
}

impl RetryPolicy {
    /// Records every out-of-range field under `prefix` (e.g. `settings.retryPolicy`).
    pub fn validate(&self, prefix: &str, errors: &mut ValidationErrors) {
        let field = |name: &str| format!("{prefix}.{name}");
        errors.check_range(&field("maxRetries"), self.max_retries, 0, MAX_RETRIES_CAP);
        errors.check_range(&field("retryDelay"), self.retry_delay, 0, MAX_DELAY_CAP_MS);
        errors.check_range(&field("maxDelay"), self.max_delay, 0, MAX_DELAY_CAP_MS);
        errors.check_range(
            &field("maxRetryAfter"),
            self.max_retry_after,
            0,
            MAX_RETRY_AFTER_CAP_MS,
        );
        if self.max_delay < self.retry_delay && (0..=MAX_DELAY_CAP_MS).contains(&self.max_delay) {
            errors.add(field("maxDelay"), "must be at least retryDelay");
        }
        if !(1.0..=10.0).contains(&self.multiplier) {
            errors.add(
                field("multiplier"),
                format!("must be between 1.0 and 10.0, got {}", self.multiplier),
            );
        }
        if !(0.0..=1.0).contains(&self.jitter_ratio) {
            errors.add(
                field("jitterRatio"),
                format!("must be between 0.0 and 1.0, got {}", self.jitter_ratio),
            );
        }
        // Each of the 300 statuses from 300 to 599 at most once.
        if self.retry_on_status.len() > 300 {
            errors.add(
                field("retryOnStatus"),
                "must list at most 300 statuses (300 to 599)",
            );
        }
        for (i, status) in self.retry_on_status.iter().enumerate().take(300) {
            if !(300..=599).contains(status) {
                errors.add(
                    format!("{}[{i}]", field("retryOnStatus")),
                    format!("must be an HTTP status from 300 to 599, got {status}"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(policy: &RetryPolicy) -> ValidationErrors {
        let mut errors = ValidationErrors::default();
        policy.validate("p", &mut errors);
        errors
    }

    #[test]
    fn the_default_policy_is_valid() {
        assert!(errors_of(&RetryPolicy::default()).0.is_empty());
    }

    #[test]
    fn a_missing_field_takes_its_default() {
        let policy: RetryPolicy =
            serde_json::from_str(r#"{"maxRetries": 2}"#).expect("valid policy");
        assert_eq!(policy.max_retries, 2);
        assert_eq!(policy.multiplier, 2.0);
        assert_eq!(policy.retry_policy_type, RetryPolicyType::Exponential);
    }

    #[test]
    fn out_of_range_fields_are_each_reported() {
        let policy = RetryPolicy {
            max_retries: MAX_RETRIES_CAP + 1,
            retry_delay: -1,
            multiplier: 0.5,
            jitter_ratio: 1.5,
            retry_on_status: vec![200],
            ..RetryPolicy::default()
        };
        let errors = errors_of(&policy);
        for field in [
            "p.maxRetries",
            "p.retryDelay",
            "p.multiplier",
            "p.jitterRatio",
            "p.retryOnStatus[0]",
        ] {
            assert!(errors.has(field), "{field} not reported in {errors:?}");
        }
    }

    #[test]
    fn a_cap_below_the_base_delay_is_rejected() {
        let policy = RetryPolicy {
            retry_delay: 5_000,
            max_delay: 1_000,
            ..RetryPolicy::default()
        };
        assert!(errors_of(&policy).has("p.maxDelay"));
    }
}
