//! Dropped running children are reaped by one thread for the whole process, not
//! one thread each, and none is left a zombie.
//!
//! The only test of this binary: it counts the threads of the process
//! (`/proc/self/task`), which another test running beside it would change.
//! `/proc` makes it Linux-only; `process_exec.rs` checks the reaping everywhere.

#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use clearloop::process::Command;

mod common;

/// The names of the threads of this process.
fn threads() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .map(|task| {
            let comm = task.unwrap().path().join("comm");
            std::fs::read_to_string(comm)
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .collect()
}

#[test]
fn two_hundred_dropped_running_children_cost_one_thread_and_leave_no_zombie() {
    let (before, after, pids) = clearloop::run(async {
        let before = threads();
        // The first child starts the reactor's fallback thread and the reaper.
        assert!(Command::new("true").status().await.unwrap().success());
        let pids: Vec<u32> = (0..200)
            .map(|_| {
                // Dropped at once, still running: an orphan for the reaper.
                Command::new("sleep").arg("0.2").spawn().unwrap().id()
            })
            .collect();
        (before, threads(), pids)
    });
    // At most `clearloop-reactor` and `clearloop-reaper` more, however many orphans.
    assert!(
        after.len() <= before.len() + 2,
        "{} threads before, {} after dropping 200 children: {after:?}",
        before.len(),
        after.len()
    );
    // Each child is reaped when it exits (a real-time wait, with a generous limit
    // for a loaded machine).
    let limit = Instant::now() + Duration::from_secs(60);
    for pid in pids {
        while !common::reaped(pid) {
            assert!(Instant::now() < limit, "pid {pid} was never reaped");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
