//! `clearloop-bench`: clearloop beside tokio, CPython's `sched`, Python's `schedule`
//! and `clokwerk`. Not part of clearloop: a second crate of the workspace, so that
//! building clearloop (and its tour) never builds tokio or criterion.
//!
//! * `cargo run --release -p clearloop-bench --bin compare` runs every side-by-side
//!   workload and writes `target/report/report.md` and `report.svg`
//!   (`-- --quick`: one short run each, for CI). Its table "TCP echo, client in another
//!   process" runs the binaries `echo_server` (a fresh server process per measurement)
//!   and `echo_client` (blocking std sockets), which it builds itself.
//! * `cargo bench -p clearloop-bench` runs the criterion benches (`--bench runtime`,
//!   `sched`, `sync`, `together`, `threads`, `schedule`, `io`, `trace`).
//!
//! The workloads live here, once, so that the criterion benches and the report run
//! the same code.

pub mod echo;
pub mod lateness;
pub mod ports;
pub mod schedule_day;
pub mod workloads;
