//! Windows: IOCP and the AFD poll, through the `polling` crate, oneshot (what smol,
//! wepoll and libuv do; Python's `selectors` on Windows has only `SelectSelector`).
//!
//! Windows has no epoll: its scalable mechanism, the I/O completion port (IOCP),
//! reports *completions* ("this read has finished"), not readiness ("a read would
//! not block now"). asyncio's `ProactorEventLoop` embraces that model and is a
//! second loop design. The readiness model can be had on Windows too, through the
//! driver behind every socket, AFD: an `IOCTL_AFD_POLL` request asks "tell me when
//! this socket is readable or writable", and completes on the port when it is. That
//! ioctl is not documented; wepoll, libuv, mio and `polling` use it as Windows'
//! own `WSAPoll` does underneath. `polling` wraps it behind the same calls as the
//! other selectors:
//!
//! ```text
//!   Poller::new()                         CreateIoCompletionPort (+ a \Device\Afd handle per 32 sockets)
//!   add(socket, key, nothing, Oneshot)    once per socket, at its first wait
//!   modify(socket, key, read/write)       arm: one AFD poll request, completed on the port
//!                                         when a direction asked for is ready; then disarmed
//!   add_waitable(process handle, key)     a thread-pool wait that posts to the port when the
//!                                         process exits (a child's exit, `process/exit.rs`)
//!   wait(timeout) -> [(key, flags)]       GetQueuedCompletionStatusEx
//!   notify()                              PostQueuedCompletionStatus: a packet of our own
//!                                         (no eventfd, no self-pipe)
//! ```
//!
//! **Oneshot.** An AFD poll is one request: it completes once and must be issued
//! again to hear more, which `polling` exposes as oneshot mode (edge mode is not
//! offered on Windows). So the reactor *arms* a source with the directions tasks
//! wait on when a task starts waiting, and again, after each report, with the
//! directions still waited on (`Source::poll_ready` and `Source::dispatch`): the
//! rule of the level-triggered `poll.rs` (ask only about waited-on directions), one
//! source at a time instead of the whole list per wait. A ready socket nobody waits
//! on is not asked about, so it cannot make the loop spin; a direction armed is
//! reported even if it was ready already, so no edge is missed. An arm made while
//! another thread waits is sent to the driver at once (`polling` issues the ioctl
//! from the calling thread): no need to interrupt the wait.
//!
//! The timeout is whole milliseconds, as epoll's: the fraction is dropped here (the
//! loop parks it on its clock, `select_until`), where `polling` would round it up.

use std::io;
use std::os::windows::io::{AsRawHandle, AsRawSocket, BorrowedHandle, BorrowedSocket};
use std::sync::Mutex;
use std::time::Duration;

use polling::os::iocp::PollerIocpExt;
use polling::{Event, Events, PollMode, Poller};

use super::Readiness;
use crate::panics::lock;
use crate::reactor::sys::{BorrowedSource, RawSource};

/// Never made: a oneshot selector is armed source by source ([`Iocp::arm`]), never
/// handed a list of interests as `poll(2)` is.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Interest {}

/// A `polling` poller (an I/O completion port) and the buffer its waits fill.
pub(crate) struct Iocp {
    poller: Poller,
    /// Only the thread in the seat (`Reactor::wait`) waits, so this lock is never
    /// contended; it makes the buffer, which `polling` keeps `!Sync`, shareable.
    events: Mutex<Events>,
}

impl Iocp {
    pub(super) fn new() -> io::Result<Iocp> {
        Ok(Iocp {
            poller: Poller::new()?,
            events: Mutex::new(Events::new()),
        })
    }

    /// Registers `source` under `key`, armed for nothing yet ([`arm`](Iocp::arm)).
    pub(super) fn add(&self, source: BorrowedSource<'_>, key: usize) -> io::Result<()> {
        let nothing = Event::none(key);
        match source {
            // SAFETY: `polling` requires the socket to be deleted from the poller
            // before it is closed: the reactor deletes every source before its owner
            // closes it (`Registered`'s `Drop` calls `Source::leave_home` first).
            BorrowedSource::Socket(socket) => unsafe {
                self.poller
                    .add_with_mode(socket.as_raw_socket(), nothing, PollMode::Oneshot)
            },
            // SAFETY: as above, for the handle (the child's exit handle is removed
            // before it is closed, by the same `Drop`).
            BorrowedSource::Waitable(handle) => unsafe {
                self.poller
                    .add_waitable(handle.as_raw_handle(), nothing, PollMode::Oneshot)
            },
        }
    }

    /// Stops watching `source`, before it is closed.
    pub(super) fn delete(&self, source: BorrowedSource<'_>) -> io::Result<()> {
        match source {
            BorrowedSource::Socket(socket) => self.poller.delete(socket),
            BorrowedSource::Waitable(handle) => self.poller.remove_waitable(handle),
        }
    }

    /// Asks for one report when `read` or `write` (as asked) is ready; replaces
    /// what was asked before. A waitable is only ever "readable" (signalled).
    pub(super) fn arm(
        &self,
        source: RawSource,
        key: usize,
        read: bool,
        write: bool,
    ) -> io::Result<()> {
        let mut interest = Event::none(key);
        interest.readable = read;
        interest.writable = write;
        match source {
            RawSource::Socket(raw) => {
                // SAFETY: the reactor arms a source only while it is registered:
                // from a task's wait (the socket's owner is borrowed meanwhile, so
                // it cannot close it) or from `dispatch` under the reactor's table
                // lock (which the owner's `Drop` takes to delete it before closing).
                let socket = unsafe { BorrowedSocket::borrow_raw(raw) };
                self.poller
                    .modify_with_mode(socket, interest, PollMode::Oneshot)
            }
            RawSource::Waitable(raw) => {
                // SAFETY: as for a socket above.
                let handle = unsafe { BorrowedHandle::borrow_raw(raw as _) };
                self.poller
                    .modify_waitable(handle, interest, PollMode::Oneshot)
            }
        }
    }

    /// Waits until an armed direction is ready, [`notify`](Iocp::notify) is called,
    /// or `timeout` passes (whole milliseconds, the fraction dropped), and pushes the
    /// reports onto `ready`.
    pub(super) fn wait(
        &self,
        ready: &mut Vec<Readiness>,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        let mut events = lock(&self.events);
        events.clear();
        let timeout =
            timeout.map(|t| Duration::from_millis(t.as_millis().try_into().unwrap_or(u64::MAX)));
        self.poller.wait(&mut events, timeout)?;
        for event in events.iter() {
            // A failed connect, a reset, a hang-up: AFD reports them as both
            // directions (`polling` maps ABORT and CONNECT_FAIL so); `is_interrupt`
            // is the peer's close (AFD_POLL_DISCONNECT).
            let closed = event.is_interrupt() || event.is_err() == Some(true);
            ready.push(Readiness {
                key: event.key,
                readable: event.readable || closed,
                writable: event.writable,
                closed,
            });
        }
        Ok(())
    }

    /// Ends the current wait on another thread, or makes the next one return at
    /// once: a completion packet posted to the port.
    pub(super) fn notify(&self) -> io::Result<()> {
        self.poller.notify()
    }
}
