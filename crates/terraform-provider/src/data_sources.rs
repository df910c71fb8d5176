//! Data sources `ricochet_tenant` (admin key) and `ricochet_integration`, looked up by `id`
//! or by `name`.

use async_trait::async_trait;
use tf_provider::schema::{AttributeConstraint as C, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{DataSource, Diagnostics};

use crate::client::{Api, ApiError, Integration, Role, Tenant, segment};
use crate::diag::report;
use crate::integration_state::{IntegrationState, attributes};
use crate::provider::Shared;
use crate::tenant::{TenantState, tenant_schema};

/// `data "ricochet_tenant"`.
#[derive(Debug)]
pub(crate) struct TenantData(pub(crate) Shared);

/// `data "ricochet_integration"`.
#[derive(Debug)]
pub(crate) struct IntegrationData(pub(crate) Shared);

/// Which lookup the configuration asks for, or a diagnostic when it names neither or both.
fn lookup(diags: &mut Diagnostics, id: &Value<String>, name: &Value<String>) -> Option<Lookup> {
    match (id.as_ref_option(), name.as_ref_option()) {
        (Some(id), None) => Some(Lookup::Id(id.clone())),
        (None, Some(name)) => Some(Lookup::Name(name.clone())),
        _ => {
            diags.root_error("Ambiguous lookup", "Set exactly one of `id` and `name`.");
            None
        }
    }
}

enum Lookup {
    Id(String),
    Name(String),
}

async fn find_by_name<T, F>(
    api: &Api,
    role: Role,
    path: &str,
    name: &str,
    name_of: F,
) -> Result<T, ApiError>
where
    T: serde::de::DeserializeOwned,
    F: Fn(&T) -> &str,
{
    let all: Vec<T> = api.list_all(role, path).await?;
    all.into_iter()
        .find(|item| name_of(item) == name)
        .ok_or_else(|| ApiError::Status {
            status: reqwest::StatusCode::NOT_FOUND,
            summary: format!("no item named `{name}`"),
            errors: Vec::new(),
        })
}

#[async_trait]
impl DataSource for TenantData {
    type State<'a> = TenantState;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(tenant_schema(true))
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::State<'a>> {
        let wanted = lookup(diags, &config.id, &config.name)?;
        let api = self.0.api(diags)?;
        let found = match &wanted {
            Lookup::Id(id) => {
                api.get::<Tenant>(Role::Admin, &format!("/tenants/{}", segment(id)))
                    .await
            }
            Lookup::Name(name) => {
                find_by_name(&api, Role::Admin, "/tenants", name, |t: &Tenant| {
                    t.name.as_str()
                })
                .await
            }
        };
        match found {
            Ok(tenant) => Some(tenant.into()),
            Err(err) => {
                report(diags, "tenant", err);
                None
            }
        }
    }
}

#[async_trait]
impl DataSource for IntegrationData {
    type State<'a> = IntegrationState;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let mut attrs = attributes(true);
        for key in ["id", "name"] {
            if let Some(attribute) = attrs.get_mut(key) {
                attribute.constraint = C::OptionalComputed;
            }
        }
        Some(Schema {
            version: 0,
            block: Block {
                version: 0,
                attributes: attrs,
                description: Description::markdown(
                    "An integration of the provider's tenant, by `id` or `name`.",
                ),
                ..Default::default()
            },
        })
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::State<'a>> {
        let wanted = lookup(diags, &config.id, &config.name)?;
        let api = self.0.api(diags)?;
        let found = match &wanted {
            Lookup::Id(id) => {
                api.get::<Integration>(Role::Tenant, &format!("/integrations/{}", segment(id)))
                    .await
            }
            Lookup::Name(name) => {
                find_by_name(
                    &api,
                    Role::Tenant,
                    "/integrations",
                    name,
                    |i: &Integration| i.name.as_str(),
                )
                .await
            }
        };
        match found {
            Ok(integration) => Some(IntegrationState::from_wire(integration, None)),
            Err(err) => {
                report(diags, "integration", err);
                None
            }
        }
    }
}
