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
//! ## When virtual time may jump: nothing in flight
//!
//! Jumping is only honest when nothing that could wake a task is still working. A
//! job on the blocking pool ([`to_thread`](crate::blocking::to_thread)) is such a
//! thing: it runs in *real* time, and when it ends it wakes the task that awaits it.
//! So a job that a task of a runtime on an auto-advance clock starts is **in flight**
//! on that clock, from `to_thread` until it has ended and woken its task (or its
//! awaiter gave up on it). The rule, all in [`Clock::park_until`]:
//!
//! * a thread that waits while something is in flight waits in **real** time, frozen
//!   at the current virtual time, until it is unparked (the job woke its task, or the
//!   last job in flight ended);
//! * a job that itself sleeps on the clock (`clock.sleep(1 s)` on the pool thread)
//!   counts as *waiting*, not in flight, for as long as it sleeps: it does not move
//!   time, it waits for its deadline like a timer does;
//! * when nothing is in flight, the thread that waits moves time to the earliest
//!   deadline of all the waiters (its own or a sleeping job's) and wakes whoever is due.
//!   A job woken that way runs before the loop goes on, even when the loop's own
//!   deadline is the same instant: at one virtual instant, jobs go first, so the
//!   output does not depend on which thread the OS happens to run first.
//!
//! The price (tokio's paused clock pays it too): a job that blocks until a task does
//! something *after a virtual sleep* (`to_thread(|| rx.recv())` while the sender
//! task sleeps first) waits forever, since time will not move while the job runs.
//! On the virtual clock, give such a job a real-time limit (`recv_timeout`).
//!
//! ```text
//!   loop thread            in flight     pool thread                virtual time
//!   to_thread(job) ------> 1 ----------> job starts                 0
//!   park_until(1 s)                      thread::sleep(100 ms)      0  (waits, real time)
//!     ... waits, real time ...           |
//!   <------------ wake task ------------ job ends: Ok(7)
//!                          0 <---------- in flight ends             0
//!   timeout(1 s, ..) -> Ok(7)                                       0  (no jump happened)
//!
//!   park_until(0.25 s)     1             clock.sleep(1 s):          0
//!                          0 <---------- waiting until 1 s
//!   nothing in flight: jump to min(0.25, 1) -------------------->   0.25
//! ```
//!
//! ### Tasks waiting on I/O: time jumps only once the network is quiet
//!
//! A task waiting on a socket ([`net`](crate::net): a read, an accept, a connect)
//! waits on the real world, as a pool job does: a peer on another thread or in
//! another process may answer in a few milliseconds of real time, and a jump to a
//! `timeout`'s deadline meanwhile would fire it on a read about to complete. But it
//! cannot count as in flight until it ends, as a job does: a server's `accept` waits
//! for ever, and a client task sleeping before it connects would never wake. So the
//! rule for I/O is a *quiet period*:
//!
//! * while at least one task waits on I/O in the [reactor](crate::reactor) (from its
//!   first `Pending` until it is woken or its socket is dropped), virtual time jumps
//!   only once nothing has happened on the network for [`IO_GRACE`] (250 ms) of real
//!   time; until then the loop waits in real time, frozen at the current virtual
//!   instant;
//! * "something happened" is: a task started waiting on I/O, a wait was woken by a
//!   readiness event, or a task wrote, connected, shut down or closed a socket (its
//!   peer may be one of our tasks, about to be woken: on loopback the kernel delivers
//!   the data a moment *after* `write` returns, so looking once is not enough);
//! * with no task waiting on I/O, nothing changes: the loop jumps at once.
//!
//! ```text
//!   loop thread                               reactor thread  virtual  real
//!   client: read -> Pending (a wait begins)                    0 s      0 s
//!   server: sleep(1 s); nothing ready: listen                  0 s      0 .. 0.25 s
//!   quiet for 250 ms: jump                                     1 s      0.25 s
//!   server writes the answer (activity); listen                1 s      0.25 s ..
//!                                             event: readable
//!   <----------------------------------------- wake (activity)
//!   client: read -> the answer, at exactly 1 s                 1 s      0.2501 s
//! ```
//!
//! What it costs and what it cannot see: each jump taken while a task waits on I/O
//! comes [`IO_GRACE`] of real time after the network's last activity (an echo
//! exchange of nine messages at nine instants takes about 2 s of real time on the
//! virtual clock); a peer that answers later than the grace is too late, and a
//! timeout may fire first (give such a test a longer virtual timeout, or the real
//! clock). tokio's paused clock chooses the other side: it looks at its I/O driver
//! once, without waiting, before each jump, so a peer must have answered *already*.
//!
//! With nothing in flight the rule changes nothing: the runtime's loop jumps at once,
//! as before. Only the runtime knows its own threads are busy, so it calls
//! `park_until` only when all of them are idle (see `workers`); plain threads that
//! sleep on an auto-advance clock (`threads`' `Worker`s) are not in flight either:
//! each one moves time for itself.
//!
//! Waiting goes through [`Clock::park_until`], built on `std::thread::park`: whoever
//! wants to wake the waiter early (a new event, a task woken from another thread)
//! calls [`Thread::unpark`]. One mechanism serves both clocks, and an `unpark` sent
//! just before the `park` is never lost: std keeps it as a token.
//!
//! A virtual clock also carries a wall-clock reading ([`Clock::wall_now`]) that
//! starts at a date-time of your choice ([`Clock::virtual_at`]) and advances with it,
//! for schedulers that fire "every day at 10:30". The same clock can carry a time zone
//! ([`Clock::virtual_in`], [`Clock::manual_in`], [`Clock::with_time_zone`]), so that
//! [`Clock::zoned_now`] reads "Monday 2026-11-23 09:00 in Europe/Paris" and a week of
//! virtual time later reads the next Monday, daylight-saving changes included.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, Thread};
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
    Real,
    Virtual(Arc<VirtualTime>),
}

/// The state behind a virtual clock.
struct VirtualTime {
    /// The real instant this clock counts from; `now()` is `origin + elapsed`.
    origin: Instant,
    /// The wall-clock date-time at `origin`.
    wall_origin: SystemTime,
    /// Virtual time elapsed since `origin`, in nanoseconds (584 years fit in a u64).
    elapsed_nanos: AtomicU64,
    /// Whether a thread that waits moves time forward itself.
    auto_advance: bool,
    /// Threads parked in `park_until`, and the work in flight (auto-advance only).
    waiters: Mutex<Waiters>,
}

/// Who waits on a virtual clock, and how much work is in flight on it.
/// Who may touch it: anyone, under [`VirtualTime::waiters`]'s lock.
#[derive(Default)]
struct Waiters {
    /// Pieces of [`Work`] in flight and running (not parked on this clock). Virtual
    /// time may jump only while it is 0.
    busy: usize,
    /// Threads parked in `park_until`, each with its deadline. Whoever unparks one
    /// on the clock's behalf removes it first, so that a thread which is running
    /// again is never taken for a waiter.
    parked: Vec<Parked>,
    /// Tasks waiting on I/O in the reactor ([`IoWait`]s alive).
    io_waits: usize,
    /// The real instant of the last thing that happened on the network (a wait began
    /// or was woken, a write, a close): while `io_waits > 0`, time jumps only
    /// [`IO_GRACE`] after it.
    io_activity: Option<Instant>,
}

impl Waiters {
    /// The real time left before the network counts as quiet; `None` when no task
    /// waits on I/O, or it has been quiet for [`IO_GRACE`] already.
    fn io_grace_left(&self) -> Option<Duration> {
        if self.io_waits == 0 {
            return None;
        }
        let quiet_for = self.io_activity?.elapsed();
        IO_GRACE
            .checked_sub(quiet_for)
            .filter(|left| !left.is_zero())
    }
}

/// How long the network must have been quiet (no readiness event, no write, no new
/// wait, in real time) before virtual time may jump while a task waits on I/O: long
/// enough for a peer on another thread or in another process to answer, short
/// enough that a server waiting for clients does not slow a virtual-clock test much.
/// The module doc states the rule.
pub const IO_GRACE: Duration = Duration::from_millis(250);

/// A task waiting on I/O in the reactor, on an auto-advance clock: alive from its
/// first `Pending` until it is woken or its socket is dropped; dropping it is the end
/// of the wait (and counts as activity: the woken task is about to run).
pub(crate) struct IoWait {
    time: Arc<VirtualTime>,
}

impl Drop for IoWait {
    fn drop(&mut self) {
        let woken = {
            let mut waiters = self.time.waiters();
            waiters.io_waits -= 1;
            waiters.io_activity = Some(Instant::now());
            if waiters.io_waits == 0 && waiters.busy == 0 {
                // A loop listening for quiet may jump at once.
                waiters.take_advancers()
            } else {
                Vec::new()
            }
        };
        woken.into_iter().for_each(|thread| thread.unpark());
    }
}

/// A thread parked on a virtual clock.
struct Parked {
    thread: Thread,
    deadline: Option<Instant>,
    /// `Some` when the thread runs a piece of work in flight and sleeps on the clock
    /// (a pool job's `clock.sleep`): waking it makes it busy again.
    work: Option<Arc<Work>>,
}

/// One piece of work in flight on an auto-advance clock: a blocking-pool job awaited
/// by a task. While it runs, virtual time does not jump (the module doc says why).
pub(crate) struct Work {
    time: Arc<VirtualTime>,
    /// [`RUNNING`], [`PARKED`] or [`DONE`]; written only under `time.waiters`' lock.
    state: AtomicU8,
}

/// The work runs: it is counted in [`Waiters::busy`].
const RUNNING: u8 = 0;
/// The thread doing the work sleeps on the clock: it is in [`Waiters::parked`], not
/// counted as busy.
const PARKED: u8 = 1;
/// The work ended (or nobody awaits it any more): it counts for nothing.
const DONE: u8 = 2;

thread_local! {
    /// The work the current thread is doing, if a pool job entered it.
    static CURRENT_WORK: RefCell<Option<Arc<Work>>> = const { RefCell::new(None) };
}

impl Clock {
    /// The real clock: [`Instant::now`] for time, a real sleep for waiting.
    pub fn real() -> Clock {
        Clock {
            kind: Kind::Real,
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
            kind: Kind::Virtual(Arc::new(VirtualTime {
                origin: Instant::now(),
                wall_origin: wall,
                elapsed_nanos: AtomicU64::new(0),
                auto_advance,
                waiters: Mutex::new(Waiters::default()),
            })),
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
            Kind::Real => false,
            Kind::Virtual(v) => v.auto_advance,
        }
    }

    /// The current monotonic time (asyncio's `loop.time()`, sched's `timefunc`).
    pub fn now(&self) -> Instant {
        match &self.kind {
            Kind::Real => Instant::now(),
            Kind::Virtual(v) => v.now(),
        }
    }

    /// The current wall-clock date-time (`datetime.now()`).
    pub fn wall_now(&self) -> SystemTime {
        match &self.kind {
            Kind::Real => SystemTime::now(),
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
    /// somebody calls [`Thread::unpark`] on it, whichever comes first.
    ///
    /// It may return early: callers check their condition and park again. On an
    /// auto-advance virtual clock a deadline in the future is reached at once by
    /// moving time forward to it, unless work is in flight (a blocking-pool job that
    /// a task awaits): then the thread waits in real time, without moving virtual
    /// time, until it is unparked (see "When virtual time may jump" in the
    /// [module documentation](self)). On a manual clock the thread sleeps until
    /// another thread advances time or unparks it.
    pub fn park_until(&self, deadline: Option<Instant>) {
        match (&self.kind, deadline) {
            (Kind::Real, Some(deadline)) => {
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
            Kind::Real => panic!(
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
            (None, Kind::Real) => TimeZone::system(),
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

/// Formats a wall-clock reading as `HH:MM:SS` in UTC. Python's
/// `time.strftime('%X')` uses local time: for that, read the clock in a time zone
/// with [`Clock::zoned_now`] (the `schedule` feature) and format it with `%X`.
pub fn format_hms(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    format!("{h:02}:{m:02}:{s:02}")
}

/// Formats a duration as Python prints a `timedelta`: `0:00:02.000000`.
pub fn format_timedelta(duration: Duration) -> String {
    let secs = duration.as_secs();
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let micros = duration.subsec_micros();
    if micros == 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{h}:{m:02}:{s:02}.{micros:06}")
    }
}

impl VirtualTime {
    fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.elapsed_nanos.load(Ordering::SeqCst))
    }

    fn now(&self) -> Instant {
        self.origin + self.elapsed()
    }

    fn waiters(&self) -> MutexGuard<'_, Waiters> {
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Manual clock: register before checking the time, so that an `advance` landing
    /// between the check and the park leaves an unpark token behind.
    fn register_sleeper(&self) {
        let me = thread::current();
        let mut waiters = self.waiters();
        if !waiters.parked.iter().any(|p| p.thread.id() == me.id()) {
            waiters.parked.push(Parked {
                thread: me,
                deadline: None,
                work: None,
            });
        }
    }

    /// Time moved from outside (`advance`): every waiter looks at the clock again.
    fn wake_sleepers(&self) {
        let woken = {
            let mut waiters = self.waiters();
            let all = std::mem::take(&mut waiters.parked);
            waiters.resume(all)
        };
        woken.into_iter().for_each(|thread| thread.unpark());
    }

    /// `park_until` on an auto-advance clock: the rule of the module doc.
    fn park_auto(self: &Arc<Self>, deadline: Option<Instant>) {
        let me = thread::current();
        let work = CURRENT_WORK.with(|current| {
            current
                .borrow()
                .as_ref()
                .filter(|work| Arc::ptr_eq(&work.time, self))
                .cloned()
        });
        let mut waiters = self.waiters();
        let mut woken = Vec::new();
        match work {
            // A job in flight sleeps on the clock: it now waits like a timer, and
            // whoever else waits may be able to move time.
            Some(work) if work.state.load(Ordering::Relaxed) == RUNNING => {
                if deadline.is_some_and(|deadline| self.now() >= deadline) {
                    return;
                }
                work.state.store(PARKED, Ordering::Relaxed);
                waiters.busy -= 1;
                if waiters.busy == 0 {
                    woken = waiters.take_advancers();
                }
                waiters.parked.push(Parked {
                    thread: me.clone(),
                    deadline,
                    work: Some(work.clone()),
                });
                drop(waiters);
                woken.into_iter().for_each(|thread| thread.unpark());
                thread::park();
                // Whoever woke us on the clock's behalf made us busy again; a stray
                // unpark did not, so do it here.
                let mut waiters = self.waiters();
                waiters.parked.retain(|p| p.thread.id() != me.id());
                if work.state.load(Ordering::Relaxed) == PARKED {
                    work.state.store(RUNNING, Ordering::Relaxed);
                    waiters.busy += 1;
                }
                return;
            }
            // Any other thread: a runtime's loop, a scheduler's runner, a test.
            _ => {
                let mut listen = None;
                if waiters.busy == 0 {
                    // Nothing in flight: jump to the earliest deadline of all waiters.
                    let earliest = waiters.parked.iter().filter_map(|p| p.deadline).min();
                    let target = match (deadline, earliest) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    if let Some(target) = target {
                        // Unless tasks wait on I/O and the network spoke less than
                        // IO_GRACE ago: listen (in real time) for what is left of it.
                        match waiters.io_grace_left() {
                            Some(left) if target > self.now() => listen = Some(left),
                            _ => woken = self.jump_to(&mut waiters, target),
                        }
                    }
                }
                // Our deadline is reached: return, unless the jump just woke a
                // sleeping job (due at the same instant, or earlier). Then let it run
                // first, until it sleeps again or ends: at one virtual instant the
                // jobs go before the loop, so the output does not depend on which
                // thread the OS runs first.
                if deadline.is_some_and(|deadline| self.now() >= deadline) && waiters.busy == 0 {
                    drop(waiters);
                    woken.into_iter().for_each(|thread| thread.unpark());
                    return;
                }
                // Work in flight (or a job just woken by the jump): wait in real time
                // until something unparks us.
                waiters.parked.push(Parked {
                    thread: me.clone(),
                    deadline,
                    work: None,
                });
                if let Some(left) = listen {
                    drop(waiters);
                    woken.into_iter().for_each(|thread| thread.unpark());
                    // Returning early is allowed: the caller looks and parks again.
                    thread::park_timeout(left);
                    self.waiters().parked.retain(|p| p.thread.id() != me.id());
                    return;
                }
            }
        }
        drop(waiters);
        woken.into_iter().for_each(|thread| thread.unpark());
        thread::park();
        self.waiters().parked.retain(|p| p.thread.id() != me.id());
    }

    /// Moves time to `target` (never back) and takes out the waiters now due; returns
    /// the threads to unpark once the lock is released.
    fn jump_to(&self, waiters: &mut Waiters, target: Instant) -> Vec<Thread> {
        let nanos = u64::try_from(target.saturating_duration_since(self.origin).as_nanos())
            .unwrap_or(u64::MAX);
        self.elapsed_nanos.fetch_max(nanos, Ordering::SeqCst);
        let now = self.now();
        let (due, waiting) = std::mem::take(&mut waiters.parked)
            .into_iter()
            .partition(|p| p.deadline.is_some_and(|deadline| deadline <= now));
        waiters.parked = waiting;
        waiters.resume(due)
    }
}

impl Waiters {
    /// The threads of `woken`, taken out of `parked` by the caller: a sleeping job
    /// among them is busy again from this instant (not from when its thread gets to
    /// run: until then, a jump would be a lie).
    fn resume(&mut self, woken: Vec<Parked>) -> Vec<Thread> {
        woken
            .into_iter()
            .map(|parked| {
                if let Some(work) = parked.work
                    && work.state.load(Ordering::Relaxed) == PARKED
                {
                    work.state.store(RUNNING, Ordering::Relaxed);
                    self.busy += 1;
                }
                parked.thread
            })
            .collect()
    }

    /// The parked threads that are not sleeping jobs: the ones that may move time.
    fn take_advancers(&mut self) -> Vec<Thread> {
        let (advancers, jobs) = std::mem::take(&mut self.parked).into_iter().partition(|p| {
            p.work
                .as_ref()
                .is_none_or(|work| work.state.load(Ordering::Relaxed) != PARKED)
        });
        self.parked = jobs;
        self.resume(advancers)
    }
}

impl Clock {
    /// Counts one piece of work in flight on this clock until [`Work::finish`]:
    /// `None` unless the clock is virtual with auto-advance (a real or manual clock
    /// never jumps by itself, so there is nothing to hold back).
    pub(crate) fn start_work(&self) -> Option<Arc<Work>> {
        match &self.kind {
            Kind::Virtual(v) if v.auto_advance => {
                v.waiters().busy += 1;
                Some(Arc::new(Work {
                    time: v.clone(),
                    state: AtomicU8::new(RUNNING),
                }))
            }
            _ => None,
        }
    }
}

impl Clock {
    /// A task starts waiting on I/O: on an auto-advance clock, counted until the
    /// returned [`IoWait`] is dropped, and the network's quiet starts again now.
    /// `None` on other clocks.
    pub(crate) fn start_io_wait(&self) -> Option<IoWait> {
        match &self.kind {
            Kind::Virtual(v) if v.auto_advance => {
                let mut waiters = v.waiters();
                waiters.io_waits += 1;
                waiters.io_activity = Some(Instant::now());
                Some(IoWait { time: v.clone() })
            }
            _ => None,
        }
    }

    /// Something happened on the network that may wake a peer (a write, a close):
    /// the quiet starts again now (auto-advance clocks only; else nothing).
    pub(crate) fn io_activity(&self) {
        if let Kind::Virtual(v) = &self.kind
            && v.auto_advance
        {
            v.waiters().io_activity = Some(Instant::now());
        }
    }
}

impl Work {
    /// Runs `f` as this work on the current thread: a `sleep` on the clock inside
    /// `f` counts as waiting, not as work in flight.
    pub(crate) fn enter<R>(self: &Arc<Self>, f: impl FnOnce() -> R) -> R {
        let previous = CURRENT_WORK.with(|current| current.replace(Some(self.clone())));
        // Restore even if `f` unwinds (the pool catches the panic further out).
        struct Restore(Option<Arc<Work>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                let _ = CURRENT_WORK.try_with(|current| current.replace(previous));
            }
        }
        let _restore = Restore(previous);
        f()
    }

    /// The work is over (or nobody waits for it any more): it stops holding virtual
    /// time back. Call it *after* waking the task it serves, so that the loop never
    /// sees "nothing in flight" before the task is ready. Idempotent.
    pub(crate) fn finish(&self) {
        let woken = {
            let mut waiters = self.time.waiters();
            match self.state.swap(DONE, Ordering::Relaxed) {
                RUNNING => {
                    waiters.busy -= 1;
                    if waiters.busy == 0 {
                        waiters.take_advancers()
                    } else {
                        Vec::new()
                    }
                }
                // PARKED: not counted as busy; its thread, once woken, finds DONE.
                _ => Vec::new(),
            }
        };
        woken.into_iter().for_each(|thread| thread.unpark());
    }
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
            Kind::Real => f.write_str("Clock::Real"),
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
    fn formats_like_python() {
        assert_eq!(format_timedelta(Duration::from_millis(2000)), "0:00:02");
        assert_eq!(
            format_timedelta(Duration::from_micros(4_014_359)),
            "0:00:04.014359"
        );
        assert_eq!(format_timedelta(Duration::from_secs(3723)), "1:02:03");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(15 * 3600 + 31 * 60 + 4);
        assert_eq!(format_hms(t), "15:31:04");
    }

    #[test]
    #[should_panic(expected = "cannot be moved")]
    fn advancing_the_real_clock_is_a_clear_error() {
        Clock::real().advance(Duration::from_secs(1));
    }
}
