//! Slide "Les sémaphores": "supposons qu'une tâche ne peut être exécutée que 3 fois
//! simultanément". A semaphore of 3 lets ten tasks in, three at a time.
//!
//! ```python
//! sem = asyncio.Semaphore(3)
//! # ...
//! async with sem:                      # code équivalent :
//!     Accès à l'état partagé...        await sem.acquire()
//!                                      try:
//!                                          Accès à l'état partagé...
//!                                      finally:
//!                                          sem.release()
//! ```
//!
//! Ten tasks start together; each holds a permit for one second. Watch the shape:
//! three enter at 0 s; the seven others queue. At 1 s the three leave (their timers
//! fire in the same turn of the loop) and each permit is handed to the next task in
//! line, first come, first served: tasks 3, 4, 5 enter at that same instant. Rounds of
//! three at 0 s, 1 s, 2 s, then the last one alone at 3 s. The bar shows how many are
//! inside; it never shows more than three. Tasks 0 to 8 use the guard form
//! (`async with sem:`); task 9 the explicit `acquire()`/`release()` pair.
//!
//! Run: `cargo run --example semaphore` (add `-- --virtual` for the virtual clock).
//! Prints:
//!
//! ```text
//! 0.000s  task 0 enters  [#  ]
//! 0.000s  task 1 enters  [## ]
//! 0.000s  task 2 enters  [###]
//! 1.000s  task 0 leaves  [## ]
//! 1.000s  task 1 leaves  [#  ]
//! 1.000s  task 2 leaves  [   ]
//! 1.000s  task 3 enters  [#  ]
//! 1.000s  task 4 enters  [## ]
//! 1.000s  task 5 enters  [###]
//! ...
//! 3.000s  task 9 enters  [#  ]
//! 4.000s  task 9 leaves  [   ]
//! ten tasks in 4.000s, never more than 3 at once
//! ```
//!
//! and then its timeline, drawn from the loop's trace (`█` polled, `─` sleeping,
//! `▒` waiting for a permit, `·` waiting on another task, `✓` done):
//!
//! ```text
//! task    0s                  1s                  2s                  3s                  4s
//!         ├───────────────────┼───────────────────┼───────────────────┼───────────────────┤
//! main    █···················█···················█···················█···················✓
//! Task-1  █───────────────────✓
//! Task-2  █───────────────────✓
//! Task-3  █───────────────────✓
//! Task-4  █▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒█───────────────────✓
//! Task-5  █▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒█───────────────────✓
//! Task-6  █▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒█───────────────────✓
//! Task-7  █▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒█───────────────────✓
//! Task-8  █▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒█───────────────────✓
//! Task-9  █▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒█───────────────────✓
//! Task-10 █▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒█───────────────────✓
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clearloop::Builder;
use clearloop::clock::Clock;
use clearloop::sync::Semaphore;
use clearloop::time::{now, sleep};
use clearloop::trace::TraceConfig;

const PERMITS: usize = 3;

/// Shared by the tasks: the semaphore, how many are inside, and when it all began.
struct Room {
    sem: Semaphore,
    inside: AtomicUsize,
    most: AtomicUsize,
    start: Instant,
}

impl Room {
    /// Prints one line: time since the start, what happened, the occupancy bar.
    fn log(&self, id: usize, what: &str, inside: usize) {
        let bar = format!("{:<width$}", "#".repeat(inside), width = PERMITS);
        let t = (now() - self.start).as_secs_f64();
        println!("{t:.3}s  task {id} {what}  [{bar}]");
    }

    /// The work done while holding a permit: one second.
    async fn work(&self, id: usize) {
        let inside = self.inside.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(inside, Ordering::SeqCst);
        self.log(id, "enters", inside);
        sleep(Duration::from_secs(1)).await;
        let inside = self.inside.fetch_sub(1, Ordering::SeqCst) - 1;
        self.log(id, "leaves", inside);
    }
}

/// `async with sem:` the permit is given back when `_permit` is dropped.
async fn guarded(room: Arc<Room>, id: usize) {
    let _permit = room.sem.acquire().await;
    room.work(id).await;
}

/// `await sem.acquire()` / `try:` / `finally: sem.release()`.
async fn explicit(room: Arc<Room>, id: usize) {
    room.sem.acquire().await.forget(); // await sem.acquire(): keep it, no guard
    // try: (with no guard, a panic here would keep the permit: that is why the guard
    // form is the usual one, as `async with` is in Python)
    room.work(id).await;
    room.sem.release(); // finally: sem.release()
}

/// Runs the example on `clock`.
pub fn example(clock: Clock) {
    let runtime = Builder::new()
        .clock(clock)
        .trace(TraceConfig::default())
        .build();
    runtime.block_on(async {
        let room = Arc::new(Room {
            sem: Semaphore::new(PERMITS).with_name("room"),
            inside: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
            start: now(),
        });
        let mut tasks = Vec::new();
        for id in 0..10 {
            let task = if id < 9 {
                runtime.spawn(guarded(room.clone(), id))
            } else {
                runtime.spawn(explicit(room.clone(), id))
            };
            tasks.push(task);
        }
        for task in tasks {
            task.await;
        }
        println!(
            "ten tasks in {:.3}s, never more than {} at once",
            (now() - room.start).as_secs_f64(),
            room.most.load(Ordering::SeqCst)
        );
    });
    // What the loop did, drawn from its trace: one row per task, time across.
    runtime
        .trace()
        .expect("built with .trace(..)")
        .show("semaphore");
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
