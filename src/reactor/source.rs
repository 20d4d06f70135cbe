//! One registered file descriptor: who waits on it, in which direction.
//!
//! ```text
//!   Source { key, fd }
//!     [READ]  wakers: [task A]   armed: yes   ready: no    io_wait: counted (virtual)
//!     [WRITE] wakers: []         armed: no    ready: no    io_wait: none
//!   event (key, readable) -> take READ's wakers, ready = yes, disarm all,
//!                            re-arm WRITE if someone waits there (oneshot)
//! ```

use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use polling::{Event, Poller};

use super::{DIRECTIONS, Reactor};
use crate::clock::IoWait;
use crate::panics::lock;

/// Index of the read direction in a source's state.
pub(super) const READ: usize = 0;
/// Index of the write direction.
pub(super) const WRITE: usize = 1;

/// A file descriptor registered with a [`Reactor`], and the tasks waiting on it (the
/// `SelectorKey` of Python's `selectors`, whose `data` holds asyncio's reader and
/// writer callbacks). Made by [`Registered::new`](super::Registered::new).
pub struct Source {
    /// The key epoll reports with each event of this descriptor.
    pub(super) key: usize,
    fd: RawFd,
    state: Mutex<[Direction; 2]>,
}

/// One direction (read or write) of a source.
#[derive(Default)]
struct Direction {
    /// The tasks waiting for this direction. Usually one (a read half, a write half);
    /// several if tasks share a socket. All are woken by an event.
    wakers: Vec<Waker>,
    /// Whether the kernel will report this direction: set when a waiter arms it,
    /// cleared by any event (oneshot disarms the whole descriptor).
    armed: bool,
    /// An event came since a waiter last looked: the next `poll_ready` is `Ready` at
    /// once. May be stale (the data was read since): the operation is then retried,
    /// finds `WouldBlock`, and waits again; a stale flag costs one try, never a hang.
    ready: bool,
    /// The wait, as the virtual clock counts it, while `wakers` is not empty.
    io_wait: Option<IoWait>,
}

impl Source {
    pub(super) fn new(key: usize, fd: RawFd) -> Source {
        Source {
            key,
            fd,
            state: Mutex::new(Default::default()),
        }
    }

    /// `Ready` if the direction (`READ` or `WRITE`) was reported ready since the last
    /// call; else stores the task's waker, arms the direction in the kernel if it was
    /// not, and returns `Pending` (asyncio's `add_reader` / `add_writer`).
    pub(super) fn poll_ready(
        &self,
        reactor: &Reactor,
        fd: BorrowedFd<'_>,
        direction: usize,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let mut state = lock(&self.state);
        let wait = &mut state[direction];
        if wait.ready {
            wait.ready = false;
            return Poll::Ready(Ok(()));
        }
        if !wait.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            wait.wakers.push(cx.waker().clone());
        }
        if wait.io_wait.is_none() {
            // A task of a runtime on an auto-advance clock waits on the real world:
            // virtual time listens before it jumps (the `clock` module's I/O rule).
            wait.io_wait =
                crate::runtime::with_current_scheduler("an I/O wait", |s| s.clock.start_io_wait())
                    .ok()
                    .flatten();
        }
        if !wait.armed {
            wait.armed = true;
            let (read, write) = (state[READ].armed, state[WRITE].armed);
            // Under the state lock, so two directions armed at once from two threads
            // cannot leave the kernel with only one of them.
            if let Err(error) = reactor.poller.modify(fd, Event::new(self.key, read, write)) {
                state[direction].armed = false;
                return Poll::Ready(Err(error));
            }
        }
        Poll::Pending
    }

    /// An event for this source: take the wakers of the directions it reports, and
    /// re-arm the others that still have waiters. Called under the reactor's
    /// `sources` lock, so the descriptor is still open.
    pub(super) fn dispatch(
        &self,
        poller: &Poller,
        event: Event,
        wakers: &mut Vec<Waker>,
        done: &mut Vec<IoWait>,
    ) {
        let mut state = lock(&self.state);
        let fired = [event.readable, event.writable];
        for direction in DIRECTIONS {
            let wait = &mut state[direction];
            wait.armed = false;
            if fired[direction] {
                wait.ready = true;
                wakers.append(&mut wait.wakers);
                done.extend(wait.io_wait.take());
            }
        }
        let (read, write) = (
            !state[READ].wakers.is_empty(),
            !state[WRITE].wakers.is_empty(),
        );
        if read || write {
            state[READ].armed = read;
            state[WRITE].armed = write;
            // SAFETY: we run under the reactor's `sources` lock and this source is
            // still in its table; `deregister` removes it under the same lock before
            // its owner closes the descriptor, so `fd` is open for this whole call.
            let fd = unsafe { BorrowedFd::borrow_raw(self.fd) };
            Reactor::arm(poller, self.key, fd, read, write);
        }
    }

    /// Empties both directions (the source is being deregistered); returns the I/O
    /// waits for the caller to end (drop) outside the locks.
    pub(super) fn clear(&self) -> Vec<IoWait> {
        let mut state = lock(&self.state);
        let mut waits = Vec::new();
        for wait in state.iter_mut() {
            wait.wakers.clear();
            wait.armed = false;
            waits.extend(wait.io_wait.take());
        }
        waits
    }

    /// How many tasks wait on this source, reading and writing.
    pub fn waiters(&self) -> (usize, usize) {
        let state = lock(&self.state);
        (state[READ].wakers.len(), state[WRITE].wakers.len())
    }
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (readers, writers) = self.waiters();
        f.debug_struct("Source")
            .field("key", &self.key)
            .field("fd", &self.fd)
            .field("readers", &readers)
            .field("writers", &writers)
            .finish()
    }
}
