//! The `ricochet` binary's library: command line, configuration, embedded PostgreSQL and the
//! wiring of the API and worker roles. `main` only parses and calls [`cli::run`].

pub mod app;
pub mod cli;
pub mod config;
pub mod data_dir;
pub mod database;
pub mod embedded_pg;
pub mod keys;
pub mod observe;
pub mod operator;
pub mod telemetry;

pub use app::{ApiSettings, Application};
