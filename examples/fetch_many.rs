//! One client, ten servers, all at once: `gather` over ten connections, each cut
//! off by `wait_for`, on loopback only.
//!
//! ```python
//! async def fetch(i, port):
//!     reader, writer = await asyncio.open_connection('127.0.0.1', port)
//!     writer.write(b'GET\n'); await writer.drain()
//!     return (await reader.readline()).decode().strip()
//!
//! async def main():
//!     results = await asyncio.gather(
//!         *(asyncio.wait_for(fetch(i, port), timeout=0.55) for i, port in ...),
//!         return_exceptions=True)
//! ```
//!
//! Server `i` answers after `i × 0.1 s`. Watch the times: the answers come in one
//! after the other, 0.1 s apart, because the ten requests are in flight *together*;
//! at 0.55 s `wait_for` gives up on the five slow servers, all at once, and the whole
//! run takes 0.55 s, not the 5.5 s of ten requests one after the other.
//!
//! Run: `cargo run --example fetch_many` (add `-- --virtual` for the virtual clock:
//! exact times, about 1.5 s of real time for the reactor's grace at each jump; or
//! `-- --sim` for the simulated network of `clearloop::sim::net`: the same lines,
//! no socket, a few milliseconds). Prints (times exact on the virtual clock):
//!
//! ```text
//! [0.000] ten servers listening on 127.0.0.1; ten requests sent
//! [0.100] server 1: answer after 100 ms
//! [0.200] server 2: answer after 200 ms
//! ...
//! [0.500] server 5: answer after 500 ms
//! [0.550] 5 answers, 5 timeouts (servers 6, 7, 8, 9, 10); servers stopped
//! ```

use std::time::{Duration, Instant};

use clearloop::clock::Clock;
use clearloop::net::{TcpListener, TcpStream};
use clearloop::time::{now, sleep};
use clearloop::{Builder, gather, spawn, wait_for};

/// The time since `start` on the runtime's clock, as `[s.mmm]`.
fn stamp(start: Instant) -> String {
    format!("[{:.3}]", (now() - start).as_secs_f64())
}

/// Server `i`: accepts one client, reads its request, answers after `delay`.
async fn serve(i: usize, listener: TcpListener, delay: Duration) {
    let Ok((mut stream, _)) = listener.accept().await else {
        return;
    };
    let mut request = [0; 4];
    if stream.read_exact(&mut request).await.is_err() {
        return;
    }
    sleep(delay).await;
    let answer = format!("server {i}: answer after {} ms\n", delay.as_millis());
    // The client may have given up (timed out) and closed: not the server's concern.
    let _ = stream.write_all(answer.as_bytes()).await;
}

/// The client's side of one request: connect, ask, read the one-line answer.
async fn fetch(port: u16, start: Instant) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    stream.write_all(b"GET\n").await?;
    let mut answer = Vec::new();
    let mut byte = [0; 1];
    while stream.read(&mut byte).await? == 1 && byte[0] != b'\n' {
        answer.push(byte[0]);
    }
    let answer = String::from_utf8_lossy(&answer).into_owned();
    println!("{} {answer}", stamp(start));
    Ok(answer)
}

/// Runs the example on `clock`.
pub fn example(clock: Clock) {
    run(Builder::new().clock(clock));
}

/// Runs the example on the runtime `builder` makes.
fn run(builder: Builder) {
    let runtime = builder.build();
    runtime.block_on(async {
        let start = now();
        let mut servers = Vec::new();
        let mut ports = Vec::new();
        for i in 1..=10 {
            let listener = TcpListener::bind("127.0.0.1:0").expect("loopback is there");
            ports.push(listener.local_addr().unwrap().port());
            let delay = Duration::from_millis(100 * i as u64);
            servers.push(spawn(serve(i, listener, delay)));
        }
        println!(
            "{} ten servers listening on 127.0.0.1; ten requests sent",
            stamp(start)
        );
        let limit = Duration::from_millis(550);
        let results = gather(
            ports
                .into_iter()
                .map(|port| wait_for(fetch(port, start), limit)),
        )
        .await;
        let answers = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
        let timed_out: Vec<String> = results
            .iter()
            .enumerate()
            .filter(|(_, result)| result.is_err())
            .map(|(i, _)| (i + 1).to_string())
            .collect();
        // The slow servers still sleep: stop them, as `asyncio.run` cancels what is
        // left when `main()` returns.
        for server in &servers {
            server.cancel();
        }
        println!(
            "{} {answers} answers, {} timeouts (servers {}); servers stopped",
            stamp(start),
            timed_out.len(),
            timed_out.join(", ")
        );
    });
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    if std::env::args().any(|arg| arg == "--sim") {
        // The simulated network (clearloop::sim::net): the same program, no socket.
        run(Builder::new().simulation(clearloop::sim::Seed::Fifo));
    } else {
        example(Clock::from_args());
    }
}
