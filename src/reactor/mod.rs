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
//!     read(2) -> EAGAIN                           sources: key -> Source
//!     Source::poll_ready(READ):                     Source { fd, [read, write]:
//!       store the waker, arm READ  ---------------->   wakers, armed, ready }
//!     Pending  (the task sleeps)                  wait(timeout):
//!                                                   epoll_wait -> [(key, readable)]
//!     <------------------------------ waker.wake()  dispatch: take the read wakers
//!     read(2) -> 42 bytes                            (after the lock is dropped)
//! ```
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
//! //! ## Oneshot readiness, and what it costs
//!
//! There are three ways to ask the kernel about readiness:
//!
//! * **level-triggered** (`select`, `poll`, plain epoll; asyncio's `add_reader`): the
//!   descriptor is reported on *every* wait for as long as it is readable. Simple, but
//!   a descriptor that nobody reads right now is reported again and again, so asyncio
//!   removes the reader (`remove_reader`) when a transport pauses;
//! * **edge-triggered** (`EPOLLET`; tokio, mio): reported once per *change* to ready.
//!   Registered once, never re-armed, so no `epoll_ctl` per wait; but the runtime must
//!   remember "ready" itself (tokio's `ScheduledIo` keeps readiness bits in an atomic)
//!   and forget it only when an operation returns `WouldBlock`, or it loses a wake-up;
//! * **oneshot** (`EPOLLONESHOT`; `polling`'s default, smol): reported once, then the
//!   descriptor is disarmed until re-armed with `epoll_ctl(MOD)`.
//!
//! clearloop uses **oneshot**, as smol does: the interest the kernel holds is exactly
//! "some task waits on this direction now", which reads plainly and cannot report a
//! descriptor nobody waits on. The cost is one `epoll_ctl` each time a task starts
//! waiting (a read that found no data: `read` → `EAGAIN` → `epoll_ctl` → wait →
//! `read`), where edge-triggered needs none; an operation that succeeds at once costs
//! no reactor call at all, since every operation is tried first. Arming *after* the
//! `EAGAIN` loses nothing: `epoll_ctl(MOD)` looks at the descriptor's state, so data
//! that arrived in between is reported by the next wait.
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

#![cfg(unix)]

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::Waker;
use std::time::Duration;

use polling::{Event, Events, Poller};

use crate::panics::lock;

mod registered;
mod seat;
mod source;

pub use registered::Registered;
pub(crate) use seat::{LoopRunning, SeatTaken};
pub use source::Source;
use source::{READ, WRITE};

pub use crate::clock::IO_GRACE;
pub use seat::FALLBACK_PATIENCE;

/// The selector and the table of sources it watches (asyncio's `selectors.DefaultSelector`
/// plus the loop's `_process_events`).
///
/// Who may touch what: `sources` is locked to register, deregister and dispatch, so a
/// source cannot be deregistered (and its descriptor closed) while an event for it is
/// dispatched; a [`Source`]'s own state has its own lock, taken after `sources` when
/// both are needed. Only one thread waits at a time (`polling` makes a second,
/// concurrent `wait` return at once): the runtime's loops and the fallback thread
/// take turns through a *seat* (the module doc).
pub struct Reactor {
    poller: Poller,
    sources: Mutex<Sources>,
    /// The buffer `wait` fills; kept to reuse its allocation.
    events: Mutex<Events>,
    /// Who waits on the selector now (a loop's step 4 or the fallback thread).
    seat: seat::Seat,
}

/// The process-wide reactor, once created.
static GLOBAL: OnceLock<Arc<Reactor>> = OnceLock::new();

/// Registered sources by key (the key epoll gives back with each event): a slab.
#[derive(Default)]
struct Sources {
    slots: Vec<Option<Arc<Source>>>,
    /// Free slots, reused first, so keys stay small.
    free: Vec<usize>,
    live: usize,
}

impl Reactor {
    /// A reactor with its own epoll instance (and `polling`'s eventfd for
    /// [`notify`](Reactor::notify)). Nobody drives it: call [`wait`](Reactor::wait).
    ///
    /// # Errors
    ///
    /// When the OS refuses an epoll instance (out of file descriptors: `EMFILE`).
    pub fn new() -> io::Result<Reactor> {
        let poller = Poller::new().map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("cannot create the reactor's selector (epoll): {error}"),
            )
        })?;
        Ok(Reactor {
            poller,
            sources: Mutex::new(Sources::default()),
            events: Mutex::new(Events::new()),
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
    /// called, or `timeout` passes (`None`: no limit), then wakes the tasks waiting
    /// on the ready sources; returns how many wakers it woke (asyncio's
    /// `selector.select(timeout)` followed by `_process_events`).
    ///
    /// # Errors
    ///
    /// When `epoll_wait` fails (never for a signal: `EINTR` is retried).
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<usize> {
        let mut events = lock(&self.events);
        events.clear();
        self.seat
            .ticks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.poller.wait(&mut events, timeout)?;
        let mut wakers = Vec::new();
        let mut done = Vec::new();
        {
            let sources = lock(&self.sources);
            for event in events.iter() {
                // A key whose source was deregistered meanwhile: nothing to wake.
                if let Some(Some(source)) = sources.slots.get(event.key) {
                    source.dispatch(&self.poller, event, &mut wakers, &mut done);
                }
            }
        }
        drop(events);
        let woken = wakers.len();
        // Wake outside every lock; then end the waits, which tells a virtual clock
        // that the network spoke (after the wake, so that a loop that looks at the
        // clock then finds the woken task already in its queue).
        wakers.into_iter().for_each(Waker::wake);
        drop(done);
        Ok(woken)
    }

    /// Interrupts a [`wait`](Reactor::wait) running on another thread, or makes the
    /// next one return at once (asyncio's self-pipe, written by
    /// `call_soon_threadsafe`).
    ///
    /// # Errors
    ///
    /// When writing to the eventfd fails (it does not, short of a bug).
    pub fn notify(&self) -> io::Result<()> {
        self.poller.notify()
    }

    /// How many sources are registered now (one per open socket): a test's leak
    /// detector.
    pub fn registered(&self) -> usize {
        lock(&self.sources).live
    }

    /// Adds `fd` to the selector, disarmed: nothing is reported until a task waits
    /// on it ([`Source::poll_ready`] arms it).
    ///
    /// # Safety
    ///
    /// `fd` must stay open until [`deregister`](Reactor::deregister) is called with
    /// the returned source ([`Registered`] guarantees it, in its `Drop`).
    pub(crate) unsafe fn register(&self, fd: BorrowedFd<'_>) -> io::Result<Arc<Source>> {
        let mut sources = lock(&self.sources);
        let key = sources.free.pop().unwrap_or(sources.slots.len());
        // SAFETY: the caller promises `fd` stays open until `deregister`, which
        // deletes it from the poller first (what `Poller::add` requires).
        unsafe { self.poller.add(fd.as_raw_fd(), Event::none(key))? };
        let source = Arc::new(Source::new(key, fd.as_raw_fd()));
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
            let _ = self.poller.delete(fd.as_fd());
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

    /// Re-arms `fd` for the directions that still have waiters (oneshot: any event
    /// disarms the whole descriptor).
    fn arm(poller: &Poller, key: usize, fd: BorrowedFd<'_>, read: bool, write: bool) {
        // An error here means the descriptor is gone: its owner is deregistering it.
        let _ = poller.modify(fd, Event::new(key, read, write));
    }
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reactor")
            .field("registered", &self.registered())
            .finish()
    }
}

/// The two directions a source is waited on, as indices into its state.
const DIRECTIONS: [usize; 2] = [READ, WRITE];
