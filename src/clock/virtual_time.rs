//! Virtual time: the state behind a virtual [`Clock`], and the rules that say when it
//! may jump.
//!
//! asyncio has no virtual clock (its tests patch `loop.time`); the closest Python
//! equivalent is a `sched.scheduler(timefunc, delayfunc)` whose `delayfunc` moves a
//! fake `timefunc` forward instead of sleeping. Here the `delayfunc` is
//! [`Clock::park_until`], and the hard part is knowing when moving time is honest.
//!
//! # When virtual time may jump: nothing in flight
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
//! ## Tasks waiting on I/O: time jumps only once the network is quiet
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

use std::cell::RefCell;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, Thread};
use std::time::{Duration, Instant, SystemTime};

use super::{Clock, Kind};

/// The state behind a virtual clock.
pub(super) struct VirtualTime {
    /// The real instant this clock counts from; `now()` is `origin + elapsed`.
    pub(super) origin: Instant,
    /// The wall-clock date-time at `origin`.
    pub(super) wall_origin: SystemTime,
    /// Virtual time elapsed since `origin`, in nanoseconds (584 years fit in a u64).
    pub(super) elapsed_nanos: AtomicU64,
    /// Whether a thread that waits moves time forward itself.
    pub(super) auto_advance: bool,
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

impl VirtualTime {
    pub(super) fn new(wall: SystemTime, auto_advance: bool) -> VirtualTime {
        VirtualTime {
            origin: Instant::now(),
            wall_origin: wall,
            elapsed_nanos: AtomicU64::new(0),
            auto_advance,
            waiters: Mutex::new(Waiters::default()),
        }
    }

    pub(super) fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.elapsed_nanos.load(Ordering::SeqCst))
    }

    pub(super) fn now(&self) -> Instant {
        self.origin + self.elapsed()
    }

    fn waiters(&self) -> MutexGuard<'_, Waiters> {
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Manual clock: register before checking the time, so that an `advance` landing
    /// between the check and the park leaves an unpark token behind.
    pub(super) fn register_sleeper(&self) {
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
    pub(super) fn wake_sleepers(&self) {
        let woken = {
            let mut waiters = self.waiters();
            let all = std::mem::take(&mut waiters.parked);
            waiters.resume(all)
        };
        woken.into_iter().for_each(|thread| thread.unpark());
    }

    /// `park_until` on an auto-advance clock: the rule of the module doc. Two kinds
    /// of thread wait here and follow different rules, so each has its own phase. The
    /// work's state is read under the lock: `Work::finish` writes it from another
    /// thread, and reading it before the lock could count a finished job twice.
    pub(super) fn park_auto(self: &Arc<Self>, deadline: Option<Instant>) {
        let work = CURRENT_WORK.with(|current| {
            current
                .borrow()
                .as_ref()
                .filter(|work| Arc::ptr_eq(&work.time, self))
                .cloned()
        });
        let waiters = self.waiters();
        match work {
            // A job in flight sleeps on the clock: it now waits like a timer, and
            // whoever else waits may be able to move time.
            Some(work) if work.state.load(Ordering::Relaxed) == RUNNING => {
                self.park_job(waiters, &work, deadline);
            }
            // Any other thread: a runtime's loop, a scheduler's runner, a test.
            _ => self.park_advancer(waiters, deadline),
        }
    }

    /// A pool job's thread sleeps on the clock: it stops counting as busy (so time
    /// may move), parks like a timer until its deadline, and is busy again once woken.
    fn park_job(
        &self,
        mut waiters: MutexGuard<'_, Waiters>,
        work: &Arc<Work>,
        deadline: Option<Instant>,
    ) {
        if deadline.is_some_and(|deadline| self.now() >= deadline) {
            return;
        }
        let me = thread::current();
        work.state.store(PARKED, Ordering::Relaxed);
        waiters.busy -= 1;
        let woken = if waiters.busy == 0 {
            waiters.take_advancers()
        } else {
            Vec::new()
        };
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
    }

    /// A thread that may move time (a loop, a runner, a test): it jumps if it may,
    /// returns if its deadline is reached, and otherwise waits in real time.
    fn park_advancer(&self, mut waiters: MutexGuard<'_, Waiters>, deadline: Option<Instant>) {
        let me = thread::current();
        let (woken, listen) = self.try_jump(&mut waiters, deadline);
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
        drop(waiters);
        woken.into_iter().for_each(|thread| thread.unpark());
        match listen {
            // Returning early is allowed: the caller looks and parks again.
            Some(left) => thread::park_timeout(left),
            None => thread::park(),
        }
        self.waiters().parked.retain(|p| p.thread.id() != me.id());
    }

    /// With nothing in flight, jumps to the earliest deadline of all waiters (ours
    /// included) and returns the threads it woke. Unless tasks wait on I/O and the
    /// network spoke less than [`IO_GRACE`] ago: then no jump, and the second value
    /// says how long to listen (in real time) for what is left of the grace.
    fn try_jump(
        &self,
        waiters: &mut Waiters,
        deadline: Option<Instant>,
    ) -> (Vec<Thread>, Option<Duration>) {
        if waiters.busy != 0 {
            return (Vec::new(), None);
        }
        let earliest = waiters.parked.iter().filter_map(|p| p.deadline).min();
        let target = match (deadline, earliest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let Some(target) = target else {
            return (Vec::new(), None);
        };
        match waiters.io_grace_left() {
            Some(left) if target > self.now() => (Vec::new(), Some(left)),
            _ => (self.jump_to(waiters, target), None),
        }
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
