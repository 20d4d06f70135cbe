//! The client of the `compare` report's table "TCP echo, client in another process":
//! plain blocking std sockets, one OS thread per connection, in a process of its own,
//! so that no runtime of the measured process is kept busy by the client. What the
//! server's runtime does when its only work is to wait for the network is what the
//! table shows.
//!
//! ```text
//! echo_client echo ADDR CONNECTIONS BYTES BUDGET_MS MAX_PER_CONNECTION
//!     each connection (TCP_NODELAY): one uncounted round trip, then writes BYTES and
//!     reads them back, until BUDGET_MS or MAX_PER_CONNECTION round trips
//! echo_client accept-close ADDR COUNT BUDGET_MS
//!     one connection after the other: connect, read until the server has closed it,
//!     COUNT times or until BUDGET_MS
//! ```
//!
//! It prints one line on stdout, for `compare` to parse:
//!
//! ```text
//! count=N seconds=S p50=S p99=S
//! ```
//!
//! `count`: round trips (or connections accepted and closed); `seconds`: from the
//! first one's start to the last one's end; `p50` / `p99`: of one round trip (or one
//! connect-to-close), in seconds. On a failure: one line on stderr starting with
//! `echo_client:`, exit status 1. Every socket has a 5 s read and write timeout, so
//! a server that stops answering ends the client with an error, not a hang.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// No read, write or connect waits longer than this.
const PATIENCE: Duration = Duration::from_secs(5);

fn usage() -> ! {
    eprintln!(
        "echo_client: usage: echo_client echo ADDR CONNECTIONS BYTES BUDGET_MS MAX_PER_CONNECTION\n\
         \x20                  echo_client accept-close ADDR COUNT BUDGET_MS"
    );
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize| -> u64 {
        args.get(i)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| usage())
    };
    let addr: SocketAddr = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| usage());
    let result = match args.first().map(String::as_str) {
        Some("echo") => echo(
            addr,
            number(2) as usize,
            number(3) as usize,
            Duration::from_millis(number(4)),
            number(5) as usize,
        ),
        Some("accept-close") => {
            accept_close(addr, number(2) as usize, Duration::from_millis(number(3)))
        }
        _ => usage(),
    };
    match result {
        Ok(line) => println!("{line}"),
        Err(why) => {
            eprintln!("echo_client: {why}");
            std::process::exit(1)
        }
    }
}

fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let stream = TcpStream::connect_timeout(&addr, PATIENCE)
        .map_err(|e| format!("connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(PATIENCE))
        .and_then(|()| stream.set_write_timeout(Some(PATIENCE)))
        .and_then(|()| stream.set_nodelay(true))
        .map_err(|e| format!("socket options: {e}"))?;
    Ok(stream)
}

/// The figures line, from each connection's span and timings.
fn figures(spans: Vec<(Instant, Instant, Vec<Duration>)>) -> String {
    let start = spans.iter().map(|s| s.0).min();
    let end = spans.iter().map(|s| s.1).max();
    let seconds = match (start, end) {
        (Some(start), Some(end)) => (end - start).as_secs_f64(),
        _ => 0.0,
    };
    let mut all: Vec<Duration> = spans.into_iter().flat_map(|s| s.2).collect();
    all.sort();
    let percentile = |p: f64| {
        if all.is_empty() {
            return 0.0;
        }
        all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64()
    };
    format!(
        "count={} seconds={seconds} p50={} p99={}",
        all.len(),
        percentile(0.50),
        percentile(0.99)
    )
}

fn round_trip(stream: &mut TcpStream, message: &[u8], reply: &mut [u8]) -> Result<(), String> {
    stream
        .write_all(message)
        .map_err(|e| format!("write: {e}"))?;
    stream
        .read_exact(reply)
        .map_err(|e| format!("read the echo: {e}"))?;
    if reply != message {
        return Err("the echo differs from the message".to_owned());
    }
    Ok(())
}

/// `connections` threads, each making round trips on its own connection.
fn echo(
    addr: SocketAddr,
    connections: usize,
    bytes: usize,
    budget: Duration,
    max_per_connection: usize,
) -> Result<String, String> {
    let threads: Vec<_> = (0..connections)
        .map(|i| {
            std::thread::spawn(move || -> Result<_, String> {
                let mut stream = connect(addr)?;
                let message: Vec<u8> = (0..bytes).map(|b| (b + i) as u8).collect();
                let mut reply = vec![0; bytes];
                round_trip(&mut stream, &message, &mut reply)?;
                let start = Instant::now();
                let mut times = Vec::with_capacity(max_per_connection.min(1 << 20));
                while times.len() < max_per_connection && start.elapsed() < budget {
                    let sent = Instant::now();
                    round_trip(&mut stream, &message, &mut reply)?;
                    times.push(sent.elapsed());
                }
                Ok((start, Instant::now(), times))
            })
        })
        .collect();
    let mut spans = Vec::new();
    for thread in threads {
        spans.push(
            thread
                .join()
                .map_err(|_| "a connection's thread panicked".to_owned())??,
        );
    }
    Ok(figures(spans))
}

/// One connection after the other, each read until the server closes it.
fn accept_close(addr: SocketAddr, count: usize, budget: Duration) -> Result<String, String> {
    let start = Instant::now();
    let mut times = Vec::with_capacity(count);
    let mut byte = [0; 1];
    while times.len() < count && start.elapsed() < budget {
        let began = Instant::now();
        let mut stream = connect(addr)?;
        match stream.read(&mut byte) {
            // 0: the server closed it; a reset says the same.
            Ok(0) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Ok(_) => return Err("the server sent a byte; it should only close".to_owned()),
            Err(e) => return Err(format!("read until the server closes: {e}")),
        }
        times.push(began.elapsed());
    }
    Ok(figures(vec![(start, Instant::now(), times)]))
}
