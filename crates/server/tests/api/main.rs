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
mod ordering;
mod outage;
mod outbound_guard;
mod receiver;
mod recording;
mod retention;
mod retries;
mod robustness;
mod scheduling;
mod secrets;
mod signatures;
mod standard_webhooks;
mod stats;
mod tenants;
mod tokens;
mod ui;
