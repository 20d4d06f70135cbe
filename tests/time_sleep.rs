//! Sleeps and timers on the virtual clock: order, exact times, cancellation.

mod common;
use common::virtual_runtime;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clearloop::spawn;
use clearloop::task::yield_now;
use clearloop::time::{now, sleep, sleep_until};

#[test]
fn timers_fire_in_deadline_order_and_equal_deadlines_in_spawn_order() {
    let log = Arc::new(Mutex::new(Vec::new()));
    virtual_runtime().block_on({
        let log = log.clone();
        async move {
            let start = now();
            let delays_ms = [30, 10, 20, 10, 0, 20, 5];
            let tasks: Vec<_> = delays_ms
                .iter()
                .enumerate()
                .map(|(i, &ms)| {
                    let log = log.clone();
                    spawn(async move {
                        sleep(Duration::from_millis(ms)).await;
                        log.lock().unwrap().push((i, now() - start));
                    })
                })
                .collect();
            for task in tasks {
                task.await;
            }
        }
    });
    let ms = |m| Duration::from_millis(m);
    assert_eq!(
        *log.lock().unwrap(),
        vec![
            (4, ms(0)),
            (6, ms(5)),
            (1, ms(10)),
            (3, ms(10)),
            (2, ms(20)),
            (5, ms(20)),
            (0, ms(30)),
        ]
    );
}

#[test]
fn sleeps_measure_exactly_on_the_virtual_clock_near_and_far() {
    virtual_runtime().block_on(async {
        for d in [
            Duration::from_micros(1),
            Duration::from_micros(1500),
            Duration::from_millis(250),
            Duration::from_secs(17),
            Duration::from_secs(3 * 3600),
            Duration::from_secs(30 * 24 * 3600), // beyond the wheel's top level
        ] {
            let start = now();
            sleep(d).await;
            assert_eq!(now() - start, d, "sleep({d:?})");
        }
    });
}

#[test]
fn sleep_until_a_past_instant_is_ready_at_once() {
    virtual_runtime().block_on(async {
        let start = now();
        sleep(Duration::from_secs(1)).await;
        sleep_until(start).await;
        assert_eq!(now() - start, Duration::from_secs(1));
    });
}

#[test]
fn dropping_a_sleep_removes_its_timer() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let task = spawn(sleep(Duration::from_secs(60)));
        yield_now().await;
        assert_eq!(rt.pending_timers(), 1);
        task.cancel();
        task.wait().await;
        assert_eq!(rt.pending_timers(), 0);
        let start = now();
        sleep(Duration::from_secs(1)).await;
        // Nothing was left behind to fire at 60 s: time moved by 1 s only.
        assert_eq!(now() - start, Duration::from_secs(1));
    });
}

#[test]
fn a_million_sleeps_created_and_dropped_leave_the_wheel_empty() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let mut sleeps = Vec::with_capacity(1_000_000);
        for i in 0..1_000_000_u64 {
            let mut s = Box::pin(sleep(Duration::from_micros(1 + i * 37)));
            // Poll once so the timer is really inserted in the wheel.
            assert!(futures_poll_once(s.as_mut()));
            sleeps.push(s);
        }
        drop(sleeps);
    });
    assert_eq!(rt.pending_timers(), 0);
}

/// Polls a future once with a no-op waker; true if it was Pending.
fn futures_poll_once<F: std::future::Future>(f: std::pin::Pin<&mut F>) -> bool {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    f.poll(&mut cx).is_pending()
}

#[test]
fn sleep_for_duration_max_does_not_overflow() {
    virtual_runtime().block_on(async {
        let task = spawn(sleep(Duration::MAX));
        yield_now().await;
        assert!(!task.done());
        task.cancel();
    });
}

/// One year of 365 days.
const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// `sleep(Duration::MAX)` waits forever. It used to be cut to about 30 years, which
/// a virtual clock reaches in no time: then the "forever" sleeper woke up.
#[test]
fn a_sleep_past_the_end_of_time_never_fires_even_when_the_virtual_clock_runs_far() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let start = now();
        let forever = spawn(sleep(Duration::MAX));
        let one_second = spawn(sleep(Duration::from_secs(1)));
        one_second.await;
        assert_eq!(now() - start, Duration::from_secs(1));
        assert!(!forever.done());
        // A century passes on the virtual clock, timer after timer: the
        // forever-sleeper is still asleep.
        for _ in 0..4 {
            sleep(25 * YEAR).await;
        }
        assert_eq!(now() - start, Duration::from_secs(1) + 100 * YEAR);
        assert!(
            !forever.done(),
            "sleep(Duration::MAX) returned after ~100 years"
        );
        assert_eq!(rt.pending_timers(), 0, "waiting forever needs no timer");
        forever.cancel();
        forever.wait().await;
        assert!(forever.cancelled());
    });
}

/// Waiting forever is waiting forever: with nothing else to do, a virtual-clock
/// runtime reports it as a deadlock (the same as an await on nothing) instead of
/// moving time to some far deadline and returning.
#[test]
fn block_on_a_sleep_past_the_end_of_time_is_a_deadlock_not_a_return() {
    let rt = virtual_runtime();
    let start = rt.clock().now();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(sleep(Duration::MAX));
    }));
    let message = outcome.expect_err("sleep(Duration::MAX) returned");
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("deadlock"), "{message}");
    assert_eq!(rt.clock().now(), start, "time did not move");
}

/// A virtual clock counts 64 bits of nanoseconds (about 584 years): a sleep of a
/// thousand years is past what it can reach, so it waits forever too (reported as
/// a deadlock), instead of hanging a loop that waits for time to get there. A
/// thread and a channel only turn such a hang into a failure.
#[test]
fn a_sleep_past_what_the_virtual_clock_can_count_is_a_deadlock_not_a_hang() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = virtual_runtime();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(sleep(1000 * YEAR));
        }));
        let message = outcome
            .err()
            .and_then(|payload| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        done.send(message).unwrap();
    });
    let message = finished
        .recv_timeout(Duration::from_secs(30))
        .expect("a sleep of 1000 years hung the virtual clock");
    assert!(message.contains("deadlock"), "{message}");
}

/// `timeout` / `wait_for` with a duration past the end of time never time out, and
/// `sleep_until` far ahead (but within the clock's range) does fire, exactly.
#[test]
fn huge_timeouts_never_fire_and_far_sleep_until_is_exact() {
    virtual_runtime().block_on(async {
        let start = now();
        let value = clearloop::timeout(Duration::MAX, async {
            sleep(200 * YEAR).await;
            7
        })
        .await;
        assert_eq!(value, Ok(7));
        let value = clearloop::wait_for(sleep(Duration::from_secs(3)), Duration::MAX).await;
        assert_eq!(value, Ok(()));
        let target = now() + 50 * YEAR;
        sleep_until(target).await;
        assert_eq!(now(), target);
        assert_eq!(now() - start, 250 * YEAR + Duration::from_secs(3));
        let forever = sleep(Duration::MAX);
        assert_eq!(forever.deadline(), None);
        assert_eq!(sleep(YEAR).deadline(), Some(now() + YEAR));
    });
}

#[test]
fn sleep_first_polled_outside_a_runtime_panics_naming_sleep_and_its_line() {
    // Creating it outside a runtime is fine (asyncio.run(asyncio.sleep(1)));
    // polling it outside one is the mistake, reported at the creating line.
    let line = line!() + 1;
    let mut lost = Box::pin(sleep(Duration::from_secs(1)));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = lost.as_mut().poll(&mut cx);
    }));
    let message = caught.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains("clearloop::time::sleep()"), "{message}");
    assert!(message.contains("outside a clearloop runtime"), "{message}");
    assert!(message.contains("clearloop::run"), "{message}");
    let here = format!("{}:{line}", file!());
    assert!(message.contains(&here), "{message} should name {here}");
}

#[test]
fn sleep_created_outside_a_runtime_starts_counting_at_its_first_poll() {
    let sleeper = sleep(Duration::from_secs(3)); // no runtime here: nothing is fixed yet
    let runtime = virtual_runtime();
    runtime.clock().advance(Duration::from_secs(10)); // would be "due" if fixed at creation
    let start = runtime.clock().now();
    runtime.block_on(sleeper);
    assert_eq!(runtime.clock().now() - start, Duration::from_secs(3));
    clearloop::run(sleep(Duration::ZERO)); // asyncio.run(asyncio.sleep(0))
}
