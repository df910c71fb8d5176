//! `ricochet_integration`'s `tls` attribute: mutual TLS toward the receiver (`settings.tls`),
//! each field a `{{secret:NAME}}` reference to a secret holding a PEM.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use tf_provider::schema::{Attribute, AttributeConstraint as C, AttributeType as T};
use tf_provider::value::Value;

use crate::schema::attr;

/// Values the API accepts for `signature_scheme`.
pub(crate) const SIGNATURE_SCHEMES: &[&str] = &["v1", "v1a", "both"];

/// `tls`, a nested attribute.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct TlsState {
    pub(crate) client_certificate: Value<String>,
    pub(crate) client_key: Value<String>,
    pub(crate) ca_certificate: Value<String>,
}

/// Each field: its Terraform name, its API name and its description.
const FIELDS: [(&str, &str, &str); 3] = [
    (
        "client_certificate",
        "clientCertificate",
        "The client certificate (PEM), a `{{secret:NAME}}` reference; given with `client_key`.",
    ),
    (
        "client_key",
        "clientKey",
        "The client certificate's private key (PEM), a `{{secret:NAME}}` reference.",
    ),
    (
        "ca_certificate",
        "caCertificate",
        "A CA certificate (PEM) trusted for this receiver on top of the public roots, a `{{secret:NAME}}` reference.",
    ),
];

/// The attribute's fields; `computed_only` makes every one computed (the data source).
pub(crate) fn attributes(computed_only: bool) -> HashMap<String, Attribute> {
    FIELDS
        .iter()
        .map(|(name, _, doc)| {
            let constraint = if computed_only {
                C::Computed
            } else {
                C::Optional
            };
            ((*name).to_owned(), attr(T::String, constraint, doc))
        })
        .collect()
}

impl TlsState {
    fn fields(&self) -> [&Value<String>; 3] {
        [
            &self.client_certificate,
            &self.client_key,
            &self.ca_certificate,
        ]
    }

    /// The API's `settings.tls` for this state.
    pub(crate) fn to_wire(&self) -> Json {
        let mut tls = serde_json::Map::new();
        for ((_, key, _), value) in FIELDS.iter().zip(self.fields()) {
            if let Value::Value(v) = value {
                tls.insert((*key).to_owned(), Json::String(v.clone()));
            }
        }
        Json::Object(tls)
    }

    /// The state for the API's `settings.tls`.
    pub(crate) fn from_wire(tls: &Json) -> Self {
        let text = |key: &str| -> Value<String> {
            tls.get(key)
                .and_then(Json::as_str)
                .map(str::to_owned)
                .into()
        };
        TlsState {
            client_certificate: text("clientCertificate"),
            client_key: text("clientKey"),
            ca_certificate: text("caCertificate"),
        }
    }
}

/// The API's `settings.signature` for a `signature_scheme`.
pub(crate) fn signature_to_wire(scheme: &str) -> Json {
    serde_json::json!({ "scheme": scheme })
}

/// The `signature_scheme` of the API's `settings.signature` (`v1` when absent).
pub(crate) fn signature_from_wire(signature: Option<&Json>) -> String {
    signature
        .and_then(|s| s.get("scheme"))
        .and_then(Json::as_str)
        .unwrap_or("v1")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_round_trips_through_the_api_shape() {
        let state = TlsState {
            client_certificate: Value::Value("{{secret:cert}}".into()),
            client_key: Value::Value("{{secret:key}}".into()),
            ..Default::default()
        };
        let wire = state.to_wire();
        assert_eq!(
            wire,
            serde_json::json!({ "clientCertificate": "{{secret:cert}}", "clientKey": "{{secret:key}}" })
        );
        let mut answered = wire;
        answered["caCertificate"] = Json::Null;
        assert_eq!(TlsState::from_wire(&answered), state);
        assert_eq!(signature_from_wire(None), "v1");
        assert_eq!(
            signature_from_wire(Some(&signature_to_wire("both"))),
            "both"
        );
    }
}
