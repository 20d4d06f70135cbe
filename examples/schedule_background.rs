//! `schedule` in a background thread: the Python idiom
//!
//! ```python
//! def run_continuously():
//!     while not stop.is_set():
//!         schedule.run_pending()
//!         time.sleep(1)
//! threading.Thread(target=run_continuously).start()
//! ```
//!
//! as [`Scheduler::run_in_background`](clearloop::schedule::Scheduler::run_in_background).
//!
//! Watch three things. The runner sleeps until the next job instead of waking each
//! second, and a job added from the main thread after 2.5 s runs a second later,
//! not at the end of a sleep. The `flaky` job panics: the panic is reported in one
//! line naming the job (on stderr, through `clearloop::panics::install_hook`) and
//! the other jobs go on. `stop()` ends the thread cleanly, between two jobs.
//!
//! Run: `cargo run --example schedule_background` (about 5 s on the real clock;
//! `-- --virtual` drives a manual clock half a second at a time, instantly).
//! Prints (the line of the panic goes to stderr):
//!
//! ```text
//! +1.0 s  tick
//! +2.0 s  tick
//! +2.0 s  tock
//! +2.5 s  main thread adds a job
//! +3.0 s  tick
//! job flaky() (Every 3 seconds) panicked at examples/schedule_background.rs:73:9: the feed is down; it runs again at 2026-11-23 09:00:06
//! +3.5 s  added from the main thread
//! +4.0 s  tick
//! +4.0 s  tock
//! +4.5 s  added from the main thread
//! +5.0 s  tick
//! stopped; the jobs are still in the scheduler: 4
//! ```

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::schedule::Scheduler;
use jiff::civil::date;

/// Runs the example on `clock` (a virtual clock is replaced by a manual one that
/// this function moves forward itself, so the output matches the real run).
pub fn example(clock: Clock) {
    // `flaky` panics on purpose: one line naming the job, not Rust's raw panic.
    clearloop::panics::install_hook();
    let clock = if clock.is_virtual() {
        let start = date(2026, 11, 23)
            .at(9, 0, 0, 0)
            .in_tz("Europe/Paris")
            .unwrap();
        Clock::manual_in(&start)
    } else {
        clock
    };
    let start = clock.now();
    let elapsed = {
        let clock = clock.clone();
        Arc::new(move || (clock.now() - start).as_secs_f64())
    };
    let say = {
        let elapsed = elapsed.clone();
        move |what: &'static str| {
            let elapsed = elapsed.clone();
            move || println!("+{:.1} s  {what}", elapsed())
        }
    };
    fn flaky() {
        panic!("the feed is down");
    }

    // The default reports: problems (a panic, a skipped run) on stderr.
    let schedule = Scheduler::with_clock(clock.clone());
    let jobs = [
        schedule.every(1).second().do_named("tick", say("tick")),
        schedule.every(2).seconds().do_named("tock", say("tock")),
        schedule.every(3).seconds().do_(flaky),
    ];
    if let Some(Err(error)) = jobs.into_iter().find(Result::is_err) {
        println!("could not schedule: {error}");
        return;
    }
    let runner = schedule.run_in_background();

    wait(&clock, &schedule, Duration::from_millis(2500));
    println!("+{:.1} s  main thread adds a job", elapsed());
    schedule
        .every(1)
        .second()
        .do_named("added", say("added from the main thread"))
        .expect("every(1).second() is a valid description");
    wait(&clock, &schedule, Duration::from_millis(2500));

    runner.stop();
    println!(
        "stopped; the jobs are still in the scheduler: {}",
        schedule.get_jobs().len()
    );
}

/// Sleeps `total` on the real clock. On the manual clock, moves time forward in
/// half-second steps, each time waiting (in real time) until the runner has run,
/// filed and reported every due job: only then is the next run in the future again
/// (a job that is running counts as due, as in Python).
fn wait(clock: &Clock, schedule: &Scheduler, total: Duration) {
    if !clock.is_virtual() {
        clock.sleep(total);
        return;
    }
    let step = Duration::from_millis(500);
    let mut waited = Duration::ZERO;
    while waited < total {
        clock.advance(step);
        waited += step;
        while schedule.idle_seconds().is_some_and(|idle| idle <= 0.0) {
            thread::sleep(Duration::from_millis(1));
        }
    }
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
