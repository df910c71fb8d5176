//! `ricochet_tenant` (platform admin key): create, read, delete, import by id. A new name
//! replaces the tenant: the API has no rename.

use async_trait::async_trait;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tf_provider::schema::{AttributeConstraint as C, AttributeType as T, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::client::{Role, Tenant, segment};
use crate::diag::report;
use crate::provider::Shared;
use crate::schema::{attr, block_schema};

/// The resource.
#[derive(Debug)]
pub(crate) struct TenantResource(pub(crate) Shared);

/// Its state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct TenantState {
    pub(crate) id: Value<String>,
    pub(crate) name: Value<String>,
    pub(crate) version: Value<i64>,
}

impl From<Tenant> for TenantState {
    fn from(t: Tenant) -> Self {
        TenantState {
            id: Value::Value(t.id),
            name: Value::Value(t.name),
            version: Value::Value(t.version),
        }
    }
}

pub(crate) fn tenant_schema(data_source: bool) -> Schema {
    let name = if data_source {
        C::OptionalComputed
    } else {
        C::Required
    };
    let id = if data_source {
        C::OptionalComputed
    } else {
        C::Computed
    };
    block_schema(
        "A tenant (an organisation). Needs the provider's `admin_key`. Import with its id.",
        [
            ("id", attr(T::String, id, "The tenant's id (UUID).")),
            (
                "name",
                attr(
                    T::String,
                    name,
                    "Unique name; changing it replaces the tenant.",
                ),
            ),
            (
                "version",
                attr(
                    T::Number,
                    C::Computed,
                    "Version, incremented on each change.",
                ),
            ),
        ],
    )
}

fn what(state: &TenantState) -> String {
    format!(
        "tenant \"{}\"",
        state.name.as_ref_option().map_or("", String::as_str)
    )
}

#[async_trait]
impl Resource for TenantResource {
    type State<'a> = TenantState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(tenant_schema(false))
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let api = self.0.api(diags)?;
        let id = state.id.as_ref_option().cloned().unwrap_or_default();
        match api
            .get::<Tenant>(Role::Admin, &format!("/tenants/{}", segment(&id)))
            .await
        {
            Ok(tenant) => Some((tenant.into(), private_state)),
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
            TenantState {
                id: Value::Unknown,
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
        _config: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        let mut replace = Vec::new();
        let mut planned = proposed;
        if planned.name != prior.name {
            replace.push(AttributePath::new("name"));
            planned.id = Value::Unknown;
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
        _config: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let api = self.0.api(diags)?;
        let body = json!({ "name": planned.name.as_ref_option() });
        match api
            .send::<Tenant>(Role::Admin, Method::POST, "/tenants", &body, None)
            .await
        {
            Ok(tenant) => Some((tenant.into(), private_state)),
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
        // Every attribute either is computed or forces a replacement: nothing to send.
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
            .delete(Role::Admin, &format!("/tenants/{}", segment(&id)), None)
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
            .get::<Tenant>(Role::Admin, &format!("/tenants/{}", segment(&id)))
            .await
        {
            Ok(tenant) => Some((tenant.into(), Value::Null)),
            Err(err) => {
                report(diags, &format!("tenant {id}"), err);
                None
            }
        }
    }
}
