//! End-to-end tests of the HTTP API: the real application on port 0, real PostgreSQL.

mod activity;
mod auth;
mod bindings;
mod delivery;
mod harness;
mod injection;
mod integrations;
mod metrics;
mod openapi;
mod outage;
mod outbound_guard;
mod permission_first;
mod receiver;
mod receiver_auth;
mod recording;
mod retention;
mod retries;
mod robustness;
mod secrets;
mod signatures;
mod standard_webhooks;
mod stats;
mod tenants;
mod token_rate_limit;
mod tokens;
mod ui;
