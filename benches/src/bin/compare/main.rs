//! One command, one report: clearloop beside tokio (and `sched` / `schedule`
//! beside Python) on every side-by-side workload.
//!
//! ```text
//! cargo run --release -p clearloop-bench --bin compare              # about 10 minutes
//! cargo run --release -p clearloop-bench --bin compare -- --quick   # CI: under 3 minutes
//! cargo run --release -p clearloop-bench --bin compare -- --only echo-process
//!     # one table: TCP echo, the server (`echo_server`) and the client (`echo_client`)
//!     # each in a process of its own
//! ```
//!
//! Writes `target/report/report.md` and `target/report/report.svg` (and prints the
//! Markdown). The harness is a plain timing loop, not criterion: each run builds
//! fresh runtimes, runs one warm-up iteration, then repeats the iteration for a
//! fixed time and keeps the mean; clearloop and tokio alternate which goes first.
//! Each run gives one ratio; the report shows the median and the range over the
//! runs (5, or 1 with `--quick`). Instruction counts come from callgrind, run on
//! this same program, counting only the measured iterations.

mod echo;
mod echo_process;
mod measure;
mod python;
mod report;
mod rows;
mod scale;

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Instant;

use measure::Plan;
use report::Measured;
use rows::{Drivers, Section};

/// Counts the bytes requested and not yet freed, only in the `--memory-child`
/// processes (`COUNTING`); elsewhere one relaxed load per allocation, on both sides.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static REQUESTED: AtomicI64 = AtomicI64::new(0);

// SAFETY: every call is forwarded unchanged to `System`, which upholds
// `GlobalAlloc`'s contract; the counter only observes the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            REQUESTED.fetch_add(layout.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: the caller's layout is passed on as it came.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            REQUESTED.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: `ptr` came from `alloc` above with this layout (caller's contract).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            REQUESTED.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: as for `dealloc`; `new_size` is the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn usage() -> ! {
    eprintln!(
        "usage: compare [--quick] [--only TEXT]\n\
         \x20 --quick      one short run per workload (CI); figures are indicative only\n\
         \x20 --only TEXT  only the side-by-side rows whose name contains TEXT, no other section\n\
         \x20             (`--only echo`: only the TCP echo section; `--only echo-process`:\n\
         \x20             only its table with the client in another process; `--only python`: only\n\
         \x20             the Python section; `--only wheel`, `--only memory`, `--only lateness`:\n\
         \x20             only that table of the scale section)"
    );
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--callgrind-child") => return callgrind_child(&args[1..]),
        Some("--memory-child") => {
            let n = args
                .get(3)
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| usage());
            return scale::memory_child(&args[1], &args[2], n);
        }
        _ => {}
    }
    let mut quick = false;
    let mut only = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--only" => only = Some(rest.next().cloned().unwrap_or_else(|| usage())),
            // `cargo bench` passes this to every target; accept it.
            "--bench" => {}
            _ => usage(),
        }
    }
    run(Plan::new(quick), only.as_deref());
}

/// Under callgrind: one side of one row, a warm-up, then the counted iterations.
fn callgrind_child(args: &[String]) {
    let (name, side) = (&args[0], &args[1]);
    let iterations: u32 = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1);
    let row = rows::rows()
        .into_iter()
        .find(|r| r.name == name.as_str())
        .expect("a row of this name");
    let mut iteration = if side == "clearloop" {
        (row.clearloop)()
    } else {
        (row.tokio)(Drivers::All)
    };
    iteration();
    measure::clearloop_bench_measured(&mut iteration, iterations);
}

fn report_dir() -> PathBuf {
    // target/release/compare -> target/report, wherever the target directory is.
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("report")))
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/report")))
}

/// The one table of the scale section that `--only TEXT` names, if it names one.
fn scale_table(plan: Plan, text: &str) -> Option<String> {
    if "timer wheel".contains(text) {
        Some(scale::wheel_table(plan))
    } else if "memory per task".contains(text) {
        Some(scale::memory())
    } else if "sleep lateness".contains(text) {
        Some(scale::lateness(plan))
    } else {
        None
    }
}

fn run(plan: Plan, only: Option<&str>) {
    let started = Instant::now();
    let load_start = measure::load_average();
    let valgrind = measure::valgrind_available();
    let callgrind_iterations = if plan.quick { 1 } else { 3 };
    eprintln!(
        "compare: {} mode, {} run(s) per workload, {:?} per side per run; valgrind {}",
        if plan.quick { "quick" } else { "full" },
        plan.runs,
        plan.budget,
        if valgrind { "found" } else { "absent" }
    );

    let mut measured = Vec::new();
    for row in rows::rows() {
        if only.is_some_and(|text| !row.name.contains(text)) {
            continue;
        }
        eprint!("  [{:>3} s] {:<48}", started.elapsed().as_secs(), row.name);
        let (mut ours, mut theirs, mut time_only) = (Vec::new(), Vec::new(), Vec::new());
        for run in 0..plan.runs {
            // Alternate who goes first, so a drift of the machine hits both sides.
            let mut sides: Vec<u8> = if row.timer { vec![0, 1, 2] } else { vec![0, 1] };
            let first = run % sides.len();
            sides.rotate_left(first);
            for side in sides {
                let mut iteration = match side {
                    0 => (row.clearloop)(),
                    1 => (row.tokio)(Drivers::All),
                    _ => (row.tokio)(Drivers::TimeOnly),
                };
                let seconds = measure::seconds_per_iteration(&mut iteration, plan.budget);
                drop(iteration);
                [&mut ours, &mut theirs, &mut time_only][side as usize].push(seconds);
            }
        }
        let instructions = if !valgrind {
            Err("valgrind absent".to_owned())
        } else if row.workers > 0 {
            Err("threads: not counted".to_owned())
        } else {
            measure::instructions(row.name, "clearloop", callgrind_iterations).and_then(|a| {
                measure::instructions(row.name, "tokio", callgrind_iterations).map(|b| a / b)
            })
        };
        let result = Measured {
            name: row.name,
            section: row.section,
            what: row.what,
            workers: row.workers,
            clearloop: ours,
            tokio: theirs,
            tokio_time_only: time_only,
            instructions,
        };
        let (_, ratio, _) = measure::min_median_max(
            &result
                .clearloop
                .iter()
                .zip(&result.tokio)
                .map(|(a, b)| a / b)
                .collect::<Vec<_>>(),
        );
        eprintln!("ratio {ratio:.2}");
        measured.push(result);
    }

    let mut plot = report::plot_points(&measured);
    let mut sections = String::new();
    for (section, title, intro) in [
        (
            Section::Ours,
            "Our workloads, one thread",
            "clearloop's `Runtime::new()` beside tokio's `Builder::new_current_thread().enable_all()`.",
        ),
        (
            Section::OursThreads,
            "Our workloads, two worker threads",
            "clearloop's `Builder::new().worker_threads(2)` beside tokio's `Builder::new_multi_thread().worker_threads(2).enable_all()`.",
        ),
        (
            Section::Tokio,
            "tokio's own workloads",
            "The shapes of tokio's `benches/` files (`rt_current_thread`, `rt_multi_threaded`, `sync_rwlock` \
             on a `Mutex` since tokio has no `sync_mutex`, `sync_semaphore`, `sync_mpsc`, `time_timeout`), \
             our code (`benches/src/ports.rs`). Where clearloop lacks the feature: tokio's `mpsc` is \
             clearloop's `sync::Queue` (`asyncio.Queue`; capacity 0 = unbounded), its `oneshot` is an \
             `sync::Event`, and `tokio::join!` is a join in place of ours (clearloop's `gather!` spawns). \
             tokio's files use 4 to 8 workers; this machine has 2 cores, so both sides use 2.",
        ),
    ] {
        if measured.iter().any(|m| m.section == section) {
            let _ = write!(
                sections,
                "## {title}\n\n{intro}\n\n{}\n",
                report::table(&measured, section)
            );
        }
    }

    let mut scale_md = String::new();
    let mut python_md = String::new();
    let mut echo_md = String::new();
    if only.is_none_or(|text| "tcp echo".contains(text)) {
        eprintln!("  [{} s] TCP echo...", started.elapsed().as_secs());
        echo_md = echo::section(plan);
        echo_md.push('\n');
    }
    // `--only echo` runs both echo tables; `--only echo-process`, this one alone.
    if only.is_none_or(|text| "tcp echo".contains(text) || "echo-process".contains(text)) {
        eprintln!(
            "  [{} s] TCP echo, client in another process...",
            started.elapsed().as_secs()
        );
        echo_md.push_str(&echo_process::section(plan));
        echo_md.push('\n');
    }
    if only.is_none() {
        let at = || started.elapsed().as_secs();
        eprintln!("  [{} s] timers alive, virtual-clock sleepers...", at());
        scale_md.push_str("## Scale\n\n");
        scale_md.push_str(&scale::timers(plan, &mut plot));
        eprintln!("  [{} s] memory per task (child processes)...", at());
        scale_md.push('\n');
        scale_md.push_str(&scale::memory());
        eprintln!("  [{} s] sleep lateness...", at());
        scale_md.push('\n');
        scale_md.push_str(&scale::lateness(plan));
        scale_md.push('\n');
        eprintln!("  [{} s] Python...", at());
        python_md = python::section(plan);
    } else if only.is_some_and(|text| "python sched schedule".contains(text)) {
        // `--only python` (or `sched`, `schedule`): the Python section alone.
        eprintln!("  [{} s] Python...", started.elapsed().as_secs());
        python_md = python::section(plan);
    } else if let Some(table) = only.and_then(|text| scale_table(plan, text)) {
        // `--only wheel`, `memory` or `lateness`: one table of the scale section.
        scale_md.push_str("## Scale\n\n");
        scale_md.push_str(&table);
    }

    let load_end = measure::load_average();
    let mode = if plan.quick {
        "`--quick`: one short run per workload; the figures are indicative only (CI runs this mode so the command cannot rot)"
    } else {
        "full"
    };
    let command = if plan.quick {
        "cargo run --release -p clearloop-bench --bin compare -- --quick"
    } else {
        "cargo run --release -p clearloop-bench --bin compare"
    };
    let mut md = String::new();
    let _ = write!(
        md,
        "# clearloop beside tokio: the report\n\n\
         Regenerated by `{command}` (mode: {mode}) in {:.0} s. Ratios are clearloop's time / \
         tokio's: **below 1.0, clearloop is faster**. Other processes share this machine; read \
         the load average.\n\n\
         ## Machine and versions\n\n{}\
         - load average (1, 5, 15 min): {load_start} at the start, {load_end} at the end\n\n\
         ## How it is measured\n\n\
         - **Harness**: a plain timing loop (`benches/src/bin/compare/measure.rs`), not criterion. \
         Each run builds fresh runtimes, runs one warm-up iteration, then repeats the iteration for \
         {:?} and keeps the mean time per iteration; clearloop and tokio alternate which goes first. \
         Each run gives one ratio; the table shows the median of the clearloop and tokio times and \
         the median ratio with its min–max over {} run(s).\n\
         - **Fair by construction**: tokio is built as its users build it, `features = [\"full\"]` \
         and `enable_all()` (what `#[tokio::main]` does), so its timers run under the I/O driver. \
         For the timer rows, the figure of a tokio built with `enable_time()` only (no I/O driver) \
         is given beside it: that is tokio's timer alone.\n\
         - **Instructions**: `valgrind --tool=callgrind`, counting only the measured iterations \
         ({callgrind_iterations} after a warm-up, `--toggle-collect`), single-threaded rows only \
         (callgrind runs threads one at a time, so the threaded rows would measure its scheduling). \
         The ratio is clearloop's count / tokio's.\n\
         - The plot: `report.svg` beside this file.\n\n",
        started.elapsed().as_secs_f64(),
        measure::machine_and_versions(),
        plan.budget,
        plan.runs,
    );
    md.push_str(&sections);
    md.push_str(&echo_md);
    md.push_str(&scale_md);
    md.push_str(&python_md);

    let dir = report_dir();
    std::fs::create_dir_all(&dir).expect("create the report directory");
    let svg = report::svg(&plot, "clearloop / tokio, per workload");
    std::fs::write(dir.join("report.md"), &md).expect("write report.md");
    std::fs::write(dir.join("report.svg"), svg).expect("write report.svg");
    println!("{md}");
    eprintln!(
        "compare: wrote {} and report.svg in {:.0} s",
        dir.join("report.md").display(),
        started.elapsed().as_secs_f64()
    );
}
