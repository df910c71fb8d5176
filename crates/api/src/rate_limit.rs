//! Rate limits of `POST /oauth/token`, per client id and per source address (GCRA, the
//! `governor` crate): a client or an address sending token requests faster than its quota gets
//! 429 with `Retry-After`, before any secret is checked. Keys are whatever callers send, so the
//! state is pruned of keys whose quota is full again, and bounded.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use uuid::Uuid;

/// A quota: so many requests a second on average, so many at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests a second, sustained.
    pub per_second: NonZeroU32,
    /// Requests allowed at once after a quiet spell.
    pub burst: NonZeroU32,
}

impl Rate {
    /// `per_second` a second with bursts of `burst`; `None` if either is 0.
    pub fn new(per_second: u32, burst: u32) -> Option<Rate> {
        Some(Rate {
            per_second: NonZeroU32::new(per_second)?,
            burst: NonZeroU32::new(burst)?,
        })
    }

    fn quota(self) -> Quota {
        Quota::per_second(self.per_second).allow_burst(self.burst)
    }
}

/// The token endpoint's quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenRates {
    /// Per client id (whether or not the client exists).
    pub per_client: Rate,
    /// Per source address (IPv6 addresses by their /64).
    pub per_address: Rate,
}

impl Default for TokenRates {
    fn default() -> Self {
        TokenRates {
            per_client: Rate::new(10, 20).expect("non-zero"),
            per_address: Rate::new(50, 100).expect("non-zero"),
        }
    }
}

/// Which quota refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// The source address's.
    Address(Duration),
    /// The client id's.
    Client(Duration),
}

impl Limited {
    /// Whole seconds until a request may pass again (at least 1), for `Retry-After`.
    pub fn retry_after_secs(self) -> u64 {
        let (Limited::Address(wait) | Limited::Client(wait)) = self;
        wait.as_secs_f64().ceil().max(1.0) as u64
    }
}

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// Keys kept before the state is pruned of keys whose quota is full again.
const PRUNE_AT: usize = 10_000;
/// Requests between two prunings when below [`PRUNE_AT`].
const PRUNE_EVERY: u64 = 4_096;

/// The keyed limiters of the token endpoint.
#[derive(Debug)]
pub struct TokenLimiter {
    by_client: Keyed<Uuid>,
    by_address: Keyed<IpAddr>,
    checks: AtomicU64,
}

impl TokenLimiter {
    /// Limiters with `rates`.
    pub fn new(rates: TokenRates) -> TokenLimiter {
        TokenLimiter {
            by_client: RateLimiter::keyed(rates.per_client.quota()),
            by_address: RateLimiter::keyed(rates.per_address.quota()),
            checks: AtomicU64::new(0),
        }
    }

    /// Counts a request from `address`.
    pub fn check_address(&self, address: IpAddr) -> Result<(), Limited> {
        self.prune();
        check(&self.by_address, &network_of(address)).map_err(Limited::Address)
    }

    /// Counts a request for client `client`.
    pub fn check_client(&self, client: Uuid) -> Result<(), Limited> {
        check(&self.by_client, &client).map_err(Limited::Client)
    }

    /// Keys tracked now (both limiters).
    pub fn tracked(&self) -> usize {
        self.by_client.len() + self.by_address.len()
    }

    fn prune(&self) {
        let n = self.checks.fetch_add(1, Ordering::Relaxed);
        if n.is_multiple_of(PRUNE_EVERY) || self.tracked() > PRUNE_AT {
            for limiter in [&self.by_client as &dyn Prune, &self.by_address] {
                limiter.prune();
            }
        }
    }
}

trait Prune {
    fn prune(&self);
}

impl<K: Hash + Eq + Clone> Prune for Keyed<K> {
    fn prune(&self) {
        self.retain_recent();
        self.shrink_to_fit();
    }
}

fn check<K: Hash + Eq + Clone>(limiter: &Keyed<K>, key: &K) -> Result<(), Duration> {
    limiter
        .check_key(key)
        .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
}

/// An IPv6 client usually holds a whole /64: it counts as one address. IPv4-mapped addresses
/// count as their IPv4 address.
fn network_of(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_quota_refuses_with_a_wait() {
        let limiter = TokenLimiter::new(TokenRates {
            per_client: Rate::new(1, 3).expect("rate"),
            per_address: Rate::new(1, 2).expect("rate"),
        });
        let client = Uuid::now_v7();
        for _ in 0..3 {
            assert!(limiter.check_client(client).is_ok());
        }
        let refused = limiter.check_client(client).expect_err("over the burst");
        assert_eq!(refused.retry_after_secs(), 1);
        assert!(limiter.check_client(Uuid::now_v7()).is_ok(), "per client");
        let ip: IpAddr = "2001:db8::1".parse().expect("ip");
        let same_net: IpAddr = "2001:db8::2".parse().expect("ip");
        assert!(limiter.check_address(ip).is_ok());
        assert!(limiter.check_address(same_net).is_ok());
        assert!(matches!(
            limiter.check_address(ip),
            Err(Limited::Address(_))
        ));
    }
}
