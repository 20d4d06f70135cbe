//! A periodic timer: `interval(period)` ticks every `period`, on a grid that does not
//! drift however long the work between two ticks takes.
//!
//! The idea: a loop that does `work(); sleep(period)` drifts, since each turn lasts
//! `period` *plus* the work. An [`Interval`] remembers the grid instead (start,
//! start + period, start + 2 periods, ...) and [`tick`](Interval::tick) sleeps only
//! until the next instant of it. The first tick comes at once.
//!
//! Python has no `asyncio.interval`: the idiom is `while True: ...; await
//! asyncio.sleep(period)`, which is the drifting loop above. clearloop follows tokio's
//! `tokio::time::interval`, and names what happens to **missed ticks** (the work took
//! longer than a period, so a tick's instant passed before `tick()` was called) the
//! way the `schedule` module names its `DriftPolicy` (`Grid`, `FromFinish`):
//!
//! ```text
//!   period 100 ms; after the tick of 100 the work lasts 250 ms, so the next
//!   tick() is called at 350. When each tick is taken, and (the instant it returns):
//!
//!   on time        0      100      200      300      400      500      600
//!   Grid           0      100      350(200)          400      500      600   300's slot skipped
//!   FromFinish     0      100      350(200)          450      550      650   grid moved: +100
//!   CatchUp        0      100      350(200) 350(300) 400      500      600   300 fired late too
//! ```
//!
//! [`MissedTickPolicy::Grid`] is tokio's `Skip`, [`MissedTickPolicy::FromFinish`] its
//! `Delay` (the next tick comes one period after the late one was taken, that is,
//! after the work that made it late finished; the drifting `sleep` loop), and
//! [`MissedTickPolicy::CatchUp`] its `Burst`, which is tokio's default. clearloop's
//! default is `Grid`, as for `schedule`: "every 100 ms" means the instants that
//! description names, and a late tick causes no storm of catch-up ticks.
//!
//! `tick()` returns the instant the tick was *scheduled* for (on the grid), not when it
//! was taken: the late tick taken at 350 returns 200. Built on [`time::sleep_until`] and
//! [`time::now`], so it runs on the runtime's clock, real or virtual.
//!
//! ```
//! use std::time::Duration;
//! use clearloop::{Builder, clock::Clock, interval::interval, time::{now, sleep}};
//!
//! let runtime = Builder::new().clock(Clock::virtual_clock()).build();
//! let ticks = runtime.block_on(async {
//!     let start = now();
//!     let mut every = interval(Duration::from_millis(100));
//!     let mut ticks = Vec::new();
//!     for _ in 0..3 {
//!         let at = every.tick().await;
//!         sleep(Duration::from_millis(30)).await; // the work: no drift
//!         ticks.push((at - start).as_millis());
//!     }
//!     ticks
//! });
//! assert_eq!(ticks, [0, 100, 200]);
//! ```

use std::time::{Duration, Instant};

use crate::time;

/// What [`Interval::tick`] does with the ticks whose instant passed while nobody was
/// calling it (the module doc draws all three).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickPolicy {
    /// Fire the late tick now, then go on at the first instant of the original grid
    /// that is after now: the missed slots are skipped. No drift, no burst (tokio's
    /// `Skip`; `schedule`'s `DriftPolicy::Grid`).
    #[default]
    Grid,
    /// Fire the late tick now, and start a new grid from this moment: the next tick
    /// is one period after the late one (tokio's `Delay`; `schedule`'s
    /// `DriftPolicy::FromFinish`).
    FromFinish,
    /// Fire every missed tick, one per call, at once, until the ticks are back on
    /// time; the grid does not move (tokio's `Burst`, its default).
    CatchUp,
}

impl MissedTickPolicy {
    /// The instant of the tick after the one `scheduled` for, taken at `now`.
    fn next(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        let on_time = scheduled + period;
        if on_time > now {
            return on_time; // not late: every policy agrees
        }
        match self {
            MissedTickPolicy::CatchUp => on_time,
            MissedTickPolicy::FromFinish => now + period,
            MissedTickPolicy::Grid => {
                // The first slot of the grid strictly after now: skip the ones between.
                let late = now - scheduled;
                let periods = late.as_nanos() / period.as_nanos() + 1;
                // `periods` fits: `late` came from two instants of one clock.
                let periods = u32::try_from(periods).unwrap_or(u32::MAX);
                scheduled + period * periods
            }
        }
    }
}

/// Ticks every `period`; the first tick is at once (tokio's `time::interval`).
///
/// The runtime is looked up at the first [`tick`](Interval::tick), not here, so an
/// interval may be built outside a runtime.
///
/// # Panics
///
/// If `period` is zero: ticks would come without end, all at the same instant.
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "clearloop::interval::interval(): the period must be longer than zero"
    );
    Interval {
        next: None,
        period,
        policy: MissedTickPolicy::default(),
    }
}

/// Ticks every `period`, the first tick at `start` (tokio's `time::interval_at`).
///
/// # Panics
///
/// If `period` is zero.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "clearloop::interval::interval_at(): the period must be longer than zero"
    );
    Interval {
        next: Some(start),
        period,
        policy: MissedTickPolicy::default(),
    }
}

/// A periodic timer; see the [module documentation](self).
#[derive(Debug)]
pub struct Interval {
    /// The instant of the next tick; `None` until the first `tick()`, which takes
    /// the runtime's `now`.
    next: Option<Instant>,
    period: Duration,
    policy: MissedTickPolicy,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for.
    ///
    /// Cancel-safe: dropping the future before it completes consumes no tick.
    ///
    /// # Panics
    ///
    /// Outside a running runtime.
    pub async fn tick(&mut self) -> Instant {
        let scheduled = match self.next {
            Some(next) => next,
            None => *self.next.insert(time::now()),
        };
        if scheduled > time::now() {
            time::sleep_until(scheduled).await;
        }
        // Computed only once the tick is taken, so a cancelled `tick()` loses nothing.
        self.next = Some(self.policy.next(scheduled, time::now(), self.period));
        scheduled
    }

    /// The period between two ticks.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// What happens to missed ticks.
    pub fn missed_tick_policy(&self) -> MissedTickPolicy {
        self.policy
    }

    /// Chooses what happens to missed ticks (the default is [`MissedTickPolicy::Grid`]).
    pub fn set_missed_tick_policy(&mut self, policy: MissedTickPolicy) {
        self.policy = policy;
    }

    /// Starts the grid again from now: the next tick is one period from now.
    ///
    /// # Panics
    ///
    /// Outside a running runtime.
    pub fn reset(&mut self) {
        self.next = Some(time::now() + self.period);
    }
}

#[cfg(test)]
mod tests {
    use super::MissedTickPolicy::{self, CatchUp, FromFinish, Grid};
    use std::time::{Duration, Instant};

    #[test]
    fn next_tick_by_policy() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        // (policy, scheduled, taken at, expected next), in ms after t0.
        let cases: [(MissedTickPolicy, u64, u64, u64); 9] = [
            (Grid, 100, 100, 200),
            (Grid, 200, 350, 400),
            (Grid, 200, 400, 500), // exactly on a slot: that slot is now, take the next
            (FromFinish, 100, 100, 200),
            (FromFinish, 200, 350, 450),
            (FromFinish, 200, 299, 300), // late but within the period: not missed
            (CatchUp, 100, 100, 200),
            (CatchUp, 200, 350, 300),
            (CatchUp, 300, 350, 400),
        ];
        for (policy, scheduled, now, expected) in cases {
            let next = policy.next(t0 + ms(scheduled), t0 + ms(now), ms(100));
            assert_eq!(
                next - t0,
                ms(expected),
                "{policy:?}, scheduled {scheduled}, taken at {now}"
            );
        }
    }
}
