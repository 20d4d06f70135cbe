//! How the report measures: a plain timing loop, instruction counts under
//! callgrind, the CPU time of one thread, and what the machine and versions were.

use std::process::Command;
use std::time::{Duration, Instant};

/// How long and how often.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// `--quick`: one short run per workload, for CI.
    pub quick: bool,
    /// Runs of each workload; each run builds fresh runtimes and gives one ratio.
    pub runs: usize,
    /// Time spent repeating one side's iteration within one run (after a warm-up).
    pub budget: Duration,
}

impl Plan {
    pub fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                quick,
                runs: 1,
                budget: Duration::from_millis(20),
            }
        } else {
            Plan {
                quick,
                runs: 5,
                budget: Duration::from_millis(300),
            }
        }
    }
}

/// Mean seconds per iteration: one warm-up iteration (first allocations, worker
/// threads starting), then iterations until `budget` has passed (at least one).
pub fn seconds_per_iteration(iteration: &mut dyn FnMut(), budget: Duration) -> f64 {
    iteration();
    let start = Instant::now();
    let mut count = 0u32;
    loop {
        iteration();
        count += 1;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            return elapsed.as_secs_f64() / f64::from(count);
        }
    }
}

/// The one function whose instructions callgrind counts
/// (`--toggle-collect=*clearloop_bench_measured*`): the setup and the warm-up
/// iteration before it, and the runtime's drop after it, are not counted.
#[inline(never)]
pub fn clearloop_bench_measured(iteration: &mut dyn FnMut(), iterations: u32) {
    for _ in 0..iterations {
        iteration();
    }
}

/// Whether `valgrind` can run here.
pub fn valgrind_available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Instructions per iteration of one side of one row, from callgrind run on this
/// same program (`--callgrind-child`). `Err` says why there is no count.
pub fn instructions(row: &str, side: &str, iterations: u32) -> Result<f64, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            "--toggle-collect=*clearloop_bench_measured*",
        ])
        .arg(&me)
        .args(["--callgrind-child", row, side, &iterations.to_string()])
        .output()
        .map_err(|e| format!("valgrind did not start: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let last = stderr.lines().last().unwrap_or("").to_owned();
        return Err(format!("valgrind failed: {last}"));
    }
    // Callgrind ends with "==pid== Collected : 123456".
    let collected = stderr
        .lines()
        .find_map(|line| line.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse::<f64>().ok())
        .ok_or("no 'Collected' line in callgrind's output")?;
    Ok(collected / f64::from(iterations))
}

/// CPU time this thread has used (Linux: `/proc/thread-self/schedstat`, first
/// field, nanoseconds on a CPU). Time parked in `epoll_wait` or a condvar does not
/// count, so a timer workload's cost is not hidden behind its waiting.
pub fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Resident memory of this process, in bytes (Linux: `/proc/self/statm`).
pub fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// The three load averages, as `/proc/loadavg` gives them ("1.02 0.88 0.61").
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The machine and versions, one Markdown bullet list.
pub fn machine_and_versions() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                l.strip_prefix("model name")?
                    .split(':')
                    .nth(1)
                    .map(|s| s.trim().to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let rustc =
        command_line("rustc", &["--version"]).unwrap_or_else(|| "rustc: unknown".to_owned());
    let manifest = env!("CARGO_MANIFEST_DIR");
    let rev = command_line("git", &["-C", manifest, "rev-parse", "--short", "HEAD"])
        .unwrap_or_else(|| "unknown".to_owned());
    let dirty = command_line(
        "git",
        &[
            "-C",
            manifest,
            "status",
            "--porcelain",
            "--untracked-files=no",
        ],
    )
    .is_some_and(|s| !s.is_empty());
    let valgrind = command_line("valgrind", &["--version"]).unwrap_or_else(|| "absent".to_owned());
    let python = command_line("python3", &["--version"]).unwrap_or_else(|| "absent".to_owned());
    format!(
        "- machine: {cores} cores ({cpu}), {os}\n\
         - rustc: {rustc}; profile: release\n\
         - clearloop: git {rev}{dirty}\n\
         - tokio: {tokio} (features = [\"full\"])\n\
         - valgrind: {valgrind}; python3: {python}\n",
        os = std::env::consts::OS,
        dirty = if dirty {
            " (with uncommitted changes)"
        } else {
            ""
        },
        tokio = locked_version("tokio"),
    )
}

/// A package's version as `Cargo.lock` pins it (read at build time).
pub fn locked_version(package: &str) -> String {
    const LOCK: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"));
    let wanted = format!("name = \"{package}\"");
    let mut lines = LOCK.lines();
    while let Some(line) = lines.next() {
        if line == wanted
            && let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = "))
        {
            return version.trim_matches('"').to_owned();
        }
    }
    "unknown".to_owned()
}

fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let mut text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if text.is_empty() {
        // python3 --version wrote to stderr before 3.4; keep it simple.
        text = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    }
    Some(text.lines().next().unwrap_or("").to_owned())
}

/// Minimum, median and maximum (the values need not be sorted).
pub fn min_median_max(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    (sorted[0], median, sorted[n - 1])
}

/// A duration in seconds, with a unit that keeps three or four digits.
pub fn human(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.2} s")
    } else if seconds >= 1e-3 {
        format!("{:.2} ms", seconds * 1e3)
    } else if seconds >= 1e-6 {
        format!("{:.1} µs", seconds * 1e6)
    } else {
        format!("{:.0} ns", seconds * 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_median_max_of_odd_and_even_counts() {
        assert_eq!(min_median_max(&[3.0, 1.0, 2.0]), (1.0, 2.0, 3.0));
        assert_eq!(min_median_max(&[4.0, 1.0, 3.0, 2.0]), (1.0, 2.5, 4.0));
        assert_eq!(min_median_max(&[0.7]), (0.7, 0.7, 0.7));
    }

    #[test]
    fn versions_come_from_the_lock_file() {
        assert!(
            locked_version("tokio").starts_with("1."),
            "{}",
            locked_version("tokio")
        );
        assert_eq!(locked_version("no-such-package"), "unknown");
    }

    #[test]
    fn durations_keep_three_or_four_digits() {
        assert_eq!(human(2.5), "2.50 s");
        assert_eq!(human(0.012_34), "12.34 ms");
        assert_eq!(human(0.000_123_4), "123.4 µs");
        assert_eq!(human(0.000_000_456), "456 ns");
    }
}
