//! Slide "Exécution simultanée": two coroutines awaited one after the other.
//!
//! ```python
//! async def print_message_long():
//!     await asyncio.sleep(2)
//!     print("Bienvenue en Python")
//!
//! async def main():
//!     start_time = datetime.now()
//!     await print_message_long()
//!     await print_message_long()
//!     duree = datetime.now() - start_time
//!     print(duree)
//! ```
//!
//! Watch the total: `await` waits for the first call to finish before starting the
//! second, so the two 2-second sleeps add up to 4 seconds.
//!
//! Run: `cargo run --example await_sequential` (add `-- --virtual` for the virtual
//! clock). Prints:
//!
//! ```text
//! Bienvenue en Python
//! Bienvenue en Python
//! 0:00:04.000412
//! ```
//!
//! and then its timeline, drawn from the loop's trace (`█` polled, `─` sleeping,
//! `▒` waiting for a permit, `·` waiting on another task, `✓` done):
//!
//! ```text
//! task 0s                  1s                  2s                  3s                  4s
//!      ├───────────────────┼───────────────────┼───────────────────┼───────────────────┤
//! main █───────────────────────────────────────█───────────────────────────────────────✓
//! ```

use std::time::Duration;

use clearloop::Builder;
use clearloop::clock::{Clock, format_timedelta};
use clearloop::time::sleep;
use clearloop::trace::TraceConfig;

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
        print_message_long().await;
        print_message_long().await;
        let duree = clock.now() - start_time;
        println!("{}", format_timedelta(duree));
    });
    // What the loop did, drawn from its trace: one row per task, time across.
    runtime
        .trace()
        .expect("built with .trace(..)")
        .show("await_sequential");
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
