//! clearloop: an async runtime written to be read.
#![deny(missing_docs)]

pub mod clock;
pub mod sync;
