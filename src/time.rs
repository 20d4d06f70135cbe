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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::runtime::{Scheduler, current_scheduler, with_current_scheduler};
use crate::wheel::{TimerKey, TimerWheel};

/// What "forever" means for a sleep whose deadline would overflow: about 30 years.
const FOREVER: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// Nanoseconds in one tick of the runtime's timer wheel.
const TICK_NANOS: u32 = 1_000;

/// The runtime's timers: the wheel behind a lock, how many timers it holds (read
/// without the lock, so a loop turn with no timers costs one load), and the
/// conversion between instants and ticks.
pub(crate) struct Timers {
    wheel: Mutex<TimerWheel<Waker>>,
    /// Mirrors `wheel.len()`; updated under the lock, read without it.
    len: AtomicUsize,
    /// Tick 0.
    origin: Instant,
}

/// What a sleep's poll found.
enum Check {
    /// The deadline has passed.
    Due,
    /// The timer is in the wheel (inserted now, or already there).
    Armed(TimerKey),
}

impl Timers {
    pub(crate) fn new(origin: Instant) -> Timers {
        Timers {
            wheel: Mutex::new(TimerWheel::new()),
            len: AtomicUsize::new(0),
            origin,
        }
    }

    fn lock(&self) -> MutexGuard<'_, TimerWheel<Waker>> {
        // No user code runs under this lock (wakers are woken after it is released).
        self.wheel.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The first tick at or after `deadline`: a timer must not fire early.
    fn tick_at_or_after(&self, deadline: Instant) -> u64 {
        let since = deadline.saturating_duration_since(self.origin);
        // Whole microseconds, plus one for any part of a microsecond (u64 math: a
        // u128 division would cost more than the rest of the insert).
        let micros = since.as_secs().saturating_mul(1_000_000);
        micros.saturating_add(u64::from(since.subsec_nanos().div_ceil(TICK_NANOS)))
    }

    /// The last tick at or before `now`.
    fn tick_at_or_before(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.origin);
        let micros = since.as_secs().saturating_mul(1_000_000);
        micros.saturating_add(u64::from(since.subsec_nanos() / TICK_NANOS))
    }

    /// `None` for a tick too far away for an `Instant` (a `sleep(Duration::MAX)`).
    fn instant_of(&self, tick: u64) -> Option<Instant> {
        self.origin.checked_add(Duration::from_micros(tick))
    }

    /// A sleep's poll: due already, or armed with `waker` (inserted, or its waker
    /// refreshed). "Due" compares with the tick the wheel last advanced to, not with
    /// the clock: no clock read, and never early, since the wheel only advances to
    /// ticks that have passed.
    fn check(&self, key: Option<TimerKey>, deadline: Instant, waker: &Waker) -> Check {
        let tick = self.tick_at_or_after(deadline);
        let mut wheel = self.lock();
        if tick <= wheel.now() {
            // Due but not fired yet (this poll came before the loop's turn): remove it.
            if let Some(key) = key
                && wheel.cancel(key).is_some()
            {
                self.len.fetch_sub(1, Ordering::Relaxed);
            }
            return Check::Due;
        }
        if let Some(stored) = key.and_then(|key| wheel.get_mut(key)) {
            // Polled again before the deadline (another future of the same task woke
            // it): keep the timer, refresh the waker if it changed.
            if !stored.will_wake(waker) {
                *stored = waker.clone();
            }
            return Check::Armed(key.expect("get_mut found it by this key"));
        }
        let key = wheel.insert(tick, waker.clone());
        self.len.fetch_add(1, Ordering::Relaxed);
        Check::Armed(key)
    }

    /// Removes a timer that has not fired (a dropped sleep).
    fn cancel(&self, key: TimerKey) {
        let removed = self.lock().cancel(key);
        if removed.is_some() {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
        // The waker is dropped here, outside the lock.
    }

    /// Fires every timer due at `now`, in deadline order, into `fired`.
    pub(crate) fn fire_due(&self, now: Instant, fired: &mut Vec<Waker>) {
        if self.is_empty() {
            return;
        }
        let now = self.tick_at_or_before(now);
        let before = fired.len();
        self.lock()
            .advance(now, |_deadline, waker| fired.push(waker));
        self.len.fetch_sub(fired.len() - before, Ordering::Relaxed);
    }

    /// When the loop must wake up next for its timers (`None`: no timers). This may
    /// be a little before the earliest deadline, when the wheel must cascade first.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        if self.is_empty() {
            return None;
        }
        let tick = self.lock().next_expiration()?;
        self.instant_of(tick)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Drops every timer's waker (runtime shutdown).
    pub(crate) fn clear(&self) {
        let mut dropped = Vec::new();
        self.lock()
            .advance(u64::MAX, |_, waker| dropped.push(waker));
        self.len.store(0, Ordering::Relaxed);
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
    with_current_scheduler("clearloop::time::now()", |scheduler| scheduler.clock.now())
        .unwrap_or_else(|message| panic!("{message}; {TIMERS_NEED_A_RUNTIME}"))
}

const TIMERS_NEED_A_RUNTIME: &str =
    "timers belong to a runtime: call it inside clearloop::run(async { ... })";

fn running(what: &str) -> Arc<Scheduler> {
    current_scheduler(what).unwrap_or_else(|message| panic!("{message}; {TIMERS_NEED_A_RUNTIME}"))
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
    pub(crate) fn new(scheduler: Arc<Scheduler>, deadline: Instant) -> Sleep {
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
            // A key whose timer already fired is simply not found.
            self.scheduler.timers.cancel(key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        match this
            .scheduler
            .timers
            .check(this.key, this.deadline, cx.waker())
        {
            Check::Due => {
                this.key = None;
                Poll::Ready(())
            }
            Check::Armed(key) => {
                let first_poll = this.key.replace(key).is_none();
                // A loop parked on another thread may be waiting for a later deadline.
                if first_poll && !this.scheduler.is_current() {
                    this.scheduler.unpark_loop();
                }
                Poll::Pending
            }
        }
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
