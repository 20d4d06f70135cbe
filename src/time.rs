//! Sleeping: `sleep`, `sleep_until`, and the loop's clock (`now`).
//!
//! `await asyncio.sleep(2)` creates a coroutine; when it runs, it registers a timer
//! on the loop (`loop.call_later` → a `TimerHandle` in the `_scheduled` heap) and
//! suspends. The same happens here:
//!
//! ```text
//!   sleep(2 s).await
//!        |  first poll: deadline not reached
//!        v
//!   timer wheel  <-- insert(deadline, waker)          Pending
//!        |
//!        |  the loop parks until the earliest deadline; on waking, it
//!        |  fires due timers: waker.wake() puts the task back in the queue
//!        v
//!   poll again: the deadline has passed               Ready(())
//! ```
//!
//! Dropping a [`Sleep`] before it fires (a timeout, a cancelled task) removes its
//! timer from the wheel at once: nothing is left behind.
//!
//! **A sleep past the end of time never ends.** `sleep(Duration::MAX)` asks for a
//! deadline that no `Instant` can hold. Such a sleep arms no timer and stays
//! pending until it is dropped: it is a task waiting forever, which is what it
//! asked for (on an auto-advance virtual clock, a runtime with nothing else to do
//! reports it as a deadlock instead of moving time). A common alternative, tokio's
//! and clearloop's first, caps the deadline at about 30 years from now, which a
//! virtual clock reaches in no time: the "forever" sleep then returns.
//!
//! **When the runtime is looked up.** Inside a runtime (the usual case: `sleep(d)`
//! written in a task), `sleep` finds the runtime at once and fixes the deadline at
//! the call, as tokio does. Outside any runtime, as in
//! `clearloop::run(clearloop::time::sleep(d))`, it waits: the first poll, which
//! happens inside the runtime, finds the runtime and starts the `d` from then, as
//! `asyncio.run(asyncio.sleep(1))` does. A sleep first polled outside any runtime
//! panics, naming `sleep()` and the line that created it.
//!
//! The wheel and its lock live with the scheduler (`Timers` in
//! `src/runtime/scheduler.rs`): this file holds only what users call.
//!
//! ```
//! use std::time::Duration;
//! use clearloop::{Builder, clock::Clock, time::sleep};
//!
//! let runtime = Builder::new().clock(Clock::virtual_clock()).build();
//! let start = runtime.clock().now();
//! runtime.block_on(sleep(Duration::from_secs(3))); // created outside, runs inside
//! assert_eq!(runtime.clock().now() - start, Duration::from_secs(3));
//! ```

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::runtime::scheduler::{RuntimeCore, current_scheduler, with_current_scheduler};
use crate::runtime::timers::Check;
use crate::wheel::TimerKey;

const TIMERS_NEED_A_RUNTIME: &str =
    "timers belong to a runtime: call it inside clearloop::run(async { ... })";

/// Waits for `duration` (asyncio's `await asyncio.sleep(duration)`).
///
/// Inside a runtime the deadline is fixed now; outside, at the first poll (see the
/// [module doc](self)).
///
/// A `duration` whose deadline is past the range of the clock's `Instant`
/// (`Duration::MAX`, or anything within a few hundred billion years of it), or past
/// what a virtual clock can count (about 584 years from its start), never ends: the
/// sleep waits forever, with no timer, until it is dropped. It is never cut short to
/// some "far enough" deadline, which a virtual clock would reach.
///
/// # Panics
///
/// When first polled outside a running runtime: the sleep needs the loop's clock and
/// timers. The message names `sleep()` and the line that called it.
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    let caller = Location::caller();
    match current_scheduler("clearloop::time::sleep()") {
        Ok(core) => {
            let deadline = deadline_after(&core, duration);
            Sleep::until(core, deadline)
        }
        Err(_) => Sleep {
            timer: Timer::NotStarted { duration, caller },
            key: None,
        },
    }
}

/// Waits until the loop's clock reads `deadline` (an instant from [`now`]).
///
/// A deadline already past is ready at the first poll. To wait forever, write
/// `sleep(Duration::MAX)`: no `Instant` is past the end of time.
///
/// # Panics
///
/// Outside a running runtime: an instant means nothing without the loop's clock.
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    match current_scheduler("clearloop::time::sleep_until()") {
        Ok(core) => Sleep::new(core, deadline),
        Err(message) => panic!("{message}; {TIMERS_NEED_A_RUNTIME}"),
    }
}

/// The loop's current time (asyncio's `loop.time()`), on its clock, real or virtual.
///
/// # Panics
///
/// Outside a running runtime.
#[track_caller]
pub fn now() -> Instant {
    match with_current_scheduler("clearloop::time::now()", |core| core.clock.now()) {
        Ok(now) => now,
        Err(message) => panic!("{message}; {TIMERS_NEED_A_RUNTIME}"),
    }
}

/// `now + duration` on `core`'s clock; `None` (never) past the range of `Instant`,
/// as for `sleep(Duration::MAX)`, or past what the clock can reach.
fn deadline_after(core: &RuntimeCore, duration: Duration) -> Option<Instant> {
    reachable(core, core.clock.now().checked_add(duration))
}

/// `deadline`, unless `core`'s clock never reaches it (`None`: never).
fn reachable(core: &RuntimeCore, deadline: Option<Instant>) -> Option<Instant> {
    deadline.filter(|at| core.clock.reaches(*at))
}

/// The future returned by [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    timer: Timer,
    /// The timer, once registered by the first `Pending` poll.
    key: Option<TimerKey>,
}

/// A sleep's runtime and deadline, once known.
enum Timer {
    /// Created outside any runtime: the first poll looks it up and starts counting.
    /// `caller` is where `sleep()` was called, for the panic if there is none then.
    NotStarted {
        duration: Duration,
        caller: &'static Location<'static>,
    },
    /// Bound to its runtime, with a fixed deadline; `None`: never (no timer).
    Started {
        core: Arc<RuntimeCore>,
        deadline: Option<Instant>,
    },
}

impl Sleep {
    /// A sleep on `core` until `deadline` (also used by `timeout`).
    pub(crate) fn new(core: Arc<RuntimeCore>, deadline: Instant) -> Sleep {
        Sleep::until(core, Some(deadline))
    }

    /// A sleep on `core` until `deadline`; `None`, or an instant the clock never
    /// reaches (a virtual clock stops after about 584 years): forever.
    fn until(core: Arc<RuntimeCore>, deadline: Option<Instant>) -> Sleep {
        let deadline = reachable(&core, deadline);
        Sleep {
            timer: Timer::Started { core, deadline },
            key: None,
        }
    }

    /// When this sleep ends; `None` for a sleep that never ends (its deadline is
    /// past the range of `Instant`, as `sleep(Duration::MAX)`'s).
    ///
    /// # Panics
    ///
    /// For a `sleep(d)` created outside any runtime and not polled yet: its
    /// deadline is fixed by its first poll, inside the runtime.
    #[track_caller]
    pub fn deadline(&self) -> Option<Instant> {
        match &self.timer {
            Timer::Started { deadline, .. } => *deadline,
            Timer::NotStarted { caller, .. } => panic!(
                "Sleep::deadline(): the sleep created at {caller} was created outside a \
                 clearloop runtime and has not been polled yet, so its deadline is not \
                 fixed; ask after its first poll, or create it inside the runtime"
            ),
        }
    }

    /// The runtime and the deadline (`None`: never), looking them up at the first
    /// poll.
    fn start(&mut self) -> (&RuntimeCore, Option<Instant>) {
        if let Timer::NotStarted { duration, caller } = self.timer {
            let core = current_scheduler("clearloop::time::sleep()").unwrap_or_else(|message| {
                panic!("{message} (the sleep was created at {caller}); {TIMERS_NEED_A_RUNTIME}")
            });
            let deadline = deadline_after(&core, duration);
            self.timer = Timer::Started { core, deadline };
        }
        match &self.timer {
            Timer::Started { core, deadline } => (core, *deadline),
            Timer::NotStarted { .. } => unreachable!("started just above"),
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // A sleep that is due is a ready resource: it spends the task's budget.
        std::task::ready!(crate::task::coop::poll_budget(cx));
        let this = &mut *self;
        let key = this.key;
        let (core, deadline) = this.start();
        let Some(deadline) = deadline else {
            // Past the end of time: no timer to arm, nothing will ever wake us for
            // it. The task waits forever (or until it is cancelled), as asked.
            crate::task::wait::on_endless_sleep();
            return Poll::Pending;
        };
        match core.timers.check(key, deadline, cx.waker()) {
            Check::Due => {
                this.key = None;
                Poll::Ready(())
            }
            Check::Armed(armed) => {
                crate::task::wait::on_sleep(deadline);
                // A loop parked on another thread may be waiting for a later deadline.
                if key.is_none() && !core.is_current() {
                    core.unpark_timer_thread();
                }
                if key.is_none()
                    && let Some(trace) = &core.trace
                {
                    trace.timer_registered(deadline);
                }
                this.key = Some(armed);
                Poll::Pending
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let (Some(key), Timer::Started { core, .. }) = (self.key.take(), &self.timer) {
            // A key whose timer already fired is simply not found.
            core.timers.cancel(key);
        }
    }
}

impl std::fmt::Debug for Sleep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("Sleep");
        match &self.timer {
            Timer::Started {
                deadline: Some(deadline),
                ..
            } => debug.field("deadline", deadline),
            Timer::Started { deadline: None, .. } => debug.field("deadline", &"never"),
            Timer::NotStarted { duration, .. } => debug.field("duration", duration),
        };
        debug.field("registered", &self.key.is_some()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sleep_stays_small() {
        // The runtime's `Arc` and the caller's location share one word (a sleep
        // holds one or the other, never both), and the duration shares the
        // deadline's place: lazy lookup costs only the enum's tag, 8 bytes more than
        // the 48 of an eager sleep (runtime, deadline, timer key) on 64-bit Linux.
        assert!(std::mem::size_of::<Sleep>() <= 56);
    }
}
