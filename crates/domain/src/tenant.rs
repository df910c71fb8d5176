//! Tenants and their API clients: the input rules.

use serde::Deserialize;

use crate::permission::Permission;
use crate::validation::{ValidationErrors, check_name};

/// Longest tenant or client name accepted.
pub const MAX_NAME_LEN: usize = 128;

/// A tenant to create.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantIn {
    /// Unique, human-facing name of the organisation.
    #[schema(example = "acme")]
    pub name: String,
}

impl TenantIn {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        check_name(&mut errors, "name", &self.name, MAX_NAME_LEN);
        errors.finish(())
    }
}

/// An API client to create for a tenant.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiClientIn {
    /// What the client is for (`terraform`, `billing-service`).
    #[schema(example = "terraform")]
    pub name: String,
    /// What its tokens may do; every permission when absent.
    #[serde(default)]
    pub permissions: Option<Vec<Permission>>,
}

impl ApiClientIn {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        check_name(&mut errors, "name", &self.name, MAX_NAME_LEN);
        if self.permissions.as_ref().is_some_and(Vec::is_empty) {
            errors.add(
                "permissions",
                "must list at least one permission, or be omitted for all",
            );
        }
        errors.finish(())
    }

    /// The permissions granted, deduplicated and sorted.
    pub fn granted(&self) -> Vec<Permission> {
        let mut granted = self
            .permissions
            .clone()
            .unwrap_or_else(|| Permission::ALL.to_vec());
        granted.sort();
        granted.dedup();
        granted
    }
}
