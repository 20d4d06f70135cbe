//! Issue 14, weakness 1: a task that never waits starves the others, unless the
//! loop's cooperative budget makes it yield.
//!
//! ```python
//! async def hog(lock):
//!     for _ in range(10_000):
//!         async with lock:        # uncontended: acquire() returns at once,
//!             work_for_1_us()     # and the coroutine never yields to the loop
//!
//! async def sleeper(start):
//!     await asyncio.sleep(0.001)  # 1 ms... woken when the hog is done: 10 ms
//! ```
//!
//! In asyncio an uncontended `Lock.acquire()` does not suspend, so the hog keeps the
//! loop for its whole 10 ms and the 1 ms sleeper wakes 9 ms late. clearloop gives
//! each poll of a task a budget of ready resources (128 by default): when it is
//! spent, the next `lock().await` answers `Pending` once, the task goes to the back
//! of the ready queue, and the loop turns: it fires the sleeper's timer.
//!
//! The time is a manual clock that the hog moves itself, 1 µs per operation, so the
//! figures are exact and the same on every machine: lateness is measured in the
//! hog's work, not in the noise of a real clock. The trace counts how many times
//! the hog was polled, i.e. how many times it gave the loop back.
//!
//! Run: `cargo run --example starvation`. Prints:
//!
//! ```text
//! budget of 128 (the default): the 1 ms sleeper woke at 1.152 ms (0.152 ms late); the hog was polled 79 times
//! no budget (asyncio's way):   the 1 ms sleeper woke at 10.000 ms (9.000 ms late); the hog was polled 1 time
//! ```

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clearloop::clock::Clock;
use clearloop::sync::Mutex;
use clearloop::time::{now, sleep};
use clearloop::trace::{EventKind, TaskId, TraceConfig};
use clearloop::{Builder, spawn};

/// The hog's lock operations, 1 µs of (simulated) work each.
const OPERATIONS: u32 = 10_000;
const EACH: Duration = Duration::from_micros(1);

/// When the sleeper woke, and how many times the hog was polled.
fn run(budget: Option<u32>) -> (Duration, usize) {
    let runtime = Builder::new()
        .clock(Clock::manual(SystemTime::UNIX_EPOCH))
        .cooperative_budget(budget)
        .trace(TraceConfig::default())
        .build();
    let clock = runtime.clock().clone();
    let (woke, hog_id) = runtime.block_on(async move {
        let start = now();
        let sleeper = spawn(async move {
            sleep(Duration::from_millis(1)).await;
            now() - start
        });
        let lock = Arc::new(Mutex::new(0u32).with_name("counter"));
        let hog = spawn(async move {
            for _ in 0..OPERATIONS {
                *lock.lock().await += 1; // never contended: ready at once
                clock.advance(EACH); // the work inside the lock
            }
        });
        let hog_id = TaskId(2);
        hog.set_name("hog");
        let woke = sleeper.await;
        hog.await;
        (woke, hog_id)
    });
    let trace = runtime.trace().expect("built with .trace(..)");
    let polls = trace
        .events()
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PollStart { task, .. } if task == hog_id))
        .count();
    (woke, polls)
}

fn ms(duration: Duration) -> String {
    format!("{:.3} ms", duration.as_secs_f64() * 1000.0)
}

/// Runs the example (on its own manual clock, whatever `_clock` is).
pub fn example(_clock: Clock) {
    for (label, budget) in [
        ("budget of 128 (the default):", Some(128)),
        ("no budget (asyncio's way):  ", None),
    ] {
        let (woke, polls) = run(budget);
        let late = woke.saturating_sub(Duration::from_millis(1));
        let times = if polls == 1 { "time" } else { "times" };
        println!(
            "{label} the 1 ms sleeper woke at {} ({} late); the hog was polled {polls} {times}",
            ms(woke),
            ms(late)
        );
    }
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::real());
}
