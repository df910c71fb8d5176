//! End-to-end tests of the HTTP API: the real application on port 0, real PostgreSQL.

mod auth;
mod harness;
mod integrations;
mod openapi;
mod tenants;
