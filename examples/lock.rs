//! Slide "Les verrous": a lock gives one task at a time access to shared state.
//!
//! ```python
//! lock = asyncio.Lock()
//! # ...
//! async with lock:                     # ce qui équivaut à :
//!     ...                              await lock.acquire()
//!     Accès à l'état partagé...        try:
//!     ...                                  Accès à l'état partagé...
//!                                      finally:
//!                                          lock.release()
//! ```
//!
//! Four tasks each deposit 10 in a shared account: read the balance, wait 100 ms
//! (a call to a bank, say), write balance + 10. Watch three runs:
//!
//! 1. **no lock**: all four read 0 before any of them writes, so three deposits are
//!    lost and the balance ends at 10;
//! 2. **`async with lock:`**: the guard form, `let mut balance = account.lock().await;`
//!    the deposits take turns, 100 ms each, and the balance ends at 40;
//! 3. **acquire / try / finally release**: the same with an explicit `unlock()`;
//!    Rust's `finally` is `Drop`: a panic between the two would unlock as well.
//!
//! Run: `cargo run --example lock` (add `-- --virtual` for the virtual clock, which
//! prints the same thing instantly). Prints:
//!
//! ```text
//! 1. no lock
//!   0.000s  task 0 reads 0
//!   0.000s  task 1 reads 0
//!   0.000s  task 2 reads 0
//!   0.000s  task 3 reads 0
//!   0.100s  task 0 writes 10
//!   0.100s  task 1 writes 10
//!   0.100s  task 2 writes 10
//!   0.100s  task 3 writes 10
//!   balance: 10 (expected 40)
//! 2. async with lock
//!   0.000s  task 0 reads 0
//!   0.100s  task 0 writes 10
//!   0.100s  task 1 reads 10
//!   ...
//!   0.400s  task 3 writes 40
//!   balance: 40 (expected 40)
//! 3. acquire / try / finally release
//!   ... (the same as 2)
//! ```
//!
//! On the real clock the times may read 0.101s and so on.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clearloop::Builder;
use clearloop::clock::Clock;
use clearloop::sync::Mutex;
use clearloop::time::{now, sleep};

const TASKS: u32 = 4;
const BANK_CALL: Duration = Duration::from_millis(100);

/// Seconds since `start`, as the example prints them.
fn at(start: Instant) -> String {
    format!("{:.3}s", (now() - start).as_secs_f64())
}

/// Deposits 10 with no lock: read, wait, write. Other tasks run during the wait.
async fn deposit_unlocked(account: Arc<std::sync::Mutex<u32>>, id: u32, start: Instant) {
    // std's Mutex only makes each read and each write safe on its own, like a Python
    // attribute access; it is never held across the `.await`.
    let balance = *account.lock().unwrap();
    println!("  {}  task {id} reads {balance}", at(start));
    sleep(BANK_CALL).await;
    *account.lock().unwrap() = balance + 10;
    println!("  {}  task {id} writes {}", at(start), balance + 10);
}

/// `async with lock:` the guard is released at the end of the block.
async fn deposit_with(account: Arc<Mutex<u32>>, id: u32, start: Instant) {
    let mut balance = account.lock().await;
    println!("  {}  task {id} reads {}", at(start), *balance);
    sleep(BANK_CALL).await; // still holding the lock: the others wait
    *balance += 10;
    println!("  {}  task {id} writes {}", at(start), *balance);
} // <- released here

/// `await lock.acquire()` / `try:` / `finally: lock.release()`.
async fn deposit_acquire_release(account: Arc<Mutex<u32>>, id: u32, start: Instant) {
    let mut balance = account.lock().await; // await lock.acquire()
    // try:
    println!("  {}  task {id} reads {}", at(start), *balance);
    sleep(BANK_CALL).await;
    *balance += 10;
    println!("  {}  task {id} writes {}", at(start), *balance);
    // finally: (a panic above would drop `balance`, which unlocks, all the same)
    balance.unlock(); // lock.release()
}

/// Runs the example on `clock`.
pub fn example(clock: Clock) {
    let runtime = Builder::new().clock(clock).build();

    println!("1. no lock");
    let account = Arc::new(std::sync::Mutex::new(0));
    runtime.block_on(async {
        let start = now();
        let tasks: Vec<_> = (0..TASKS)
            .map(|id| runtime.spawn(deposit_unlocked(account.clone(), id, start)))
            .collect();
        for task in tasks {
            task.await;
        }
    });
    println!("  balance: {} (expected 40)", *account.lock().unwrap());

    println!("2. async with lock");
    let account = Arc::new(Mutex::new(0));
    runtime.block_on(async {
        let start = now();
        let tasks: Vec<_> = (0..TASKS)
            .map(|id| runtime.spawn(deposit_with(account.clone(), id, start)))
            .collect();
        for task in tasks {
            task.await;
        }
        println!("  balance: {} (expected 40)", *account.lock().await);
    });

    println!("3. acquire / try / finally release");
    let account = Arc::new(Mutex::new(0));
    runtime.block_on(async {
        let start = now();
        let tasks: Vec<_> = (0..TASKS)
            .map(|id| runtime.spawn(deposit_acquire_release(account.clone(), id, start)))
            .collect();
        for task in tasks {
            task.await;
        }
        println!("  balance: {} (expected 40)", *account.lock().await);
    });
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
