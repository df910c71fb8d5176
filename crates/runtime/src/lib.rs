//! In-process coordination shared by the API and the delivery worker, kept out of `store`
//! (which is SQL only): publishing with the hand-over of new deliveries to the worker of the
//! same process, group commit, and waking the workers after commits.

pub mod batcher;
pub mod credits;
pub mod handoff;
pub mod publish;
pub mod wake;

pub use batcher::{Batcher, Flush, Flushed, Linger, Writers};
pub use credits::{Credits, LaneWork};
pub use handoff::Handoff;
pub use wake::Waker;
