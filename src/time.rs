//! Sleeping: `sleep`, `sleep_until`, and the loop's clock (`now`).
//!
//! `await asyncio.sleep(2)` creates a future, registers a timer on the loop
//! (`loop.call_later` → a `TimerHandle` in the `_scheduled` heap) and suspends. The
//! same happens here:
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
//!   poll again: clock.now() >= deadline               Ready(())
//! ```
//!
//! Dropping a [`Sleep`] before it fires (a timeout, a cancelled task) removes its
//! timer from the wheel at once: nothing is left behind.
//!
//! The wheel counts in ticks of one microsecond from the runtime's start. A deadline
//! is rounded *up* to the next tick and "now" *down*, so a timer never fires before
//! its deadline; the loop then parks for the exact time left (`park_timeout`), so
//! the rounding costs at most a microsecond, not a millisecond.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::runtime::{Scheduler, current_scheduler};
use crate::wheel::{TimerKey, TimerWheel};

/// What "forever" means for a sleep whose deadline would overflow: about 30 years.
const FOREVER: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// Nanoseconds in one tick of the runtime's timer wheel.
const TICK_NANOS: u128 = 1_000;

/// The runtime's timer wheel, and the conversion between instants and its ticks.
pub(crate) struct Timers {
    wheel: TimerWheel<Waker>,
    /// Tick 0.
    origin: Instant,
}

impl Timers {
    pub(crate) fn new(origin: Instant) -> Timers {
        Timers {
            wheel: TimerWheel::new(),
            origin,
        }
    }

    /// The first tick at or after `deadline`: a timer must not fire early.
    fn tick_at_or_after(&self, deadline: Instant) -> u64 {
        let nanos = deadline.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(nanos.div_ceil(TICK_NANOS)).unwrap_or(u64::MAX)
    }

    /// The last tick at or before `now`.
    fn tick_at_or_before(&self, now: Instant) -> u64 {
        let nanos = now.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(nanos / TICK_NANOS).unwrap_or(u64::MAX)
    }

    /// `None` for a tick too far away for an `Instant` (a `sleep(Duration::MAX)`).
    fn instant_of(&self, tick: u64) -> Option<Instant> {
        self.origin.checked_add(Duration::from_micros(tick))
    }

    fn insert(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        let tick = self.tick_at_or_after(deadline);
        self.wheel.insert(tick, waker)
    }

    /// Fires every timer due at `now`, in deadline order, into `fired`.
    pub(crate) fn fire_due(&mut self, now: Instant, fired: &mut Vec<Waker>) {
        let now = self.tick_at_or_before(now);
        self.wheel
            .advance(now, |_deadline, waker| fired.push(waker));
    }

    /// When the loop must wake up next for its timers (`None`: no timers). This may
    /// be a little before the earliest deadline, when the wheel must cascade first.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.wheel
            .next_expiration()
            .and_then(|tick| self.instant_of(tick))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.wheel.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.wheel.len()
    }

    /// Drops every timer's waker (runtime shutdown).
    pub(crate) fn clear(&mut self) {
        let all = u64::MAX;
        let mut dropped = Vec::new();
        self.wheel.advance(all, |_, waker| dropped.push(waker));
        drop(dropped);
    }
}

/// Waits for `duration` (asyncio's `await asyncio.sleep(duration)`).
///
/// # Panics
///
/// Outside a running runtime: the sleep needs the loop's clock and timers.
pub fn sleep(duration: Duration) -> Sleep {
    let scheduler = running("clearloop::time::sleep()");
    let now = scheduler.clock.now();
    // `sleep(Duration::MAX)` means "forever": cap it rather than overflow.
    let deadline = now.checked_add(duration).unwrap_or_else(|| now + FOREVER);
    Sleep::new(scheduler, deadline)
}

/// Waits until the loop's clock reads `deadline` (an instant from [`now`]).
///
/// # Panics
///
/// Outside a running runtime.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(running("clearloop::time::sleep_until()"), deadline)
}

/// The loop's current time (asyncio's `loop.time()`), on its clock, real or virtual.
///
/// # Panics
///
/// Outside a running runtime.
pub fn now() -> Instant {
    running("clearloop::time::now()").clock.now()
}

fn running(what: &str) -> Arc<Scheduler> {
    current_scheduler(what).unwrap_or_else(|message| {
        panic!(
            "{message}; timers belong to a runtime: call it inside clearloop::run(async {{ ... }})"
        )
    })
}

/// The future returned by [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    scheduler: Arc<Scheduler>,
    deadline: Instant,
    /// The timer, once registered by the first `Pending` poll.
    key: Option<TimerKey>,
}

impl Sleep {
    fn new(scheduler: Arc<Scheduler>, deadline: Instant) -> Sleep {
        Sleep {
            scheduler,
            deadline,
            key: None,
        }
    }

    /// When this sleep ends.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    fn unregister(&mut self) {
        if let Some(key) = self.key.take() {
            let mut timers = self
                .scheduler
                .timers
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            // `None` when the timer already fired: nothing to remove.
            let waker = timers.wheel.cancel(key);
            drop(timers);
            drop(waker);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.scheduler.clock.now() >= self.deadline {
            self.unregister();
            return Poll::Ready(());
        }
        let this = &mut *self;
        let mut timers = this
            .scheduler
            .timers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let registered = match this.key.and_then(|key| timers.wheel.get_mut(key)) {
            Some(waker) => {
                // Polled again before the deadline (another future in the same task
                // woke it): keep the timer, refresh the waker if it changed.
                if !waker.will_wake(cx.waker()) {
                    *waker = cx.waker().clone();
                }
                true
            }
            None => false,
        };
        if !registered {
            this.key = Some(timers.insert(this.deadline, cx.waker().clone()));
            drop(timers);
            // A loop parked on another thread may be waiting for a later deadline.
            if !this.scheduler.is_current() {
                this.scheduler.unpark_loop();
            }
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.unregister();
    }
}

impl std::fmt::Debug for Sleep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.key.is_some())
            .finish()
    }
}
