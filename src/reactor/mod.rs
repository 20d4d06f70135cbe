//! The reactor: how a loop waits on sockets, not only on time.
//!
//! A socket read that finds no data must not block the thread: the task that asked
//! gives up its turn and is woken when the kernel says "readable". The reactor is the
//! piece that listens to the kernel: it keeps one [`Source`] per file descriptor,
//! stores the wakers of the tasks that wait on it, and in [`Reactor::wait`] asks the
//! OS selector (epoll on Linux) which descriptors became ready, then wakes their
//! tasks. Python has the same two layers: `selectors.DefaultSelector` (`select(timeout)`
//! returns ready keys) under `asyncio`'s `_SelectorSocketTransport` and
//! `loop.add_reader(fd, callback)` (`selector_events.py`, `_process_events`: ready
//! keys become callbacks in `_ready`). Here a ready key becomes `waker.wake()`.
//!
//! ```text
//!   task: stream.read(buf)                        reactor
//!     seen = source.events(READ)                  sources: key -> Source
//!     read(2) -> EAGAIN                             Source { events: [read, write],
//!     Source::poll_ready(READ, seen):                        wakers: [read, write] }
//!       no report since `seen`: store the waker   wait(timeout):
//!     Pending  (the task sleeps)                    epoll_wait -> [(key, readable)]
//!                                                   dispatch: events[READ] += 1,
//!     <------------------------------ waker.wake()  take the read wakers
//!     read(2) -> 42 bytes                            (woken after the lock is dropped)
//! ```
//!
//! The selector itself (`selector.rs`) is epoll written out by hand on `rustix`:
//! three system calls and an eventfd, small enough to read in one sitting.
//!
//! ## Step 4 of the loop waits here
//!
//! asyncio's `_run_once` blocks in exactly one place, `self._selector.select(timeout)`,
//! with `timeout` the time to the next timer: sockets and timers share one wait. So
//! does clearloop's loop (`src/runtime/mod.rs`, step 4):
//!
//! ```text
//!   asyncio _run_once, step 4            clearloop, step 4 (real clock)
//!   timeout = next timer - now           timeout = next timer - now
//!   events = selector.select(timeout)    take the seat; reactor.wait(timeout)
//!     (milliseconds, rounded up)           (milliseconds, rounded down; under
//!                                           1 ms left: park on the clock)
//!   _process_events(events)                -> waker.wake() on this thread:
//!     -> callbacks into _ready                straight into the ready queue
//!   another thread: call_soon_threadsafe another thread: channel, then
//!     -> write to the self-pipe            reactor.notify() (the eventfd)
//!                                          if the loop sits in the selector,
//!                                          else Thread::unpark
//! ```
//!
//! **One reactor per process, driven by whichever loop waits.** Sockets are made
//! anywhere (inside a runtime, before one, on worker threads) and may move between
//! runtimes, so the reactor stays global and the *driving* moves: a loop on the
//! real clock that reaches step 4 takes the *seat* and waits on the selector itself,
//! as smol's `async-io` lets whichever `block_on` blocks drive its global reactor.
//! Only one thread may sit in `epoll_wait`: a second loop that finds the seat taken
//! parks as before (its tasks are then woken across threads by the one that sits),
//! and is unparked when the seat frees. A loop that never created a socket never
//! creates the reactor, and parks on its clock as before.
//!
//! **The fallback thread.** `clearloop-reactor` (the whole driver in stage 1) now
//! drives the selector only when no loop does: while no single-threaded loop runs
//! (sockets used from `Builder::worker_threads(n)`, whose workers park on their own
//! and are woken across threads; or outside any runtime), and when the loops have
//! all been busy running tasks for [`FALLBACK_PATIENCE`] (10 ms) without anybody
//! waiting on the selector, so that readiness is never left unread. A loop that
//! then reaches step 4 asks for the seat back with [`Reactor::notify`]. While a loop
//! drives, the fallback thread looks every 10 ms and sleeps again: no busy-wait
//! (the idle-server CPU test in `tests/net_resources.rs`). The seat, the bench of
//! parked loops and the fallback thread's rules are in `src/reactor/seat.rs`.
//!
//! **A virtual clock** keeps stage 1's rule: its loop parks on the clock (which
//! jumps only after [`IO_GRACE`] of network quiet) and the fallback thread, or a
//! loop on the real clock, dispatches its readiness across threads.
//!
//! ## Edge-triggered readiness, and what it costs
//!
//! There are three ways to ask the kernel about readiness:
//!
//! * **level-triggered** (`select`, `poll`, plain epoll; asyncio's `add_reader`): the
//!   descriptor is reported on *every* wait for as long as it is readable. Simple, but
//!   a descriptor that nobody reads right now is reported again and again, so asyncio
//!   removes the reader (`remove_reader`) when a transport pauses: one `epoll_ctl`
//!   each time;
//! * **oneshot** (`EPOLLONESHOT`; smol): reported once, then disarmed until re-armed
//!   with `epoll_ctl(MOD)`: one `epoll_ctl` every time a task starts waiting;
//! * **edge-triggered** (`EPOLLET`; tokio, and clearloop): reported once per *change*
//!   to ready. Registered once, for both directions, and never touched again until
//!   it is closed.
//!
//! clearloop is edge-triggered, because it is the one that costs no system call per
//! wait: an echo round trip is then two `send`, four `recv` (two of which find
//! nothing) and two `epoll_wait`, where the oneshot version of this module also
//! made six `epoll_ctl` (measured with `strace -c`; the selector crate it used added
//! a `timerfd_settime` and an eventfd read per wait). What edge-triggering asks in
//! return is memory: the kernel will not say "readable" twice, so a [`Source`] counts
//! the reports per direction, and a task waits only if no report came since it last
//! tried (`source.rs` draws the race this closes).
//!
//! ## Virtual time
//!
//! A task that waits here waits on the real world, so on an auto-advance virtual
//! clock the loop must not jump past a read that the kernel is about to complete. The
//! rule lives in [`clock`](crate::clock) ("Tasks waiting on I/O"): while a task waits
//! in the reactor, time jumps only once the network has been quiet (no new wait, no
//! event, no write or close) for [`IO_GRACE`] of real time. The reactor reports each
//! of those moments to the clock of the task's runtime; on the real clock that is one
//! thread-local read.
//!
//! ```
//! use clearloop::net::{TcpListener, TcpStream};
//! use clearloop::reactor::Reactor;
//!
//! clearloop::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let client = clearloop::spawn(async move {
//!         let mut stream = TcpStream::connect(addr).await.unwrap();
//!         stream.write_all(b"ping").await.unwrap();
//!     });
//!     let (mut stream, _) = listener.accept().await.unwrap();
//!     let mut buf = [0; 4];
//!     stream.read_exact(&mut buf).await.unwrap(); // waits in the reactor
//!     assert_eq!(&buf, b"ping");
//!     client.await;
//!     // Each socket is a source of the reactor until it is dropped.
//!     assert!(Reactor::global().unwrap().registered() >= 2);
//! });
//! ```

#![cfg(target_os = "linux")]

use std::io;
use std::os::fd::BorrowedFd;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::Waker;
use std::time::Duration;

use crate::panics::lock;

mod registered;
mod seat;
mod selector;
mod source;

pub use registered::Registered;
pub(crate) use seat::{LoopRunning, SeatTaken};
use selector::{Readiness, Selector};
pub use source::Source;

pub use crate::clock::IO_GRACE;
pub use seat::FALLBACK_PATIENCE;

/// The selector and the table of sources it watches (asyncio's `selectors.DefaultSelector`
/// plus the loop's `_process_events`).
///
/// Who may touch what: `sources` is locked to register, deregister and dispatch, so a
/// source cannot be deregistered while an event for it is dispatched; a [`Source`]'s
/// own waiters have their own lock, taken after `sources` when both are needed. Only
/// one thread waits at a time: the runtime's loops and the fallback thread take turns
/// through a *seat* (the module doc).
pub struct Reactor {
    selector: Selector,
    sources: Mutex<Sources>,
    /// What one wait found, and the wakers it took: kept to reuse the allocations
    /// (a round trip of an echo server is two waits).
    scratch: Mutex<Scratch>,
    /// Who waits on the selector now (a loop's step 4 or the fallback thread).
    seat: seat::Seat,
}

/// Whether step 4 should wait on the selector for a timer due at `deadline`, or
/// park on the clock. `epoll_wait` counts whole milliseconds; [`Reactor::wait`] drops
/// the fraction, so a wait ends up to 1 ms *before* the deadline, and with less than
/// 1 ms left the loop parks on its clock (microseconds) instead of selecting. A timer
/// is then never late because of the selector; readiness that comes during such a
/// short park waits in the kernel until the next turn's wait, at most 1 ms.
pub(crate) fn select_until(deadline: Option<std::time::Instant>) -> bool {
    deadline
        .is_none_or(|at| at.saturating_duration_since(std::time::Instant::now()) >= SELECT_GRAIN)
}

/// The selector's unit of time.
const SELECT_GRAIN: Duration = Duration::from_millis(1);

/// The process-wide reactor, once created.
static GLOBAL: OnceLock<Arc<Reactor>> = OnceLock::new();

/// The buffers of [`Reactor::wait`].
#[derive(Default)]
struct Scratch {
    ready: Vec<Readiness>,
    wakers: Vec<Waker>,
}

/// Registered sources by key (the key epoll gives back with each event): a slab.
#[derive(Default)]
struct Sources {
    slots: Vec<Option<Arc<Source>>>,
    /// Free slots, reused first, so keys stay small.
    free: Vec<usize>,
    live: usize,
}

impl Reactor {
    /// A reactor with its own epoll instance (and an eventfd for
    /// [`notify`](Reactor::notify)). Nobody drives it: call [`wait`](Reactor::wait).
    ///
    /// # Errors
    ///
    /// When the OS refuses an epoll instance (out of file descriptors: `EMFILE`).
    pub fn new() -> io::Result<Reactor> {
        let selector = Selector::new().map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("cannot create the reactor's selector (epoll): {error}"),
            )
        })?;
        Ok(Reactor {
            selector,
            sources: Mutex::new(Sources::default()),
            scratch: Mutex::new(Scratch::default()),
            seat: seat::Seat::default(),
        })
    }

    /// The process-wide reactor every `net` socket registers with, started on first
    /// use with its fallback driver thread, `clearloop-reactor` (see the module doc:
    /// the loops drive it themselves while they run).
    ///
    /// # Errors
    ///
    /// When the epoll instance or the thread cannot be created.
    pub fn global() -> io::Result<&'static Arc<Reactor>> {
        static STARTING: Mutex<()> = Mutex::new(());
        if let Some(reactor) = GLOBAL.get() {
            return Ok(reactor);
        }
        // One thread creates it; an error is returned (not cached), so a later call,
        // after file descriptors were freed, can try again.
        let _starting = lock(&STARTING);
        if let Some(reactor) = GLOBAL.get() {
            return Ok(reactor);
        }
        let reactor = Arc::new(Reactor::new()?);
        let driven = reactor.clone();
        let fallback = std::thread::Builder::new()
            .name("clearloop-reactor".into())
            .spawn(move || driven.drive_as_fallback())?;
        let _ = seat::FALLBACK.set(fallback.thread().clone());
        Ok(GLOBAL.get_or_init(|| reactor))
    }

    /// The process-wide reactor if some socket already created it, without
    /// creating it: a loop that never touched I/O parks as before.
    pub(crate) fn existing() -> Option<&'static Arc<Reactor>> {
        GLOBAL.get()
    }

    /// Waits until a registered source is ready, [`notify`](Reactor::notify) is
    /// called, or `timeout` passes (`None`: no limit; else counted in whole
    /// milliseconds, the fraction dropped: a loop parks the rest on its clock), then wakes the tasks waiting
    /// on the ready sources; returns how many wakers it woke (asyncio's
    /// `selector.select(timeout)` followed by `_process_events`).
    ///
    /// # Errors
    ///
    /// When `epoll_wait` fails (never for a signal: `EINTR` is retried).
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<usize> {
        let mut scratch = lock(&self.scratch);
        let Scratch { ready, wakers } = &mut *scratch;
        ready.clear();
        self.seat
            .ticks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.selector.wait(ready, timeout)?;
        let mut done = Vec::new();
        {
            let sources = lock(&self.sources);
            for readiness in ready.iter() {
                // A key whose source was deregistered meanwhile: nothing to wake.
                if let Some(Some(source)) = sources.slots.get(readiness.key) {
                    source.dispatch(*readiness, wakers, &mut done);
                }
            }
        }
        // Wake outside every lock (a woken task may run on another thread at once
        // and touch the reactor); then end the waits, which tells a virtual clock
        // that the network spoke (after the wake, so that a loop that looks at the
        // clock then finds the woken task already in its queue).
        let mut woken = std::mem::take(wakers);
        drop(scratch);
        let count = woken.len();
        woken.drain(..).for_each(Waker::wake);
        drop(done);
        lock(&self.scratch).wakers = woken; // empty, its capacity kept
        Ok(count)
    }

    /// Interrupts a [`wait`](Reactor::wait) running on another thread, or makes the
    /// next one return at once (asyncio's self-pipe, written by
    /// `call_soon_threadsafe`).
    ///
    /// # Errors
    ///
    /// When writing to the eventfd fails (it does not, short of a bug).
    pub fn notify(&self) -> io::Result<()> {
        self.selector.notify()
    }

    /// How many sources are registered now (one per open socket): a test's leak
    /// detector.
    pub fn registered(&self) -> usize {
        lock(&self.sources).live
    }

    /// Adds `fd` to the selector, watched in both directions from now on (edge-
    /// triggered: nothing more to arm when a task waits). Call
    /// [`deregister`](Reactor::deregister) before `fd` is closed ([`Registered`]
    /// does, in its `Drop`).
    pub(crate) fn register(&self, fd: BorrowedFd<'_>) -> io::Result<Arc<Source>> {
        let mut sources = lock(&self.sources);
        let key = sources.free.pop().unwrap_or(sources.slots.len());
        if let Err(error) = self.selector.add(fd, key) {
            if key < sources.slots.len() {
                sources.free.push(key); // taken from the free list: give it back
            }
            return Err(error);
        }
        let source = Arc::new(Source::new(key));
        if key == sources.slots.len() {
            sources.slots.push(Some(source.clone()));
        } else {
            sources.slots[key] = Some(source.clone());
        }
        sources.live += 1;
        Ok(source)
    }

    /// Removes `source` (whose descriptor is `fd`) from the selector and drops the
    /// wakers still stored in it: after this, no event names it. Call it before the
    /// descriptor is closed.
    pub(crate) fn deregister(&self, source: &Source, fd: BorrowedFd<'_>) {
        let waits = {
            let mut sources = lock(&self.sources);
            // Fails only if the descriptor is not registered, which `Registered`
            // rules out; nothing useful to do about it in a `Drop` anyway.
            let _ = self.selector.delete(fd);
            if let Some(slot) = sources.slots.get_mut(source.key)
                && slot.take().is_some()
            {
                sources.free.push(source.key);
                sources.live -= 1;
            }
            source.clear()
        };
        // The waits end outside the locks (the clock has its own).
        drop(waits);
    }

    /// A task just wrote to a socket, connected or closed one: a peer may be about
    /// to be woken. On an auto-advance clock, the network's quiet starts again (the
    /// `clock` module's I/O rule); elsewhere nothing but a thread-local read.
    pub(crate) fn note_activity(&self) {
        let _ =
            crate::runtime::with_current_scheduler("a socket operation", |s| s.clock.io_activity());
    }
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reactor")
            .field("registered", &self.registered())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::select_until;

    #[test]
    fn under_a_millisecond_left_the_loop_parks_instead_of_selecting() {
        let now = Instant::now();
        assert!(select_until(None), "no timer: wait on the selector");
        assert!(select_until(Some(now + Duration::from_secs(3600))));
        // Already due, or due before epoll's first whole millisecond: park.
        assert!(!select_until(Some(now)));
        assert!(!select_until(Some(now - Duration::from_secs(1))));
    }
}
