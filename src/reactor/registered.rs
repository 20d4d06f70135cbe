//! An I/O object registered with the reactor for as long as it lives: try the
//! operation, and on `WouldBlock` wait for readiness and try again.

use std::future::poll_fn;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use super::Source;
use super::owner;
use super::source::{READ, WRITE};
use super::sys::{self, AsSource};
use crate::task::coop;

/// A non-blocking file descriptor (a socket) registered with a [`Reactor`](super::Reactor), which it
/// leaves when dropped (asyncio's `loop.sock_recv(sock, n)` and friends, for any
/// socket set non-blocking). Every `net` type is one of these around a std socket.
///
/// Each operation is tried first; only when the OS says `WouldBlock` does the task
/// wait for readiness, then it tries again. The descriptor joins a reactor at its
/// first wait: the one of the runtime whose task waits (the *home* drawn in
/// `source.rs`), so a socket made before `run`, or used by two runtimes, works.
pub struct Registered<T: AsSource> {
    source: Arc<Source>,
    io: T,
}

impl<T: AsSource> Registered<T> {
    /// Wraps `io`, which must already be non-blocking (`set_nonblocking(true)`), or
    /// an operation would block the loop's thread. Nothing is registered yet: the
    /// first operation that would block registers it with the reactor of the runtime
    /// running there (a socket that never waits costs no `epoll_ctl`).
    ///
    /// # Errors
    ///
    /// None today; the `Result` leaves room for a system that registers at once.
    pub fn new(io: T) -> io::Result<Registered<T>> {
        Ok(Registered {
            source: Arc::new(Source::new()),
            io,
        })
    }

    /// The I/O object itself (to read its address, or set an option).
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// The reactor's record of this descriptor.
    pub fn source(&self) -> &Arc<Source> {
        &self.source
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for readability in
    /// between. Spends one unit of the task's cooperative budget, so a socket that is
    /// always readable cannot hold the loop.
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        ready!(coop::poll_budget(cx));
        self.poll_io(READ, cx, &mut op)
    }

    /// A read of at most `len` bytes on a byte stream (TCP, Unix), as
    /// [`poll_read_with`](Self::poll_read_with) plus one shortcut: a read that got
    /// fewer than `len` bytes emptied the socket, so the next read waits for the next
    /// report without trying (one `read` that would find nothing saved per message).
    pub(crate) fn poll_read_stream(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        mut op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        ready!(coop::poll_budget(cx));
        self.poll_stream(READ, cx, len, &mut op)
    }

    /// A write of `len` bytes on a byte stream: as [`poll_read_stream`](Self::poll_read_stream),
    /// a short write means the socket's buffer is full, and the next write waits.
    pub(crate) fn poll_write_stream(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        mut op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        ready!(coop::poll_budget(cx));
        let done = ready!(self.poll_stream(WRITE, cx, len, &mut op));
        if done.is_ok() {
            owner::note_activity();
        }
        Poll::Ready(done)
    }

    /// [`poll_io`](Self::poll_io) for streams: skip a try the last short one showed
    /// to be useless, and note a short one.
    fn poll_stream(
        &self,
        direction: usize,
        cx: &mut Context<'_>,
        len: usize,
        op: &mut impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let seen = self.source.events(direction);
        if self.source.is_exhausted(direction, seen) {
            // Ready only if a report came in the meantime; then try as usual.
            ready!(
                self.source
                    .poll_ready(direction, seen, sys::borrow(&self.io), cx)
            )?;
        }
        let mut try_once = |stream: &T| {
            let seen = self.source.events(direction);
            let done = op(stream);
            if matches!(done, Ok(n) if 0 < n && n < len) {
                self.source.set_exhausted(direction, seen);
            }
            done
        };
        self.poll_io(direction, cx, &mut try_once)
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for writability in
    /// between (and spending one unit of budget, as [`poll_read_with`](Self::poll_read_with)).
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        ready!(coop::poll_budget(cx));
        let done = ready!(self.poll_io(WRITE, cx, &mut op));
        if done.is_ok() {
            // A peer may now be readable (virtual clocks only).
            owner::note_activity();
        }
        Poll::Ready(done)
    }

    /// Try `op`; on `WouldBlock`, wait unless the direction was reported since the
    /// try began (the event count `source.rs` explains), then try again.
    fn poll_io<R>(
        &self,
        direction: usize,
        cx: &mut Context<'_>,
        op: &mut impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let seen = self.source.events(direction);
            match op(&self.io) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    ready!(
                        self.source
                            .poll_ready(direction, seen, sys::borrow(&self.io), cx)
                    )?;
                }
                // A signal interrupted the call: nothing happened, try again.
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                done => return Poll::Ready(done),
            }
        }
    }

    /// Tells the reactor this object just did something a peer may be woken by,
    /// other than a write through [`poll_write_with`](Self::poll_write_with) (which
    /// says it itself): a `connect`, a `shutdown`. Matters on virtual clocks only.
    pub(crate) fn touched_peer(&self) {
        owner::note_activity();
    }

    /// Wakes every task waiting to read, as a readiness report would. For a
    /// descriptor whose bytes announce something to *all* its readers (the signal
    /// pipe): the reader that empties it must pass the news on, since the kernel
    /// reports an edge only if the data is still there when the selector looks.
    /// (Unix only: Windows' Ctrl-C has no pipe.)
    #[cfg(unix)]
    pub(crate) fn wake_readers(&self) {
        self.source.report_readable();
    }

    /// [`poll_read_with`](Self::poll_read_with) as a future.
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_read_with(cx, &mut op)).await
    }

    /// [`poll_write_with`](Self::poll_write_with) as a future.
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_write_with(cx, &mut op)).await
    }
}

impl<T: AsSource> Drop for Registered<T> {
    fn drop(&mut self) {
        // Before `io` closes its descriptor (fields drop after this): the reactor
        // must never watch, or re-arm, a number the OS may give to a new socket.
        // The waits still counted end outside the locks (the clock has its own).
        drop(self.source.leave_home(sys::borrow(&self.io)));
        // Closing may wake a peer (end of stream), as a write does.
        owner::note_activity();
    }
}

impl<T: AsSource + std::fmt::Debug> std::fmt::Debug for Registered<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registered")
            .field("io", &self.io)
            .field("source", &self.source)
            .finish()
    }
}
