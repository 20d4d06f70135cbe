//! Slide "Exécution concurrente de tâches asynchrones": `asyncio.gather`.
//!
//! ```python
//! async def main():
//!     start_time = datetime.now()
//!     await asyncio.gather(
//!         print_message_long(), print_message_long()
//!     )
//!     duree = datetime.now() - start_time
//!     print(duree)
//! ```
//!
//! Watch the total: `gather` turns each future into a task, so both sleeps run at
//! once: 2 seconds, as with `create_task`, in one line.
//!
//! Run: `cargo run --example gather` (add `-- --virtual` for the virtual clock).
//! Prints:
//!
//! ```text
//! Bienvenue en Python
//! Bienvenue en Python
//! 0:00:02.000187
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
use clearloop::{Builder, gather};

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
        gather([print_message_long(), print_message_long()]).await;
        let duree = clock.now() - start_time;
        println!("{}", format_timedelta(duree));
    });
    // What the loop did, drawn from its trace: one row per task, time across.
    runtime
        .trace()
        .expect("built with .trace(..)")
        .show("gather");
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
