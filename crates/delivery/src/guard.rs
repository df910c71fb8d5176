//! The outbound guard: the HTTP client every attempt uses resolves names with this resolver,
//! which refuses a name if any of its addresses is not permitted, so the address connected is
//! the address checked (a DNS answer that changes after the integration was saved, or between
//! two lookups, cannot slip through). Address literals never reach a resolver, so the attempt
//! checks them itself before sending ([`TargetPolicy::check_url`]).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use ricochet_domain::target::TargetPolicy;

/// A name resolved to an address Ricochet may not connect to.
#[derive(Debug, thiserror::Error)]
#[error("blocked_target: {name} resolves to {ip}, which is not a permitted address")]
pub struct BlockedTarget {
    /// The name.
    pub name: String,
    /// The first address refused.
    pub ip: IpAddr,
}

/// How names become addresses: the system resolver, or (in tests) one whose answers the test
/// controls, to show that the answer checked is the one given at send time.
#[derive(Clone)]
pub struct HostLookup(
    Arc<dyn Fn(String) -> BoxFuture<'static, io::Result<Vec<IpAddr>>> + Send + Sync>,
);

impl HostLookup {
    /// The system resolver (`getaddrinfo`).
    pub fn system() -> HostLookup {
        HostLookup(Arc::new(|host: String| {
            Box::pin(async move {
                Ok(tokio::net::lookup_host((host.as_str(), 0))
                    .await?
                    .map(|a| a.ip())
                    .collect())
            })
        }))
    }

    /// Answers with `lookup(name)`.
    pub fn with(
        lookup: impl Fn(String) -> BoxFuture<'static, io::Result<Vec<IpAddr>>> + Send + Sync + 'static,
    ) -> HostLookup {
        HostLookup(Arc::new(lookup))
    }
}

impl Default for HostLookup {
    fn default() -> Self {
        HostLookup::system()
    }
}

impl std::fmt::Debug for HostLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostLookup")
    }
}

/// Resolves with `lookup` and refuses names with a blocked address.
#[derive(Debug)]
struct GuardedResolver {
    policy: Arc<TargetPolicy>,
    lookup: HostLookup,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let lookup = self.lookup.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = lookup(host.clone())
                .await?
                .into_iter()
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            if let Some(bad) = addrs.iter().find(|a| !policy.permits(a.ip())) {
                return Err(Box::new(BlockedTarget {
                    name: host,
                    ip: bad.ip(),
                })
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The client attempts are sent with: names resolved through the guard, no proxy from the
/// environment (a proxy would resolve the target itself), no redirects.
pub fn client(policy: Arc<TargetPolicy>, lookup: HostLookup) -> reqwest::Result<reqwest::Client> {
    builder(policy, lookup).build()
}

/// A builder for a client like [`client`]'s, for one with more settings (a TLS identity).
pub(crate) fn builder(policy: Arc<TargetPolicy>, lookup: HostLookup) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver { policy, lookup }))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(90))
}

/// Whether `err` (or a cause of it) is the guard refusing a name.
pub fn is_blocked(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<BlockedTarget>().is_some() {
            return true;
        }
        current = e.source();
    }
    false
}
