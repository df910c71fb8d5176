//! Clients for receivers that ask for mutual TLS (`settings.tls`): one per tenant and TLS
//! material (client certificate, key, extra CA), built like the default client (the outbound
//! guard's resolver, no proxy, no redirects) with the identity and roots added, and kept so
//! attempts reuse its connections. A rotated secret is new material, so the next attempt gets
//! a new client; old ones are dropped when the cache fills.

use std::sync::Arc;

use ricochet_domain::receiver_tls::{MAX_PEM_BYTES, TlsMaterial};
use ricochet_domain::target::TargetPolicy;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::guard::HostLookup;
use crate::memo::Memo;

/// Clients kept at most; past it the cache starts again empty.
const MAX_CLIENTS: usize = 1_024;

/// Why `settings.tls` could not be used: what is recorded on the attempt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TlsConfigError {
    /// A PEM is larger than [`MAX_PEM_BYTES`].
    #[error("the secret of settings.tls.{0} holds more than {MAX_PEM_BYTES} bytes")]
    TooLarge(&'static str),
    /// The client certificate and key do not make an identity.
    #[error(
        "settings.tls.clientCertificate and clientKey are not a PEM certificate and its key: {0}"
    )]
    Identity(String),
    /// The CA secret holds no PEM certificate.
    #[error("settings.tls.caCertificate holds no PEM certificate")]
    NoCaCertificate,
    /// The TLS stack refused the material.
    #[error("the TLS client cannot be built: {0}")]
    Build(String),
}

type Fingerprint = (Uuid, [u8; 32]);

/// The clients with a TLS identity or extra roots, by tenant and material.
pub(crate) struct TlsClients {
    policy: Arc<TargetPolicy>,
    lookup: HostLookup,
    clients: Memo<Fingerprint, reqwest::Client>,
}

impl std::fmt::Debug for TlsClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClients").finish_non_exhaustive()
    }
}

impl TlsClients {
    /// Clients that connect where `policy` permits, resolving names with `lookup`.
    pub(crate) fn new(policy: Arc<TargetPolicy>, lookup: HostLookup) -> TlsClients {
        TlsClients {
            policy,
            lookup,
            clients: Memo::new(MAX_CLIENTS),
        }
    }

    /// The client for `tenant`'s `material`, built at its first use.
    pub(crate) fn client(
        &self,
        tenant: Uuid,
        material: &TlsMaterial,
    ) -> Result<reqwest::Client, TlsConfigError> {
        let key = (tenant, fingerprint(material));
        self.clients.get_or_try_insert(&key, || {
            build(
                crate::guard::builder(self.policy.clone(), self.lookup.clone()),
                material,
            )
        })
    }
}

/// A digest of the material, so the cache holds no PEM text as a key.
fn fingerprint(material: &TlsMaterial) -> [u8; 32] {
    let mut digest = Sha256::new();
    for part in [
        &material.client_certificate,
        &material.client_key,
        &material.ca_certificate,
    ] {
        match part {
            Some(text) => {
                digest.update([1]);
                digest.update((text.len() as u64).to_be_bytes());
                digest.update(text.as_bytes());
            }
            None => digest.update([0]),
        }
    }
    digest.finalize().into()
}

fn build(
    mut builder: reqwest::ClientBuilder,
    material: &TlsMaterial,
) -> Result<reqwest::Client, TlsConfigError> {
    for (field, pem) in [
        ("clientCertificate", &material.client_certificate),
        ("clientKey", &material.client_key),
        ("caCertificate", &material.ca_certificate),
    ] {
        if pem.as_ref().is_some_and(|p| p.len() > MAX_PEM_BYTES) {
            return Err(TlsConfigError::TooLarge(field));
        }
    }
    if let (Some(certificate), Some(key)) = (&material.client_certificate, &material.client_key) {
        let pem = format!("{key}\n{certificate}\n");
        let identity = reqwest::Identity::from_pem(pem.as_bytes())
            .map_err(|e| TlsConfigError::Identity(crate::error_chain::describe(&e)))?;
        builder = builder.identity(identity);
    }
    if let Some(ca) = &material.ca_certificate {
        let roots = reqwest::Certificate::from_pem_bundle(ca.as_bytes())
            .map_err(|_| TlsConfigError::NoCaCertificate)?;
        if roots.is_empty() {
            return Err(TlsConfigError::NoCaCertificate);
        }
        builder = builder.tls_certs_merge(roots);
    }
    builder
        .build()
        .map_err(|e| TlsConfigError::Build(crate::error_chain::describe(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients() -> TlsClients {
        TlsClients::new(
            Arc::new(TargetPolicy::default()),
            crate::guard::HostLookup::system(),
        )
    }

    fn material(cert: &str, key: &str) -> TlsMaterial {
        TlsMaterial {
            client_certificate: Some(cert.to_owned()),
            client_key: Some(key.to_owned()),
            ca_certificate: None,
        }
    }

    #[test]
    fn text_that_is_not_pem_is_a_configuration_error() {
        let clients = clients();
        let err = clients
            .client(Uuid::nil(), &material("not a certificate", "not a key"))
            .expect_err("no identity");
        assert!(matches!(err, TlsConfigError::Identity(_)), "{err:?}");
        let ca_only = TlsMaterial {
            client_certificate: None,
            client_key: None,
            ca_certificate: Some("nothing here".into()),
        };
        assert_eq!(
            clients.client(Uuid::nil(), &ca_only).expect_err("no CA"),
            TlsConfigError::NoCaCertificate
        );
        let huge = "x".repeat(MAX_PEM_BYTES + 1);
        assert_eq!(
            clients
                .client(Uuid::nil(), &material(&huge, "k"))
                .expect_err("too large"),
            TlsConfigError::TooLarge("clientCertificate")
        );
    }

    #[tokio::test]
    async fn a_client_with_an_identity_still_resolves_through_the_guard() {
        let ca = rcgen::generate_simple_self_signed(vec!["ca.test".into()]).expect("a cert");
        let lookup = crate::guard::HostLookup::with(|_| {
            Box::pin(async { Ok(vec![std::net::IpAddr::from([127, 0, 0, 1])]) })
        });
        let clients = TlsClients::new(Arc::new(TargetPolicy::public_only()), lookup);
        let material = TlsMaterial {
            client_certificate: Some(ca.cert.pem()),
            client_key: Some(ca.key_pair.serialize_pem()),
            ca_certificate: Some(ca.cert.pem()),
        };
        let client = clients
            .client(Uuid::nil(), &material)
            .expect("a valid identity");
        let err = client
            .get("https://receiver.test:9/")
            .send()
            .await
            .expect_err("blocked");
        assert!(crate::guard::is_blocked(&err), "{err:?}");
    }

    #[test]
    fn material_is_fingerprinted_by_every_part() {
        let a = material("cert", "key");
        let b = material("cer", "tkey");
        assert_ne!(fingerprint(&a), fingerprint(&b));
        assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
    }
}
