//! `ricochet_integration`: create, read, replace (PUT with `If-Match`), delete, import.

use async_trait::async_trait;
use reqwest::Method;
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::client::{Integration, Role, segment};
use crate::diag::report;
use crate::integration_state::{IntegrationState, attributes};
use crate::provider::Shared;

/// The resource.
#[derive(Debug)]
pub(crate) struct IntegrationResource(pub(crate) Shared);

fn what(state: &IntegrationState) -> String {
    format!(
        "integration \"{}\"",
        state.name.as_ref_option().map_or("", String::as_str)
    )
}

#[async_trait]
impl Resource for IntegrationResource {
    type State<'a> = IntegrationState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                version: 0,
                attributes: attributes(false),
                description: Description::markdown(
                    "An integration of the provider's tenant: where and how Ricochet delivers events. Import with its id.",
                ),
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        config.validate(diags);
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
        let id = state.id.as_ref_option().cloned().unwrap_or_default();
        match api
            .get::<Integration>(Role::Tenant, &format!("/integrations/{}", segment(&id)))
            .await
        {
            Ok(wire) => Some((
                IntegrationState::from_wire(wire, Some(&state)),
                private_state,
            )),
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
        _proposed: Self::State<'a>,
        config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        Some((IntegrationState::planned(&config, None), ValueEmpty::Null))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: Self::State<'a>,
        _proposed: Self::State<'a>,
        config: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        Some((
            IntegrationState::planned(&config, Some(&prior)),
            private_state,
            Vec::new(),
        ))
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
        let body = planned.to_wire();
        match api
            .send::<Integration>(Role::Tenant, Method::POST, "/integrations", &body, None)
            .await
        {
            Ok(wire) => Some((
                IntegrationState::from_wire(wire, Some(&planned)),
                private_state,
            )),
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
        _config: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let api = self.0.api(diags)?;
        let id = prior.id.as_ref_option().cloned().unwrap_or_default();
        let body = planned.to_wire();
        let version = prior.version.as_ref_option().copied();
        match api
            .send::<Integration>(
                Role::Tenant,
                Method::PUT,
                &format!("/integrations/{}", segment(&id)),
                &body,
                version,
            )
            .await
        {
            Ok(wire) => Some((
                IntegrationState::from_wire(wire, Some(&planned)),
                private_state,
            )),
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
        let id = prior.id.as_ref_option().cloned().unwrap_or_default();
        let version = prior.version.as_ref_option().copied();
        match api
            .delete(
                Role::Tenant,
                &format!("/integrations/{}", segment(&id)),
                version,
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
            .get::<Integration>(Role::Tenant, &format!("/integrations/{}", segment(&id)))
            .await
        {
            Ok(wire) => Some((IntegrationState::from_wire(wire, None), Value::Null)),
            Err(err) => {
                report(diags, &format!("integration {id}"), err);
                None
            }
        }
    }
}
