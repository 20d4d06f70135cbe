//! Clocks: where "now" comes from, and how a thread waits for "later".
//!
//! asyncio asks its loop for the time (`loop.time()`, a monotonic float), CPython's
//! `sched.scheduler(timefunc, delayfunc)` takes a pair of functions, and the
//! `schedule` library calls `datetime.now()`. clearloop gathers all three into one
//! value, [`Clock`], that the runtime, `sched` and the schedulers built later all
//! accept. A clock is either:
//!
//! * **real**: [`Instant::now`] and [`SystemTime::now`], and waiting really waits;
//! * **virtual**: time is a number that only moves when somebody moves it. Tests run
//!   on it, so a 2-second `sleep` takes no real time and measures exactly 2.000 s.
//!
//! ```text
//!            real clock                         virtual clock
//!   now()  = Instant::now()              now()  = origin + elapsed
//!   wait   = park the thread             wait   = auto-advance: jump `elapsed`
//!            until the deadline                   to the deadline and return
//!                                                 (once nothing is in flight)
//!                                                 manual: park until another
//!                                                 thread calls advance()
//! ```
//!
//! A virtual clock comes in two flavours. With **auto-advance** ([`Clock::virtual_clock`])
//! a thread that waits for a deadline moves time forward to it at once: this is what
//! the runtime wants, since it only waits when every task is idle (tokio's paused clock
//! behaves the same way). A **manual** clock ([`Clock::manual`]) never moves by
//! itself: a thread that waits on it sleeps until another thread calls
//! [`Clock::advance`]. Tests of thread-backed schedulers use it to decide exactly when
//! time passes, while other threads add events.
//!
//! When may a virtual clock jump? Only when nothing that could wake a task is still
//! working: not while a blocking-pool job is in flight, and not until the network has
//! been quiet for [`IO_GRACE`] while tasks wait on I/O. `src/clock/virtual_time.rs`
//! states these rules with pictures and holds the state behind a virtual clock; the
//! helpers that print times as Python does live in `src/clock/format.rs`.
//!
//! Waiting goes through [`Clock::park_until`], built on `std::thread::park`: whoever
//! wants to wake the waiter early (a new event, a task woken from another thread)
//! calls [`Thread::unpark`](std::thread::Thread::unpark). One mechanism serves both
//! clocks, and an `unpark` sent just before the `park` is never lost: std keeps it as
//! a token.
//!
//! A virtual clock also carries a wall-clock reading ([`Clock::wall_now`]) that
//! starts at a date-time of your choice ([`Clock::virtual_at`]) and advances with it,
//! for schedulers that fire "every day at 10:30". The same clock can carry a time zone
//! ([`Clock::virtual_in`], [`Clock::manual_in`], [`Clock::with_time_zone`]), so that
//! [`Clock::zoned_now`] reads "Monday 2026-11-23 09:00 in Europe/Paris" and a week of
//! virtual time later reads the next Monday, daylight-saving changes included.

mod format;
mod virtual_time;

pub use format::{format_hms, format_timedelta};
pub use virtual_time::IO_GRACE;
pub(crate) use virtual_time::{IoWait, Work};

use virtual_time::VirtualTime;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

#[cfg(feature = "schedule")]
use jiff::tz::TimeZone;
#[cfg(feature = "schedule")]
use jiff::{Timestamp, ZonedDateTime};

/// A source of time that the runtime and the schedulers share.
///
/// Cloning a `Clock` is cheap and every clone reads the same time: advancing a
/// virtual clock through one clone moves them all.
#[derive(Clone)]
pub struct Clock {
    kind: Kind,
    /// The zone [`zoned_now`](Clock::zoned_now) reads the wall clock in; `None`: the
    /// system's zone on the real clock, UTC on a virtual one (so that a test reads
    /// the same date-time on every machine).
    #[cfg(feature = "schedule")]
    zone: Option<TimeZone>,
}

#[derive(Clone)]
enum Kind {
    /// The real clock, and the instant it was made: [`Clock::elapsed`] counts from
    /// there.
    Real(Instant),
    Virtual(Arc<VirtualTime>),
}

impl Clock {
    /// The real clock: [`Instant::now`] for time, a real sleep for waiting.
    pub fn real() -> Clock {
        Clock {
            kind: Kind::Real(Instant::now()),
            #[cfg(feature = "schedule")]
            zone: None,
        }
    }

    /// A virtual clock that starts now (wall time: the current date-time) and jumps
    /// forward to any deadline a thread waits for ("auto-advance").
    pub fn virtual_clock() -> Clock {
        Clock::new_virtual(SystemTime::now(), true)
    }

    /// A virtual clock with auto-advance whose wall-clock reading starts at `wall`.
    pub fn virtual_at(wall: SystemTime) -> Clock {
        Clock::new_virtual(wall, true)
    }

    /// A virtual clock that moves only when [`advance`](Clock::advance) or
    /// [`advance_to`](Clock::advance_to) is called; a thread that waits on it sleeps
    /// until then. Its wall-clock reading starts at `wall`.
    pub fn manual(wall: SystemTime) -> Clock {
        Clock::new_virtual(wall, false)
    }

    /// The clock an example asks for on its command line: the virtual clock (auto
    /// advance, starting now) when the program was given `--virtual`, the real
    /// clock otherwise. Every example's `main` is `example(Clock::from_args())`.
    pub fn from_args() -> Clock {
        if std::env::args().any(|arg| arg == "--virtual") {
            Clock::virtual_clock()
        } else {
            Clock::real()
        }
    }

    fn new_virtual(wall: SystemTime, auto_advance: bool) -> Clock {
        Clock {
            kind: Kind::Virtual(Arc::new(VirtualTime::new(wall, auto_advance))),
            #[cfg(feature = "schedule")]
            zone: None,
        }
    }

    /// Whether this clock is virtual.
    pub fn is_virtual(&self) -> bool {
        matches!(self.kind, Kind::Virtual(_))
    }

    /// Whether waiting on this clock moves virtual time forward by itself.
    pub fn is_auto_advance(&self) -> bool {
        match &self.kind {
            Kind::Real(_) => false,
            Kind::Virtual(v) => v.auto_advance,
        }
    }

    /// Whether this clock ever reads `at`. A virtual clock counts the nanoseconds
    /// since its start in 64 bits: about 584 years, past which it stops. An instant
    /// later than that is never reached, as one past the range of `Instant` is
    /// reached by no clock, so a sleep until it never ends (rather than hang a loop
    /// that waits for time to get there).
    pub(crate) fn reaches(&self, at: Instant) -> bool {
        match &self.kind {
            Kind::Real(_) => true,
            Kind::Virtual(v) => {
                at.saturating_duration_since(v.origin).as_nanos() <= u128::from(u64::MAX)
            }
        }
    }

    /// The current monotonic time (asyncio's `loop.time()`, sched's `timefunc`).
    pub fn now(&self) -> Instant {
        match &self.kind {
            Kind::Real(_) => Instant::now(),
            Kind::Virtual(v) => v.now(),
        }
    }

    /// How long this clock has run: virtual time since a virtual clock started, real
    /// time since the real one was made (`Clock::real()`; a runtime's
    /// [`Builder`](crate::Builder) makes its own when it is created). What a report
    /// says of *when*: "deadlock at 5.000s" after a 5 s virtual sleep, where the
    /// instant [`now`](Clock::now) returns means nothing to a reader.
    pub fn elapsed(&self) -> Duration {
        self.elapsed_at(self.now())
    }

    /// [`elapsed`](Clock::elapsed) as it reads (or read) at `at`, an instant of this
    /// clock: a deadline as "7.000s" on the same scale as `elapsed`. Zero for an
    /// instant before the clock started.
    pub fn elapsed_at(&self, at: Instant) -> Duration {
        match &self.kind {
            Kind::Real(origin) => at.saturating_duration_since(*origin),
            Kind::Virtual(v) => at.saturating_duration_since(v.origin),
        }
    }

    /// The current wall-clock date-time (`datetime.now()`).
    pub fn wall_now(&self) -> SystemTime {
        match &self.kind {
            Kind::Real(_) => SystemTime::now(),
            Kind::Virtual(v) => v.wall_origin + v.elapsed(),
        }
    }

    /// Moves a virtual clock forward by `by` and wakes every thread waiting on it.
    ///
    /// # Panics
    ///
    /// On the real clock, which nobody can move: build the runtime or scheduler on
    /// [`Clock::virtual_clock`] or [`Clock::manual`] to control time.
    #[track_caller]
    pub fn advance(&self, by: Duration) {
        let v = self.expect_virtual("advance");
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        v.elapsed_nanos.fetch_add(nanos, Ordering::SeqCst);
        v.wake_sleepers();
    }

    /// Moves a virtual clock forward to `to` (no-op if it is already there or past it)
    /// and wakes every thread waiting on it. Virtual time never goes backwards.
    ///
    /// # Panics
    ///
    /// On the real clock; see [`advance`](Clock::advance).
    #[track_caller]
    pub fn advance_to(&self, to: Instant) {
        let v = self.expect_virtual("advance_to");
        let target =
            u64::try_from(to.saturating_duration_since(v.origin).as_nanos()).unwrap_or(u64::MAX);
        let previous = v.elapsed_nanos.fetch_max(target, Ordering::SeqCst);
        if previous < target {
            v.wake_sleepers();
        }
    }

    /// Parks the calling thread until `deadline` (or forever with `None`), or until
    /// somebody calls [`Thread::unpark`](std::thread::Thread::unpark) on it, whichever comes first.
    ///
    /// It may return early: callers check their condition and park again. On an
    /// auto-advance virtual clock a deadline in the future is reached at once by
    /// moving time forward to it, unless work is in flight (a blocking-pool job that
    /// a task awaits): then the thread waits in real time, without moving virtual
    /// time, until it is unparked (see "When virtual time may jump" in
    /// `src/clock/virtual_time.rs`). On a manual clock the thread sleeps until
    /// another thread advances time or unparks it.
    pub fn park_until(&self, deadline: Option<Instant>) {
        match (&self.kind, deadline) {
            (Kind::Real(_), Some(deadline)) => {
                let now = Instant::now();
                if deadline > now {
                    thread::park_timeout(deadline - now);
                }
            }
            (Kind::Virtual(v), deadline) if v.auto_advance => v.park_auto(deadline),
            (_, None) => thread::park(),
            (Kind::Virtual(v), Some(deadline)) => {
                // Register first, then check, then sleep: an `advance` that lands
                // between the check and the park leaves an unpark token behind.
                v.register_sleeper();
                if self.now() < deadline {
                    thread::park();
                }
            }
        }
    }

    /// Blocks the calling thread until the clock reads `deadline` or later
    /// (sched's `delayfunc`). On an auto-advance clock, returns at once.
    pub fn sleep_until(&self, deadline: Instant) {
        while self.now() < deadline {
            self.park_until(Some(deadline));
        }
    }

    /// Blocks the calling thread for `duration` of this clock's time.
    pub fn sleep(&self, duration: Duration) {
        self.sleep_until(self.now() + duration);
    }

    #[track_caller]
    fn expect_virtual(&self, what: &str) -> &VirtualTime {
        match &self.kind {
            Kind::Virtual(v) => v,
            Kind::Real(_) => panic!(
                "Clock::{what} called on the real clock, which cannot be moved; \
                 build the runtime or scheduler on Clock::virtual_clock() or Clock::manual(..) \
                 to control time"
            ),
        }
    }
}

/// Wall-clock readings in a time zone, for the `schedule` module ("every day at
/// 10:30 in Europe/Paris"). The zone travels with the clock, so a scheduler built on
/// a clock needs no second notion of time. (With the `schedule` feature, on by
/// default: it brings jiff's time-zone database.)
#[cfg(feature = "schedule")]
impl Clock {
    /// A virtual clock with auto-advance whose wall-clock reading starts at `start`
    /// and whose time zone is `start`'s: `Clock::virtual_in(paris_monday_9am)`.
    pub fn virtual_in(start: &ZonedDateTime) -> Clock {
        Clock::virtual_at(system_time_of(start.timestamp()))
            .with_time_zone(start.time_zone().clone())
    }

    /// A manual virtual clock ([`Clock::manual`]) starting at `start`, in `start`'s
    /// time zone.
    pub fn manual_in(start: &ZonedDateTime) -> Clock {
        Clock::manual(system_time_of(start.timestamp())).with_time_zone(start.time_zone().clone())
    }

    /// The same clock (clones still share its time) read in `zone`.
    pub fn with_time_zone(mut self, zone: TimeZone) -> Clock {
        self.zone = Some(zone);
        self
    }

    /// The zone this clock reads wall time in: the one it was given, else the
    /// system's zone for the real clock and UTC for a virtual one.
    pub fn time_zone(&self) -> TimeZone {
        match (&self.zone, &self.kind) {
            (Some(zone), _) => zone.clone(),
            (None, Kind::Real(_)) => TimeZone::system(),
            (None, Kind::Virtual(_)) => TimeZone::UTC,
        }
    }

    /// [`wall_now`](Clock::wall_now) as a [`Timestamp`] (an instant on the UTC time
    /// line, to the nanosecond).
    pub fn timestamp_now(&self) -> Timestamp {
        // A SystemTime outside jiff's range (years -9999..=9999) is not a date a
        // scheduler can work with; clamp rather than panic.
        Timestamp::try_from(self.wall_now()).unwrap_or(Timestamp::MAX)
    }

    /// The wall clock in this clock's [time zone](Clock::time_zone): Python's
    /// `datetime.now(tz)`.
    pub fn zoned_now(&self) -> ZonedDateTime {
        self.timestamp_now().to_zoned_datetime(self.time_zone())
    }
}

#[cfg(feature = "schedule")]
/// A jiff [`Timestamp`] as a [`SystemTime`]. Every timestamp jiff can hold (years
/// -9999..=9999) fits in a Unix `SystemTime`; the fallback is only for platforms
/// whose `SystemTime` is narrower.
fn system_time_of(timestamp: Timestamp) -> SystemTime {
    SystemTime::try_from(timestamp).unwrap_or(SystemTime::UNIX_EPOCH)
}

impl Default for Clock {
    /// The real clock.
    fn default() -> Clock {
        Clock::real()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Real(_) => f.write_str("Clock::Real"),
            Kind::Virtual(v) => f
                .debug_struct("Clock::Virtual")
                .field("elapsed", &v.elapsed())
                .field("auto_advance", &v.auto_advance)
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_time_moves_only_when_advanced() {
        let clock = Clock::manual(SystemTime::UNIX_EPOCH);
        let t0 = clock.now();
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::from_secs(3));
        assert_eq!(clock.now() - t0, Duration::from_secs(3));
        assert_eq!(clock.elapsed(), Duration::from_secs(3));
        assert_eq!(
            clock.elapsed_at(t0 + Duration::from_secs(7)),
            Duration::from_secs(7)
        );
        assert_eq!(
            clock.wall_now(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(3)
        );
        // advance_to never goes backwards.
        clock.advance_to(t0 + Duration::from_secs(1));
        assert_eq!(clock.now() - t0, Duration::from_secs(3));
    }

    #[test]
    fn auto_advance_jumps_to_the_deadline() {
        let clock = Clock::virtual_clock();
        let t0 = clock.now();
        clock.sleep(Duration::from_millis(2500));
        assert_eq!(clock.now() - t0, Duration::from_millis(2500));
    }

    #[test]
    fn work_in_flight_holds_virtual_time_until_it_ends() {
        use std::sync::atomic::AtomicBool;
        let clock = Clock::virtual_clock();
        let t0 = clock.now();
        let work = clock.start_work().expect("auto-advance clocks count work");
        let ended = Arc::new(AtomicBool::new(false));
        let worker = {
            let ended = ended.clone();
            thread::spawn(move || {
                // Real work, in real time (not a test of timing: it only has to
                // outlast the moment the main thread starts waiting).
                thread::sleep(Duration::from_millis(20));
                ended.store(true, Ordering::SeqCst);
                work.finish();
            })
        };
        clock.sleep(Duration::from_secs(1));
        assert!(
            ended.load(Ordering::SeqCst),
            "time jumped while work was in flight"
        );
        assert_eq!(clock.now() - t0, Duration::from_secs(1));
        worker.join().unwrap();
        // Nothing in flight any more: the next sleep jumps at once.
        clock.sleep(Duration::from_secs(1));
        assert_eq!(clock.now() - t0, Duration::from_secs(2));
        assert!(Clock::real().start_work().is_none());
        assert!(Clock::manual(SystemTime::UNIX_EPOCH).start_work().is_none());
    }

    #[test]
    fn work_sleeping_on_the_clock_is_waiting_for_its_deadline() {
        let clock = Clock::virtual_clock();
        let t0 = clock.now();
        let work = clock.start_work().unwrap();
        let worker = {
            let clock = clock.clone();
            thread::spawn(move || {
                let woke_at = work.enter(|| {
                    clock.sleep(Duration::from_secs(3));
                    clock.now() - t0
                });
                work.finish();
                woke_at
            })
        };
        // The main thread moves time: first to the work's 3 s, then to its own 5 s.
        clock.sleep(Duration::from_secs(5));
        assert_eq!(worker.join().unwrap(), Duration::from_secs(3));
        assert_eq!(clock.now() - t0, Duration::from_secs(5));
    }

    #[test]
    fn manual_clock_sleeper_wakes_when_another_thread_advances() {
        let clock = Clock::manual(SystemTime::UNIX_EPOCH);
        let t0 = clock.now();
        let sleeper = {
            let clock = clock.clone();
            thread::spawn(move || {
                clock.sleep_until(t0 + Duration::from_secs(10));
                clock.now() - t0
            })
        };
        // Advance in steps; the sleeper cannot finish before the last one.
        for _ in 0..10 {
            clock.advance(Duration::from_secs(1));
        }
        assert_eq!(sleeper.join().unwrap(), Duration::from_secs(10));
    }

    #[test]
    #[should_panic(expected = "cannot be moved")]
    fn advancing_the_real_clock_is_a_clear_error() {
        Clock::real().advance(Duration::from_secs(1));
    }
}
