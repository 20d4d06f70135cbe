//! How late a sleep wakes: the same loop for clearloop, a tokio runtime and
//! `std::thread::sleep`, shared by the `compare` report and the `sleep_lateness`
//! binary. Each returns, for `count` sleeps in a row of `requested`, how much later
//! than asked each one woke (actual − requested).

use std::time::{Duration, Instant};

/// The `p` quantile (0.0 to 1.0) of durations sorted in increasing order.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// On a fresh single-threaded clearloop runtime.
pub fn clearloop(requested: Duration, count: usize) -> Vec<Duration> {
    clearloop::Runtime::new().block_on(async move {
        let mut late = Vec::with_capacity(count);
        for _ in 0..count {
            let start = Instant::now();
            clearloop::time::sleep(requested).await;
            late.push(start.elapsed().saturating_sub(requested));
        }
        late
    })
}

/// On the tokio runtime given (current-thread, with whichever drivers it has).
pub fn tokio(
    runtime: &tokio::runtime::Runtime,
    requested: Duration,
    count: usize,
) -> Vec<Duration> {
    runtime.block_on(async move {
        let mut late = Vec::with_capacity(count);
        for _ in 0..count {
            let start = Instant::now();
            tokio::time::sleep(requested).await;
            late.push(start.elapsed().saturating_sub(requested));
        }
        late
    })
}

/// With `std::thread::sleep` on this thread.
pub fn std(requested: Duration, count: usize) -> Vec<Duration> {
    (0..count)
        .map(|_| {
            let start = Instant::now();
            std::thread::sleep(requested);
            start.elapsed().saturating_sub(requested)
        })
        .collect()
}
