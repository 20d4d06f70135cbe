//! A measurement, not a lesson: how much memory does a waiting task cost?
//!
//! Spawns 100,000 tasks that wait forever (`std::future::pending`), lets each run
//! once so it is really parked, and reads the process's resident memory before and
//! after, for clearloop and for tokio's current-thread runtime. Each runtime is
//! measured in a fresh child process, so one does not inherit the other's heap.
//!
//! Run: `cargo run --release -p clearloop-bench --bin idle_task_memory`.

use std::process::Command;

const TASKS: usize = 100_000;

/// Resident memory of this process, in bytes (Linux: /proc/self/statm).
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn measure_clearloop() -> usize {
    let runtime = clearloop::Runtime::new();
    let before = resident_bytes();
    for _ in 0..TASKS {
        drop(runtime.spawn(std::future::pending::<()>()));
    }
    runtime.block_on(clearloop::task::yield_now());
    let after = resident_bytes();
    assert_eq!(runtime.live_tasks(), TASKS);
    after - before
}

fn measure_tokio() -> usize {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let before = resident_bytes();
    runtime.block_on(async {
        for _ in 0..TASKS {
            drop(tokio::spawn(std::future::pending::<()>()));
        }
        tokio::task::yield_now().await;
    });
    resident_bytes() - before
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("clearloop") => println!("{}", measure_clearloop()),
        Some("tokio") => println!("{}", measure_tokio()),
        _ => {
            let me = std::env::current_exe().expect("path of this program");
            for runtime in ["clearloop", "tokio"] {
                let output = Command::new(&me).arg(runtime).output().expect("child");
                let text = String::from_utf8_lossy(&output.stdout);
                let bytes: usize = text.trim().parse().unwrap_or(0);
                println!(
                    "{runtime:<10} {TASKS} idle tasks: {:>6.1} MiB resident, {:>4} bytes per task",
                    bytes as f64 / (1024.0 * 1024.0),
                    bytes / TASKS
                );
            }
        }
    }
}
