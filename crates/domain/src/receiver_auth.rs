//! How Ricochet authenticates itself to a receiver (`settings.auth`): HTTP Basic, or an OAuth 2.0
//! access token fetched with the client-credentials grant. Passwords and client secrets are
//! `{{secret:NAME}}` references, so their values are never stored with the integration nor
//! shown; the other fields may be literal or reference secrets too, but never event data (one
//! credential serves every delivery of the integration).

use serde::{Deserialize, Serialize};

use crate::template::{Segment, Template, Variable};
use crate::validation::ValidationErrors;

/// Longest `username`, `clientId`, `scope` or `audience`, template included.
pub const MAX_AUTH_FIELD_LEN: usize = 1_024;
/// Longest `tokenUrl`.
pub const MAX_TOKEN_URL_LEN: usize = 2_048;

/// Credentials Ricochet presents to the receiver on every attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum ReceiverAuth {
    /// `Authorization: Basic` with a username and a password.
    #[serde(rename = "basic")]
    Basic {
        /// The username (literal, or a `{{secret:NAME}}`).
        #[schema(example = "ricochet")]
        username: String,
        /// The password: a `{{secret:NAME}}` reference.
        #[schema(example = "{{secret:crm_password}}")]
        password: String,
    },
    /// `Authorization: Bearer` with an access token from an OAuth 2.0 token endpoint (client
    /// credentials grant, client authenticated with HTTP Basic). The token is cached until
    /// shortly before it expires and fetched again once when the receiver answers 401.
    #[serde(rename = "oauth2ClientCredentials", rename_all = "camelCase")]
    Oauth2ClientCredentials {
        /// The token endpoint (http or https, no placeholders). The outbound guard applies.
        #[schema(example = "https://login.your-crm.com/oauth/token")]
        token_url: String,
        /// The client id (literal, or a `{{secret:NAME}}`).
        #[schema(example = "ricochet")]
        client_id: String,
        /// The client secret: a `{{secret:NAME}}` reference.
        #[schema(example = "{{secret:crm_client_secret}}")]
        client_secret: String,
        /// The `scope` asked for, space-separated.
        #[serde(default)]
        scope: Option<String>,
        /// The `audience` asked for (Auth0 and others).
        #[serde(default)]
        audience: Option<String>,
    },
}

impl ReceiverAuth {
    /// Every templated field with its JSON path under `settings.auth`.
    pub fn template_fields(&self) -> Vec<(String, &str)> {
        let field = |name: &str| format!("settings.auth.{name}");
        match self {
            ReceiverAuth::Basic { username, password } => vec![
                (field("username"), username.as_str()),
                (field("password"), password.as_str()),
            ],
            ReceiverAuth::Oauth2ClientCredentials {
                client_id,
                client_secret,
                scope,
                audience,
                ..
            } => {
                let mut fields = vec![
                    (field("clientId"), client_id.as_str()),
                    (field("clientSecret"), client_secret.as_str()),
                ];
                if let Some(scope) = scope {
                    fields.push((field("scope"), scope.as_str()));
                }
                if let Some(audience) = audience {
                    fields.push((field("audience"), audience.as_str()));
                }
                fields
            }
        }
    }

    /// Checks every field, reporting each invalid one under `settings.auth`.
    pub fn validate(&self, errors: &mut ValidationErrors) {
        for (field, source) in self.template_fields() {
            let secret_only = field.ends_with(".password") || field.ends_with(".clientSecret");
            check_field(errors, &field, source, secret_only);
        }
        if let ReceiverAuth::Oauth2ClientCredentials { token_url, .. } = self {
            check_token_url(errors, token_url);
        }
    }
}

fn check_field(errors: &mut ValidationErrors, field: &str, source: &str, secret_only: bool) {
    if source.len() > MAX_AUTH_FIELD_LEN {
        return errors.add(field, format!("must be at most {MAX_AUTH_FIELD_LEN} bytes"));
    }
    if source.chars().any(char::is_control) {
        return errors.add(field, "must not contain control characters");
    }
    let template = match Template::parse(source) {
        Ok(template) => template,
        Err(e) => return errors.add(field, e.to_string()),
    };
    if secret_only {
        if !matches!(
            template.0.as_slice(),
            [Segment::Variable(Variable::Secret(_))]
        ) {
            errors.add(
                field,
                "must be a {{secret:NAME}} reference, so the value is never stored or shown",
            );
        }
        return;
    }
    if source.trim().is_empty() {
        return errors.add(field, "must not be empty");
    }
    if field.ends_with(".username") && source.contains(':') {
        return errors.add(
            field,
            "must not contain `:` (HTTP Basic separates it from the password with one)",
        );
    }
    if template
        .variables()
        .any(|v| !matches!(v, Variable::Secret(_)))
    {
        errors.add(
            field,
            "may hold only text and {{secret:NAME}} references: one credential serves every event",
        );
    }
}

fn check_token_url(errors: &mut ValidationErrors, token_url: &str) {
    const FIELD: &str = "settings.auth.tokenUrl";
    if token_url.len() > MAX_TOKEN_URL_LEN {
        return errors.add(
            FIELD,
            format!("must be at most {MAX_TOKEN_URL_LEN} characters"),
        );
    }
    if token_url.contains("{{") || token_url.contains("<<") {
        return errors.add(FIELD, "must not hold placeholders");
    }
    match url::Url::parse(token_url) {
        Ok(url) if !matches!(url.scheme(), "http" | "https") => errors.add(
            FIELD,
            format!("scheme must be http or https, not `{}`", url.scheme()),
        ),
        Ok(url) if !url.username().is_empty() || url.password().is_some() => errors.add(
            FIELD,
            "must not carry credentials (user:password@): use clientId and clientSecret",
        ),
        Ok(url) if url.host_str().is_none_or(str::is_empty) => {
            errors.add(FIELD, "must name a host");
        }
        Ok(_) => {}
        Err(e) => errors.add(FIELD, format!("is not a valid absolute URL: {e}")),
    }
}

/// An OAuth 2.0 client-credentials grant with its secret values filled in: only ever sent to
/// the token endpoint.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClientCredentials {
    /// The token endpoint.
    pub token_url: String,
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// The scope asked for.
    pub scope: Option<String>,
    /// The audience asked for.
    pub audience: Option<String>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("token_url", &self.token_url)
            .field("client_id", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl ReceiverAuth {
    /// The client-credentials grant of an `oauth2ClientCredentials` auth with each
    /// `{{secret:NAME}}` replaced by `secret(NAME)`; `None` for other kinds. `Err` names a
    /// secret that does not exist.
    pub fn client_credentials(
        &self,
        secret: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<ClientCredentials>, String> {
        let ReceiverAuth::Oauth2ClientCredentials {
            token_url,
            client_id,
            client_secret,
            scope,
            audience,
        } = self
        else {
            return Ok(None);
        };
        let fill = |source: &str| -> Result<String, String> {
            let template = Template::parse(source).map_err(|e| e.to_string())?;
            let mut text = String::new();
            for segment in template.0 {
                match segment {
                    Segment::Literal(literal) => text.push_str(&literal),
                    Segment::Variable(Variable::Secret(name)) => {
                        text.push_str(&secret(&name).ok_or(name)?);
                    }
                    Segment::Variable(other) => text.push_str(&other.to_string()),
                }
            }
            Ok(text)
        };
        Ok(Some(ClientCredentials {
            token_url: token_url.clone(),
            client_id: fill(client_id)?,
            client_secret: fill(client_secret)?,
            scope: scope.as_deref().map(fill).transpose()?,
            audience: audience.as_deref().map(fill).transpose()?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(json: serde_json::Value) -> ValidationErrors {
        let auth: ReceiverAuth = serde_json::from_value(json).expect("deserializes");
        let mut errors = ValidationErrors::default();
        auth.validate(&mut errors);
        errors
    }

    #[test]
    fn basic_auth_with_a_secret_password_is_valid() {
        let errors = errors_of(serde_json::json!({
            "type": "basic", "username": "ricochet", "password": "{{secret:pw}}"
        }));
        assert!(errors.finish(()).is_ok());
    }

    #[test]
    fn a_literal_password_or_client_secret_is_refused() {
        let errors = errors_of(serde_json::json!({
            "type": "basic", "username": "u", "password": "hunter2"
        }));
        assert!(errors.has("settings.auth.password"));
        let errors = errors_of(serde_json::json!({
            "type": "oauth2ClientCredentials", "tokenUrl": "https://idp.example/token",
            "clientId": "c", "clientSecret": "x{{secret:s}}"
        }));
        assert!(errors.has("settings.auth.clientSecret"));
    }

    #[test]
    fn event_data_in_credentials_and_bad_token_urls_are_named() {
        let errors = errors_of(serde_json::json!({
            "type": "oauth2ClientCredentials", "tokenUrl": "https://{{data.host}}/token",
            "clientId": "{{data.client}}", "clientSecret": "{{secret:s}}", "scope": "a\nb"
        }));
        for field in [
            "settings.auth.tokenUrl",
            "settings.auth.clientId",
            "settings.auth.scope",
        ] {
            assert!(errors.has(field), "{field} missing in {errors:?}");
        }
        for url in ["ftp://idp.example/t", "https://u:p@idp.example/t", "token"] {
            let errors = errors_of(serde_json::json!({
                "type": "oauth2ClientCredentials", "tokenUrl": url,
                "clientId": "c", "clientSecret": "{{secret:s}}"
            }));
            assert!(errors.has("settings.auth.tokenUrl"), "{url}");
        }
    }

    #[test]
    fn unknown_types_and_fields_do_not_deserialize() {
        for json in [
            serde_json::json!({ "type": "digest", "username": "u", "password": "{{secret:p}}" }),
            serde_json::json!({ "type": "basic", "username": "u", "password": "{{secret:p}}", "x": 1 }),
        ] {
            assert!(serde_json::from_value::<ReceiverAuth>(json).is_err());
        }
    }
}
