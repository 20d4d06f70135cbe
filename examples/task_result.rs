//! Slide "Les résultats": `done()` before and after, then `result()`.
//!
//! ```python
//! async def get_long_message():
//!     await asyncio.sleep(2)
//!     return "Bienvenue en Python"
//!
//! async def main():
//!     task = asyncio.create_task(get_long_message())
//!     print(task.done())
//!     await task
//!     print(task.done(), task.result())
//! ```
//!
//! Watch `done()`: false right after `spawn` (the task has not even started), true
//! after waiting. Python's `await task` leaves the result in the task; in Rust
//! `task.await` would move the value out, so the example waits with `task.wait()`
//! and then asks `task.result()`, which hands out a clone, as often as asked.
//!
//! Run: `cargo run --example task_result` (add `-- --virtual` for the virtual
//! clock). Prints:
//!
//! ```text
//! False
//! True Bienvenue en Python
//! ```

use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::time::sleep;
use clearloop::{Builder, spawn};

async fn get_long_message() -> String {
    sleep(Duration::from_secs(2)).await;
    "Bienvenue en Python".to_string()
}

/// Python prints booleans capitalised.
fn py(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// Runs the example on `clock`.
pub fn example(clock: Clock) {
    let runtime = Builder::new().clock(clock).build();
    runtime.block_on(async {
        let task = spawn(get_long_message());
        println!("{}", py(task.done()));
        task.wait().await;
        let result = task.result().expect("the task returned a value");
        println!("{} {}", py(task.done()), result);
    });
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
