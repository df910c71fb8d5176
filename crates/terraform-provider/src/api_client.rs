//! `ricochet_api_client` (platform admin key): an OAuth2 client of a tenant. Its secret is a
//! sensitive attribute known only from the creation (the API never shows it again); any
//! change replaces the client. Import id: `tenantId/clientId`.

use std::collections::BTreeSet;

use async_trait::async_trait;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tf_provider::schema::{AttributeConstraint as C, AttributeType as T, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::client::{ApiClient, Role, segment};
use crate::diag::report;
use crate::provider::Shared;
use crate::schema::{attr, block_schema, sensitive};

/// The resource.
#[derive(Debug)]
pub(crate) struct ApiClientResource(pub(crate) Shared);

/// Its state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct ApiClientState {
    id: Value<String>,
    tenant_id: Value<String>,
    name: Value<String>,
    permissions: Value<BTreeSet<String>>,
    client_secret: Value<String>,
}

impl ApiClientState {
    fn from_wire(client: ApiClient, secret: Value<String>) -> Self {
        ApiClientState {
            id: Value::Value(client.client_id),
            tenant_id: Value::Value(client.tenant_id),
            name: Value::Value(client.name),
            permissions: Value::Value(client.permissions.into_iter().collect()),
            client_secret: secret,
        }
    }

    fn path(&self) -> String {
        format!(
            "/tenants/{}/clients",
            segment(self.tenant_id.as_ref_option().map_or("", String::as_str))
        )
    }
}

fn what(state: &ApiClientState) -> String {
    format!(
        "API client \"{}\"",
        state.name.as_ref_option().map_or("", String::as_str)
    )
}

/// The tenant's client with this id, `None` when absent or revoked.
async fn find(
    api: &crate::client::Api,
    tenant: &str,
    id: &str,
) -> Result<Option<ApiClient>, crate::client::ApiError> {
    let clients: Vec<ApiClient> = api
        .list_all(
            Role::Admin,
            &format!("/tenants/{}/clients", segment(tenant)),
        )
        .await?;
    Ok(clients
        .into_iter()
        .find(|c| c.client_id == id && c.revoked_at.is_none()))
}

#[async_trait]
impl Resource for ApiClientResource {
    type State<'a> = ApiClientState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(block_schema(
            "An API client of a tenant (OAuth2 client credentials). Needs the provider's `admin_key`. Import id: `tenantId/clientId` (the secret cannot be imported).",
            [
                (
                    "id",
                    attr(T::String, C::Computed, "The OAuth2 `client_id`."),
                ),
                (
                    "tenant_id",
                    attr(
                        T::String,
                        C::Required,
                        "The tenant it acts for; changing it replaces the client.",
                    ),
                ),
                (
                    "name",
                    attr(
                        T::String,
                        C::Required,
                        "What it is for; changing it replaces the client.",
                    ),
                ),
                (
                    "permissions",
                    attr(
                        T::Set(Box::new(T::String)),
                        C::OptionalComputed,
                        "What its tokens may do (`integration:view`, `integration:edit`, `secret:view`, `secret:edit`, `event:publish`, `log:view`, `deadletter:edit`); every permission when unset. Changing it replaces the client.",
                    ),
                ),
                (
                    "client_secret",
                    sensitive(attr(
                        T::String,
                        C::Computed,
                        "The OAuth2 `client_secret`, known from the creation only; empty after an import.",
                    )),
                ),
            ],
        ))
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let api = self.0.api(diags)?;
        let tenant = state.tenant_id.as_ref_option().cloned().unwrap_or_default();
        let id = state.id.as_ref_option().cloned().unwrap_or_default();
        match find(&api, &tenant, &id).await {
            Ok(Some(client)) => Some((
                ApiClientState::from_wire(client, state.client_secret.clone()),
                private_state,
            )),
            Ok(None) => None,
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
        let permissions = match proposed.permissions {
            Value::Null => Value::Unknown,
            other => other,
        };
        Some((
            ApiClientState {
                id: Value::Unknown,
                client_secret: Value::Unknown,
                permissions,
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
        let mut replace = Vec::new();
        for (name, changed) in [
            ("tenant_id", proposed.tenant_id != prior.tenant_id),
            ("name", proposed.name != prior.name),
            (
                "permissions",
                !config.permissions.is_null() && config.permissions != prior.permissions,
            ),
        ] {
            if changed {
                replace.push(AttributePath::new(name));
            }
        }
        if replace.is_empty() {
            return Some((prior, private_state, replace));
        }
        let planned = ApiClientState {
            id: Value::Unknown,
            client_secret: Value::Unknown,
            permissions: if config.permissions.is_null() {
                Value::Unknown
            } else {
                config.permissions
            },
            ..proposed
        };
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
        _config: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let api = self.0.api(diags)?;
        let body = json!({
            "name": planned.name.as_ref_option(),
            "permissions": planned.permissions.as_ref_option(),
        });
        match api
            .send::<ApiClient>(Role::Admin, Method::POST, &planned.path(), &body, None)
            .await
        {
            Ok(mut client) => {
                let secret = client.client_secret.take().into();
                Some((ApiClientState::from_wire(client, secret), private_state))
            }
            Err(err) => {
                report(diags, &what(&planned), err);
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        planned: Self::State<'a>,
        _config: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        // Every change replaces the client: nothing to send.
        Some((planned, private_state))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        _private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        let api = self.0.api(diags)?;
        let id = prior.id.as_ref_option().cloned().unwrap_or_default();
        match api
            .delete(
                Role::Admin,
                &format!("{}/{}", prior.path(), segment(&id)),
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
        let Some((tenant, client)) = id.split_once('/') else {
            diags.root_error(
                "Invalid import id",
                format!("expected `tenantId/clientId`, got `{id}`"),
            );
            return None;
        };
        let api = self.0.api(diags)?;
        match find(&api, tenant, client).await {
            Ok(Some(found)) => Some((ApiClientState::from_wire(found, Value::Null), Value::Null)),
            Ok(None) => {
                diags.root_error(
                    "Cannot import API client",
                    format!("tenant {tenant} has no active API client {client}"),
                );
                None
            }
            Err(err) => {
                report(diags, &format!("API client {id}"), err);
                None
            }
        }
    }
}
