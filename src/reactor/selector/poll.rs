//! `poll(2)`, by hand, level-triggered (Python's `selectors.PollSelector`): the
//! portable selector, chosen on Linux with `CLEARLOOP_SELECTOR=poll`.
//!
//! `poll` keeps no state in the kernel: every call passes the whole list of
//! descriptors and what is wanted of each, and gets back what is ready now.
//!
//! ```text
//!   wait(timeout):
//!     fds = [wake-up eventfd: IN] + [(fd, IN if a task waits to read,
//!                                        OUT if one waits to write) for each source]
//!     poll(fds, timeout)  ->  revents per entry
//!     wake-up readable: empty it;  each other entry with revents: a report
//! ```
//!
//! **Level-triggered.** A descriptor is reported on *every* call for as long as it is
//! ready, not once per change as epoll's `EPOLLET` does. So a direction is asked for
//! only while a task waits on it: a socket with unread data and no reader waiting
//! would otherwise make every wait return at once, and the loop spin. The reactor
//! builds the list from its sources' waiters at each wait (`Reactor::wait`), and a
//! task that starts waiting while another thread sits in `poll` without it in the
//! list interrupts that wait, so that the list is built again
//! (`Reactor::interest_grew`). Python's `PollSelector` builds its list from the
//! registered keys the same way; asyncio removes a reader (`remove_reader`) when a
//! transport pauses for the same reason.
//!
//! **What it costs.** One pass over every source per wait, in user space and in the
//! kernel (epoll's interest list lives in the kernel and costs nothing per wait),
//! and no `epoll_ctl`. With a few sockets that is nothing; with thousands of idle
//! connections each wait touches all of them. The timeout is a `timespec`
//! (`ppoll`): no rounding to milliseconds.

use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec};

use super::Readiness;
use super::wake::Wake;

/// A source as one wait asks about it: its descriptor, its key, and which
/// directions a task waits on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Interest {
    pub(crate) fd: RawFd,
    pub(crate) key: usize,
    pub(crate) read: bool,
    pub(crate) write: bool,
}

/// The poll selector: only its wake-up descriptor; the list is the caller's.
pub(crate) struct Poll {
    pub(super) wake: Wake,
}

impl Poll {
    pub(super) fn new() -> io::Result<Poll> {
        Ok(Poll {
            wake: Wake::pipe()?,
        })
    }

    /// Waits until one of `interests` is ready, the wake-up is written, or
    /// `timeout` passes (`None`: no limit), and pushes the reports onto `ready`. A
    /// signal that interrupts the wait ends it early with no events.
    pub(super) fn wait(
        &self,
        interests: &[Interest],
        ready: &mut Vec<Readiness>,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        let mut fds = Vec::with_capacity(interests.len() + 1);
        fds.push(PollFd::from_borrowed_fd(self.wake.fd(), PollFlags::IN));
        for interest in interests {
            let mut flags = PollFlags::empty();
            if interest.read {
                flags |= PollFlags::IN | read_hang_up();
            }
            if interest.write {
                flags |= PollFlags::OUT;
            }
            // SAFETY: `poll` only reads the descriptor's number; no memory is reached
            // through it. The reactor removes a source before its owner closes the
            // descriptor (`Registered`'s `Drop`); if that happens while this call
            // runs, the kernel reports `POLLNVAL` for the entry (ignored below), or,
            // if the number was already given to a new descriptor, a readiness that
            // only wakes a task to try again and find nothing: never unsoundness.
            let fd = unsafe { BorrowedFd::borrow_raw(interest.fd) };
            fds.push(PollFd::from_borrowed_fd(fd, flags));
        }
        let timeout = timeout.map(|t| Timespec {
            tv_sec: t.as_secs().try_into().unwrap_or(i64::MAX),
            tv_nsec: t.subsec_nanos().into(),
        });
        match rustix::event::poll(&mut fds, timeout.as_ref()) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => return Ok(()),
            Err(errno) => return Err(errno.into()),
        }
        if !fds[0].revents().is_empty() {
            self.wake.clear();
        }
        for (entry, interest) in fds[1..].iter().zip(interests) {
            let flags = entry.revents();
            if flags.is_empty() || flags.contains(PollFlags::NVAL) {
                continue;
            }
            // As with epoll: an error or a hang-up wakes both directions.
            let failed = flags.intersects(PollFlags::ERR | PollFlags::HUP);
            ready.push(Readiness {
                key: interest.key,
                readable: failed || flags.intersects(PollFlags::IN | read_hang_up()),
                writable: failed || flags.contains(PollFlags::OUT),
                closed: failed || flags.intersects(read_hang_up()),
            });
        }
        Ok(())
    }
}

/// The peer closed its side (`POLLRDHUP`, Linux only; elsewhere the read that
/// returns 0 tells it).
fn read_hang_up() -> PollFlags {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    return PollFlags::RDHUP;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    return PollFlags::empty();
}
