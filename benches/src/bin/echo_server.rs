//! The server of the `compare` report's table "TCP echo, client in another process":
//! one fresh process per measurement, so that the runtime starts as a user's program
//! starts, and nothing else in the process keeps it busy: its workers go to sleep
//! before the first socket exists (when clearloop had one process-wide reactor, that
//! was the case in which readiness waited 10 ms for a fallback thread). Here, the
//! first socket of the process is the listener, made by a task on the runtime (a
//! worker, with workers).
//!
//! ```text
//! echo_server clearloop|tokio WORKERS echo|close [yield]
//!     WORKERS 0: clearloop's Runtime::new() / tokio's new_current_thread();
//!             n: worker_threads(n) on both; tokio with enable_all()
//!     echo:   each connection goes to a detached task that echoes it (TCP_NODELAY)
//!     close:  each connection is dropped as soon as it is accepted
//!     yield:  beside the server, a task yields in a loop (it is always ready)
//! ```
//!
//! The runtime idles 20 ms before the server starts (see [`settle`]). The accept
//! loop is a spawned task. The process prints `addr=IP:PORT` on stdout
//! once it listens, serves until its stdin closes, then drops its runtime and exits
//! with status 0. On a failure: one line on stderr starting with `echo_server:`,
//! exit status 1.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clearloop_bench::echo::{clearloop_serve, tokio_serve};

/// What the server does with each connection.
#[derive(Clone, Copy, PartialEq)]
enum Work {
    Echo,
    Close,
}

fn usage() -> ! {
    eprintln!("echo_server: usage: echo_server clearloop|tokio WORKERS echo|close [yield]");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let workers: usize = args
        .get(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| usage());
    let work = match args.get(2).map(String::as_str) {
        Some("echo") => Work::Echo,
        Some("close") => Work::Close,
        _ => usage(),
    };
    let yielder = match args.get(3).map(String::as_str) {
        None => false,
        Some("yield") => true,
        Some(_) => usage(),
    };
    let result = match args.first().map(String::as_str) {
        Some("clearloop") => clearloop_main(workers, work, yielder),
        Some("tokio") => tokio_main(workers, work, yielder),
        _ => usage(),
    };
    if let Err(why) = result {
        eprintln!("echo_server: {why}");
        std::process::exit(1)
    }
}

/// How long the fresh runtime idles before the server starts.
const SETTLE: Duration = Duration::from_millis(20);

/// Lets the fresh runtime's workers go idle before the first socket is made, as a
/// program's start-up (reading its configuration, opening its log) lets them: a
/// runtime must then notice the new socket's readiness from an idle start, every
/// time, rather than only when its workers happen to have parked already.
fn settle() {
    std::thread::sleep(SETTLE);
}

/// Tells the parent where to connect.
fn announce(addr: SocketAddr) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "addr={addr}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("print the address: {e}"))
}

/// Blocks until the parent closes our stdin: the end of the measurement.
fn until_stdin_closes() -> Result<(), String> {
    std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink())
        .map(drop)
        .map_err(|e| format!("read stdin: {e}"))
}

fn clearloop_main(workers: usize, work: Work, yielder: bool) -> Result<(), String> {
    let rt = if workers == 0 {
        clearloop::Runtime::new()
    } else {
        clearloop::Builder::new().worker_threads(workers).build()
    };
    settle();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    let result = rt.block_on(async move {
        // The server is a task: it binds on the thread that runs it, and hands each
        // connection to a detached task.
        let addr = clearloop::spawn(async move {
            let listener =
                clearloop::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            // Detached: it ends with the runtime.
            drop(clearloop::spawn(async move {
                loop {
                    match listener.accept().await {
                        Ok((stream, _)) if work == Work::Echo => {
                            stream.set_nodelay(true).expect("nodelay");
                            drop(clearloop::spawn(clearloop_serve(stream)));
                        }
                        Ok(_closed_at_once) => {}
                        Err(e) => {
                            // The client then fails, and its row says so.
                            eprintln!("echo_server: accept: {e}; the accept loop ends");
                            break;
                        }
                    }
                }
            }));
            Ok::<_, String>(addr)
        })
        .await?;
        if yielder {
            drop(clearloop::spawn(async move {
                while !stopping.load(Ordering::Relaxed) {
                    clearloop::task::yield_now().await;
                }
            }));
        }
        announce(addr)?;
        clearloop::to_thread(until_stdin_closes)
            .await
            .map_err(|e| format!("the thread reading stdin: {e}"))?
    });
    stop.store(true, Ordering::Relaxed);
    drop(rt);
    result
}

fn tokio_main(workers: usize, work: Work, yielder: bool) -> Result<(), String> {
    let mut builder = if workers == 0 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(workers);
        builder
    };
    let rt = builder
        .enable_all()
        .build()
        .map_err(|e| format!("build tokio's runtime: {e}"))?;
    settle();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    let result = rt.block_on(async move {
        let addr = tokio::spawn(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| e.to_string())?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            // Detached: it ends with the runtime.
            drop(tokio::spawn(async move {
                loop {
                    match listener.accept().await {
                        Ok((stream, _)) if work == Work::Echo => {
                            stream.set_nodelay(true).expect("nodelay");
                            drop(tokio::spawn(tokio_serve(stream)));
                        }
                        Ok(_closed_at_once) => {}
                        Err(e) => {
                            // The client then fails, and its row says so.
                            eprintln!("echo_server: accept: {e}; the accept loop ends");
                            break;
                        }
                    }
                }
            }));
            Ok::<_, String>(addr)
        })
        .await
        .map_err(|e| format!("the server task: {e}"))??;
        if yielder {
            drop(tokio::spawn(async move {
                while !stopping.load(Ordering::Relaxed) {
                    tokio::task::yield_now().await;
                }
            }));
        }
        announce(addr)?;
        tokio::task::spawn_blocking(until_stdin_closes)
            .await
            .map_err(|e| format!("the thread reading stdin: {e}"))?
    });
    stop.store(true, Ordering::Relaxed);
    drop(rt);
    result
}
