//! TCP echo on loopback, clearloop beside tokio (`enable_all`) in the same criterion
//! group: one round trip (write 64 B or 16 KiB, read the echo back) on a connection
//! kept open, on one thread and on two workers. The `compare` report's echo section
//! adds 10 and 100 connections, latency percentiles and asyncio. Run:
//! `cargo bench -p clearloop-bench --bench io`, then `python3 benches/ratios.py`.

use std::time::{Duration, Instant};

use clearloop_bench::echo::{clearloop_server, tokio_server};
use criterion::{Criterion, criterion_group, criterion_main};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SIZES: [usize; 2] = [64, 16 * 1024];

fn clearloop_rt(workers: usize) -> clearloop::Runtime {
    match workers {
        0 => clearloop::Runtime::new(),
        n => clearloop::Builder::new().worker_threads(n).build(),
    }
}

fn tokio_rt(workers: usize) -> tokio::runtime::Runtime {
    match workers {
        0 => tokio::runtime::Builder::new_current_thread(),
        n => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(n);
            builder
        }
    }
    .enable_all()
    .build()
    .expect("tokio runtime")
}

/// `iters` round trips of `bytes` on one fresh connection; the connect is not timed.
fn clearloop_round_trips(rt: &clearloop::Runtime, bytes: usize, iters: u64) -> Duration {
    rt.block_on(async move {
        let (addr, server) = clearloop_server();
        let mut stream = clearloop::net::TcpStream::connect(addr)
            .await
            .expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let (message, mut reply) = (vec![7; bytes], vec![0; bytes]);
        let start = Instant::now();
        for _ in 0..iters {
            stream.write_all(&message).await.expect("write");
            stream.read_exact(&mut reply).await.expect("read");
        }
        let elapsed = start.elapsed();
        server.cancel();
        elapsed
    })
}

fn tokio_round_trips(rt: &tokio::runtime::Runtime, bytes: usize, iters: u64) -> Duration {
    rt.block_on(async move {
        let (addr, server) = tokio_server().await;
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let (message, mut reply) = (vec![7; bytes], vec![0; bytes]);
        let start = Instant::now();
        for _ in 0..iters {
            stream.write_all(&message).await.expect("write");
            stream.read_exact(&mut reply).await.expect("read");
        }
        let elapsed = start.elapsed();
        server.abort();
        elapsed
    })
}

fn echo(c: &mut Criterion) {
    for (workers, flavor) in [(0, "1_thread"), (2, "2_workers")] {
        let (ours, theirs) = (clearloop_rt(workers), tokio_rt(workers));
        for bytes in SIZES {
            let mut group = c.benchmark_group(format!("tcp_echo_{bytes}B_{flavor}"));
            group.bench_function("clearloop", |b| {
                b.iter_custom(|iters| clearloop_round_trips(&ours, bytes, iters))
            });
            group.bench_function("tokio", |b| {
                b.iter_custom(|iters| tokio_round_trips(&theirs, bytes, iters))
            });
            group.finish();
        }
    }
}

criterion_group!(benches, echo);
criterion_main!(benches);
