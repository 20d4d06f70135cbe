//! The selector: how a reactor asks the kernel which descriptors are ready. One small
//! interface, one implementation per system call, as Python's `selectors` module has
//! `EpollSelector`, `KqueueSelector`, `PollSelector` and `SelectSelector` behind
//! `DefaultSelector`.
//!
//! ```text
//!   selector     Python               trigger   per wait                 per socket
//!   ----------   ------------------   -------   ----------------------   ----------------
//!   epoll        EpollSelector        edge      epoll_wait: only what    epoll_ctl ADD at
//!   (Linux,      (DefaultSelector     (EPOLLET) changed; the interest    its first wait,
//!   default)     on Linux)                      list lives in the kernel DEL when closed
//!   poll         PollSelector         level     poll(every waited-on fd) nothing
//!   (portable;                                  the list is rebuilt and
//!   CLEARLOOP_                                  passed whole each time
//!   SELECTOR=poll)
//!   IOCP + AFD   (none: asyncio's     oneshot   GetQueuedCompletion-    an AFD poll request
//!   poll         ProactorEventLoop              StatusEx: only what      each time a task
//!   (Windows;    is the completion              completed; arm again     starts waiting and
//!   `polling`    model instead)                 what is still waited on  after each report
//!   crate)                                      after each report        (user space until
//!                                                                        the next wait)
//!   kqueue       KqueueSelector       edge with  (not written yet: the next step for
//!   (BSD, macOS)                      EV_CLEAR   macOS, sharing epoll's rules)
//!   select       SelectSelector       level     (not written: poll does the same job
//!                                               without select's 1024-descriptor cap)
//! ```
//!
//! The reactor above them sees the same three calls whichever is chosen: add a
//! descriptor, delete it, wait (with the wake-up another thread can write to,
//! `wake.rs`). What differs is the trigger: with **edge** triggering a direction is
//! reported once when it *becomes* ready, so the sources count reports and nothing
//! is re-armed; with **level** triggering it is reported on every wait for as long as
//! it is ready, so only the directions a task waits on are asked about
//! ([`Selector::level_triggered`]; `poll.rs` says more); with **oneshot** (Windows) a
//! report disarms the source, so it is armed again with the directions still waited
//! on ([`Selector::arm`]; `windows.rs` says more). The costs, side by side: epoll pays
//! in memory (each source counts its reports), poll in a pass over every waited-on
//! source per wait, IOCP in one arm per wait (what `EPOLLONESHOT` would cost Linux).
//!
//! The choice is made once per process: epoll on Linux, unless the environment
//! variable `CLEARLOOP_SELECTOR` says `poll` (so that the portable path runs the whole
//! test suite on Linux: `CLEARLOOP_SELECTOR=poll cargo test`); `poll` on the other
//! Unix systems (macOS, the BSDs), where kqueue is the next step; IOCP on Windows.

use std::io;
use std::sync::OnceLock;
use std::time::Duration;

use super::sys::{BorrowedSource, RawSource};

#[cfg(target_os = "linux")]
mod epoll;
#[cfg(unix)]
mod poll;
#[cfg(unix)]
mod wake;
#[cfg(windows)]
mod windows;

#[cfg(unix)]
pub(crate) use poll::Interest;
#[cfg(windows)]
pub(crate) use windows::Interest;

/// What the kernel said about one descriptor in one wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Readiness {
    /// The key given to [`Selector::add`] (or the [`Interest`]'s).
    pub(super) key: usize,
    /// Data (or end of stream, or an error) can be read.
    pub(super) readable: bool,
    /// Room to write (or an error to collect).
    pub(super) writable: bool,
    /// The peer closed its side, or the socket has an error: from now on a read
    /// returns at once (end of stream, or the error), however often it is tried.
    pub(super) closed: bool,
}

/// Which selector this process uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// epoll, edge-triggered (Linux's default; Linux only).
    Epoll,
    /// `poll(2)`, level-triggered (`CLEARLOOP_SELECTOR=poll`; Unix only).
    Poll,
    /// IOCP with the AFD poll, oneshot, through the `polling` crate (Windows only).
    #[cfg(windows)]
    Iocp,
}

/// The selector the reactors of this process use: epoll on Linux, unless
/// `CLEARLOOP_SELECTOR=poll` is set (read once, at the first call); poll on the other
/// Unix systems; IOCP on Windows.
///
/// # Panics
///
/// When `CLEARLOOP_SELECTOR` names no selector this system has: a typo must not
/// silently test the other path.
pub fn kind() -> Kind {
    static KIND: OnceLock<Kind> = OnceLock::new();
    #[cfg(windows)]
    const DEFAULT: Kind = Kind::Iocp;
    #[cfg(unix)]
    const DEFAULT: Kind = if cfg!(target_os = "linux") {
        Kind::Epoll
    } else {
        Kind::Poll
    };
    *KIND.get_or_init(|| match std::env::var("CLEARLOOP_SELECTOR").as_deref() {
        Err(_) | Ok("") => DEFAULT,
        Ok("epoll") if cfg!(target_os = "linux") => Kind::Epoll,
        Ok("poll") if cfg!(unix) => Kind::Poll,
        #[cfg(windows)]
        Ok("iocp") => Kind::Iocp,
        Ok(other) => panic!(
            "CLEARLOOP_SELECTOR={other:?}: clearloop knows the selectors \"epoll\" (the \
             default on Linux, and only there), \"poll\" (Unix) and \"iocp\" (Windows); \
             unset the variable, or name one this system has"
        ),
    })
}

/// A reactor's selector (see the module doc).
pub(super) enum Selector {
    #[cfg(target_os = "linux")]
    Epoll(epoll::Epoll),
    #[cfg(unix)]
    Poll(poll::Poll),
    #[cfg(windows)]
    Iocp(windows::Iocp),
}

impl Selector {
    /// The process's kind of selector, new.
    pub(super) fn new() -> io::Result<Selector> {
        Ok(match kind() {
            #[cfg(target_os = "linux")]
            Kind::Epoll => Selector::Epoll(epoll::Epoll::new()?),
            #[cfg(not(target_os = "linux"))]
            Kind::Epoll => unreachable!("`kind` chooses epoll on Linux only"),
            #[cfg(unix)]
            Kind::Poll => Selector::Poll(poll::Poll::new()?),
            #[cfg(windows)]
            Kind::Poll => unreachable!("`kind` chooses poll on Unix only"),
            #[cfg(windows)]
            Kind::Iocp => Selector::Iocp(windows::Iocp::new()?),
        })
    }

    /// Whether a ready descriptor is reported on every wait (poll), rather than
    /// once per change (epoll): then only the directions a task waits on are asked.
    pub(super) fn level_triggered(&self) -> bool {
        #[cfg(unix)]
        return matches!(self, Selector::Poll(_));
        #[cfg(windows)]
        return false;
    }

    /// Whether a report disarms the source (IOCP), so that it must be armed with
    /// the directions tasks wait on ([`arm`](Selector::arm)).
    pub(super) fn oneshot(&self) -> bool {
        #[cfg(windows)]
        return matches!(self, Selector::Iocp(_));
        #[cfg(unix)]
        return false;
    }

    /// Asks a oneshot selector for one report when `read` or `write` (as asked) is
    /// ready, replacing what was asked before (the others: nothing to do).
    pub(super) fn arm(
        &self,
        source: RawSource,
        key: usize,
        read: bool,
        write: bool,
    ) -> io::Result<()> {
        let _ = (source, key, read, write);
        match self {
            #[cfg(windows)]
            Selector::Iocp(iocp) => iocp.arm(source, key, read, write),
            #[cfg(unix)]
            _ => Ok(()),
        }
    }

    /// Starts watching `fd`, reported with `key` (poll: nothing to do, the list is
    /// passed at each wait).
    pub(super) fn add(&self, fd: BorrowedSource<'_>, key: usize) -> io::Result<()> {
        let _ = (fd, key);
        match self {
            #[cfg(target_os = "linux")]
            Selector::Epoll(epoll) => epoll.add(fd, key),
            #[cfg(unix)]
            Selector::Poll(_) => Ok(()),
            #[cfg(windows)]
            Selector::Iocp(iocp) => iocp.add(fd, key),
        }
    }

    /// Stops watching `fd`, before it is closed.
    pub(super) fn delete(&self, fd: BorrowedSource<'_>) -> io::Result<()> {
        let _ = fd;
        match self {
            #[cfg(target_os = "linux")]
            Selector::Epoll(epoll) => epoll.delete(fd),
            #[cfg(unix)]
            Selector::Poll(_) => Ok(()),
            #[cfg(windows)]
            Selector::Iocp(iocp) => iocp.delete(fd),
        }
    }

    /// Waits until something is ready, [`notify`](Selector::notify) is called, or
    /// `timeout` passes, and pushes the reports onto `ready`. `interests` is the
    /// list a level-triggered selector asks about (made only when
    /// [`level_triggered`](Selector::level_triggered)).
    pub(super) fn wait(
        &self,
        interests: &[Interest],
        ready: &mut Vec<Readiness>,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            Selector::Epoll(epoll) => epoll.wait(ready, timeout),
            #[cfg(unix)]
            Selector::Poll(poll) => poll.wait(interests, ready, timeout),
            #[cfg(windows)]
            Selector::Iocp(iocp) => {
                let _ = interests;
                iocp.wait(ready, timeout)
            }
        }
    }

    /// Ends the current wait on another thread, or makes the next one return at
    /// once (asyncio's self-pipe).
    pub(super) fn notify(&self) -> io::Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            Selector::Epoll(epoll) => epoll.wake.notify(),
            #[cfg(unix)]
            Selector::Poll(poll) => poll.wake.notify(),
            #[cfg(windows)]
            Selector::Iocp(iocp) => iocp.notify(),
        }
    }
}
