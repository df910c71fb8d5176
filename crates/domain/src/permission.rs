//! What an API client may do. Tokens carry these names in their `permissions` claim.

use serde::{Deserialize, Serialize};

/// One permission, named as in the guide (`integration:edit`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum Permission {
    /// Read integrations and their event bindings.
    #[serde(rename = "integration:view")]
    IntegrationView,
    /// Create, change and delete integrations and their event bindings.
    #[serde(rename = "integration:edit")]
    IntegrationEdit,
    /// Read secrets' metadata (never their values).
    #[serde(rename = "secret:view")]
    SecretView,
    /// Create, rotate and delete secrets.
    #[serde(rename = "secret:edit")]
    SecretEdit,
    /// Publish events.
    #[serde(rename = "event:publish")]
    EventPublish,
    /// Read delivery logs and attempts.
    #[serde(rename = "log:view")]
    LogView,
    /// Replay and purge dead letters.
    #[serde(rename = "deadletter:edit")]
    DeadletterEdit,
}

impl Permission {
    /// Every permission a tenant's client can hold.
    pub const ALL: [Permission; 7] = [
        Permission::IntegrationView,
        Permission::IntegrationEdit,
        Permission::SecretView,
        Permission::SecretEdit,
        Permission::EventPublish,
        Permission::LogView,
        Permission::DeadletterEdit,
    ];

    /// The wire name, e.g. `integration:edit`.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::IntegrationView => "integration:view",
            Permission::IntegrationEdit => "integration:edit",
            Permission::SecretView => "secret:view",
            Permission::SecretEdit => "secret:edit",
            Permission::EventPublish => "event:publish",
            Permission::LogView => "log:view",
            Permission::DeadletterEdit => "deadletter:edit",
        }
    }

    /// Parses a wire name; `None` for anything unknown.
    pub fn parse(name: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_round_trips_through_its_wire_name() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
            let json = serde_json::to_string(&p).expect("a permission serializes");
            assert_eq!(json, format!("\"{}\"", p.as_str()));
        }
        assert_eq!(Permission::parse("integration:delete"), None);
    }
}
