//! Accepting a connection: one system call per connection, and a pause when the
//! process runs out of file descriptors.
//!
//! **One call.** `accept4(fd, &addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC)` returns
//! the new socket already non-blocking and close-on-exec (a child process does not
//! inherit it). std's `accept` passes `SOCK_CLOEXEC` only, so its socket then needs
//! an `ioctl(FIONBIO)` to become non-blocking: a second system call for every
//! connection. tokio (through mio) passes both flags; asyncio calls
//! `conn.setblocking(False)` after `sock.accept()`, the two-call way.
//!
//! **Out of descriptors.** `accept4` fails with `EMFILE` (this process's limit,
//! `ulimit -n`), `ENFILE` (the system's), `ENOBUFS` or `ENOMEM`, and the connection
//! stays queued in the kernel: the listener is still readable, so an accept loop that
//! tries again at once fails again at once, and burns a core until something closes.
//! No event will say "a descriptor was freed". asyncio's answer, in
//! `selector_events.py` (`_accept_connection`): on one of these four errnos, report
//! it (`call_exception_handler`, "socket.accept() out of system resource"), stop
//! watching the listener, and start again [`ACCEPT_RETRY_DELAY`] later
//! (`call_later(constants.ACCEPT_RETRY_DELAY, self._start_serving, ...)`, 1 s).
//!
//! clearloop pauses the same second, on the runtime's clock, with one difference:
//! here a caller awaits `accept`, so the error is *returned* to it at once (errno
//! kept, the pause said in the message), and it is the listener's *next* accept
//! that first waits out the pause. The server sees every error, can close idle
//! connections meanwhile, and its loop turns once a second instead of spinning.
//!
//! ```text
//!   accept() ─ pause over? ─ accept4 ─> a socket ───────────────────────> Ok
//!       │                      │      ─> EAGAIN: wait until readable, try again
//!       │                      └────> EMFILE, ENFILE, ENOBUFS, ENOMEM:
//!       │                               retry_at = now + 1 s ───────────> Err
//!       └─ now < retry_at: sleep until retry_at (a timer), then accept4
//! ```
//!
//! The pause is a timer bounding a retry, not a wait for an event: there is no
//! event to wait for. An accept polled outside a clearloop runtime (no clock) does
//! not pause.

use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rustix::io::Errno;

use super::NetError;
use crate::panics::lock;

/// How long a listener waits before it tries `accept` again after the process or
/// the system ran out of descriptors or memory (asyncio's
/// `constants.ACCEPT_RETRY_DELAY`, 1 s).
pub const ACCEPT_RETRY_DELAY: Duration = Duration::from_secs(1);

/// One `accept4` on a TCP listener (`sys.rs`: three calls on macOS): the
/// connection and its peer's address.
pub(super) fn tcp(
    listener: &std::net::TcpListener,
) -> io::Result<(std::net::TcpStream, SocketAddr)> {
    #[cfg(windows)]
    return super::sys::accept_tcp(listener);
    #[cfg(unix)]
    {
        let (fd, peer) = super::sys::accept(listener)?;
        let peer = super::sys::ip_peer(peer).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "accept gave no IP address")
        })?;
        Ok((fd.into(), peer))
    }
}

/// One `accept4` on a Unix listener (a client's address is unnamed: not kept).
#[cfg(unix)]
pub(super) fn unix(
    listener: &std::os::unix::net::UnixListener,
) -> io::Result<std::os::unix::net::UnixStream> {
    Ok(super::sys::accept(listener)?.0.into())
}

/// Whether `error` is one of the four after which asyncio pauses its accepts
/// (Windows' sockets know two of them: `WSAEMFILE`, `WSAENOBUFS`).
fn out_of_resources(error: &io::Error) -> bool {
    #[cfg(unix)]
    let errnos = [Errno::MFILE, Errno::NFILE, Errno::NOBUFS, Errno::NOMEM];
    #[cfg(windows)]
    let errnos = [Errno::MFILE, Errno::NOBUFS];
    errnos
        .iter()
        .any(|errno| error.raw_os_error() == Some(errno.raw_os_error()))
}

/// A listener's pause after it ran out of resources.
#[derive(Debug, Default)]
pub(super) struct Pause {
    /// Whether `until` may be set: one load on every accept, the lock only after an
    /// error.
    paused: AtomicBool,
    /// When accepting may start again, on the runtime's clock.
    until: Mutex<Option<Instant>>,
}

impl Pause {
    /// Waits until the pause, if any, is over.
    pub(super) async fn wait(&self) {
        if !self.paused.load(Ordering::Acquire) {
            return;
        }
        let Some(until) = *lock(&self.until) else {
            return;
        };
        let Some(now) = runtime_now() else {
            return; // no runtime, no clock: no pause
        };
        if now < until {
            // Capped: an instant of another runtime's clock must not mean "forever".
            crate::time::sleep_until(until.min(now + ACCEPT_RETRY_DELAY)).await;
        }
        // Over, unless another accept has failed since and set a later one.
        let mut pending = lock(&self.until);
        if *pending == Some(until) {
            *pending = None;
            self.paused.store(false, Ordering::Release);
        }
    }

    /// The error of a failed accept on `address`; if it is one of the four, the next
    /// accept waits [`ACCEPT_RETRY_DELAY`], and the message says so.
    pub(super) fn after(&self, error: io::Error, address: impl std::fmt::Display) -> NetError {
        let paused = out_of_resources(&error) && self.start();
        let error = NetError::new(error, "accept on", Some(address));
        if paused {
            error.with_note("the next accept waits 1 s (asyncio's ACCEPT_RETRY_DELAY)")
        } else {
            error
        }
    }

    /// Starts a pause from now; false outside a runtime (no clock to pause on).
    fn start(&self) -> bool {
        let Some(now) = runtime_now() else {
            return false;
        };
        *lock(&self.until) = Some(now + ACCEPT_RETRY_DELAY);
        self.paused.store(true, Ordering::Release);
        true
    }
}

/// The current runtime's time, if a runtime is running on this thread.
fn runtime_now() -> Option<Instant> {
    crate::runtime::scheduler::with_current_scheduler("accept", |core| core.clock.now()).ok()
}
