//! Three commands one after the other, then three at once (asyncio's
//! `create_subprocess_exec`): the course's sequential-versus-tasks lesson, with real
//! processes.
//!
//! ```python
//! async def run(cmd):
//!     proc = await asyncio.create_subprocess_exec(*cmd)
//!     return await proc.wait()
//!
//! for _ in range(3):
//!     await run(['sleep', '1'])                          # about 3 s
//! await asyncio.gather(*(run(['sleep', '1']) for _ in range(3)))   # about 1 s
//! ```
//!
//! Watch the two durations: awaited one after the other, three `sleep 1` take about
//! 3 s; started together and gathered, about 1 s, because while the loop waits for
//! one child's exit (a pidfd, in the reactor) the others run too.
//!
//! On Windows, which has no `sleep` command, each command is `ping -n 2 127.0.0.1`
//! (its output discarded): two pings one second apart, the batch files' way to
//! sleep for a second, which Wine runs too. The lesson is the same: about 3 s, then
//! about 1 s.
//!
//! Times are real, on any clock: a child runs in real time, and on the virtual clock
//! its wait holds time still (it is in flight), so `--virtual` changes nothing here.
//!
//! Run: `cargo run --example subprocess`. Prints (the figures vary a little):
//!
//! ```text
//! one after the other: 3 commands took 0:00:03.006112 of real time
//! all at once (gather): 3 commands took 0:00:01.002541 of real time
//! ```

use std::process::Stdio;
use std::time::Instant;

use clearloop::clock::{Clock, format_timedelta};
use clearloop::process::Command;
use clearloop::{Builder, gather};

async fn run_sleep() -> bool {
    let status = sleep_one_second().status().await;
    status.is_ok_and(|status| status.success())
}

/// The course's `sleep 1`: on Windows, two pings one second apart (see above).
fn sleep_one_second() -> Command {
    if cfg!(windows) {
        let mut ping = Command::new("ping");
        ping.args(["-n", "2", "127.0.0.1"]).stdout(Stdio::null());
        ping
    } else {
        let mut sleep = Command::new("sleep");
        sleep.arg("1");
        sleep
    }
}

/// Runs the example on `clock` (its waits are real ones anyway).
pub fn example(clock: Clock) {
    let runtime = Builder::new().clock(clock).build();
    runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..3 {
            assert!(run_sleep().await, "`sleep 1` failed");
        }
        println!(
            "one after the other: 3 commands took {} of real time",
            format_timedelta(start.elapsed())
        );
        let start = Instant::now();
        let statuses = gather((0..3).map(|_| run_sleep())).await;
        assert!(statuses.into_iter().all(|ok| ok), "`sleep 1` failed");
        println!(
            "all at once (gather): 3 commands took {} of real time",
            format_timedelta(start.elapsed())
        );
    });
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
