//! `ricochet_integration`'s `auth` attribute: how Ricochet authenticates to the receiver
//! (`settings.auth`), one flat object whose `type` says which fields apply.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use tf_provider::schema::{Attribute, AttributeConstraint as C, AttributeType as T};
use tf_provider::value::Value;

use crate::schema::attr;

/// Values the API accepts for `auth.type`.
pub(crate) const AUTH_TYPES: &[&str] = &["basic", "oauth2ClientCredentials"];

/// `auth`, a nested attribute.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct AuthState {
    #[serde(rename = "type")]
    pub(crate) kind: Value<String>,
    pub(crate) username: Value<String>,
    pub(crate) password: Value<String>,
    pub(crate) token_url: Value<String>,
    pub(crate) client_id: Value<String>,
    pub(crate) client_secret: Value<String>,
    pub(crate) scope: Value<String>,
    pub(crate) audience: Value<String>,
}

/// Each field: its Terraform name, its API name, its constraint and its description.
const FIELDS: [(&str, &str, bool, &str); 8] = [
    (
        "type",
        "type",
        true,
        "`basic` or `oauth2ClientCredentials`.",
    ),
    ("username", "username", false, "`basic`: the username."),
    (
        "password",
        "password",
        false,
        "`basic`: the password, a `{{secret:NAME}}` reference.",
    ),
    (
        "token_url",
        "tokenUrl",
        false,
        "`oauth2ClientCredentials`: the token endpoint.",
    ),
    (
        "client_id",
        "clientId",
        false,
        "`oauth2ClientCredentials`: the client id.",
    ),
    (
        "client_secret",
        "clientSecret",
        false,
        "`oauth2ClientCredentials`: the client secret, a `{{secret:NAME}}` reference.",
    ),
    (
        "scope",
        "scope",
        false,
        "`oauth2ClientCredentials`: the scope asked for.",
    ),
    (
        "audience",
        "audience",
        false,
        "`oauth2ClientCredentials`: the audience asked for.",
    ),
];

/// The attribute's fields; `computed_only` makes every one computed (the data source).
pub(crate) fn attributes(computed_only: bool) -> HashMap<String, Attribute> {
    FIELDS
        .iter()
        .map(|(name, _, required, doc)| {
            let constraint = match (computed_only, required) {
                (true, _) => C::Computed,
                (false, true) => C::Required,
                (false, false) => C::Optional,
            };
            ((*name).to_owned(), attr(T::String, constraint, doc))
        })
        .collect()
}

impl AuthState {
    fn fields(&self) -> [&Value<String>; 8] {
        [
            &self.kind,
            &self.username,
            &self.password,
            &self.token_url,
            &self.client_id,
            &self.client_secret,
            &self.scope,
            &self.audience,
        ]
    }

    /// The API's `settings.auth` for this state.
    pub(crate) fn to_wire(&self) -> Json {
        let mut auth = serde_json::Map::new();
        for ((_, key, _, _), value) in FIELDS.iter().zip(self.fields()) {
            if let Value::Value(v) = value {
                auth.insert((*key).to_owned(), Json::String(v.clone()));
            }
        }
        Json::Object(auth)
    }

    /// The state for the API's `settings.auth`.
    pub(crate) fn from_wire(auth: &Json) -> Self {
        let text = |key: &str| -> Value<String> {
            auth.get(key)
                .and_then(Json::as_str)
                .map(str::to_owned)
                .into()
        };
        AuthState {
            kind: text("type"),
            username: text("username"),
            password: text("password"),
            token_url: text("tokenUrl"),
            client_id: text("clientId"),
            client_secret: text("clientSecret"),
            scope: text("scope"),
            audience: text("audience"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oauth_auth_round_trips_through_the_api_shape() {
        let state = AuthState {
            kind: Value::Value("oauth2ClientCredentials".into()),
            token_url: Value::Value("https://login.example.com/token".into()),
            client_id: Value::Value("ricochet".into()),
            client_secret: Value::Value("{{secret:crm_client_secret}}".into()),
            ..Default::default()
        };
        let wire = state.to_wire();
        assert_eq!(
            wire,
            serde_json::json!({
                "type": "oauth2ClientCredentials", "tokenUrl": "https://login.example.com/token",
                "clientId": "ricochet", "clientSecret": "{{secret:crm_client_secret}}"
            })
        );
        // The API answers absent optional fields as null.
        let mut answered = wire;
        answered["scope"] = Json::Null;
        assert_eq!(AuthState::from_wire(&answered), state);
    }
}
