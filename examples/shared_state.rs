//! The course's shared counter, with `Rc<RefCell<_>>` and `spawn_local`.
//!
//! ```python
//! counter = 0
//!
//! async def increment(name, delay):
//!     global counter
//!     for _ in range(3):
//!         await asyncio.sleep(delay)
//!         counter += 1
//!         print(f"{name}: counter = {counter}")
//!
//! async def main():
//!     await asyncio.gather(increment("A", 1), increment("B", 1.5))
//!     print("final:", counter)
//! ```
//!
//! What to watch: both tasks change one counter with no lock, as in Python. It is
//! safe for the same reason: the tasks run on one thread and are only switched at an
//! `await`, so `counter += 1` is never interrupted. Rust says so in the types: the
//! counter is an `Rc<RefCell<i32>>` (shared, changed in place, one thread only),
//! which `spawn` refuses (its tasks must be `Send`, they could move to a worker
//! thread) and `spawn_local` accepts (its tasks never leave the loop's thread).
//! Across threads the same program needs `Arc<Mutex<i32>>` and `spawn`.
//!
//! At t=3 both tasks are due, and which goes first depends on the clock. On the
//! virtual clock the two deadlines are equal, and the timer set first fires first:
//! B's, set at t=1.5 (A's was set at t=2), so B, then A. On the real clock they are
//! not equal: each `sleep` starts when its task wakes from the previous one, a
//! fraction of a millisecond late, so the two deadlines differ by microseconds,
//! and the two `t=3.0` lines come in either order from one run to the next. asyncio
//! is no different: two timers due at the same time are not a way to order tasks
//! (an `Event`, a `Lock` or an `await` of one task by the other is).
//!
//! Run: `cargo run --example shared_state` (real clock: 4.5 s), or add
//! `-- --virtual` (instant). On the virtual clock it prints (on the real clock, the
//! same lines, the two at `t=3.0` in either order):
//!
//! ```text
//! t=1.0  A: counter = 1
//! t=1.5  B: counter = 2
//! t=2.0  A: counter = 3
//! t=3.0  B: counter = 4
//! t=3.0  A: counter = 5
//! t=4.5  B: counter = 6
//! final: 6
//! ```

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use clearloop::clock::Clock;
use clearloop::time::{now, sleep};
use clearloop::{Builder, spawn_local};

async fn increment(counter: Rc<RefCell<i32>>, name: &'static str, delay: Duration, start: Instant) {
    for _ in 0..3 {
        sleep(delay).await;
        *counter.borrow_mut() += 1;
        let t = (now() - start).as_secs_f64();
        println!("t={t:.1}  {name}: counter = {}", counter.borrow());
    }
}

/// Runs the example on `clock`.
pub fn example(clock: Clock) {
    let runtime = Builder::new().clock(clock).build();
    runtime.block_on(async {
        let start = now();
        let counter = Rc::new(RefCell::new(0));
        let a = spawn_local(increment(
            counter.clone(),
            "A",
            Duration::from_secs(1),
            start,
        ));
        let b = spawn_local(increment(
            counter.clone(),
            "B",
            Duration::from_millis(1500),
            start,
        ));
        a.await;
        b.await;
        println!("final: {}", counter.borrow());
    });
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
