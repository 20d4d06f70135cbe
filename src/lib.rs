//! clearloop: an async runtime written to be read.
#![deny(missing_docs)]

pub mod clock;
pub mod runtime;
pub mod sync;
pub mod task;
pub mod time;
pub mod wheel;

pub use runtime::{Builder, Runtime, run, spawn};
pub use task::{Task, TaskError};
