//! The real `ricochet` binary with its embedded PostgreSQL: it comes up ready with no
//! DATABASE_URL, stops cleanly on SIGTERM, reuses its data, recovers after `kill -9`, delivers
//! across crashes and worker processes, and never shows a secret.

mod clients;
mod delivery;
mod harness;
mod lifecycle;
mod observability;
mod outage;
#[path = "../api/receiver.rs"]
#[expect(dead_code, reason = "shared with the api tests, which use all of it")]
mod receiver;
mod scheduling;
mod secrets;
mod traces;
