//! TCP echo on loopback, clearloop beside tokio (one thread, and two workers) and
//! Python's `asyncio.start_server`: round trips per second with p50/p99 latency, and
//! accept-and-close of many connections.
//!
//! Each measurement builds a fresh runtime and runs the server and its clients in it
//! (as the Python script does in one event loop). A client connects, makes one round
//! trip it does not count, then writes a message and reads the echo back
//! (`write_all`, `read_exact`) until the time budget or [`MAX_PER_CONNECTION`] round
//! trips, timing each. Throughput is all round trips over the span from the first
//! client's start to the last one's end. Everything is on 127.0.0.1 and bounded in
//! count and time.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use clearloop_bench::echo::{clearloop_server, tokio_server};

use crate::measure::{Plan, human, min_median_max};
use crate::python;
use crate::rows::{Drivers, tokio_rt};

/// No connection makes more round trips than this in one measurement.
const MAX_PER_CONNECTION: usize = 200_000;

/// Connections and message size of one measurement.
#[derive(Clone, Copy, Debug)]
struct Shape {
    connections: usize,
    bytes: usize,
}

/// What one client saw: when it started counting, when it stopped, each round trip.
type Span = (Instant, Instant, Vec<Duration>);

/// One measurement's result.
#[derive(Clone, Copy, Debug)]
struct Outcome {
    per_second: f64,
    p50: f64,
    p99: f64,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len() - 1);
    sorted[i].as_secs_f64()
}

fn outcome(spans: Vec<Span>) -> Outcome {
    let start = spans.iter().map(|s| s.0).min().expect("a client");
    let end = spans.iter().map(|s| s.1).max().expect("a client");
    let mut all: Vec<Duration> = spans.into_iter().flat_map(|s| s.2).collect();
    all.sort();
    Outcome {
        per_second: all.len() as f64 / (end - start).as_secs_f64(),
        p50: percentile(&all, 0.50),
        p99: percentile(&all, 0.99),
    }
}

// ---- clearloop ----

fn clearloop_runtime(workers: usize) -> clearloop::Runtime {
    if workers == 0 {
        clearloop::Runtime::new()
    } else {
        clearloop::Builder::new().worker_threads(workers).build()
    }
}

async fn clearloop_client(addr: std::net::SocketAddr, bytes: usize, budget: Duration) -> Span {
    let mut stream = clearloop::net::TcpStream::connect(addr)
        .await
        .expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let message = vec![7; bytes];
    let mut reply = vec![0; bytes];
    stream.write_all(&message).await.expect("write");
    stream.read_exact(&mut reply).await.expect("read");
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < MAX_PER_CONNECTION && start.elapsed() < budget {
        let sent = Instant::now();
        stream.write_all(&message).await.expect("write");
        stream.read_exact(&mut reply).await.expect("read");
        times.push(sent.elapsed());
    }
    (start, Instant::now(), times)
}

fn clearloop_echo(workers: usize, shape: Shape, budget: Duration) -> Outcome {
    let rt = clearloop_runtime(workers);
    let spans = rt.block_on(async move {
        // The accept loop ends with the runtime, when the measurement is over.
        let (addr, _server) = clearloop_server();
        let clients: Vec<_> = (0..shape.connections)
            .map(|_| clearloop::spawn(clearloop_client(addr, shape.bytes, budget)))
            .collect();
        let mut spans = Vec::new();
        for client in clients {
            spans.push(client.await);
        }
        spans
    });
    outcome(spans)
}

fn clearloop_accept_close(workers: usize, count: usize) -> f64 {
    let rt = clearloop_runtime(workers);
    rt.block_on(async move {
        let listener = clearloop::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        let _server = clearloop::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                drop(stream);
            }
        });
        let start = Instant::now();
        let mut byte = [0; 1];
        for _ in 0..count {
            let mut stream = clearloop::net::TcpStream::connect(addr)
                .await
                .expect("connect");
            // 0: the server closed it.
            assert_eq!(stream.read(&mut byte).await.unwrap_or(0), 0);
        }
        start.elapsed().as_secs_f64()
    })
}

// ---- tokio ----

async fn tokio_client(addr: std::net::SocketAddr, bytes: usize, budget: Duration) -> Span {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let message = vec![7; bytes];
    let mut reply = vec![0; bytes];
    stream.write_all(&message).await.expect("write");
    stream.read_exact(&mut reply).await.expect("read");
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < MAX_PER_CONNECTION && start.elapsed() < budget {
        let sent = Instant::now();
        stream.write_all(&message).await.expect("write");
        stream.read_exact(&mut reply).await.expect("read");
        times.push(sent.elapsed());
    }
    (start, Instant::now(), times)
}

fn tokio_echo(workers: usize, shape: Shape, budget: Duration) -> Outcome {
    let rt = tokio_rt(workers, Drivers::All);
    let spans = rt.block_on(async move {
        let (addr, server) = tokio_server().await;
        let clients: Vec<_> = (0..shape.connections)
            .map(|_| tokio::spawn(tokio_client(addr, shape.bytes, budget)))
            .collect();
        let mut spans = Vec::new();
        for client in clients {
            spans.push(client.await.expect("client"));
        }
        server.abort();
        spans
    });
    outcome(spans)
}

fn tokio_accept_close(workers: usize, count: usize) -> f64 {
    let rt = tokio_rt(workers, Drivers::All);
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                drop(stream);
            }
        });
        let start = Instant::now();
        let mut byte = [0; 1];
        for _ in 0..count {
            let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            assert_eq!(stream.read(&mut byte).await.unwrap_or(0), 0);
        }
        let seconds = start.elapsed().as_secs_f64();
        server.abort();
        seconds
    })
}

// ---- the section ----

/// The median of each figure over the runs.
fn median(outcomes: &[Outcome]) -> Outcome {
    let pick =
        |f: fn(&Outcome) -> f64| min_median_max(&outcomes.iter().map(f).collect::<Vec<_>>()).1;
    Outcome {
        per_second: pick(|o| o.per_second),
        p50: pick(|o| o.p50),
        p99: pick(|o| o.p99),
    }
}

/// Round trips per second, in k/s or M/s.
pub fn rate(per_second: f64) -> String {
    if per_second >= 1e6 {
        format!("{:.2} M/s", per_second / 1e6)
    } else {
        format!("{:.1} k/s", per_second / 1e3)
    }
}

/// The Python figures, by name, or why there are none.
fn asyncio_figures(
    budget: Duration,
    shapes: &[Shape],
    accepts: usize,
) -> Result<Vec<(String, String)>, String> {
    let list: Vec<String> = shapes
        .iter()
        .map(|s| format!("{}x{}", s.connections, s.bytes))
        .collect();
    python::python(
        "echo_asyncio.py",
        &[
            &budget.as_secs_f64().to_string(),
            &MAX_PER_CONNECTION.to_string(),
            &list.join(","),
            &accepts.to_string(),
        ],
    )
}

fn asyncio_echo(lines: &[(String, String)], shape: Shape) -> Option<Outcome> {
    let name = format!("echo_{}_{}", shape.connections, shape.bytes);
    let value = &lines.iter().find(|(n, _)| *n == name)?.1;
    let mut figures = value.split(' ').map(|v| v.parse::<f64>().ok());
    Some(Outcome {
        per_second: figures.next()??,
        p50: figures.next()??,
        p99: figures.next()??,
    })
}

/// The Markdown section: one table of round trips, one of accept-and-close.
pub fn section(plan: Plan) -> String {
    let (shapes, accepts, budget, runs) = if plan.quick {
        (
            vec![Shape {
                connections: 10,
                bytes: 64,
            }],
            1_000,
            Duration::from_millis(50),
            1,
        )
    } else {
        let mut shapes = Vec::new();
        for bytes in [64, 16 * 1024] {
            for connections in [1, 10, 100] {
                shapes.push(Shape { connections, bytes });
            }
        }
        (shapes, 10_000, Duration::from_millis(300), 3)
    };
    let started = Instant::now();
    let python = asyncio_figures(budget, &shapes, accepts);

    let mut md = String::new();
    let _ = write!(
        md,
        "## TCP echo on loopback\n\n\
         Server and clients in one runtime (one event loop for asyncio), on 127.0.0.1, \
         `TCP_NODELAY` on. Each client makes one uncounted round trip, then writes a message \
         and reads its echo back for {budget:?} (at most {MAX_PER_CONNECTION} round trips per \
         connection); **round trips per second** over all clients, and the **p50 / p99** of one \
         round trip's latency. Each run is a fresh runtime; the figures are the median of \
         {runs} run(s). **time ratio** = clearloop's time per round trip / tokio's in the same \
         run (below 1.0, clearloop is faster): the median, with the min–max over the runs. \
         **× asyncio** = clearloop's throughput / asyncio's (one thread: asyncio has one), and \
         tokio's beside it: on loopback most of a round trip is the kernel's, which bounds \
         what any runtime can gain over asyncio. 1 thread: clearloop's `Runtime::new()` \
         beside tokio's `new_current_thread()`; 2 workers: `worker_threads(2)` on both; tokio \
         with `enable_all()`. clearloop's single-threaded loop waits on the selector itself \
         in its step 4, and with `worker_threads(2)` the parked worker that drives the timers \
         does (readiness wakes tasks on that thread, as in tokio). Clients here keep the \
         runtime busy; the next section puts them in another process.\n\n"
    );
    md.push_str(
        "| connections × message | flavor | clearloop | tokio | time ratio (min–max) | clearloop p50 / p99 | tokio p50 / p99 | asyncio | clearloop × asyncio | tokio × asyncio |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut accept_rows = String::new();
    for (workers, flavor) in [
        (0, "1 thread"),
        (clearloop_bench::ports::WORKERS, "2 workers"),
    ] {
        for &shape in &shapes {
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            for run in 0..runs {
                // Alternate who goes first.
                if run % 2 == 0 {
                    ours.push(clearloop_echo(workers, shape, budget));
                    theirs.push(tokio_echo(workers, shape, budget));
                } else {
                    theirs.push(tokio_echo(workers, shape, budget));
                    ours.push(clearloop_echo(workers, shape, budget));
                }
            }
            let ratios: Vec<f64> = ours
                .iter()
                .zip(&theirs)
                .map(|(o, t)| t.per_second / o.per_second)
                .collect();
            let (low, mid, high) = min_median_max(&ratios);
            let (ours, theirs) = (median(&ours), median(&theirs));
            let asyncio = python.as_ref().ok().and_then(|l| asyncio_echo(l, shape));
            let size = if shape.bytes >= 1024 {
                format!("{} KiB", shape.bytes / 1024)
            } else {
                format!("{} B", shape.bytes)
            };
            let _ = writeln!(
                md,
                "| {} × {size} | {flavor} | {} | {} | {mid:.2} ({low:.2}–{high:.2}) | {} / {} | {} / {} | {} | {} | {} |",
                shape.connections,
                rate(ours.per_second),
                rate(theirs.per_second),
                human(ours.p50),
                human(ours.p99),
                human(theirs.p50),
                human(theirs.p99),
                asyncio.map_or("–".to_owned(), |a| rate(a.per_second)),
                asyncio.map_or("–".to_owned(), |a| format!(
                    "{:.1}×",
                    ours.per_second / a.per_second
                )),
                asyncio.map_or("–".to_owned(), |a| format!(
                    "{:.1}×",
                    theirs.per_second / a.per_second
                )),
            );
        }
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for run in 0..runs {
            if run % 2 == 0 {
                ours.push(clearloop_accept_close(workers, accepts));
                theirs.push(tokio_accept_close(workers, accepts));
            } else {
                theirs.push(tokio_accept_close(workers, accepts));
                ours.push(clearloop_accept_close(workers, accepts));
            }
        }
        let ratios: Vec<f64> = ours.iter().zip(&theirs).map(|(o, t)| o / t).collect();
        let (low, mid, high) = min_median_max(&ratios);
        let (ours, theirs) = (min_median_max(&ours).1, min_median_max(&theirs).1);
        let asyncio = python
            .as_ref()
            .ok()
            .and_then(|l| l.iter().find(|(n, _)| n == "accept_close"))
            .and_then(|(_, v)| v.split(' ').nth(1)?.parse::<f64>().ok());
        let _ = writeln!(
            accept_rows,
            "| {flavor} | {} | {} | {mid:.2} ({low:.2}–{high:.2}) | {} | {} |",
            human(ours),
            human(theirs),
            asyncio.map_or("–".to_owned(), human),
            asyncio.map_or("–".to_owned(), |a| format!("{:.1}×", a / ours)),
        );
    }
    let _ = write!(
        md,
        "\n**Accept and close {accepts} connections**, one after the other: the client \
         connects and reads until the server, which accepts and drops at once, has closed \
         (median of {runs} run(s); asyncio: one run).\n\n\
         | flavor | clearloop | tokio | time ratio (min–max) | asyncio | clearloop × asyncio |\n\
         |---|---:|---:|---:|---:|---:|\n{accept_rows}"
    );
    if let Err(why) = &python {
        let _ = writeln!(md, "\nasyncio: skipped ({why}).");
    }
    let _ = writeln!(
        md,
        "\nThis section took {:.0} s.",
        started.elapsed().as_secs_f64()
    );
    md
}
