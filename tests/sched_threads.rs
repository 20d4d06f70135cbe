//! `sched` across threads: many threads entering into a running scheduler, the early
//! wake-up that CPython lacks, and the `Runner`'s stop/join.
//!
//! Waits on other threads are bounded (`wait_until`, 10 s of real time) so that a bug
//! fails the test instead of hanging it; a correct scheduler never comes near the bound.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use clearloop::clock::Clock;
use clearloop::sched::{EventState, Scheduler};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Spins (politely) until `done()` holds; panics naming `what` after 10 real seconds.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let give_up = Instant::now() + secs(10);
    while !done() {
        assert!(Instant::now() < give_up, "gave up waiting until {what}");
        thread::sleep(Duration::from_micros(200));
    }
}

const THREADS: usize = 8;
const PER_THREAD: usize = 10_000;

/// 8 threads enter 10,000 events each into a scheduler whose runner is already
/// running. Every event must run exactly once, and none before its time.
fn many_threads_enter_into_a_running_scheduler(clock: Clock) {
    let s = Scheduler::with_clock(clock);
    let runs: Arc<Vec<AtomicU8>> = Arc::new(
        (0..THREADS * PER_THREAD)
            .map(|_| AtomicU8::new(0))
            .collect(),
    );
    let early = Arc::new(AtomicUsize::new(0));
    let total = Arc::new(AtomicUsize::new(0));
    let runner = s.spawn_runner();

    let enterers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (s, runs, early, total) = (s.clone(), runs.clone(), early.clone(), total.clone());
            thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let id = t * PER_THREAD + i;
                    // Delays of 0 to 1.9 ms and priorities -2..=2, mixed.
                    let delay = Duration::from_micros((id as u64 * 7919) % 2000);
                    let due = s.now() + delay;
                    let (runs, early, total, clock) =
                        (runs.clone(), early.clone(), total.clone(), s.clone());
                    s.enterabs(due, (id % 5) as i32 - 2, move || {
                        if clock.now() < due {
                            early.fetch_add(1, Ordering::Relaxed);
                        }
                        runs[id].fetch_add(1, Ordering::Relaxed);
                        total.fetch_add(1, Ordering::Release);
                    });
                }
            })
        })
        .collect();
    for enterer in enterers {
        enterer.join().unwrap();
    }
    wait_until("all 80,000 events ran", || {
        total.load(Ordering::Acquire) == THREADS * PER_THREAD
    });
    runner.stop();
    assert_eq!(runner.join(), 0, "no action panicked");

    let not_once: Vec<usize> = (0..runs.len())
        .filter(|&id| runs[id].load(Ordering::Relaxed) != 1)
        .collect();
    assert!(
        not_once.is_empty(),
        "events not run exactly once: {not_once:?}"
    );
    assert_eq!(
        early.load(Ordering::Relaxed),
        0,
        "events ran before their time"
    );
    assert!(s.empty());
}

#[test]
fn eight_threads_enter_80_000_events_real_clock() {
    many_threads_enter_into_a_running_scheduler(Clock::real());
}

#[test]
fn eight_threads_enter_80_000_events_virtual_clock() {
    many_threads_enter_into_a_running_scheduler(Clock::virtual_clock());
}

/// The runner waits for t=10; another thread enters an event for t=5. The new event
/// runs at exactly t=5, before the t=10 one.
#[test]
fn an_earlier_event_wakes_the_runner_manual_clock() {
    let clock = Clock::manual(SystemTime::UNIX_EPOCH);
    let s = Scheduler::with_clock(clock.clone());
    let t0 = s.now();
    let log = Arc::new(Mutex::new(Vec::new()));
    let record = |name: &'static str| {
        let (log, s) = (log.clone(), s.clone());
        move || log.lock().unwrap().push((name, s.elapsed()))
    };
    let late = s.enterabs(t0 + secs(10), 1, record("late"));
    let runner = {
        let s = s.clone();
        thread::spawn(move || s.run(true))
    };
    wait_until("the runner sleeps until t=10", || {
        s.sleeping_until() == Some(t0 + secs(10))
    });

    let early = {
        let (s, early) = (s.clone(), record("early"));
        thread::spawn(move || s.enterabs(t0 + secs(5), 1, early))
            .join()
            .unwrap()
    };
    wait_until("the runner sleeps until t=5", || {
        s.sleeping_until() == Some(t0 + secs(5))
    });
    clock.advance_to(t0 + secs(5));
    wait_until("the early event ran", || early.state() == EventState::Done);
    assert_eq!(*log.lock().unwrap(), [("early", secs(5))]);
    assert_eq!(late.state(), EventState::Pending);

    clock.advance_to(t0 + secs(10));
    runner.join().unwrap().unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        [("early", secs(5)), ("late", secs(10))]
    );
}

/// The same, with an event due *now*: time does not move at all, so only the
/// unpark from `enter` can get it run. Without the early wake-up the runner would
/// sleep until somebody advances the clock, and this test would give up.
#[test]
fn an_event_due_now_runs_without_time_moving() {
    let clock = Clock::manual(SystemTime::UNIX_EPOCH);
    let s = Scheduler::with_clock(clock.clone());
    let t0 = s.now();
    let late = s.enterabs(t0 + secs(10), 1, || {});
    let runner = {
        let s = s.clone();
        thread::spawn(move || s.run(true))
    };
    wait_until("the runner sleeps", || s.is_sleeping());
    let ran_at = Arc::new(Mutex::new(None));
    let now_event = {
        let (s2, ran_at) = (s.clone(), ran_at.clone());
        let s = s.clone();
        thread::spawn(move || {
            s.enter(Duration::ZERO, 1, move || {
                *ran_at.lock().unwrap() = Some(s2.elapsed())
            })
        })
        .join()
        .unwrap()
    };
    wait_until("the event due now ran", || {
        now_event.state() == EventState::Done
    });
    assert_eq!(*ran_at.lock().unwrap(), Some(Duration::ZERO));
    assert_eq!(late.state(), EventState::Pending);
    clock.advance(secs(10));
    runner.join().unwrap().unwrap();
    assert_eq!(late.state(), EventState::Done);
}

/// On the real clock: the runner sleeps toward an event 3 s away; an event entered
/// for 50 ms from now runs long before that. Then cancelling the 3 s event wakes the
/// runner, which finds the queue empty and returns: the test takes well under 3 s.
#[test]
fn an_earlier_event_wakes_the_runner_real_clock() {
    let s = Scheduler::new();
    let started = Instant::now();
    let late = s.enter(secs(3), 1, || {});
    let runner = {
        let s = s.clone();
        thread::spawn(move || s.run(true))
    };
    wait_until("the runner sleeps", || s.is_sleeping());
    let (tx, rx) = mpsc::channel();
    let early = {
        let s = s.clone();
        thread::spawn(move || {
            s.enter(Duration::from_millis(50), 1, move || {
                tx.send(Instant::now()).unwrap()
            })
        })
        .join()
        .unwrap()
    };
    let ran = rx
        .recv_timeout(secs(10))
        .expect("the early event never ran");
    assert!(ran >= early.time(), "ran before its time");
    assert!(
        ran < started + Duration::from_millis(1500),
        "ran {:?} after the start: it waited for the 3 s event",
        ran - started
    );
    assert_eq!(late.state(), EventState::Pending);

    s.cancel(&late).unwrap();
    runner.join().unwrap().unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "run(true) slept toward a cancelled event: {:?}",
        started.elapsed()
    );
}

#[test]
fn a_runner_waits_for_events_and_stops_when_told() {
    let clock = Clock::manual(SystemTime::UNIX_EPOCH);
    let s = Scheduler::with_clock(clock.clone());
    let runner = s.spawn_runner();
    assert_eq!(runner.thread().name(), Some("clearloop-sched"));
    wait_until("the runner waits on the empty queue", || s.is_sleeping());
    assert_eq!(
        s.sleeping_until(),
        None,
        "no deadline: it waits for any event"
    );

    let (tx, rx) = mpsc::channel();
    s.enter(Duration::ZERO, 1, move || tx.send("ran").unwrap());
    assert_eq!(rx.recv_timeout(secs(10)), Ok("ran"));

    let pending = s.enter(secs(60), 1, || {});
    wait_until("the runner sleeps until t=60", || {
        s.sleeping_until() == Some(pending.time())
    });
    runner.stop();
    assert_eq!(runner.join(), 0, "no action panicked");
    assert_eq!(
        pending.state(),
        EventState::Pending,
        "stop leaves the queue alone"
    );
    assert_eq!(s.queue(), [pending]);
}

#[test]
fn dropping_a_runner_stops_it() {
    let s = Scheduler::with_clock(Clock::manual(SystemTime::UNIX_EPOCH));
    let runner = s.spawn_runner();
    wait_until("the runner sleeps", || s.is_sleeping());
    drop(runner);
    wait_until("the runner left run", || !s.is_sleeping());
    // Nobody runs the queue any more.
    let event = s.enter(Duration::ZERO, 1, || {});
    thread::sleep(Duration::from_millis(20));
    assert_eq!(event.state(), EventState::Pending);
}
