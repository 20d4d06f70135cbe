//! The classic mistake: blocking the loop with a synchronous sleep.
//!
//! ```python
//! async def bad():
//!     time.sleep(1)          # blocks the whole thread: nothing else runs
//! async def good():
//!     await asyncio.sleep(0.1)
//!
//! asyncio.run(main(), debug=True)   # "Executing <Task ...> took 1.002 seconds"
//! ```
//!
//! Watch the polite task: it asks for 100 ms, but the loop is stuck inside the bad
//! task's `std::thread::sleep`, so it wakes a whole second late. Debug mode (here
//! switched on by the builder; `CLEARLOOP_DEBUG=1` does it too) names the culprit.
//! This example always runs on the real clock: blocking costs real time.
//!
//! Run: `cargo run --example blocking_mistake`. Prints (on stderr, the warning):
//!
//! ```text
//! clearloop debug: Executing <Task bad> took 1.001 seconds: something in it blocks the thread ...
//! polite task asked for 0.100 s, woke after 1.001 s
//! ```
//!
//! and then its timeline, drawn from the loop's trace (`█` polled, `─` sleeping,
//! `▒` waiting for a permit, `·` waiting on another task, `✓` done):
//!
//! ```text
//! task   0s                       500ms                    1s
//!        ├────────────────────────┼────────────────────────┤
//! main   █·················································✓
//! polite █─────────────────────────────────────────────────✓
//! bad    ██████████████████████████████████████████████████✓
//! ```
//!
//! `bad` is one long poll (`█`) of a second: the loop ran nothing else meanwhile, and
//! `polite`, whose timer was due at 0.1 s, could only wake when it ended.

use std::time::{Duration, Instant};

use clearloop::clock::Clock;
use clearloop::time::sleep;
use clearloop::trace::TraceConfig;
use clearloop::{Builder, spawn};

/// Runs the example (always on the real clock: blocking costs real time).
pub fn example(_clock: Clock) {
    let runtime = Builder::new()
        .debug(true)
        .trace(TraceConfig::default())
        .build();
    runtime.block_on(async {
        let polite = spawn(async {
            let start = Instant::now();
            sleep(Duration::from_millis(100)).await;
            start.elapsed()
        });
        let bad = spawn(async {
            // The mistake: this stops the thread, not just this task.
            std::thread::sleep(Duration::from_secs(1));
        });
        bad.set_name("bad");
        polite.set_name("polite");
        bad.await;
        let waited = polite.await;
        println!(
            "polite task asked for 0.100 s, woke after {:.3} s",
            waited.as_secs_f64()
        );
    });
    // What the loop did, drawn from its trace: one row per task, time across.
    runtime
        .trace()
        .expect("built with .trace(..)")
        .show("blocking_mistake");
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::real());
}
