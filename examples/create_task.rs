//! Slide "Les tâches asynchrones": the same two coroutines, as two tasks.
//!
//! ```python
//! async def main():
//!     start_time = datetime.now()
//!     t1 = asyncio.create_task(print_message_long())
//!     t2 = asyncio.create_task(print_message_long())
//!     await t1
//!     await t2
//!     duree = datetime.now() - start_time
//!     print(duree)
//! ```
//!
//! Watch the total: `spawn` (asyncio's `create_task`) starts both tasks at the next
//! turn of the loop; while the first sleeps, the second sleeps too. 2 seconds, not 4.
//!
//! Run: `cargo run --example create_task` (add `-- --virtual` for the virtual
//! clock). Prints:
//!
//! ```text
//! Bienvenue en Python
//! Bienvenue en Python
//! 0:00:02.000298
//! ```
//!
//! and then its timeline, drawn from the loop's trace (`█` polled, `─` sleeping,
//! `▒` waiting for a permit, `·` waiting on another task, `✓` done):
//!
//! ```text
//! task   0s                  500ms               1s                  1.5s                2s
//!        ├───────────────────┼───────────────────┼───────────────────┼───────────────────┤
//! main   █···············································································✓
//! Task-1 █───────────────────────────────────────────────────────────────────────────────✓
//! Task-2 █───────────────────────────────────────────────────────────────────────────────✓
//! ```

use std::time::Duration;

use clearloop::clock::{Clock, format_timedelta};
use clearloop::time::sleep;
use clearloop::trace::TraceConfig;
use clearloop::{Builder, spawn};

async fn print_message_long() {
    sleep(Duration::from_secs(2)).await;
    println!("Bienvenue en Python");
}

/// Runs the example on `clock`.
pub fn example(clock: Clock) {
    let runtime = Builder::new()
        .clock(clock.clone())
        .trace(TraceConfig::default())
        .build();
    runtime.block_on(async {
        let start_time = clock.now();
        let t1 = spawn(print_message_long());
        let t2 = spawn(print_message_long());
        t1.await;
        t2.await;
        let duree = clock.now() - start_time;
        println!("{}", format_timedelta(duree));
    });
    // What the loop did, drawn from its trace: one row per task, time across.
    runtime
        .trace()
        .expect("built with .trace(..)")
        .show("create_task");
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
