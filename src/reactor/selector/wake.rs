//! The selector's wake-up: one descriptor another thread writes to, so that a wait
//! in progress returns (asyncio's self-pipe, `_write_to_self`).
//!
//! An eventfd (Linux): a kernel counter that reads as "readable" while it is not
//! zero. Both selectors watch it: epoll with the other descriptors, `poll` as the
//! first entry of every call.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::event::{EventfdFlags, eventfd};

/// The wake-up descriptor and whether a wake-up is pending on it.
pub(super) struct Wake {
    fd: OwnedFd,
    /// A wake-up is pending: later `notify` calls skip the write.
    notified: AtomicBool,
}

impl Wake {
    pub(super) fn new() -> io::Result<Wake> {
        Ok(Wake {
            fd: eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?,
            notified: AtomicBool::new(false),
        })
    }

    /// The descriptor a selector watches for reading.
    pub(super) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Ends the current wait on another thread, or makes the next one return at
    /// once. Cheap when called again before that wait: the eventfd is written once.
    pub(super) fn notify(&self) -> io::Result<()> {
        if self.notified.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        match rustix::io::write(&self.fd, &1u64.to_ne_bytes()) {
            // EAGAIN: the counter is full of earlier writes; the wait returns anyway.
            Ok(_) | Err(rustix::io::Errno::AGAIN) => Ok(()),
            Err(errno) => Err(errno.into()),
        }
    }

    /// The wake-up was reported: empty the counter, *then* drop the flag, so that the
    /// next `notify` writes again and is a new edge. The other order loses wake-ups
    /// for good: a `notify` between the two would write, its write would be emptied
    /// by our read before any wait reported it, and the flag would stay set, so every
    /// later `notify` would skip its write. In this order a `notify` between the two
    /// skips its write while this wait is already returning: the caller looks at its
    /// queues after every wait, and finds what that `notify` announced.
    pub(super) fn clear(&self) {
        let mut counter = [0; 8];
        // EAGAIN (already empty) is the only failure of a read on our own eventfd.
        let _empty = rustix::io::read(&self.fd, &mut counter);
        self.notified.store(false, Ordering::SeqCst);
    }
}
