//! to_thread / spawn_blocking: the result, the panic as the awaitable's error, the
//! pool's bound, and shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use clearloop::blocking::{BlockingPool, to_thread};
use clearloop::clock::Clock;
use clearloop::{Builder, spawn, spawn_blocking};

#[test]
fn to_thread_gives_the_result_and_runs_on_another_thread() {
    let (value, loop_thread, job_thread) = clearloop::run(async {
        let job = to_thread(|| (6 * 7, std::thread::current().id()));
        let (value, job_thread) = job.await.unwrap();
        (value, std::thread::current().id(), job_thread)
    });
    assert_eq!(value, 42);
    assert_ne!(loop_thread, job_thread);
}

#[test]
fn a_panic_becomes_the_awaitables_error() {
    let error = clearloop::run(async { spawn_blocking(|| -> u32 { panic!("disk full") }).await })
        .unwrap_err();
    assert!(error.is_panic());
    assert_eq!(error.panic_message(), Some("disk full"));
    assert!(error.to_string().contains("disk full"), "{error}");
    // The original payload is kept, to re-raise it.
    let payload = error.into_panic().unwrap();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"disk full"));
}

#[test]
fn the_loop_keeps_running_while_the_job_blocks() {
    let runtime = Builder::new().clock(Clock::real()).build();
    let ticks = runtime.block_on(async {
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let job = to_thread(move || release_rx.recv().unwrap());
        // A task on the loop counts to 100 with yields, then lets the job go: if the
        // job held the loop, this task could never run and the test would hang.
        let ticker = spawn(async move {
            for _ in 0..100 {
                clearloop::task::yield_now().await;
            }
            release_tx.send(()).unwrap();
            100
        });
        job.await.unwrap();
        ticker.await
    });
    assert_eq!(ticks, 100);
}

#[test]
fn the_pool_bound_holds_under_1000_submissions() {
    let pool = BlockingPool::new(4, Duration::from_millis(200));
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let jobs: Vec<_> = (0..1000)
        .map(|i| {
            let (running, most) = (running.clone(), most.clone());
            pool.spawn(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_micros(50));
                running.fetch_sub(1, Ordering::SeqCst);
                i
            })
        })
        .collect();
    let sum: usize = jobs.into_iter().map(|job| job.wait().unwrap()).sum();
    assert_eq!(sum, 999 * 1000 / 2);
    assert!(pool.peak_threads() <= 4, "peak {}", pool.peak_threads());
    assert!(most.load(Ordering::SeqCst) <= 4);
    // It did grow on demand: more than one thread worked.
    assert!(pool.peak_threads() > 1, "peak {}", pool.peak_threads());
    // Idle threads exit after keep_alive.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while pool.threads() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(pool.threads(), 0, "idle threads did not exit");
}

#[test]
fn shutdown_cancels_queued_jobs_and_lets_running_ones_finish() {
    let pool = BlockingPool::new(1, Duration::from_secs(10));
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let running = pool.spawn(move || {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        "finished"
    });
    let queued = pool.spawn(|| "never runs");
    started_rx.recv().unwrap();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        release_tx.send(()).unwrap();
    });
    pool.shutdown(true);
    releaser.join().unwrap();
    assert_eq!(running.wait().unwrap(), "finished");
    assert!(queued.wait().unwrap_err().is_cancelled());
    assert!(pool.spawn(|| 1).wait().unwrap_err().is_cancelled());
    assert_eq!(pool.threads(), 0);
}
