//! Ricochet's pure types and rules: identifiers, permissions, integration settings and their
//! validation, the retry policy and templates. No I/O, no HTTP framework, no database.

pub mod delivery;
pub mod ed25519;
pub mod encode;
pub mod event;
pub mod ids;
pub mod integration;
pub mod outcome;
pub mod payload;
pub mod permission;
pub mod receiver_auth;
pub mod receiver_tls;
pub mod request;
pub mod retry;
pub mod schedule;
pub mod signature;
pub mod target;
pub mod template;
pub mod tenant;
pub mod trace_context;
pub mod validation;

pub use ids::{ApiClientId, IntegrationId, TenantId};
pub use permission::Permission;
pub use validation::{FieldError, ValidationErrors};
