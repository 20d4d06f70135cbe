//! What every byte stream shares, TCP or Unix: a registered socket and the name of
//! its peer, with the reads and writes that wait in the reactor.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::task::{Context, Poll};

use super::NetError;
use crate::reactor::Registered;

/// A std stream socket: `std::net::TcpStream` or `std::os::unix::net::UnixStream`.
pub(super) trait StdStream: AsFd {
    fn shutdown_std(&self, how: Shutdown) -> io::Result<()>;
}

impl StdStream for std::net::TcpStream {
    fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
        self.shutdown(how)
    }
}

impl StdStream for std::os::unix::net::UnixStream {
    fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
        self.shutdown(how)
    }
}

/// What a stream and its halves share: the socket and its peer's name (kept, since
/// `getpeername` fails once the peer reset the connection, which is when an error
/// message needs it most).
#[derive(Debug)]
pub(super) struct Conn<S: StdStream, P> {
    pub(super) io: Registered<S>,
    pub(super) peer: P,
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
        self.io
            .poll_read_stream(cx, buf.len(), |mut stream| stream.read(buf))
            .map_err(|error| NetError::new(error, "read from", Some(&self.peer)))
    }

    pub(super) fn poll_write(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<Result<usize, NetError>> {
        self.io
            .poll_write_stream(cx, buf.len(), |mut stream| stream.write(buf))
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
        let result = self.io.get_ref().shutdown_std(how);
        self.io.touched_peer(); // the peer reads the end of stream
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

/// Implements the `futures-io` traits for stream types whose connection is their
/// field `inner` (a [`Conn`], or an `Arc` of one), so the `futures` crate's io
/// utilities work on clearloop's streams. Written once here, because each impl only
/// hands the call to `Conn`: `read: TcpStream, ReadHalf` makes `AsyncRead` impls,
/// `write: ...` `AsyncWrite` impls. `poll_close` half-closes (sends the end of
/// stream), as tokio's `poll_shutdown` does; the socket itself closes on drop, and
/// `poll_flush` has nothing to do (no buffer of our own). The traits speak
/// `io::Error`: a [`NetError`] becomes one (`From`), and `NetError::of` finds it again.
macro_rules! futures_io_via_conn {
    (read: $($reader:ty),+; write: $($writer:ty),+) => {
        $(impl futures_io::AsyncRead for $reader {
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
