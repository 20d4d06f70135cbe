//! One registered file descriptor: who waits on it, in which direction, and how
//! many times the kernel said "ready".
//!
//! The selector is edge-triggered: it reports a direction once, when it becomes
//! ready, and never again until it stopped being ready and became ready anew. So the
//! reactor must not lose a report, and must not trust an old one forever. Each
//! direction keeps an **event count**, `events`, bumped by every report. An
//! operation reads the count *before* it tries the system call; if the call says
//! "would block", the task waits only if the count has not moved since:
//!
//! ```text
//!   task                                    reactor (another thread, or later)
//!   seen = events[READ]          (7)
//!   read(2) -> EAGAIN
//!                                           event (key, readable): events[READ] = 8,
//!                                           take READ's wakers (none yet)
//!   poll_ready(READ, seen = 7):
//!     events[READ] is 8, not 7: data came after our try: Ready, try again
//!   read(2) -> 42 bytes
//!   seen = events[READ]          (8)
//!   read(2) -> EAGAIN
//!   poll_ready(READ, seen = 8): unchanged: store the waker, Pending
//!                                           event: events[READ] = 9, wake the task
//! ```
//!
//! The comparison and the bump both happen under the source's lock, so one of the
//! two always sees the other: either the task sees the new count and retries, or the
//! reactor finds the waker and wakes it. No wake-up is lost, and no `epoll_ctl` runs
//! per wait. tokio keeps the same idea in its `ScheduledIo` (a "tick" beside the
//! readiness bits); asyncio does not need it, being level-triggered: its selector
//! reports a readable socket on every `select()` until the data is read.
//!
//! ## Which reactor watches it: the *home*
//!
//! Every runtime on the real clock has a reactor of its own (asyncio: every loop
//! has its selector), and a socket is watched by the reactor of the runtime whose
//! task last *waited* on it: its home. A socket is made anywhere (`bind` before
//! `run`, in one runtime and awaited in another), so the home is chosen late, at
//! the first wait, and moves when a task of another runtime waits on it:
//!
//! ```text
//!   Registered::new(socket)          home: none        (no epoll_ctl yet: a socket
//!                                                       that never waits never costs one)
//!   a task of runtime A waits        home: A's reactor  epoll_ctl(ADD) on A's epoll
//!   a task of runtime B waits        home: B's reactor  DEL from A's, ADD to B's; the
//!                                                       wakers stored stay, and B's
//!                                                       reactor wakes them
//!   runtime A shuts down             A wakes every task still waiting on a source at
//!                                    home there: each waits again, at its own home
//!   the socket is dropped            DEL from its home
//! ```
//!
//! `epoll_ctl(ADD)` reports a direction that is *already* ready as a first edge,
//! so nothing that happened before the move is lost.

use std::io;
#[cfg(unix)]
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::Reactor;
use super::owner;
use super::selector::Readiness;
use super::sys::{self, BorrowedSource};
use crate::clock::IoWait;
use crate::panics::lock;

/// Index of the read direction in a source's state.
pub(super) const READ: usize = 0;
/// Index of the write direction.
pub(super) const WRITE: usize = 1;

/// A file descriptor registered with a [`Reactor`], and the tasks
/// waiting on it (the `SelectorKey` of Python's `selectors`, whose `data` holds
/// asyncio's reader and writer callbacks). Made by
/// [`Registered::new`](super::Registered::new).
pub struct Source {
    /// The reactor that watches this descriptor now, and the key it reports it by
    /// (`None` until a task first waits on it). Locked only to move it.
    home: Mutex<Option<Home>>,
    /// The address of `home`'s reactor (0: none), read without the lock on every
    /// wait: only a wait from another runtime than the home's takes the lock.
    home_address: AtomicUsize,
    /// The key of this source in its home reactor (valid while `home_address` is
    /// not 0): what a oneshot selector is armed with.
    home_key: AtomicUsize,
    /// Reports received so far, per direction: read before every try (one atomic
    /// load), bumped under `waiting`'s lock.
    events: [AtomicU64; 2],
    /// Per direction, the event count at which a stream's read found the socket
    /// empty, or its write found it full (a short read or write): until the count
    /// moves, trying again would only get `WouldBlock`. `u64::MAX`: not known.
    exhausted: [AtomicU64; 2],
    /// The peer closed, or the socket failed: the shortcut above no longer holds
    /// (a read that emptied the buffer is followed by the end of stream, which the
    /// kernel reported already and will not report again).
    closed: AtomicBool,
    /// The tasks waiting, per direction.
    waiting: Mutex<[Direction; 2]>,
}

/// Where a source is registered: its reactor, and its key there.
struct Home {
    reactor: Arc<Reactor>,
    key: usize,
}

/// The waiters of one direction (read or write) of a source.
#[derive(Default)]
struct Direction {
    /// The tasks waiting for this direction. Usually one (a read half, a write half);
    /// several if tasks share a socket. All are woken by a report.
    wakers: Vec<Waker>,
    /// The wait, as the virtual clock counts it, while `wakers` is not empty.
    io_wait: Option<IoWait>,
}

impl Source {
    pub(super) fn new() -> Source {
        Source {
            home: Mutex::new(None),
            home_address: AtomicUsize::new(0),
            home_key: AtomicUsize::new(usize::MAX),
            events: Default::default(),
            exhausted: [AtomicU64::new(u64::MAX), AtomicU64::new(u64::MAX)],
            closed: AtomicBool::new(false),
            waiting: Mutex::new(Default::default()),
        }
    }

    /// The direction's event count now: read it before trying an operation, and
    /// give it to [`poll_ready`](Source::poll_ready) if the operation would block.
    pub(super) fn events(&self, direction: usize) -> u64 {
        self.events[direction].load(Ordering::Acquire)
    }

    /// Whether the direction is known empty (read) or full (write) since the count
    /// `seen`: see [`set_exhausted`](Source::set_exhausted).
    pub(super) fn is_exhausted(&self, direction: usize, seen: u64) -> bool {
        self.exhausted[direction].load(Ordering::Relaxed) == seen
            && !self.closed.load(Ordering::Acquire)
    }

    /// A stream's read (write) tried at count `seen` moved fewer bytes than asked:
    /// the socket's buffer was empty (full) after it, so the next try may skip the
    /// system call and wait for the next report (tokio does the same).
    pub(super) fn set_exhausted(&self, direction: usize, seen: u64) {
        self.exhausted[direction].store(seen, Ordering::Relaxed);
    }

    /// After an operation found nothing to do: `Ready` if the direction was reported
    /// since `seen` was read (try again), else stores the task's waker and returns
    /// `Pending` (asyncio's `add_reader` / `add_writer`). First the source moves to
    /// the reactor of the runtime running here, if it is not there already (the
    /// module doc's *home*); `fd` is its descriptor. That can fail (no descriptor
    /// left for a new epoll instance): the error is the operation's.
    pub(super) fn poll_ready(
        self: &Arc<Self>,
        direction: usize,
        seen: u64,
        fd: BorrowedSource<'_>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let waited = owner::with_reactor(|reactor| {
            self.settle_in(reactor, fd)?;
            let mut waiting = lock(&self.waiting);
            if self.events[direction].load(Ordering::Acquire) != seen {
                return Ok(Poll::Ready(()));
            }
            let wait = &mut waiting[direction];
            let first = wait.wakers.is_empty();
            if !wait.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                wait.wakers.push(cx.waker().clone());
            }
            if wait.io_wait.is_none() {
                // A task of a runtime on an auto-advance clock waits on the real
                // world: virtual time listens before it jumps (the `clock` module's
                // I/O rule).
                wait.io_wait = owner::start_io_wait();
            }
            if reactor.selector.oneshot() {
                // Under the lock, as `dispatch` re-arms: the last arm made names
                // every direction waited on (`selector/windows.rs`).
                let (read, write) = (
                    !waiting[READ].wakers.is_empty(),
                    !waiting[WRITE].wakers.is_empty(),
                );
                let key = self.home_key.load(Ordering::Acquire);
                reactor.selector.arm(sys::raw(fd), key, read, write)?;
            }
            drop(waiting);
            // What the task waits on, for a deadlock report: this descriptor; and
            // the trace draws the wait as I/O, on what `fd` is (its address). Both
            // name a Unix descriptor; on Windows the report says "something the
            // runtime cannot name" and the trace draws no I/O wait yet.
            #[cfg(unix)]
            {
                crate::task::wait::on_descriptor(fd.as_raw_fd(), direction == READ);
                if crate::trace::enabled() {
                    crate::trace::hooks::io_waiting(fd.as_raw_fd(), direction == READ);
                }
            }
            if first && reactor.selector.level_triggered() {
                reactor.interest_grew();
            }
            Ok(Poll::Pending)
        });
        match waited {
            Ok(Poll::Ready(())) => Poll::Ready(Ok(())),
            Ok(Poll::Pending) => Poll::Pending,
            Err(error) => Poll::Ready(Err(error)),
        }
    }

    /// Which directions tasks wait on now (read, write): what a level-triggered
    /// selector asks about (`poll(2)`, Unix only).
    #[cfg(unix)]
    pub(super) fn waited_on(&self) -> (bool, bool) {
        let waiting = lock(&self.waiting);
        (
            !waiting[READ].wakers.is_empty(),
            !waiting[WRITE].wakers.is_empty(),
        )
    }

    /// Makes `reactor` this source's home: registers it there, after leaving its old
    /// home if it had one. One atomic load when it is home already.
    fn settle_in(
        self: &Arc<Self>,
        reactor: &Arc<Reactor>,
        fd: BorrowedSource<'_>,
    ) -> io::Result<()> {
        let address = Arc::as_ptr(reactor) as usize;
        if self.home_address.load(Ordering::Acquire) == address {
            return Ok(());
        }
        let mut home = lock(&self.home);
        if let Some(old) = home.take() {
            old.reactor.remove(old.key, fd);
        }
        self.home_address.store(0, Ordering::Release);
        let key = reactor.insert(self.clone(), fd)?;
        self.home_key.store(key, Ordering::Release);
        *home = Some(Home {
            reactor: reactor.clone(),
            key,
        });
        self.home_address.store(address, Ordering::Release);
        Ok(())
    }

    /// Leaves the home reactor for good (the descriptor is about to be closed) and
    /// drops the wakers still stored; returns the I/O waits for the caller to end
    /// (drop) outside the locks.
    pub(super) fn leave_home(&self, fd: BorrowedSource<'_>) -> Vec<IoWait> {
        if let Some(old) = lock(&self.home).take() {
            old.reactor.remove(old.key, fd);
        }
        self.home_address.store(0, Ordering::Release);
        self.clear()
    }

    /// A report for this source: bump the reported directions' counts and take their
    /// wakers (woken by the caller, outside every lock). `rearm(read, write)` is
    /// then called, under the source's lock, with the directions still waited on,
    /// if any: a oneshot selector was disarmed by the report (epoll and poll need
    /// nothing). If it fails, every waiter is woken instead, to try again and arm
    /// the source itself, where the error reaches its operation.
    pub(super) fn dispatch(
        &self,
        readiness: Readiness,
        wakers: &mut Vec<Waker>,
        done: &mut Vec<IoWait>,
        rearm: impl FnOnce(bool, bool) -> io::Result<()>,
    ) {
        let mut waiting = lock(&self.waiting);
        if readiness.closed {
            self.closed.store(true, Ordering::Release);
        }
        self.fire(
            [readiness.readable, readiness.writable],
            &mut waiting,
            wakers,
            done,
        );
        let (read, write) = (
            !waiting[READ].wakers.is_empty(),
            !waiting[WRITE].wakers.is_empty(),
        );
        if (read || write) && rearm(read, write).is_err() {
            self.fire([read, write], &mut waiting, wakers, done);
        }
    }

    /// Bumps the counts of the `fired` directions and takes their wakers.
    fn fire(
        &self,
        fired: [bool; 2],
        waiting: &mut [Direction; 2],
        wakers: &mut Vec<Waker>,
        done: &mut Vec<IoWait>,
    ) {
        for (direction, wait) in waiting.iter_mut().enumerate() {
            if fired[direction] {
                self.events[direction].fetch_add(1, Ordering::AcqRel);
                wakers.append(&mut wait.wakers);
                done.extend(wait.io_wait.take());
            }
        }
    }

    /// A report of "readable" that did not come from the kernel (see
    /// [`Registered::wake_readers`](super::Registered::wake_readers)).
    #[cfg(unix)]
    pub(super) fn report_readable(&self) {
        let readiness = Readiness {
            key: usize::MAX, // not looked up: the source is known
            readable: true,
            writable: false,
            closed: false,
        };
        let (mut wakers, mut done) = (Vec::new(), Vec::new());
        // Read wakers only: the write waiters keep what was armed for them.
        self.dispatch(readiness, &mut wakers, &mut done, |_, _| Ok(()));
        wakers.into_iter().for_each(Waker::wake);
        drop(done);
    }

    /// Wakes every task waiting on this source, in both directions, as a report
    /// would (its home reactor is going away: each waits again at its own home).
    pub(super) fn wake_everyone(&self) {
        let readiness = Readiness {
            key: usize::MAX,
            readable: true,
            writable: true,
            closed: false,
        };
        let (mut wakers, mut done) = (Vec::new(), Vec::new());
        // Nobody is left waiting, so nothing to re-arm.
        self.dispatch(readiness, &mut wakers, &mut done, |_, _| Ok(()));
        wakers.into_iter().for_each(Waker::wake);
        drop(done);
    }

    /// Empties both directions (the source is being deregistered); returns the I/O
    /// waits for the caller to end (drop) outside the locks.
    fn clear(&self) -> Vec<IoWait> {
        let mut waiting = lock(&self.waiting);
        let mut waits = Vec::new();
        for wait in waiting.iter_mut() {
            wait.wakers.clear();
            waits.extend(wait.io_wait.take());
        }
        waits
    }

    /// How many tasks wait on this source, reading and writing.
    pub fn waiters(&self) -> (usize, usize) {
        let waiting = lock(&self.waiting);
        (waiting[READ].wakers.len(), waiting[WRITE].wakers.len())
    }
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (readers, writers) = self.waiters();
        f.debug_struct("Source")
            .field("home", &(self.home_address.load(Ordering::Relaxed) != 0))
            .field("readers", &readers)
            .field("writers", &writers)
            .finish()
    }
}
