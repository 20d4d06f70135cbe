//! to_thread / spawn_blocking: the result, the panic as the awaitable's error, the
//! pool's bound, and shutdown. Then the pool on the virtual clock: virtual time does
//! not jump while a job that a task awaits is still running (the `clock` module
//! doc's rule), on the single-threaded loop and on two workers, and still jumps at
//! once otherwise.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use clearloop::blocking::{BlockingPool, to_thread};
use clearloop::clock::Clock;
use clearloop::time::{now, sleep};
use clearloop::{Builder, Runtime, spawn, spawn_blocking, timeout};

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

fn single() -> Runtime {
    Builder::new().clock(Clock::virtual_clock()).build()
}

fn two_workers() -> Runtime {
    Builder::new()
        .clock(Clock::virtual_clock())
        .worker_threads(2)
        .build()
}

/// The reproduction of issue 11 item 4: the job's 100 ms of real time must not let
/// the 1 s virtual deadline pass.
fn timeout_waits_for_the_job(runtime: Runtime) {
    let (result, elapsed) = runtime.block_on(async {
        let start = now();
        let result = timeout(
            Duration::from_secs(1),
            to_thread(|| {
                thread::sleep(Duration::from_millis(100));
                7
            }),
        )
        .await;
        (result, now() - start)
    });
    assert_eq!(
        result
            .expect("the timeout fired while the job ran")
            .unwrap(),
        7
    );
    // Virtual time stood still while the job ran in real time.
    assert_eq!(elapsed, Duration::ZERO);
}

#[test]
fn timeout_waits_for_a_pool_job_on_one_thread() {
    timeout_waits_for_the_job(single());
}

#[test]
fn timeout_waits_for_a_pool_job_on_two_workers() {
    timeout_waits_for_the_job(two_workers());
}

/// A virtual deadline shorter than the job's real run does not fire while the job is
/// in flight: the sleeper wakes at exactly 10 ms of virtual time, after the job.
fn deadline_fires_after_the_job(runtime: Runtime) {
    let job_done = Arc::new(AtomicBool::new(false));
    let (seen, slept, value) = runtime.block_on({
        let job_done = job_done.clone();
        async move {
            let sleeper = {
                let job_done = job_done.clone();
                spawn(async move {
                    let start = now();
                    sleep(Duration::from_millis(10)).await;
                    (job_done.load(Ordering::SeqCst), now() - start)
                })
            };
            let value = to_thread(move || {
                thread::sleep(Duration::from_millis(50));
                job_done.store(true, Ordering::SeqCst);
                "done"
            })
            .await
            .unwrap();
            let (seen, slept) = sleeper.await;
            (seen, slept, value)
        }
    });
    assert_eq!(value, "done");
    assert!(
        seen,
        "the 10 ms virtual deadline fired while the job still ran"
    );
    assert_eq!(slept, Duration::from_millis(10));
}

#[test]
fn a_virtual_deadline_waits_for_the_job_on_one_thread() {
    deadline_fires_after_the_job(single());
}

#[test]
fn a_virtual_deadline_waits_for_the_job_on_two_workers() {
    deadline_fires_after_the_job(two_workers());
}

/// A job that sleeps on the clock itself is waiting, not working: the loop's timers
/// and the job's sleep share one virtual time line, as on the real clock (the
/// `to_thread` example): ticks every 250 ms, the job's 900 ms in between, in order.
fn job_sleeping_on_the_clock(runtime: Runtime) {
    let clock = runtime.clock().clone();
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let total = runtime.block_on({
        let log = log.clone();
        async move {
            let start = now();
            let job = {
                let (log, clock) = (log.clone(), clock.clone());
                to_thread(move || {
                    clock.sleep(Duration::from_millis(900));
                    log.lock().unwrap().push(("job", clock.now() - start));
                })
            };
            let ticks = {
                let log = log.clone();
                spawn(async move {
                    for _ in 0..4 {
                        sleep(Duration::from_millis(250)).await;
                        log.lock().unwrap().push(("tick", now() - start));
                    }
                })
            };
            job.await.unwrap();
            ticks.await;
            now() - start
        }
    });
    let ms = Duration::from_millis;
    assert_eq!(
        *log.lock().unwrap(),
        [
            ("tick", ms(250)),
            ("tick", ms(500)),
            ("tick", ms(750)),
            ("job", ms(900)),
            ("tick", ms(1000)),
        ]
    );
    assert_eq!(total, ms(1000));
}

#[test]
fn a_job_sleeping_on_the_clock_shares_its_time_on_one_thread() {
    job_sleeping_on_the_clock(single());
}

#[test]
fn a_job_sleeping_on_the_clock_shares_its_time_on_two_workers() {
    job_sleeping_on_the_clock(two_workers());
}

/// With nothing in flight, the clock still jumps at once: a 1 h sleep takes far less
/// than a second of real time. And a job whose awaiter gave up no longer holds time.
#[test]
fn nothing_in_flight_jumps_at_once() {
    let runtime = single();
    let real = std::time::Instant::now();
    let elapsed = runtime.block_on(async {
        let start = now();
        // Dropped at once: this job can wake nobody, so it holds nothing back.
        drop(to_thread(|| thread::sleep(Duration::from_millis(300))));
        sleep(Duration::from_secs(3600)).await;
        now() - start
    });
    assert_eq!(elapsed, Duration::from_secs(3600));
    assert!(
        real.elapsed() < Duration::from_millis(250),
        "{:?}",
        real.elapsed()
    );
}

/// At one virtual instant, a job woken from its sleep runs before the loop's tasks
/// due at that instant: the order does not depend on which thread the OS runs first
/// (the `to_thread` example prints "blocking_io complete" before "tick 3").
#[test]
fn at_one_instant_the_woken_job_goes_first() {
    for runtime in [single(), two_workers()] {
        let clock = runtime.clock().clone();
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        runtime.block_on({
            let log = log.clone();
            async move {
                let job = {
                    let log = log.clone();
                    to_thread(move || {
                        clock.sleep(Duration::from_secs(1));
                        log.lock().unwrap().push("job at 1 s");
                    })
                };
                sleep(Duration::from_secs(1)).await;
                log.lock().unwrap().push("task at 1 s");
                job.await.unwrap();
            }
        });
        assert_eq!(*log.lock().unwrap(), ["job at 1 s", "task at 1 s"]);
    }
}
