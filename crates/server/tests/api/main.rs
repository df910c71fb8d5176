//! End-to-end tests of the HTTP API: the real application on port 0, real PostgreSQL.

mod auth;
mod bindings;
mod delivery;
mod harness;
mod integrations;
mod openapi;
mod outage;
mod receiver;
mod recording;
mod retention;
mod retries;
mod robustness;
mod scheduling;
mod secrets;
mod tenants;
mod ui;
