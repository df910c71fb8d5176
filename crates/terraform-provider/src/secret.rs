//! `ricochet_secret`: a tenant's secret. The value goes in as `value_wo` (write-only, never in
//! plan or state; bump `value_wo_version` to send a new one) or as the sensitive `value`.
//! Ricochet never returns a value, so reads keep what the configuration holds. Import id:
//! the name.

use async_trait::async_trait;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tf_provider::schema::{AttributeConstraint as C, AttributeType as T, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::client::{Role, Secret, segment};
use crate::diag::report;
use crate::provider::Shared;
use crate::schema::{attr, block_schema, or_default, sensitive};

/// The resource.
#[derive(Debug)]
pub(crate) struct SecretResource(pub(crate) Shared);

/// Its state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct SecretState {
    id: Value<String>,
    name: Value<String>,
    description: Value<String>,
    value: Value<String>,
    value_wo: Value<String>,
    value_wo_version: Value<i64>,
    version: Value<i64>,
}

impl SecretState {
    /// The state for the API's metadata; the value attributes come from `kept`.
    fn from_wire(secret: Secret, kept: &SecretState) -> Self {
        SecretState {
            id: Value::Value(secret.name.clone()),
            name: Value::Value(secret.name),
            description: Value::Value(secret.description),
            value: kept.value.clone(),
            value_wo: Value::Null,
            value_wo_version: kept.value_wo_version,
            version: Value::Value(secret.version),
        }
    }

    fn name(&self) -> String {
        self.name.as_ref_option().cloned().unwrap_or_default()
    }

    /// The value to send: the write-only one, else `value`.
    fn value_to_send(config: &SecretState) -> Option<String> {
        config
            .value_wo
            .as_ref_option()
            .or(config.value.as_ref_option())
            .cloned()
    }
}

fn what(state: &SecretState) -> String {
    format!("secret \"{}\"", state.name())
}

#[async_trait]
impl Resource for SecretResource {
    type State<'a> = SecretState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let mut value_wo = sensitive(attr(
            T::String,
            C::Optional,
            "The value, write-only (Terraform 1.11+): never stored in plan or state. Feed it from an ephemeral variable; it is sent on create and whenever `value_wo_version` changes.",
        ));
        value_wo.write_only = true;
        Some(block_schema(
            "A secret of the provider's tenant, referenced by templates as `{{secret:NAME}}`. Import id: its name (values cannot be imported).",
            [
                ("id", attr(T::String, C::Computed, "Same as `name`.")),
                (
                    "name",
                    attr(
                        T::String,
                        C::Required,
                        "Name (letters, digits, `_`, `-`, `.`); changing it replaces the secret.",
                    ),
                ),
                (
                    "description",
                    attr(
                        T::String,
                        C::OptionalComputed,
                        "What it is for (default empty).",
                    ),
                ),
                (
                    "value",
                    sensitive(attr(
                        T::String,
                        C::Optional,
                        "The value, sensitive but stored in state; prefer `value_wo`.",
                    )),
                ),
                ("value_wo", value_wo),
                (
                    "value_wo_version",
                    attr(
                        T::Number,
                        C::Optional,
                        "Change it to send `value_wo` again (a rotation).",
                    ),
                ),
                (
                    "version",
                    attr(
                        T::Number,
                        C::Computed,
                        "Ricochet's version of the secret, incremented on every new value.",
                    ),
                ),
            ],
        ))
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        match (&config.value, &config.value_wo) {
            (Value::Null, Value::Null) => diags.root_error(
                "Missing secret value",
                "Set `value_wo` (with `value_wo_version`) or `value`.",
            ),
            (Value::Value(_), Value::Value(_)) => diags.error(
                "Conflicting secret values",
                "Set `value_wo` or `value`, not both.",
                AttributePath::new("value"),
            ),
            _ => {}
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let api = self.0.api(diags)?;
        match api
            .get::<Secret>(
                Role::Tenant,
                &format!("/secrets/{}", segment(&state.name())),
            )
            .await
        {
            Ok(secret) => Some((SecretState::from_wire(secret, &state), private_state)),
            Err(err) if err.is_not_found() => None,
            Err(err) => {
                report(diags, &what(&state), err);
                Some((state, private_state))
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        proposed: Self::State<'a>,
        _config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        Some((
            SecretState {
                id: proposed.name.clone(),
                description: or_default(&proposed.description, String::new()),
                value_wo: Value::Null,
                version: Value::Unknown,
                ..proposed
            },
            ValueEmpty::Null,
        ))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: Self::State<'a>,
        proposed: Self::State<'a>,
        config: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        let mut planned = SecretState {
            description: or_default(&config.description, String::new()),
            value_wo: Value::Null,
            version: prior.version,
            ..proposed
        };
        let mut replace = Vec::new();
        if planned.name != prior.name {
            replace.push(AttributePath::new("name"));
            planned.id = planned.name.clone();
            planned.version = Value::Unknown;
        } else if planned.value != prior.value
            || planned.value_wo_version != prior.value_wo_version
            || planned.description != prior.description
        {
            planned.version = Value::Unknown;
        }
        Some((planned, private_state, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::PrivateState<'a>> {
        Some(private_state)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: Self::State<'a>,
        config: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let api = self.0.api(diags)?;
        let body = json!({
            "name": planned.name(),
            "value": SecretState::value_to_send(&config),
            "description": planned.description.as_ref_option(),
        });
        match api
            .send::<Secret>(Role::Tenant, Method::POST, "/secrets", &body, None)
            .await
        {
            Ok(secret) => Some((SecretState::from_wire(secret, &planned), private_state)),
            Err(err) => {
                report(diags, &what(&planned), err);
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        planned: Self::State<'a>,
        config: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let api = self.0.api(diags)?;
        let body = json!({
            "value": SecretState::value_to_send(&config),
            "description": planned.description.as_ref_option(),
        });
        match api
            .send::<Secret>(
                Role::Tenant,
                Method::PUT,
                &format!("/secrets/{}", segment(&planned.name())),
                &body,
                prior.version.as_ref_option().copied(),
            )
            .await
        {
            Ok(secret) => Some((SecretState::from_wire(secret, &planned), private_state)),
            Err(err) => {
                report(diags, &what(&planned), err);
                None
            }
        }
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        _private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        let api = self.0.api(diags)?;
        match api
            .delete(
                Role::Tenant,
                &format!("/secrets/{}", segment(&prior.name())),
                None,
            )
            .await
        {
            Ok(()) => Some(()),
            Err(err) if err.is_not_found() => Some(()),
            Err(err) => {
                report(diags, &what(&prior), err);
                None
            }
        }
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let api = self.0.api(diags)?;
        match api
            .get::<Secret>(Role::Tenant, &format!("/secrets/{}", segment(&id)))
            .await
        {
            Ok(secret) => Some((
                SecretState::from_wire(secret, &SecretState::default()),
                Value::Null,
            )),
            Err(err) => {
                report(diags, &format!("secret {id}"), err);
                None
            }
        }
    }
}
