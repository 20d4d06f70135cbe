//! Blocking-pool jobs on the virtual clock: virtual time does not jump while a job
//! that a task awaits is still running (the `clock` module doc's rule), on the
//! single-threaded loop and on two workers, and still jumps at once otherwise.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::time::{now, sleep};
use clearloop::{Builder, Runtime, spawn, timeout, to_thread};

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
