//! Blocking work handed to a thread while the loop keeps ticking
//! (`asyncio.to_thread`, the example of Python's documentation, with a ticker).
//!
//! ```python
//! def blocking_io():
//!     print(f"start blocking_io at {time.strftime('%X')}")
//!     time.sleep(1)          # blocks its thread, not the loop
//!     print(f"blocking_io complete at {time.strftime('%X')}")
//!
//! async def ticker():
//!     for i in range(4):
//!         await asyncio.sleep(0.25)
//!         print(f"tick {i}")
//!
//! async def main():
//!     print(f"started main at {time.strftime('%X')}")
//!     await asyncio.gather(asyncio.to_thread(blocking_io), ticker())
//!     print(f"finished main at {time.strftime('%X')}")
//! ```
//!
//! What to watch: the ticks come every quarter of a second *while* `blocking_io`
//! sleeps, and the whole takes 1 second, not 2: the blocking sleep holds a pool
//! thread, never the loop. Call `blocking_io()` directly in the task instead and the
//! ticks would wait for it.
//!
//! Run: `cargo run --example to_thread`. Prints (the time of day in your time zone, as
//! Python's `time.strftime('%X')` does):
//!
//! ```text
//! started main at 17:38:23
//! start blocking_io at 17:38:23
//! tick 0
//! tick 1
//! tick 2
//! tick 3
//! blocking_io complete at 17:38:24
//! finished main at 17:38:24
//! 0:00:01.001042
//! ```
//!
//! With `-- --virtual` it is instant and exact, with the same lines and the same
//! `0:00:01`: the pool job is *in flight* on the virtual clock, so time moves only
//! when both the loop and the job's sleep are waiting (see `clearloop::clock`). At
//! exactly 1 s the job goes first: "blocking_io complete" comes before "tick 3".

use std::time::Duration;

use clearloop::clock::{Clock, format_timedelta};
use clearloop::time::sleep;
use clearloop::{Builder, spawn, to_thread};

fn blocking_io(clock: &Clock) {
    println!("start blocking_io at {}", clock.zoned_now().strftime("%X"));
    // `time.sleep(1)`: a blocking wait, on the pool thread.
    clock.sleep(Duration::from_secs(1));
    println!(
        "blocking_io complete at {}",
        clock.zoned_now().strftime("%X")
    );
}

async fn ticker() {
    for i in 0..4 {
        sleep(Duration::from_millis(250)).await;
        println!("tick {i}");
    }
}

/// Runs the example on `clock`.
pub fn example(clock: Clock) {
    let runtime = Builder::new().clock(clock.clone()).build();
    runtime.block_on(async {
        let start = clock.now();
        println!("started main at {}", clock.zoned_now().strftime("%X"));
        let job_clock = clock.clone();
        let job = to_thread(move || blocking_io(&job_clock));
        let ticks = spawn(ticker());
        job.await.unwrap_or_else(|error| error.raise());
        ticks.await;
        println!("finished main at {}", clock.zoned_now().strftime("%X"));
        println!("{}", format_timedelta(clock.now() - start));
    });
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
