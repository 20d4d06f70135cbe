//! TCP echo with the client in another process, and the server in a fresh process
//! of its own for each measurement: the server alone in its runtime, so that nothing
//! keeps a worker busy and readiness must be noticed by a runtime whose only work is
//! to wait for the network.
//!
//! ```text
//!   compare                 echo_server (fresh, per measurement)   echo_client
//!   +--------------+ spawn  +------------------------------------+ +-------------+
//!   | for each row,|------->| runtime (1 thread / 2 workers)     | | std sockets,|
//!   | each side:   |<-------|  task: bind, spawn the accept loop  | | a thread per|
//!   |              | addr=  |   a task per connection: echo/drop |<->connection, |
//!   |              |        |  [task: loop { yield_now }]        | | TCP_NODELAY |
//!   |              | spawn  |  block_on: until stdin closes      | |             |
//!   |              |---------------------------------------------->| times each  |
//!   |              |<----------------------------------------------| count= p50= |
//!   |              | close its stdin: it drops its runtime, exits | +-------------+
//!   +--------------+        +------------------------------------+
//! ```
//!
//! Why processes: the in-process table of `echo.rs` runs its clients as tasks of the
//! same runtime, and a worker that always has a client to poll looks at the selector
//! often, which hides a runtime that notices readiness late when it is idle. And
//! clearloop's reactor is process-wide, made by the first socket: in this process it
//! exists long before these rows run, while a user's server makes its first socket
//! in a task of a runtime whose workers are already parked. A fresh server process
//! per measurement, whose runtime idles 20 ms before the server starts, starts as
//! the user's program does (without the pause, whether the workers have parked
//! first is a race, and the row would show a late runtime in some runs only).
//!
//! clearloop serves each row twice, on its two Linux selectors: epoll (the default)
//! and `poll(2)` (`CLEARLOOP_SELECTOR=poll` in the server's environment), the path
//! that macOS takes; the three sides take turns going first.
//!
//! Every wait is bounded: the client has a 5 s patience per socket operation; a
//! client or server past its limit is killed, and the row reads "timed out".

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{OnceLock, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::echo::rate;
use crate::measure::{Plan, human, min_median_max};

/// The helper binaries, beside `compare` in the target directory.
const CLIENT: &str = "echo_client";
const SERVER: &str = "echo_server";

/// Past the client's own budget, how long a helper may take before it is killed
/// (starting a process, connecting, the 5 s patience of a stuck socket).
const SLACK: Duration = Duration::from_secs(10);

/// How much of everything.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    runs: usize,
    /// Round trips per connection, at most.
    max_per_connection: usize,
    /// Time spent making round trips, at most.
    budget: Duration,
    /// Connections accepted and closed.
    accepts: usize,
    /// Time spent accepting and closing, at most.
    accept_budget: Duration,
}

impl Sizes {
    pub fn new(plan: Plan) -> Sizes {
        if plan.quick {
            // Small enough that a runtime 10 ms late per round trip still ends each
            // row in about a second.
            Sizes {
                runs: 1,
                max_per_connection: 200,
                budget: Duration::from_millis(500),
                accepts: 200,
                accept_budget: Duration::from_secs(3),
            }
        } else {
            Sizes {
                runs: 3,
                max_per_connection: 20_000,
                budget: Duration::from_secs(1),
                accepts: 2_000,
                accept_budget: Duration::from_secs(30),
            }
        }
    }
}

/// What the server does with each connection, and what the client does.
#[derive(Clone, Copy, Debug)]
enum Work {
    Echo { connections: usize, bytes: usize },
    AcceptClose,
}

/// One row of the tables.
#[derive(Clone, Debug)]
struct Spec {
    what: &'static str,
    flavor: &'static str,
    workers: usize,
    /// A task beside the server yields in a loop (it stays ready).
    yielder: bool,
    work: Work,
}

fn specs() -> Vec<Spec> {
    let flavors = [
        (0, "1 thread"),
        (clearloop_bench::ports::WORKERS, "2 workers"),
    ];
    let mut specs = Vec::new();
    for (workers, flavor) in flavors {
        for (connections, what) in [(1, "1 × 64 B"), (10, "10 × 64 B")] {
            specs.push(Spec {
                what,
                flavor,
                workers,
                yielder: false,
                work: Work::Echo {
                    connections,
                    bytes: 64,
                },
            });
        }
        if workers == 0 {
            specs.push(Spec {
                what: "1 × 64 B, beside a task that yields in a loop",
                flavor,
                workers,
                yielder: true,
                work: Work::Echo {
                    connections: 1,
                    bytes: 64,
                },
            });
        }
    }
    for (workers, flavor) in flavors {
        specs.push(Spec {
            what: "accept and close",
            flavor,
            workers,
            yielder: false,
            work: Work::AcceptClose,
        });
    }
    specs
}

/// What the client printed.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Figures {
    /// Round trips, or connections accepted and closed.
    count: u64,
    /// From the first one's start to the last one's end.
    seconds: f64,
    p50: f64,
    p99: f64,
}

impl Figures {
    /// Seconds per round trip (or per connection), all connections together.
    fn each(&self) -> f64 {
        self.seconds / self.count as f64
    }
}

/// Parses the client's line: `count=N seconds=S p50=S p99=S`.
fn parse(line: &str) -> Result<Figures, String> {
    let field = |name: &str| -> Result<f64, String> {
        line.split_whitespace()
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .and_then(|value| value.parse().ok())
            .ok_or_else(|| format!("no {name}= in the client's line {line:?}"))
    };
    let figures = Figures {
        count: field("count")? as u64,
        seconds: field("seconds")?,
        p50: field("p50")?,
        p99: field("p99")?,
    };
    if figures.count == 0 || figures.seconds <= 0.0 {
        return Err(format!("the client counted nothing: {line:?}"));
    }
    Ok(figures)
}

/// The helper binaries (client, server). `cargo run --bin compare` builds only
/// `compare`, so they are built here, once per process, with the profile of this
/// build (a no-op when they are up to date); without cargo (`compare` started by
/// hand), the ones already built are used.
fn helpers() -> Result<(PathBuf, PathBuf), String> {
    static PATHS: OnceLock<Result<(PathBuf, PathBuf), String>> = OnceLock::new();
    PATHS
        .get_or_init(|| {
            let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
            let dir = exe.parent().ok_or("current_exe has no directory")?;
            let release = !cfg!(debug_assertions);
            let build = format!(
                "cargo build{} -p clearloop-bench --bin {CLIENT} --bin {SERVER}",
                if release { " --release" } else { "" }
            );
            if let Some(cargo) = std::env::var_os("CARGO") {
                let mut command = Command::new(cargo);
                command.args(["build", "--quiet", "-p", "clearloop-bench"]);
                command.args(["--bin", CLIENT, "--bin", SERVER]);
                command
                    .arg("--manifest-path")
                    .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"));
                if release {
                    command.arg("--release");
                }
                let status = command
                    .status()
                    .map_err(|e| format!("`{build}` did not start: {e}"))?;
                if !status.success() {
                    return Err(format!("`{build}` failed ({status})"));
                }
            }
            // `compare` sits in target/<profile>/; its test binary in target/<profile>/deps/.
            let find = |name: &str| {
                [dir, dir.parent().unwrap_or(dir)]
                    .into_iter()
                    .map(|d| d.join(name))
                    .find(|path| path.is_file())
                    .ok_or_else(|| {
                        format!(
                            "{name} not found beside {}: build it with `{build}`",
                            exe.display()
                        )
                    })
            };
            Ok((find(CLIENT)?, find(SERVER)?))
        })
        .clone()
}

/// Waits for `child` at most `limit`; past it, kills and reaps it. Polled every
/// 2 ms: std has no wait with a timeout, and nothing measured runs in this process.
fn wait_at_most(child: &mut Child, limit: Duration) -> Result<ExitStatus, String> {
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if started.elapsed() > limit => {
                if let Err(e) = child.kill() {
                    eprintln!("clearloop: could not kill a helper process: {e}");
                }
                // Reap it, so that it does not stay a zombie.
                if let Err(e) = child.wait() {
                    eprintln!("clearloop: could not reap a helper process: {e}");
                }
                return Err("timed out".to_owned());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(format!("waiting for a helper process: {e}")),
        }
    }
}

/// Reads a helper's stderr on a thread, so that the helper never blocks on a full
/// pipe; the thread ends when the helper exits (or is killed), with its last line.
fn drain_stderr(child: &mut Child) -> JoinHandle<String> {
    let pipe = child.stderr.take();
    std::thread::spawn(move || {
        let mut err = String::new();
        if let Some(mut pipe) = pipe
            && let Err(e) = pipe.read_to_string(&mut err)
        {
            return format!("(its stderr: {e})");
        }
        err.lines().last().unwrap_or("no message").to_owned()
    })
}

/// The last line of a helper's stderr, once it has exited.
fn last_words(stderr: JoinHandle<String>) -> String {
    stderr
        .join()
        .unwrap_or_else(|_| "(the thread reading its stderr panicked)".to_owned())
}

/// Which runtime serves.
#[derive(Clone, Copy, Debug)]
enum Side {
    Clearloop,
    /// clearloop on its portable selector, `poll(2)` (`CLEARLOOP_SELECTOR=poll`): the
    /// path macOS takes, measured on this machine beside the epoll one.
    ClearloopPoll,
    Tokio,
}

/// One measurement: a fresh server process, the client process against it, then the
/// server told to stop (its stdin closed) and waited for.
fn measure_side(side: Side, spec: &Spec, sizes: Sizes) -> Result<Figures, String> {
    let (client_path, server_path) = helpers()?;
    let mut server = Command::new(&server_path);
    server.arg(match side {
        Side::Clearloop | Side::ClearloopPoll => "clearloop",
        Side::Tokio => "tokio",
    });
    // The variable is read by the server process's first selector, so each process
    // gets one selector for its whole life; the report's own process is untouched.
    match side {
        Side::ClearloopPoll => server.env("CLEARLOOP_SELECTOR", "poll"),
        _ => server.env_remove("CLEARLOOP_SELECTOR"),
    };
    server.arg(spec.workers.to_string());
    server.arg(match spec.work {
        Work::Echo { .. } => "echo",
        Work::AcceptClose => "close",
    });
    if spec.yielder {
        server.arg("yield");
    }
    let mut server = server
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{} did not start: {e}", server_path.display()))?;
    let server_stderr = drain_stderr(&mut server);
    let result = serve_and_measure(&mut server, &client_path, spec, sizes);
    // Closing its stdin tells the server to stop.
    drop(server.stdin.take());
    let stopped = wait_at_most(&mut server, SLACK);
    let said = last_words(server_stderr);
    match (result, stopped) {
        (Err(why), Ok(status)) if !status.success() => {
            Err(format!("{why}; the server failed ({status}): {said}"))
        }
        (Err(why), _) => Err(why),
        (Ok(_), Err(why)) => Err(format!("the server did not stop: {why}")),
        (Ok(_), Ok(status)) if !status.success() => {
            Err(format!("the server failed ({status}): {said}"))
        }
        (Ok(figures), Ok(_)) => Ok(figures),
    }
}

/// Reads the server's address (at most [`SLACK`]), then runs the client against it.
fn serve_and_measure(
    server: &mut Child,
    client_path: &Path,
    spec: &Spec,
    sizes: Sizes,
) -> Result<Figures, String> {
    let stdout = server.stdout.take().ok_or("the server's stdout")?;
    let (line_tx, line_rx) = mpsc::channel();
    // A server that never prints must not stop the report: read on a thread, which
    // ends when the server exits (or is killed) and its stdout closes.
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
        // Nobody listens any more only if the report gave up on this server.
        line_tx.send(read).ok();
    });
    let line = match line_rx.recv_timeout(SLACK) {
        Ok(Ok(line)) => line,
        Ok(Err(e)) => return Err(format!("the server's stdout: {e}")),
        Err(_) => return Err("timed out (the server printed no address)".to_owned()),
    };
    let Some(addr) = line
        .trim()
        .strip_prefix("addr=")
        .and_then(|a| a.parse::<SocketAddr>().ok())
    else {
        // Empty: it exited first (the caller adds its last words).
        return Err(format!("the server printed {line:?}, not addr=..."));
    };
    let mut client = Command::new(client_path);
    let limit = match spec.work {
        Work::Echo { connections, bytes } => {
            client.args([
                "echo".to_owned(),
                addr.to_string(),
                connections.to_string(),
                bytes.to_string(),
                sizes.budget.as_millis().to_string(),
                sizes.max_per_connection.to_string(),
            ]);
            sizes.budget + SLACK
        }
        Work::AcceptClose => {
            client.args([
                "accept-close".to_owned(),
                addr.to_string(),
                sizes.accepts.to_string(),
                sizes.accept_budget.as_millis().to_string(),
            ]);
            sizes.accept_budget + SLACK
        }
    };
    let mut client = client
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{} did not start: {e}", client_path.display()))?;
    let client_stderr = drain_stderr(&mut client);
    // One short line on stdout: it fits the pipe's buffer, so the client never
    // blocks on it and it can be read once the client has exited.
    let status = wait_at_most(&mut client, limit)?;
    let said = last_words(client_stderr);
    if !status.success() {
        return Err(format!("the client failed ({status}): {said}"));
    }
    let mut out = String::new();
    if let Some(mut pipe) = client.stdout.take() {
        pipe.read_to_string(&mut out)
            .map_err(|e| format!("the client's stdout: {e}"))?;
    }
    parse(out.trim())
}

// ---- the tables ----

/// One row's runs, each side's result per run.
struct Measured {
    spec: Spec,
    clearloop: Vec<Result<Figures, String>>,
    /// clearloop again, on the `poll(2)` selector.
    poll: Vec<Result<Figures, String>>,
    tokio: Vec<Result<Figures, String>>,
}

fn measure(spec: Spec, sizes: Sizes) -> Measured {
    let (mut ours, mut poll, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    let sides = [Side::Clearloop, Side::ClearloopPoll, Side::Tokio];
    for run in 0..sizes.runs {
        // Rotate who goes first, so a drift of the machine hits every side.
        for k in 0..sides.len() {
            let side = sides[(run + k) % sides.len()];
            let figures = measure_side(side, &spec, sizes);
            match side {
                Side::Clearloop => ours.push(figures),
                Side::ClearloopPoll => poll.push(figures),
                Side::Tokio => theirs.push(figures),
            }
        }
    }
    Measured {
        spec,
        clearloop: ours,
        poll,
        tokio: theirs,
    }
}

/// The median of each figure over the runs that gave figures, or the first error.
fn median(runs: &[Result<Figures, String>]) -> Result<Figures, String> {
    let ok: Vec<Figures> = runs
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .copied()
        .collect();
    if ok.len() < runs.len() || ok.is_empty() {
        let why = runs.iter().find_map(|r| r.as_ref().err());
        return Err(why.cloned().unwrap_or_else(|| "no run".to_owned()));
    }
    let pick = |f: fn(&Figures) -> f64| min_median_max(&ok.iter().map(f).collect::<Vec<_>>()).1;
    Ok(Figures {
        count: pick(|f| f.count as f64) as u64,
        seconds: pick(|f| f.seconds),
        p50: pick(|f| f.p50),
        p99: pick(|f| f.p99),
    })
}

/// `median (min–max)` of clearloop's time per round trip / tokio's, over the runs
/// where both sides gave figures.
fn ratio(row: &Measured) -> String {
    ratio_of(&row.clearloop, &row.tokio)
}

/// `median (min–max)` of `ours`' time per round trip / `theirs`', run by run.
fn ratio_of(ours: &[Result<Figures, String>], theirs: &[Result<Figures, String>]) -> String {
    let ratios: Vec<f64> = ours
        .iter()
        .zip(theirs)
        .filter_map(|(a, b)| Some(a.as_ref().ok()?.each() / b.as_ref().ok()?.each()))
        .collect();
    if ratios.is_empty() {
        return "–".to_owned();
    }
    let (low, mid, high) = min_median_max(&ratios);
    format!("**{mid:.2}** ({low:.2}–{high:.2})")
}

fn latency(figures: &Result<Figures, String>) -> String {
    match figures {
        Ok(f) => format!("{} / {}", human(f.p50), human(f.p99)),
        Err(_) => "–".to_owned(),
    }
}

/// The Markdown: one table of round trips, one of accept-and-close.
fn tables(rows: &[Measured], sizes: Sizes, took: Duration) -> String {
    let Sizes {
        runs,
        max_per_connection,
        budget,
        accepts,
        accept_budget,
    } = sizes;
    let mut md = String::new();
    let _ = write!(
        md,
        "## TCP echo, client in another process\n\n\
         The server alone in a fresh **process** of its own for each measurement \
         (`benches/src/bin/echo_server.rs`), on 127.0.0.1: its runtime idles 20 ms (as a \
         program's start-up lets it), then its accept loop is a spawned task (the listener, \
         the first socket of the process, is made on the thread that runs it: a worker, with \
         2 workers) that hands each connection to a detached task. The client \
         is another process (`benches/src/bin/echo_client.rs`: blocking std sockets, one thread \
         per connection, `TCP_NODELAY`), so no client task keeps the runtime busy: readiness \
         must be noticed by a runtime that has nothing else to do (or, in the row *beside a \
         task that yields in a loop*, by a loop that always has a task ready). Each client \
         makes one uncounted round trip, then writes 64 B and reads the echo back for \
         {budget:?} or {max_per_connection} round trips per connection, whichever comes \
         first; **round trips per second** over all connections, and the **p50 / p99** of \
         one round trip as the client times it. 1 thread: clearloop's `Runtime::new()` beside \
         tokio's `new_current_thread()`; 2 workers: `worker_threads(2)` on both; tokio with \
         `enable_all()`. **time ratio** = clearloop's time per round trip / tokio's in the \
         same run (below 1.0, clearloop is faster): the median, with the min–max over \
         {runs} run(s); clearloop and tokio alternate who goes first. A helper process that \
         has not finished {SLACK:?} past its budget is killed, and its row reads *timed \
         out*.\n\n\
         | connections × message | flavor | clearloop | tokio | time ratio (min–max) | clearloop p50 / p99 | tokio p50 / p99 | clearloop on `poll(2)` | its time ratio |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    let cell = |figures: &Result<Figures, String>, echo: bool| match figures {
        Ok(f) if echo => rate(f.count as f64 / f.seconds),
        Ok(f) if (f.count as usize) < accepts => format!(
            "{} each ({} of {accepts} within {accept_budget:?})",
            human(f.each()),
            f.count
        ),
        Ok(f) => format!("{} each", human(f.each())),
        Err(why) => why.clone(),
    };
    let mut accept_rows = String::new();
    let mut poll_to_epoll = Vec::new();
    for row in rows {
        let (ours, theirs) = (median(&row.clearloop), median(&row.tokio));
        let poll = median(&row.poll);
        let echo = matches!(row.spec.work, Work::Echo { .. });
        if let (Ok(p), Ok(e)) = (&poll, &ours) {
            poll_to_epoll.push(p.each() / e.each());
        }
        let line = format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.spec.what,
            row.spec.flavor,
            cell(&ours, echo),
            cell(&theirs, echo),
            ratio(row),
            latency(&ours),
            latency(&theirs),
            cell(&poll, echo),
            // Not in bold: the bold ratio of each row is the epoll one.
            ratio_of(&row.poll, &row.tokio).replace("**", ""),
        );
        let table = if echo { &mut md } else { &mut accept_rows };
        let _ = writeln!(table, "{line}");
    }
    let _ = write!(
        md,
        "\n**Accept and close {accepts} connections**, the client in another process: it \
         connects and reads until the server, which accepts and drops each connection at \
         once, has closed it, one connection after the other (at most {accept_budget:?}). \
         The time per connection over all of them; p50 / p99 of one connect-to-close; the \
         ratio as above.\n\n\
         | workload | flavor | clearloop | tokio | time ratio (min–max) | clearloop p50 / p99 | tokio p50 / p99 | clearloop on `poll(2)` | its time ratio |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|\n{accept_rows}"
    );
    let _ = write!(
        md,
        "\n**The `poll(2)` columns**: the same clearloop server with \
         `CLEARLOOP_SELECTOR=poll`, the portable selector that macOS and the BSDs use (on \
         Linux only a variable away, so its path is measured here). "
    );
    if poll_to_epoll.is_empty() {
        let _ = writeln!(md, "No row gave figures on both selectors.");
    } else {
        let (low, mid, high) = min_median_max(&poll_to_epoll);
        let _ = writeln!(
            md,
            "Over these rows its time per round trip (or per connection) is **{mid:.2}×** \
             epoll's, median ({low:.2}–{high:.2}). Where it costs more: every wait rebuilds \
             and hands the kernel the whole list of descriptors somebody waits on, and the \
             kernel walks all of it (epoll keeps the list in the kernel and returns only the \
             ready ones); being level-triggered, a direction nobody waits on must be taken \
             out of the list, or each wait would report it again. With one to ten \
             connections the list is short, so the gap is within the noise here; it grows \
             with idle connections."
        );
    }
    let _ = writeln!(md, "\nThis table took {:.0} s.", took.as_secs_f64());
    md
}

/// The section, measured with `sizes`.
fn section_of(sizes: Sizes) -> (String, Vec<Measured>) {
    let started = Instant::now();
    let rows: Vec<Measured> = specs()
        .into_iter()
        .map(|spec| {
            eprint!("      {} ({}) ...", spec.what, spec.flavor);
            let row = measure(spec, sizes);
            eprintln!(" {}", ratio(&row).replace("**", ""));
            row
        })
        .collect();
    (tables(&rows, sizes, started.elapsed()), rows)
}

/// The Markdown section "TCP echo, client in another process".
pub fn section(plan: Plan) -> String {
    section_of(Sizes::new(plan)).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_line_is_parsed_and_a_bad_one_refused() {
        let f = parse("count=200 seconds=0.5 p50=0.0001 p99=0.002").unwrap();
        assert_eq!(
            f,
            Figures {
                count: 200,
                seconds: 0.5,
                p50: 0.0001,
                p99: 0.002
            }
        );
        assert_eq!(f.each(), 0.0025);
        assert!(parse("count=0 seconds=0.5 p50=0 p99=0").is_err());
        assert!(parse("count=3 seconds=1").unwrap_err().contains("p50"));
    }

    #[test]
    fn a_helper_past_its_limit_is_killed_and_reaped() {
        let mut child = Command::new("sleep").arg("30").spawn().expect("sleep");
        let started = Instant::now();
        assert_eq!(
            wait_at_most(&mut child, Duration::from_millis(100)),
            Err("timed out".to_owned())
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        // Reaped: the status is known, no zombie is left.
        assert!(child.try_wait().expect("try_wait").is_some());
    }

    /// Every row, on both sides, in a tiny mode: each gets figures from the client
    /// process, and each server process stops when told (with a runtime 10 ms late
    /// per round trip, the rows still end in well under a second each).
    #[test]
    fn every_row_of_the_table_gets_figures_from_the_client_process() {
        let sizes = Sizes {
            runs: 1,
            max_per_connection: 20,
            budget: Duration::from_millis(300),
            accepts: 20,
            accept_budget: Duration::from_secs(2),
        };
        let (md, rows) = section_of(sizes);
        assert_eq!(rows.len(), specs().len());
        for row in &rows {
            for (side, runs) in [
                ("clearloop", &row.clearloop),
                ("clearloop on poll", &row.poll),
                ("tokio", &row.tokio),
            ] {
                let figures = median(runs).unwrap_or_else(|why| {
                    panic!(
                        "{} ({}), {side}: {why}\n{md}",
                        row.spec.what, row.spec.flavor
                    )
                });
                assert!(figures.count > 0 && figures.p50 > 0.0 && figures.p99 >= figures.p50);
            }
        }
        // One line per row in the two tables, each with a ratio.
        assert_eq!(md.matches("| **").count(), rows.len(), "{md}");
        assert!(!md.contains("| timed out"), "{md}");
        assert!(md.contains("epoll's, median"), "{md}");
    }
}
