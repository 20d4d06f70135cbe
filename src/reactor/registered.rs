//! An I/O object registered with the reactor for as long as it lives: try the
//! operation, and on `WouldBlock` wait for readiness and try again.

use std::future::poll_fn;
use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use super::source::{READ, WRITE};
use super::{Reactor, Source};
use crate::task::coop;

/// A non-blocking file descriptor (a socket) registered with a [`Reactor`], which it
/// leaves when dropped (asyncio's `loop.sock_recv(sock, n)` and friends, for any
/// socket set non-blocking). Every `net` type is one of these around a std socket.
///
/// Each operation is tried first; only when the OS says `WouldBlock` does the task
/// wait for readiness (and the reactor arm the descriptor), then it tries again.
pub struct Registered<T: AsFd> {
    source: Arc<Source>,
    reactor: Arc<Reactor>,
    io: T,
}

impl<T: AsFd> Registered<T> {
    /// Registers `io` with the process-wide reactor ([`Reactor::global`]). `io` must
    /// already be non-blocking (`set_nonblocking(true)`), or an operation would block
    /// the loop's thread.
    ///
    /// # Errors
    ///
    /// When the reactor cannot be started or the OS refuses the registration.
    pub fn new(io: T) -> io::Result<Registered<T>> {
        let reactor = Reactor::global()?.clone();
        // SAFETY: `io` is owned by the value built below, whose `Drop` deregisters
        // before `io` is dropped (fields drop after `drop` runs), so the descriptor
        // stays open for as long as it is registered.
        let source = unsafe { reactor.register(io.as_fd())? };
        Ok(Registered {
            source,
            reactor,
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

    /// `Ready` once the descriptor was reported readable since the last call; else
    /// registers the task to be woken when it is.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source
            .poll_ready(&self.reactor, self.io.as_fd(), READ, cx)
    }

    /// `Ready` once the descriptor was reported writable since the last call; else
    /// registers the task to be woken when it is.
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source
            .poll_ready(&self.reactor, self.io.as_fd(), WRITE, cx)
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
        loop {
            match op(&self.io) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    ready!(self.poll_readable(cx))?;
                }
                // A signal interrupted the call: nothing happened, try again.
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                done => return Poll::Ready(done),
            }
        }
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for writability in
    /// between (and spending one unit of budget, as [`poll_read_with`](Self::poll_read_with)).
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        ready!(coop::poll_budget(cx));
        loop {
            match op(&self.io) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    ready!(self.poll_writable(cx))?;
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                done => {
                    if done.is_ok() {
                        // A peer may now be readable (virtual clocks only).
                        self.reactor.note_activity();
                    }
                    return Poll::Ready(done);
                }
            }
        }
    }

    /// Tells the reactor this object just did something a peer may be woken by,
    /// other than a write through [`poll_write_with`](Self::poll_write_with) (which
    /// says it itself): a `connect`, a `shutdown`. Matters on virtual clocks only.
    pub(crate) fn touched_peer(&self) {
        self.reactor.note_activity();
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

impl<T: AsFd> Drop for Registered<T> {
    fn drop(&mut self) {
        // Before `io` closes its descriptor (fields drop after this): the reactor
        // must never watch, or re-arm, a number the OS may give to a new socket.
        self.reactor.deregister(&self.source, self.io.as_fd());
        // Closing may wake a peer (end of stream), as a write does.
        self.reactor.note_activity();
    }
}

impl<T: AsFd + std::fmt::Debug> std::fmt::Debug for Registered<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registered")
            .field("io", &self.io)
            .field("source", &self.source)
            .finish()
    }
}
