//! The provider block (`endpoint`, `admin_key`, `client_id`, `client_secret`, with their
//! `RICOCHET_*` environment fallbacks) and the registry of resources and data sources.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{Diagnostics, DynamicDataSource, DynamicResource, Provider};

use crate::client::{Api, ApiError, Credentials};
use crate::schema::{attr, block_schema, sensitive};
use crate::{api_client, binding, data_sources, integration, secret, tenant};

/// The configured client, shared by resources: Terraform asks for the resources before it
/// configures the provider, so they hold this handle and read it when called.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shared(Arc<RwLock<Option<Arc<Api>>>>);

impl Shared {
    /// The client, or an error diagnostic when the provider is not configured.
    pub(crate) fn api(&self, diags: &mut Diagnostics) -> Option<Arc<Api>> {
        let api = self.0.read().ok().and_then(|guard| guard.clone());
        if api.is_none() {
            crate::diag::report(
                diags,
                "this resource",
                ApiError::Config("the provider is not configured".into()),
            );
        }
        api
    }

    fn set(&self, api: Api) {
        if let Ok(mut guard) = self.0.write() {
            *guard = Some(Arc::new(api));
        }
    }
}

/// The `ricochet` provider.
#[derive(Debug, Default)]
pub(crate) struct RicochetProvider {
    shared: Shared,
}

/// The provider block.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ProviderConfig {
    endpoint: Value<String>,
    admin_key: Value<String>,
    client_id: Value<String>,
    client_secret: Value<String>,
}

/// The configured value, else the environment variable (unknown counts as unset: a client
/// created in the same run is known by the time a call needs it).
fn or_env(value: Value<String>, var: &str) -> Option<String> {
    value
        .as_option()
        .filter(|v| !v.is_empty())
        .or_else(|| std::env::var(var).ok().filter(|v| !v.is_empty()))
}

#[async_trait]
impl Provider for RicochetProvider {
    type Config<'a> = ProviderConfig;
    type MetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let optional = AttributeConstraint::Optional;
        Some(block_schema(
            "Ricochet: tenants, API clients, integrations, event bindings and secrets.",
            [
                (
                    "endpoint",
                    attr(
                        AttributeType::String,
                        optional.clone(),
                        "Base URL of Ricochet, e.g. `https://hooks.example.com`. Env: `RICOCHET_ENDPOINT`.",
                    ),
                ),
                (
                    "admin_key",
                    sensitive(attr(
                        AttributeType::String,
                        optional.clone(),
                        "Platform admin key, for `ricochet_tenant` and `ricochet_api_client`. Env: `RICOCHET_ADMIN_KEY`.",
                    )),
                ),
                (
                    "client_id",
                    attr(
                        AttributeType::String,
                        optional.clone(),
                        "A tenant's API client id (OAuth2 client credentials), for the tenant's resources. Env: `RICOCHET_CLIENT_ID`.",
                    ),
                ),
                (
                    "client_secret",
                    sensitive(attr(
                        AttributeType::String,
                        optional,
                        "The API client's secret. Env: `RICOCHET_CLIENT_SECRET`.",
                    )),
                ),
            ],
        ))
    }

    async fn configure<'a>(
        &self,
        diags: &mut Diagnostics,
        _terraform_version: String,
        config: Self::Config<'a>,
    ) -> Option<()> {
        let credentials = Credentials {
            endpoint: or_env(config.endpoint, "RICOCHET_ENDPOINT"),
            admin_key: or_env(config.admin_key, "RICOCHET_ADMIN_KEY"),
            client_id: or_env(config.client_id, "RICOCHET_CLIENT_ID"),
            client_secret: or_env(config.client_secret, "RICOCHET_CLIENT_SECRET"),
        };
        match Api::new(credentials) {
            Ok(api) => {
                self.shared.set(api);
                Some(())
            }
            Err(err) => {
                crate::diag::report(diags, "the provider", err);
                None
            }
        }
    }

    fn get_resources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicResource>>> {
        let shared = &self.shared;
        let mut resources: HashMap<String, Box<dyn DynamicResource>> = HashMap::new();
        resources.insert(
            "tenant".into(),
            Box::new(tenant::TenantResource(shared.clone())),
        );
        resources.insert(
            "api_client".into(),
            Box::new(api_client::ApiClientResource(shared.clone())),
        );
        resources.insert(
            "integration".into(),
            Box::new(integration::IntegrationResource(shared.clone())),
        );
        resources.insert(
            "event_binding".into(),
            Box::new(binding::BindingResource(shared.clone())),
        );
        resources.insert(
            "secret".into(),
            Box::new(secret::SecretResource(shared.clone())),
        );
        Some(resources)
    }

    fn get_data_sources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicDataSource>>> {
        let mut sources: HashMap<String, Box<dyn DynamicDataSource>> = HashMap::new();
        sources.insert(
            "tenant".into(),
            Box::new(data_sources::TenantData(self.shared.clone())),
        );
        sources.insert(
            "integration".into(),
            Box::new(data_sources::IntegrationData(self.shared.clone())),
        );
        Some(sources)
    }
}
