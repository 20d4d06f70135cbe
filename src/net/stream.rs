//! What every byte stream shares, TCP or Unix: a registered socket, the name of its
//! peer and the read buffer of its line reads (`lines.rs`), with the reads and
//! writes that wait in the reactor.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::task::{Context, Poll};

use super::NetError;
use super::lines::LinesSlot;
#[cfg(windows)]
use crate::reactor::AsSource;
use crate::reactor::Registered;
#[cfg(unix)]
use std::os::fd::AsFd as AsSource;

/// A std stream socket: `std::net::TcpStream` or `std::os::unix::net::UnixStream`.
pub(super) trait StdStream: AsSource {
    fn shutdown_std(&self, how: Shutdown) -> io::Result<()>;
}

impl StdStream for std::net::TcpStream {
    fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
        self.shutdown(how)
    }
}

#[cfg(unix)]
impl StdStream for std::os::unix::net::UnixStream {
    fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
        self.shutdown(how)
    }
}

/// Where a stream's bytes go: a socket registered with the reactor, or, on a
/// simulation runtime ([`crate::sim::net`]), one end of a simulated connection.
#[derive(Debug)]
pub(super) enum Io<S: StdStream> {
    /// The operating system's socket.
    Os(Registered<S>),
    /// A simulated connection's end (TCP only).
    Sim(crate::sim::net::End),
}

/// What a stream and its halves share: the socket, its peer's name (kept, since
/// `getpeername` fails once the peer reset the connection, which is when an error
/// message needs it most), and the buffer of its line reads.
#[derive(Debug)]
pub(super) struct Conn<S: StdStream, P> {
    pub(super) io: Io<S>,
    pub(super) peer: P,
    /// Bytes read past a line by `read_line` / `read_until`, handed out first by
    /// every later read (asyncio's `StreamReader._buffer`). Empty, and allocating
    /// nothing, until the first line read (`lines.rs`).
    pub(super) lines: LinesSlot,
}

impl<S: StdStream, P> Conn<S, P> {
    pub(super) fn new(io: Registered<S>, peer: P) -> Conn<S, P> {
        Conn::with(Io::Os(io), peer)
    }

    pub(super) fn with(io: Io<S>, peer: P) -> Conn<S, P> {
        Conn {
            io,
            peer,
            lines: LinesSlot::new(),
        }
    }

    /// The operating system's socket.
    ///
    /// # Panics
    ///
    /// On a simulated connection, which has none (`what`: the caller's name).
    #[track_caller]
    pub(super) fn os(&self, what: &str) -> &Registered<S> {
        match &self.io {
            Io::Os(io) => io,
            Io::Sim(end) => panic!(
                "{what}: {end:?} is a simulated connection (Builder::simulation): it has \
                 no descriptor or socket options of the operating system"
            ),
        }
    }
}

impl<S, P> Conn<S, P>
where
    S: StdStream,
    for<'a> &'a S: Read,
{
    /// A read from the socket itself (or the simulated connection), past the
    /// line buffer.
    pub(super) fn poll_read_io(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match &self.io {
            Io::Os(io) => io.poll_read_stream(cx, buf.len(), |mut stream| stream.read(buf)),
            Io::Sim(end) => end.poll_read(cx, buf),
        }
    }
}

impl<S, P> Conn<S, P>
where
    S: StdStream,
    for<'a> &'a S: Read + Write,
    P: fmt::Display,
{
    pub(super) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, NetError>> {
        // What a line read left comes first (a stream that never read a line pays
        // one atomic load here).
        if let Some(n) = self.take_buffered(buf) {
            return Poll::Ready(Ok(n));
        }
        self.poll_read_io(cx, buf)
            .map_err(|error| NetError::new(error, "read from", Some(&self.peer)))
    }

    pub(super) fn poll_write(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<Result<usize, NetError>> {
        match &self.io {
            Io::Os(io) => io.poll_write_stream(cx, buf.len(), |mut stream| stream.write(buf)),
            Io::Sim(end) => Poll::Ready(end.send(buf)),
        }
        .map_err(|error| NetError::new(error, "write to", Some(&self.peer)))
    }

    pub(super) async fn read_exact(&self, mut buf: &mut [u8]) -> Result<(), NetError> {
        let wanted = buf.len();
        while !buf.is_empty() {
            let n = poll_fn(|cx| self.poll_read(cx, buf)).await?;
            if n == 0 {
                let error = io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "the peer closed the stream after {} of {wanted} bytes",
                        wanted - buf.len()
                    ),
                );
                return Err(NetError::new(error, "read_exact from", Some(&self.peer)));
            }
            buf = &mut buf[n..];
        }
        Ok(())
    }

    pub(super) async fn write_all(&self, mut buf: &[u8]) -> Result<(), NetError> {
        while !buf.is_empty() {
            let n = poll_fn(|cx| self.poll_write(cx, buf)).await?;
            if n == 0 {
                let error = io::Error::new(io::ErrorKind::WriteZero, "the socket took 0 bytes");
                return Err(NetError::new(error, "write to", Some(&self.peer)));
            }
            buf = &buf[n..];
        }
        Ok(())
    }

    pub(super) fn shutdown(&self, how: Shutdown) -> Result<(), NetError> {
        let result = match &self.io {
            Io::Os(io) => {
                let result = io.get_ref().shutdown_std(how);
                io.touched_peer(); // the peer reads the end of stream
                result
            }
            Io::Sim(end) => end.shutdown(how),
        };
        result.map_err(|error| NetError::new(error, "shutdown of", Some(&self.peer)))
    }

    /// `AsyncWrite::poll_close`: a half-close (the end of stream for the peer), as
    /// tokio's `poll_shutdown`; the socket itself closes on drop.
    pub(super) fn poll_close(&self) -> Poll<io::Result<()>> {
        match self.shutdown(Shutdown::Write) {
            // Already closed by the peer: nothing left to close.
            Err(error) if error.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            other => Poll::Ready(other.map_err(io::Error::from)),
        }
    }
}

/// Implements the `futures-io` traits, and the line reads, for stream types whose
/// connection is their field `inner` (a [`Conn`], or an `Arc` of one), so the
/// `futures` crate's io utilities work on clearloop's streams. Written once here,
/// because each impl only hands the call to `Conn`: `read: TcpStream, ReadHalf`
/// makes `AsyncRead` impls and the line-reading methods (`read_line`, `read_until`,
/// `set_line_limit`, `line_limit`: `lines.rs`), `write: ...` `AsyncWrite` impls.
/// `poll_close` half-closes (sends the end of stream), as tokio's `poll_shutdown`
/// does; the socket itself closes on drop, and `poll_flush` has nothing to do (the
/// writes keep no buffer). The traits speak `io::Error`: a [`NetError`] becomes one
/// (`From`), and `NetError::of` finds it again.
macro_rules! futures_io_via_conn {
    (read: $($reader:ty),+; write: $($writer:ty),+) => {
        $(impl $reader {
            /// Reads one line, up to and including its `\n`, and appends it to `line`
            /// (asyncio's `await reader.readline()`; std's `BufRead::read_line`).
            /// Returns how many bytes it appended: 0 at the end of the stream; the
            /// last line may come without its newline, as in asyncio.
            ///
            /// A line may arrive in many pieces: they are joined. Bytes that came
            /// after the line stay in the stream's buffer for the next `read_line`,
            /// `read_until`, `read` or `read_exact`. The buffer is made by the first
            /// line read; a stream that never reads a line has none. Cancel-safe: a
            /// `read_line` dropped before it finished leaves every byte in the buffer.
            ///
            /// # Errors
            ///
            /// - [`LineError::LimitOverrun`](crate::net::LineError::LimitOverrun): the
            ///   line is longer than the [limit](Self::set_line_limit) (64 KiB unless
            ///   set). Its bytes are dropped, as asyncio's `readline` drops them
            ///   (raising `ValueError`); see the error's `dropped`.
            /// - [`LineError::NotUtf8`](crate::net::LineError::NotUtf8): the line is
            ///   not UTF-8; the error holds its bytes.
            /// - [`LineError::Net`](crate::net::LineError::Net): the socket's error, as
            ///   `read` returns it.
            pub async fn read_line(
                &mut self,
                line: &mut String,
            ) -> Result<usize, crate::net::LineError> {
                self.inner.read_line(line).await
            }

            /// Reads up to and including `separator` (one byte or more, such as
            /// `b"\r\n"`) and appends those bytes to `buf` (asyncio's
            /// `await reader.readuntil(separator)`). Returns how many bytes it
            /// appended. The bytes after the separator stay in the stream's buffer,
            /// as for [`read_line`](Self::read_line).
            ///
            /// # Errors
            ///
            /// - [`LineError::Incomplete`](crate::net::LineError::Incomplete): the
            ///   stream ended before the separator (asyncio's `IncompleteReadError`);
            ///   the bytes that came are in the error's `partial()`.
            /// - [`LineError::LimitOverrun`](crate::net::LineError::LimitOverrun): no
            ///   separator within the [limit](Self::set_line_limit) (asyncio's
            ///   `LimitOverrunError`); the bytes stay in the buffer for `read`.
            /// - [`LineError::Net`](crate::net::LineError::Net): the socket's error.
            ///
            /// # Panics
            ///
            /// If `separator` is empty (asyncio: `ValueError`).
            #[track_caller]
            pub fn read_until<'a>(
                &'a mut self,
                separator: &'a [u8],
                buf: &'a mut Vec<u8>,
            ) -> impl std::future::Future<Output = Result<usize, crate::net::LineError>> + 'a
            {
                self.inner.read_until(separator, buf)
            }

            /// Sets the longest line, in bytes and without its separator, that
            /// [`read_line`](Self::read_line) and [`read_until`](Self::read_until)
            /// accept (asyncio's `limit=` argument of `open_connection` and
            /// `start_server`). The default is
            /// [`DEFAULT_LINE_LIMIT`](crate::net::DEFAULT_LINE_LIMIT), 64 KiB, as
            /// asyncio's. It bounds the memory a peer that never sends a newline can
            /// make the stream hold.
            ///
            /// # Panics
            ///
            /// If `limit` is 0.
            #[track_caller]
            pub fn set_line_limit(&mut self, limit: usize) {
                self.inner.set_line_limit(limit)
            }

            /// The line limit (see [`set_line_limit`](Self::set_line_limit)).
            pub fn line_limit(&self) -> usize {
                self.inner.line_limit()
            }
        }

        impl futures_io::AsyncRead for $reader {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_read(cx, buf).map_err(std::io::Error::from)
            }
        })+
        $(impl futures_io::AsyncWrite for $writer {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_write(cx, buf).map_err(std::io::Error::from)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.inner.poll_close()
            }
        })+
    };
}
pub(super) use futures_io_via_conn;
