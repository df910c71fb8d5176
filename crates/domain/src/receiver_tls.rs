//! Mutual TLS toward a receiver (`settings.tls`): a client certificate and its key, and a CA
//! that signs a private receiver's certificate, all PEM held in secrets and referenced as
//! `{{secret:NAME}}` (whole references only: a PEM is never stored with the integration).

use serde::{Deserialize, Serialize};

use crate::template::{Segment, Template, Variable};
use crate::validation::ValidationErrors;

/// Longest reference in a `settings.tls` field.
pub const MAX_TLS_FIELD_LEN: usize = 256;
/// Largest PEM a referenced secret may hold; a larger one fails the attempt (`tls_config`).
pub const MAX_PEM_BYTES: usize = 64 * 1024;

/// Client certificate, key and extra trusted CA for connections to the receiver.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReceiverTls {
    /// The client certificate (PEM, may hold its chain): a `{{secret:NAME}}` reference.
    /// Given with `clientKey`.
    #[serde(default)]
    #[schema(example = "{{secret:crm_client_cert}}")]
    pub client_certificate: Option<String>,
    /// The client certificate's private key (PEM: PKCS#8, RSA or SEC1): a `{{secret:NAME}}`
    /// reference. Given with `clientCertificate`.
    #[serde(default)]
    #[schema(example = "{{secret:crm_client_key}}")]
    pub client_key: Option<String>,
    /// A CA certificate (PEM, one or more) trusted for this receiver on top of the public
    /// roots: a `{{secret:NAME}}` reference.
    #[serde(default)]
    #[schema(example = "{{secret:crm_ca}}")]
    pub ca_certificate: Option<String>,
}

impl ReceiverTls {
    /// Every given field with its JSON path under `settings.tls`.
    pub fn template_fields(&self) -> Vec<(String, &str)> {
        [
            ("clientCertificate", &self.client_certificate),
            ("clientKey", &self.client_key),
            ("caCertificate", &self.ca_certificate),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            value
                .as_deref()
                .map(|v| (format!("settings.tls.{name}"), v))
        })
        .collect()
    }

    /// Checks every field, reporting each invalid one under `settings.tls`.
    pub fn validate(&self, errors: &mut ValidationErrors) {
        for (field, source) in self.template_fields() {
            if source.len() > MAX_TLS_FIELD_LEN {
                errors.add(&field, format!("must be at most {MAX_TLS_FIELD_LEN} bytes"));
            } else if secret_name(source).is_none() {
                errors.add(
                    &field,
                    "must be a {{secret:NAME}} reference to a secret holding the PEM",
                );
            }
        }
        match (&self.client_certificate, &self.client_key) {
            (Some(_), None) => errors.add(
                "settings.tls.clientKey",
                "must be given with clientCertificate",
            ),
            (None, Some(_)) => errors.add(
                "settings.tls.clientCertificate",
                "must be given with clientKey",
            ),
            (None, None) if self.ca_certificate.is_none() => errors.add(
                "settings.tls",
                "must give clientCertificate and clientKey, caCertificate, or all three",
            ),
            _ => {}
        }
    }

    /// The PEMs with each reference replaced by `secret(NAME)`. `Err` names a secret that does
    /// not exist.
    pub fn material(&self, secret: &dyn Fn(&str) -> Option<String>) -> Result<TlsMaterial, String> {
        let fill = |source: &Option<String>| -> Result<Option<String>, String> {
            let Some(source) = source else {
                return Ok(None);
            };
            let name = secret_name(source).ok_or_else(|| source.clone())?;
            secret(&name).map(Some).ok_or(name)
        };
        Ok(TlsMaterial {
            client_certificate: fill(&self.client_certificate)?,
            client_key: fill(&self.client_key)?,
            ca_certificate: fill(&self.ca_certificate)?,
        })
    }
}

/// The name in a whole `{{secret:NAME}}` (or `<<secret:NAME>>`) reference.
fn secret_name(source: &str) -> Option<String> {
    match Template::parse(source).ok()?.0.as_slice() {
        [Segment::Variable(Variable::Secret(name))] => Some(name.clone()),
        _ => None,
    }
}

/// `settings.tls` with its secret values: PEM text, only ever handed to the TLS stack.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TlsMaterial {
    /// The client certificate chain.
    pub client_certificate: Option<String>,
    /// The client key.
    pub client_key: Option<String>,
    /// Extra trusted CA certificates.
    pub ca_certificate: Option<String>,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsMaterial(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(json: serde_json::Value) -> ValidationErrors {
        let tls: ReceiverTls = serde_json::from_value(json).expect("deserializes");
        let mut errors = ValidationErrors::default();
        tls.validate(&mut errors);
        errors
    }

    #[test]
    fn whole_secret_references_are_valid() {
        let errors = errors_of(serde_json::json!({
            "clientCertificate": "{{secret:cert}}", "clientKey": "<<secret:key>>",
            "caCertificate": "{{secret:ca}}"
        }));
        assert!(errors.finish(()).is_ok());
        assert!(
            errors_of(serde_json::json!({ "caCertificate": "{{secret:ca}}" }))
                .finish(())
                .is_ok()
        );
    }

    #[test]
    fn literal_pem_partial_references_and_long_fields_are_named() {
        let errors = errors_of(serde_json::json!({
            "clientCertificate": "-----BEGIN CERTIFICATE-----",
            "clientKey": "x{{secret:key}}",
            "caCertificate": format!("{{{{secret:{}}}}}", "a".repeat(300)),
        }));
        for field in [
            "settings.tls.clientCertificate",
            "settings.tls.clientKey",
            "settings.tls.caCertificate",
        ] {
            assert!(errors.has(field), "{field} missing in {errors:?}");
        }
    }

    #[test]
    fn a_certificate_needs_its_key_and_an_empty_object_is_refused() {
        let errors = errors_of(serde_json::json!({ "clientCertificate": "{{secret:cert}}" }));
        assert!(errors.has("settings.tls.clientKey"));
        let errors = errors_of(serde_json::json!({ "clientKey": "{{secret:key}}" }));
        assert!(errors.has("settings.tls.clientCertificate"));
        assert!(errors_of(serde_json::json!({})).has("settings.tls"));
        assert!(serde_json::from_value::<ReceiverTls>(serde_json::json!({ "cert": "x" })).is_err());
    }

    #[test]
    fn material_fills_each_reference_or_names_the_missing_secret() {
        let tls = ReceiverTls {
            client_certificate: Some("{{secret:cert}}".into()),
            client_key: Some("{{secret:key}}".into()),
            ca_certificate: None,
        };
        let secret = |name: &str| (name == "cert").then(|| "PEM".to_owned());
        assert_eq!(tls.material(&secret), Err("key".to_owned()));
        let both = |name: &str| Some(format!("PEM of {name}"));
        let material = tls.material(&both).expect("both exist");
        assert_eq!(material.client_key.as_deref(), Some("PEM of key"));
        assert_eq!(material.ca_certificate, None);
    }
}
