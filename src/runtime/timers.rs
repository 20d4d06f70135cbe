//! The runtime's timers: asyncio's `loop.call_at` and its `_scheduled` heap, here a
//! hierarchical timer wheel ([`TimerWheel`], `src/wheel/`) behind one lock.
//!
//! A `Sleep` (`src/time.rs`) asks [`Timers::check`] on each poll: due already, or
//! armed with the task's waker. Whoever runs the loop (the single-threaded loop's
//! step 2, or a worker) calls [`Timers::fire_due`] and wakes what fired, outside
//! the lock ([`wake_fired`]); before it parks it asks [`Timers::next_deadline`].
//!
//! ```text
//!   Sleep::poll ──check(key, deadline, waker)──> Due | Armed(key) ──> TimerWheel::insert
//!   loop turn   ──fire_due(now, &mut fired)────> wakers ──wake_fired──> tasks queued
//!   loop park   ──next_deadline()──────────────> park_timeout(exactly the time left)
//! ```
//!
//! The wheel counts in ticks of one microsecond from the runtime's start. A deadline
//! is rounded *up* to the next tick and "now" *down*, so a timer never fires before
//! its deadline; the loop then parks for the exact time left (`park_timeout`), so the
//! rounding costs at most a microsecond, not a millisecond. How many timers there
//! are is kept beside the lock, so a loop turn with no timers costs one load.

use std::sync::Mutex;
use std::sync::MutexGuard;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::panics::lock;
use crate::wheel::{TimerKey, TimerWheel};

/// Nanoseconds in one tick of the runtime's timer wheel.
const TICK_NANOS: u32 = 1_000;

/// The runtime's timers (asyncio's `_scheduled` heap, and `call_at`): the wheel
/// behind a lock, how many timers it holds (read without the lock, so a loop turn
/// with no timers costs one load), and the conversion between instants and ticks.
pub(crate) struct Timers {
    /// The wheel (`src/wheel/`), holding the waker of each sleeping task.
    wheel: Mutex<TimerWheel<Waker>>,
    /// Mirrors `wheel.len()`; updated under the lock, read without it.
    len: AtomicUsize,
    /// Tick 0.
    origin: Instant,
}

/// What a sleep's poll found.
pub(crate) enum Check {
    /// The deadline has passed.
    Due,
    /// The timer is in the wheel (inserted now, or already there).
    Armed(TimerKey),
}

impl Timers {
    /// No timers; tick 0 is `origin`, the runtime's start.
    pub(super) fn new(origin: Instant) -> Timers {
        Timers {
            wheel: Mutex::new(TimerWheel::new()),
            len: AtomicUsize::new(0),
            origin,
        }
    }

    /// The wheel, under its lock.
    fn lock(&self) -> MutexGuard<'_, TimerWheel<Waker>> {
        // No user code runs under this lock (wakers are woken after it is released).
        lock(&self.wheel)
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

    /// A sleep's poll (asyncio's `call_at`): due already, or armed with `waker`
    /// (inserted, or its waker refreshed).
    ///
    /// Only the first poll converts the deadline to ticks and compares it with the
    /// tick the wheel last advanced to (no clock read, and never early, since the
    /// wheel only advances to ticks that have passed). A later poll asks the wheel
    /// for its key: still there means not due (advancing fires every due timer
    /// under this same lock), gone means fired. So a sleep that is woken costs one
    /// conversion in its life, not one per poll.
    #[inline] // called by every poll of a sleep, from another file (`time.rs`)
    pub(crate) fn check(&self, key: Option<TimerKey>, deadline: Instant, waker: &Waker) -> Check {
        let mut wheel = self.lock();
        if let Some(key) = key {
            let Some(stored) = wheel.get_mut(key) else {
                return Check::Due; // fired: the loop took it out of the wheel
            };
            // Polled again before the deadline (another future of the same task woke
            // it): keep the timer, refresh the waker if it changed.
            if !stored.will_wake(waker) {
                *stored = waker.clone();
            }
            return Check::Armed(key);
        }
        let tick = self.tick_at_or_after(deadline);
        if tick <= wheel.now() {
            return Check::Due;
        }
        let key = wheel.insert(tick, waker.clone());
        self.len.fetch_add(1, Ordering::Relaxed);
        Check::Armed(key)
    }

    /// Removes a timer that has not fired (a dropped sleep: `TimerHandle.cancel`).
    pub(crate) fn cancel(&self, key: TimerKey) {
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

    /// When the loop must wake up next for its timers (`None`: no timers): the
    /// earliest deadline, to the microsecond. (Earlier only if the timer that set a
    /// slot's bound was cancelled since, see `src/wheel/`.) So a lone sleep of 100 ms
    /// parks the loop once, not once more at each coarse slot it cascades through.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        if self.is_empty() {
            return None;
        }
        let tick = self.lock().next_expiration()?;
        self.instant_of(tick)
    }

    /// No timer at all (one relaxed load, no lock). Inlined: the loop asks on
    /// every turn, and a call cost more than the load.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Timers in the wheel (`Runtime::pending_timers`).
    #[inline]
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

/// Wakes the tasks of fired timers, each under `catch_unwind`: a waker is user code
/// when a hand-written future stored its own, and one that panics must not stop the
/// others, nor the thread that fires them. (A plain `catch_unwind`, not
/// `panics::catch`: this runs once per timer, and the quiet hook's bookkeeping would
/// cost more than the wake itself.)
pub(crate) fn wake_fired(fired: &mut Vec<Waker>) -> usize {
    let n = fired.len();
    for waker in fired.drain(..) {
        let woken = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
        if let Err(payload) = woken {
            crate::panics::report("a timer's waker", &*payload, "the other timers still fire");
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_poll_is_answered_by_the_wheel_not_the_clock() {
        let origin = Instant::now();
        let timers = Timers::new(origin);
        let deadline = origin + Duration::from_micros(10);
        let Check::Armed(key) = timers.check(None, deadline, Waker::noop()) else {
            panic!("a deadline 10 µs after the origin is not due at the origin");
        };
        // Polled again before the loop's turn: still armed, same timer.
        assert!(
            matches!(timers.check(Some(key), deadline, Waker::noop()), Check::Armed(k) if k == key)
        );
        assert_eq!(timers.len(), 1);
        let mut fired = Vec::new();
        timers.fire_due(origin + Duration::from_micros(9), &mut fired);
        assert!(fired.is_empty(), "not early");
        timers.fire_due(deadline, &mut fired);
        assert_eq!((fired.len(), timers.len()), (1, 0));
        // Its key is gone from the wheel: due, without converting the deadline again.
        assert!(matches!(
            timers.check(Some(key), deadline, Waker::noop()),
            Check::Due
        ));
        // A first poll of a deadline the wheel has passed is due at once, not inserted.
        assert!(matches!(
            timers.check(None, origin, Waker::noop()),
            Check::Due
        ));
        assert_eq!(timers.len(), 0);
    }

    #[test]
    fn the_loop_parks_until_the_deadline_not_until_a_cascade() {
        let origin = Instant::now();
        let timers = Timers::new(origin);
        // 100,007 µs ahead: level 2 of the wheel, whose slot starts at 98,304 µs.
        let deadline = origin + Duration::from_micros(100_007);
        assert!(matches!(
            timers.check(None, deadline, Waker::noop()),
            Check::Armed(_)
        ));
        assert_eq!(timers.next_deadline(), Some(deadline));
        let mut fired = Vec::new();
        timers.fire_due(deadline, &mut fired);
        assert_eq!(fired.len(), 1, "one wake-up, at the deadline, fires it");
        assert_eq!(timers.next_deadline(), None);
    }
}
