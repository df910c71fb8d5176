//! `ricochet_event_binding`: one event type (or family) bound to an integration. Any change
//! replaces it. Import id: `integrationId/bindingId`.

use async_trait::async_trait;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tf_provider::schema::{AttributeConstraint as C, AttributeType as T, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::client::{Api, ApiError, Binding, BindingList, Role, segment};
use crate::diag::report;
use crate::provider::Shared;
use crate::schema::{attr, block_schema};

/// The resource.
#[derive(Debug)]
pub(crate) struct BindingResource(pub(crate) Shared);

/// Its state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct BindingState {
    id: Value<String>,
    integration_id: Value<String>,
    event_type: Value<String>,
}

impl From<Binding> for BindingState {
    fn from(b: Binding) -> Self {
        BindingState {
            id: Value::Value(b.id),
            integration_id: Value::Value(b.integration_id),
            event_type: Value::Value(b.event_type),
        }
    }
}

fn list_path(integration: &str) -> String {
    format!("/integrations/{}/eventbindings", segment(integration))
}

fn what(state: &BindingState) -> String {
    format!(
        "event binding \"{}\"",
        state.event_type.as_ref_option().map_or("", String::as_str)
    )
}

/// The integration's binding with this id; `None` when it or its integration is gone.
async fn find(api: &Api, integration: &str, id: &str) -> Result<Option<Binding>, ApiError> {
    match api
        .list_all::<Binding>(Role::Tenant, &list_path(integration))
        .await
    {
        Ok(bindings) => Ok(bindings.into_iter().find(|b| b.id == id)),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err),
    }
}

#[async_trait]
impl Resource for BindingResource {
    type State<'a> = BindingState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(block_schema(
            "Binds an event type (or a family such as `routing.queue.*`) to an integration. Import id: `integrationId/bindingId`.",
            [
                ("id", attr(T::String, C::Computed, "The binding's id.")),
                (
                    "integration_id",
                    attr(
                        T::String,
                        C::Required,
                        "The integration it feeds; changing it replaces the binding.",
                    ),
                ),
                (
                    "event_type",
                    attr(
                        T::String,
                        C::Required,
                        "The event type or family; changing it replaces the binding.",
                    ),
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
        let integration = state
            .integration_id
            .as_ref_option()
            .cloned()
            .unwrap_or_default();
        let id = state.id.as_ref_option().cloned().unwrap_or_default();
        match find(&api, &integration, &id).await {
            Ok(Some(binding)) => Some((binding.into(), private_state)),
            Ok(None) => None,
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
            BindingState {
                id: Value::Unknown,
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
        if proposed.integration_id != prior.integration_id {
            replace.push(AttributePath::new("integration_id"));
        }
        if proposed.event_type != prior.event_type {
            replace.push(AttributePath::new("event_type"));
        }
        if replace.is_empty() {
            return Some((prior, private_state, replace));
        }
        Some((
            BindingState {
                id: Value::Unknown,
                ..proposed
            },
            private_state,
            replace,
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
        let integration = planned
            .integration_id
            .as_ref_option()
            .cloned()
            .unwrap_or_default();
        let event_type = planned
            .event_type
            .as_ref_option()
            .cloned()
            .unwrap_or_default();
        let body = json!({ "events": [event_type] });
        match api
            .send::<BindingList>(
                Role::Tenant,
                Method::POST,
                &list_path(&integration),
                &body,
                None,
            )
            .await
        {
            Ok(list) => match list.data.into_iter().find(|b| b.event_type == event_type) {
                Some(binding) => Some((binding.into(), private_state)),
                None => {
                    diags.root_error(
                        format!("Ricochet did not return the binding of `{event_type}`"),
                        "The answer to the binding request did not list the event type asked for.",
                    );
                    None
                }
            },
            Err(err) => {
                // The API names the field `events[0]`; the attribute is `event_type`.
                let err = match err {
                    ApiError::Status {
                        status,
                        summary,
                        mut errors,
                    } => {
                        for e in &mut errors {
                            if e.field.starts_with("events") {
                                e.field = "eventType".into();
                            }
                        }
                        ApiError::Status {
                            status,
                            summary,
                            errors,
                        }
                    }
                    other => other,
                };
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
        let integration = prior
            .integration_id
            .as_ref_option()
            .cloned()
            .unwrap_or_default();
        let id = prior.id.as_ref_option().cloned().unwrap_or_default();
        let path = format!("{}/{}", list_path(&integration), segment(&id));
        match api.delete(Role::Tenant, &path, None).await {
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
        let Some((integration, binding)) = id.split_once('/') else {
            diags.root_error(
                "Invalid import id",
                format!("expected `integrationId/bindingId`, got `{id}`"),
            );
            return None;
        };
        let api = self.0.api(diags)?;
        match find(&api, integration, binding).await {
            Ok(Some(found)) => Some((found.into(), Value::Null)),
            Ok(None) => {
                diags.root_error(
                    "Cannot import event binding",
                    format!("integration {integration} has no binding {binding}"),
                );
                None
            }
            Err(err) => {
                report(diags, &format!("event binding {id}"), err);
                None
            }
        }
    }
}
