//! Slide "Invocation d'une coroutine": `asyncio.run(say_after(1, "Hello"))`.
//!
//! ```python
//! async def say_after(delay, what):
//!     print(f"before {what} {time.strftime('%X')}")
//!     await asyncio.sleep(delay)
//!     print(f"after {what} {time.strftime('%X')}")
//!
//! asyncio.run(say_after(1, "Hello"))
//! ```
//!
//! Watch the clock: "after" comes one second after "before", and nothing else
//! happens meanwhile: the loop parks its thread until the timer's deadline.
//!
//! Run: `cargo run --example say_after` (add `-- --virtual` for the virtual clock).
//! Prints (the time of day in your time zone, as Python's `time.strftime('%X')` does):
//!
//! ```text
//! before Hello 15:31:04
//! after Hello 15:31:05
//! ```

use std::time::Duration;

use clearloop::Builder;
use clearloop::clock::Clock;
use clearloop::time::sleep;

async fn say_after(clock: &Clock, delay: Duration, what: &str) {
    println!("before {what} {}", clock.zoned_now().strftime("%X"));
    sleep(delay).await;
    println!("after {what} {}", clock.zoned_now().strftime("%X"));
}

/// Runs the example on `clock`.
pub fn example(clock: Clock) {
    let runtime = Builder::new().clock(clock.clone()).build();
    runtime.block_on(say_after(&clock, Duration::from_secs(1), "Hello"));
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
