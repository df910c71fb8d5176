//! When the next attempt runs: the policy's delay curve, jitter, and a honoured
//! `Retry-After`. Pure: the caller passes the random source.

use std::time::Duration;

use rand::{Rng, RngExt};

use crate::outcome::{Outcome, RetryAfter, Verdict, classify};
use crate::retry::{JitterMode, RetryPolicy, RetryPolicyType};

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// It was delivered.
    Succeeded,
    /// Try again after `delay`.
    Retry {
        /// Wait before the next attempt.
        delay: Duration,
        /// The `Retry-After` that set (or raised) the delay, if one was honoured.
        retry_after: Option<Duration>,
    },
    /// No further attempt: dead-letter with this reason.
    DeadLetter(String),
}

/// Delay before retry `n` (1 for the first retry) before jitter: exponential
/// `retryDelay × multiplier^(n-1)`, linear `retryDelay × n`, fixed `retryDelay`; capped at
/// `maxDelay`.
pub fn base_delay(policy: &RetryPolicy, n: u32) -> Duration {
    let base = policy.retry_delay.max(0) as f64;
    let ms = match policy.retry_policy_type {
        RetryPolicyType::Exponential => {
            base * policy
                .multiplier
                .powi(i32::try_from(n.saturating_sub(1)).unwrap_or(i32::MAX))
        }
        RetryPolicyType::Linear => base * f64::from(n),
        RetryPolicyType::Fixed | RetryPolicyType::None => base,
    };
    let capped = ms.min(policy.max_delay.max(0) as f64);
    Duration::from_millis(capped as u64)
}

/// `delay` spread by the policy's jitter: uniform within ±`jitterRatio`, or in `[0, delay]`
/// for full jitter.
pub fn jittered(policy: &RetryPolicy, delay: Duration, rng: &mut impl Rng) -> Duration {
    if !policy.jitter || delay.is_zero() {
        return delay;
    }
    let ms = delay.as_millis() as f64;
    let (low, high) = match policy.jitter_mode {
        JitterMode::Ratio => (
            ms * (1.0 - policy.jitter_ratio),
            ms * (1.0 + policy.jitter_ratio),
        ),
        JitterMode::Full => (0.0, ms),
    };
    if high <= low {
        return delay;
    }
    Duration::from_millis(rng.random_range(low..=high) as u64)
}

/// Decides what follows attempt number `attempt` (1 for the first) that ended in `outcome`.
pub fn decide(
    policy: &RetryPolicy,
    attempt: u32,
    outcome: &Outcome,
    retry_after: Option<RetryAfter>,
    rng: &mut impl Rng,
) -> Decision {
    match classify(policy, outcome) {
        Verdict::Success => Decision::Succeeded,
        Verdict::Permanent(reason) => Decision::DeadLetter(reason),
        Verdict::Retryable => {
            let retries_allowed = match policy.retry_policy_type {
                RetryPolicyType::None => 0,
                _ => u32::try_from(policy.max_retries).unwrap_or(0),
            };
            if attempt > retries_allowed {
                return Decision::DeadLetter("retries_exhausted".into());
            }
            let delay = jittered(policy, base_delay(policy, attempt), rng);
            let honoured = honoured_retry_after(policy, outcome, retry_after);
            match honoured {
                Some(wait) if wait > delay => Decision::Retry {
                    delay: wait,
                    retry_after: Some(wait),
                },
                _ => Decision::Retry {
                    delay,
                    retry_after: honoured,
                },
            }
        }
    }
}

/// The wait a `Retry-After` imposes, capped at `maxRetryAfter`, when the policy honours it for
/// this outcome (429 and 503).
fn honoured_retry_after(
    policy: &RetryPolicy,
    outcome: &Outcome,
    retry_after: Option<RetryAfter>,
) -> Option<Duration> {
    let honours = policy.respect_retry_after && matches!(outcome, Outcome::Status(429 | 503));
    match retry_after {
        Some(RetryAfter::Wait(wait)) if honours => {
            Some(wait.min(Duration::from_millis(policy.max_retry_after.max(0) as u64)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::outcome::ErrorKind;

    fn rng(seed: u64) -> StdRng {
        StdRng::seed_from_u64(seed)
    }

    fn exponential(retry_delay: i64, multiplier: f64, max_delay: i64) -> RetryPolicy {
        RetryPolicy {
            retry_delay,
            multiplier,
            max_delay,
            jitter: false,
            ..RetryPolicy::default()
        }
    }

    #[test]
    fn the_guides_policy_waits_1_2_4_8_16_seconds() {
        let p = exponential(1_000, 2.0, 3_600_000);
        let delays: Vec<u64> = (1..=5)
            .map(|n| base_delay(&p, n).as_millis() as u64)
            .collect();
        assert_eq!(delays, vec![1_000, 2_000, 4_000, 8_000, 16_000]);
    }

    #[test]
    fn linear_and_fixed_curves() {
        let linear = RetryPolicy {
            retry_policy_type: RetryPolicyType::Linear,
            ..exponential(100, 2.0, 250)
        };
        assert_eq!(
            (1..=4)
                .map(|n| base_delay(&linear, n).as_millis())
                .collect::<Vec<_>>(),
            vec![100, 200, 250, 250]
        );
        let fixed = RetryPolicy {
            retry_policy_type: RetryPolicyType::Fixed,
            ..exponential(100, 2.0, 1_000)
        };
        assert_eq!(base_delay(&fixed, 7), Duration::from_millis(100));
    }

    #[test]
    fn a_policy_of_none_dead_letters_the_first_failure() {
        let p = RetryPolicy {
            retry_policy_type: RetryPolicyType::None,
            ..RetryPolicy::default()
        };
        assert_eq!(
            decide(&p, 1, &Outcome::Status(503), None, &mut rng(1)),
            Decision::DeadLetter("retries_exhausted".into())
        );
    }

    #[test]
    fn an_unparseable_retry_after_falls_back_to_the_policy() {
        let p = exponential(100, 2.0, 10_000);
        let d = decide(
            &p,
            1,
            &Outcome::Status(429),
            Some(RetryAfter::Unparseable),
            &mut rng(1),
        );
        assert_eq!(
            d,
            Decision::Retry {
                delay: Duration::from_millis(100),
                retry_after: None
            }
        );
    }

    #[test]
    fn retry_after_is_ignored_on_a_500_and_when_the_policy_says_so() {
        let p = exponential(100, 2.0, 10_000);
        let wait = Some(RetryAfter::Wait(Duration::from_secs(5)));
        assert_eq!(
            decide(&p, 1, &Outcome::Status(500), wait, &mut rng(1)),
            Decision::Retry {
                delay: Duration::from_millis(100),
                retry_after: None
            }
        );
        let ignoring = RetryPolicy {
            respect_retry_after: false,
            ..p
        };
        assert_eq!(
            decide(&ignoring, 1, &Outcome::Status(503), wait, &mut rng(1)),
            Decision::Retry {
                delay: Duration::from_millis(100),
                retry_after: None
            }
        );
    }

    fn any_policy() -> impl Strategy<Value = RetryPolicy> {
        (
            0i64..100_000,
            1.0f64..10.0,
            0i64..1_000_000,
            0i64..=50,
            any::<bool>(),
            0.0f64..=1.0,
            any::<bool>(),
            0i64..86_400_000,
        )
            .prop_map(
                |(
                    retry_delay,
                    multiplier,
                    extra,
                    max_retries,
                    jitter,
                    jitter_ratio,
                    full,
                    max_retry_after,
                )| RetryPolicy {
                    retry_delay,
                    multiplier,
                    max_delay: retry_delay + extra,
                    max_retries,
                    jitter,
                    jitter_ratio,
                    jitter_mode: if full {
                        JitterMode::Full
                    } else {
                        JitterMode::Ratio
                    },
                    max_retry_after,
                    ..RetryPolicy::default()
                },
            )
    }

    proptest! {
        #[test]
        fn the_exponential_curve_is_exact_and_capped(p in any_policy(), n in 1u32..60) {
            let expected = (p.retry_delay as f64 * p.multiplier.powi(n as i32 - 1)).min(p.max_delay as f64) as u64;
            prop_assert_eq!(base_delay(&p, n).as_millis() as u64, expected);
        }

        #[test]
        fn jitter_stays_within_its_bounds(p in any_policy(), n in 1u32..20, seed in any::<u64>()) {
            let base = base_delay(&p, n).as_millis() as f64;
            let got = jittered(&p, base_delay(&p, n), &mut rng(seed)).as_millis() as f64;
            let (low, high) = match (p.jitter, p.jitter_mode) {
                (false, _) => (base, base),
                (true, JitterMode::Ratio) => (base * (1.0 - p.jitter_ratio), base * (1.0 + p.jitter_ratio)),
                (true, JitterMode::Full) => (0.0, base),
            };
            prop_assert!(got >= low.floor() - 1.0 && got <= high.ceil(), "{} not in [{}, {}]", got, low, high);
        }

        #[test]
        fn no_retry_is_earlier_than_a_honoured_retry_after(p in any_policy(), n in 1u32..10, wait_ms in 0u64..10_000_000, status in prop::sample::select(vec![429u16, 503]), seed in any::<u64>()) {
            let wait = Duration::from_millis(wait_ms);
            if let Decision::Retry { delay, .. } = decide(&p, n, &Outcome::Status(status), Some(RetryAfter::Wait(wait)), &mut rng(seed)) {
                let cap = Duration::from_millis(p.max_retry_after as u64);
                prop_assert!(delay >= wait.min(cap));
            }
        }

        #[test]
        fn there_is_no_retry_beyond_max_retries(p in any_policy(), extra in 1u32..10, seed in any::<u64>()) {
            let last = p.max_retries as u32 + extra;
            prop_assert_eq!(decide(&p, last, &Outcome::Status(503), None, &mut rng(seed)), Decision::DeadLetter("retries_exhausted".into()));
            if p.max_retries > 0 {
                let within = decide(&p, p.max_retries as u32, &Outcome::Error(ErrorKind::Connect), None, &mut rng(seed));
                prop_assert!(matches!(within, Decision::Retry { .. }), "{:?}", within);
            }
        }

        #[test]
        fn a_4xx_other_than_408_and_429_never_retries_unless_listed(p in any_policy(), code in 400u16..500, seed in any::<u64>()) {
            prop_assume!(code != 408 && code != 429);
            let d = decide(&p, 1, &Outcome::Status(code), None, &mut rng(seed));
            prop_assert!(matches!(d, Decision::DeadLetter(_)));
        }
    }
}
