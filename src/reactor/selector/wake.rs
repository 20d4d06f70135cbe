//! The selector's wake-up: one descriptor another thread writes to, so that a wait
//! in progress returns (asyncio's self-pipe, `_write_to_self`).
//!
//! epoll's is an eventfd (Linux): a kernel counter that reads as "readable" while it
//! is not zero. `poll`'s is a pipe, asyncio's own self-pipe: bytes written to one end
//! make the other readable (a pipe on Linux too, so that the portable path tested
//! here is the one other systems run). epoll watches it with the other descriptors,
//! `poll` as the first entry of every call.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// The wake-up descriptor and whether a wake-up is pending on it.
pub(super) struct Wake {
    /// The end the selector watches (the eventfd itself, or the pipe's reading end).
    fd: OwnedFd,
    /// The pipe's writing end, that `notify` writes to (`None`: an eventfd, which is
    /// both).
    write: Option<OwnedFd>,
    /// A wake-up is pending: later `notify` calls skip the write.
    notified: AtomicBool,
}

impl Wake {
    /// An eventfd (epoll's wake-up, Linux only).
    #[cfg(target_os = "linux")]
    pub(super) fn eventfd() -> io::Result<Wake> {
        use rustix::event::{EventfdFlags, eventfd};
        Ok(Wake {
            fd: eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?,
            write: None,
            notified: AtomicBool::new(false),
        })
    }

    /// A self-pipe (the `poll` selector's, on every Unix: so the portable path run
    /// on Linux is the one macOS runs).
    pub(super) fn pipe() -> io::Result<Wake> {
        let (read, write) = rustix::pipe::pipe()?;
        for end in [&read, &write] {
            rustix::io::fcntl_setfd(end, rustix::io::FdFlags::CLOEXEC)?;
            rustix::fs::fcntl_setfl(end, rustix::fs::OFlags::NONBLOCK)?;
        }
        Ok(Wake {
            fd: read,
            write: Some(write),
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
        // An eventfd takes 8 bytes (added to its counter); a pipe takes them as they are.
        let end = self.write.as_ref().unwrap_or(&self.fd);
        match rustix::io::write(end, &1u64.to_ne_bytes()) {
            // EAGAIN: full of earlier writes; the wait returns anyway.
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
        let mut counter = [0; 64];
        // One read empties an eventfd (8 bytes); a pipe may hold several writes: read
        // until a read comes back short. EAGAIN (empty) is the only failure of a
        // read on our own descriptor.
        while let Ok(64) = rustix::io::read(&self.fd, &mut counter) {}
        self.notified.store(false, Ordering::SeqCst);
    }
}
