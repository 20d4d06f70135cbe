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
//! The selector itself (`selector/`) is epoll written out by hand on `rustix`: three
//! system calls and an eventfd, small enough to read in one sitting. Beside it sits
//! the portable `poll(2)` selector (Python's `PollSelector`), level-triggered, which
//! `CLEARLOOP_SELECTOR=poll` chooses; and on Windows, IOCP with the AFD poll through
//! the `polling` crate, oneshot (`selector/windows.rs`); `selector/mod.rs` draws them
//! side by side.
//!
//! ## One selector per loop, and the loop looks at it itself
//!
//! asyncio gives each event loop its own selector, and `_run_once` looks at it on
//! every turn: `select(timeout)` when nothing is ready, `select(0)` when callbacks
//! are. clearloop follows it. Each runtime on the real clock owns one reactor, made
//! at its first wait on I/O (`owner.rs`), and **the thread that runs the loop is the
//! one that waits on it**. Readiness is then never left for somebody else's patience:
//!
//! ```text
//!   single-threaded loop                      n workers
//!   ------------------------------------      -------------------------------------
//!   step 4, nothing ready:                    a worker with nothing to do parks; the
//!     wait(until the next timer)                first one is the *driver*: it waits
//!     readiness wakes tasks here, on the        in wait(until the next timer); the
//!     loop's thread                             reactor's creation unparks it, so it
//!   tasks stay ready (a task that yields,       moves there at once
//!   a busy server):                           busy workers: every 61st turn one
//!     every 61 polls, look without waiting      looks without waiting, unless the
//!     (wait(0)), so a socket is heard even      driver sits there
//!     while the ready queue never empties
//!   another thread's wake: notify()           a push to the driver: notify()
//!     (the eventfd: asyncio's self-pipe)
//! ```
//!
//! Only one thread is in `epoll_wait` on a reactor at a time: [`Reactor::wait`]
//! holds the reactor's scratch buffers for the whole wait, and a look without
//! waiting takes them only if they are free (somebody who waits will see the same
//! events).
//!
//! Why every 61 polls and not every turn as asyncio does: a look is one system call
//! (about half a microsecond), and a turn of a loop whose two tasks ping-pong a
//! message costs less than that: looking every turn would double it. Every 61 polls
//! costs under 1 % there, and bounds how long a ready socket goes unheard to 61
//! polls, as tokio's `event_interval` does (61, a prime, so that it does not beat
//! with a workload's own cycle). A runtime whose tasks never wait on I/O has no
//! reactor, and never looks.
//!
//! **Sockets, and who owns them.** A socket belongs to the reactor of the runtime
//! whose task last waited on it (`source.rs` draws its *home*): made before the
//! runtime, or moved between runtimes, it follows its waiters. A runtime that shuts
//! down wakes the tasks of other runtimes still waiting on its sources, so that each
//! waits again at its own home. Two more cases have no loop to wait for them: a
//! socket polled outside any runtime, and the tasks of a runtime on a **virtual**
//! clock, whose loop sleeps on the clock (see below). Those go to the process's I/O
//! thread, `clearloop-io`, which waits on its own reactor with no timeout
//! (`io_thread.rs`).

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
//!     // The sockets that waited are sources of a reactor until they are dropped.
//!     assert!(clearloop::reactor::sources() >= 1);
//! });
//! assert_eq!(clearloop::reactor::sources(), 0);
//! ```

#![cfg(any(unix, windows))]

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, TryLockError};
use std::task::Waker;
use std::time::Duration;

use crate::panics::lock;

mod io_thread;
mod owner;
mod registered;
mod selector;
mod source;
mod sys;

pub(crate) use owner::{Lent, OwnReactor, Owner, lend};
pub use registered::Registered;
use selector::{Interest, Readiness, Selector};
pub use selector::{Kind as SelectorKind, kind as selector_kind};
pub use source::Source;
#[cfg(windows)]
pub use sys::{AsSource, BorrowedSource};
use sys::{BorrowedSource as Borrowed, RawSource};

pub use crate::clock::IO_GRACE;

/// The selector and the table of sources it watches (asyncio's `selectors.DefaultSelector`
/// plus the loop's `_process_events`).
///
/// Who may touch what: `sources` is locked to register, deregister and dispatch; a
/// [`Source`]'s own waiters have their own lock, taken after `sources` when both are
/// needed. `scratch` is held for a whole [`wait`](Reactor::wait): it is the *seat*,
/// so only one thread at a time waits on the selector.
pub struct Reactor {
    selector: Selector,
    sources: Mutex<Sources>,
    /// What one wait found, and the wakers it took: kept to reuse the allocations
    /// (a round trip of an echo server is two waits). Held during a wait.
    scratch: Mutex<Scratch>,
    /// Wakers woken by this reactor's waits so far (a test's way to see who heard
    /// a socket: the runtime's own loop, or the I/O thread).
    woken: AtomicU64,
    /// A thread sits in the selector now (or is about to): a level-triggered
    /// selector must be interrupted when a task starts waiting on a direction its
    /// list does not have ([`interest_grew`](Reactor::interest_grew)).
    in_wait: AtomicBool,
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

/// Sources registered with any reactor of the process, now.
static SOURCES: AtomicUsize = AtomicUsize::new(0);

/// How many descriptors the reactors of this process watch now, all runtimes and the
/// I/O thread together: one per socket, pipe or child that a task has waited on and
/// that is still open. A test's leak detector.
pub fn sources() -> usize {
    SOURCES.load(Ordering::SeqCst)
}

/// The buffers of [`Reactor::wait`].
#[derive(Default)]
struct Scratch {
    ready: Vec<Readiness>,
    wakers: Vec<Waker>,
    /// What a level-triggered selector is asked about (empty for epoll).
    interests: Vec<Interest>,
}

/// Registered sources by key (the key epoll gives back with each event), with their
/// descriptors: a slab.
#[derive(Default)]
struct Sources {
    slots: Vec<Option<(Arc<Source>, RawSource)>>,
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
    /// The OS error is returned as it is, so that `raw_os_error()` gives its code: a
    /// wait that fails this way fails the read or write that waited, as any other
    /// error of that operation.
    pub fn new() -> io::Result<Reactor> {
        Ok(Reactor {
            selector: Selector::new()?,
            sources: Mutex::new(Sources::default()),
            scratch: Mutex::new(Scratch::default()),
            woken: AtomicU64::new(0),
            in_wait: AtomicBool::new(false),
        })
    }

    /// Waits until a registered source is ready, [`notify`](Reactor::notify) is
    /// called, or `timeout` passes (`None`: no limit; else counted in whole
    /// milliseconds, the fraction dropped: a loop parks the rest on its clock), then
    /// wakes the tasks waiting on the ready sources; returns how many wakers it woke
    /// (asyncio's `selector.select(timeout)` followed by `_process_events`). A
    /// second thread that calls it meanwhile waits for the first to finish.
    ///
    /// # Errors
    ///
    /// When `epoll_wait` fails (never for a signal: `EINTR` ends the wait early).
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<usize> {
        self.wait_seated(lock(&self.scratch), timeout)
    }

    /// [`wait`](Reactor::wait), unless `woken()` says there is work already, asked
    /// *after* the seat is taken. A thread that announces it is about to wait (so
    /// that others notify it) and then looks at its queues one last time must look
    /// here, not before: while it waited for the seat, a busy worker's
    /// [`look`](Reactor::look) may have taken the notification meant for it (the
    /// eventfd is emptied by whoever sees it), and the work that came with it is
    /// then only in the queues. Once the seat is ours, no look can take a later
    /// notification. Returns how many wakers it woke (0 when it did not wait).
    pub(crate) fn wait_unless(
        &self,
        timeout: Option<Duration>,
        woken: impl FnOnce() -> bool,
    ) -> io::Result<usize> {
        let scratch = lock(&self.scratch);
        if woken() {
            return Ok(0);
        }
        self.wait_seated(scratch, timeout)
    }

    /// A look without waiting (`wait` with a zero timeout), unless another thread
    /// waits on this reactor now: that one will see the same events. Returns how
    /// many wakers it woke. asyncio's `select(0)` on a turn with callbacks ready.
    pub(crate) fn look(&self) -> usize {
        let scratch = match self.scratch.try_lock() {
            Ok(scratch) => scratch,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return 0,
        };
        match self.wait_seated(scratch, Some(Duration::ZERO)) {
            Ok(woken) => woken,
            Err(error) => {
                eprintln!("clearloop: looking at the selector failed: {error}");
                0
            }
        }
    }

    /// [`wait`](Reactor::wait), the seat (`scratch`) taken.
    fn wait_seated(
        &self,
        mut scratch: std::sync::MutexGuard<'_, Scratch>,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        let Scratch {
            ready,
            wakers,
            interests,
        } = &mut *scratch;
        ready.clear();
        let level = self.selector.level_triggered();
        if level {
            // Announce the wait, *then* read who waits (the fence pairs with
            // `interest_grew`): a task that starts waiting after our read sees us
            // in the selector, and interrupts us.
            self.in_wait.store(true, Ordering::SeqCst);
            std::sync::atomic::fence(Ordering::SeqCst);
            #[cfg(unix)]
            self.collect_interests(interests);
        }
        let waited = self.selector.wait(interests, ready, timeout);
        if level {
            self.in_wait.store(false, Ordering::SeqCst);
        }
        waited?;
        let mut done = Vec::new();
        {
            let sources = lock(&self.sources);
            for readiness in ready.iter() {
                // A key whose source was deregistered meanwhile: nothing to wake.
                if let Some(Some((source, raw))) = sources.slots.get(readiness.key) {
                    // A oneshot selector (IOCP) disarmed the source: arm it again
                    // for the directions still waited on (epoll, poll: a no-op).
                    let rearm = |read, write| self.selector.arm(*raw, readiness.key, read, write);
                    source.dispatch(*readiness, wakers, &mut done, rearm);
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
        self.woken.fetch_add(count as u64, Ordering::Relaxed);
        woken.drain(..).for_each(Waker::wake);
        drop(done);
        lock(&self.scratch).wakers = woken; // empty, its capacity kept
        Ok(count)
    }

    /// The directions tasks wait on now, for a level-triggered selector.
    #[cfg(unix)]
    fn collect_interests(&self, interests: &mut Vec<Interest>) {
        interests.clear();
        let sources = lock(&self.sources);
        for (key, slot) in sources.slots.iter().enumerate() {
            if let Some((source, fd)) = slot {
                let (read, write) = source.waited_on();
                if read || write {
                    interests.push(Interest {
                        fd: *fd,
                        key,
                        read,
                        write,
                    });
                }
            }
        }
    }

    /// A task just started waiting on a direction nobody waited on: a
    /// level-triggered selector asks only about waited-on directions, so a wait in
    /// progress on another thread must start again with the new list. (epoll:
    /// never called; the descriptor is watched in both directions all along.)
    fn interest_grew(&self) {
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.in_wait.load(Ordering::SeqCst) {
            self.rouse();
        }
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

    /// [`notify`](Reactor::notify) for a waker that has nowhere to return an error:
    /// a failure is reported on standard error (it would mean a lost wake-up).
    pub(crate) fn rouse(&self) {
        if let Err(error) = self.notify() {
            eprintln!("clearloop: cannot interrupt a wait on the selector: {error}");
        }
    }

    /// How many sources this reactor watches now (one per open socket that waited
    /// here last).
    pub fn registered(&self) -> usize {
        lock(&self.sources).live
    }

    /// How many wakers this reactor's waits have woken so far.
    pub fn woken(&self) -> u64 {
        self.woken.load(Ordering::Relaxed)
    }

    /// Adds `fd` to the selector, watched in both directions from now on (edge-
    /// triggered: nothing more to arm when a task waits); returns its key. Call
    /// [`remove`](Reactor::remove) before `fd` is closed or moves elsewhere.
    fn insert(&self, source: Arc<Source>, fd: Borrowed<'_>) -> io::Result<usize> {
        let mut sources = lock(&self.sources);
        let key = sources.free.pop().unwrap_or(sources.slots.len());
        if let Err(error) = self.selector.add(fd, key) {
            if key < sources.slots.len() {
                sources.free.push(key); // taken from the free list: give it back
            }
            return Err(error);
        }
        let entry = Some((source, sys::raw(fd)));
        if key == sources.slots.len() {
            sources.slots.push(entry);
        } else {
            sources.slots[key] = entry;
        }
        sources.live += 1;
        SOURCES.fetch_add(1, Ordering::SeqCst);
        Ok(key)
    }

    /// Removes the source at `key` (whose descriptor is `fd`) from the selector:
    /// after this, no event names it.
    fn remove(&self, key: usize, fd: Borrowed<'_>) {
        let mut sources = lock(&self.sources);
        // `EPOLL_CTL_DEL` fails only for a descriptor that is not registered, which
        // the source's home rules out; if it ever did, the descriptor is about to be
        // closed or re-added elsewhere, and epoll forgets a closed one by itself.
        if let Err(error) = self.selector.delete(fd) {
            eprintln!("clearloop: removing a descriptor from the selector failed: {error}");
        }
        if let Some(slot) = sources.slots.get_mut(key)
            && slot.take().is_some()
        {
            sources.free.push(key);
            sources.live -= 1;
            SOURCES.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// The runtime that owns this reactor is shutting down: wake every task still
    /// waiting on one of its sources (tasks of other runtimes, sharing a socket), so
    /// that each waits again at its own home instead of in a selector nobody drives.
    pub(crate) fn retire(&self) {
        let sources: Vec<Arc<Source>> = lock(&self.sources)
            .slots
            .iter()
            .flatten()
            .map(|(source, _)| source.clone())
            .collect();
        for source in sources {
            source.wake_everyone();
        }
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
