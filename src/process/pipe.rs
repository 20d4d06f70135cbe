//! A child's standard streams: pipe ends made non-blocking and registered with the
//! reactor, read and written as sockets are (asyncio's `proc.stdin` / `proc.stdout`
//! `StreamWriter` / `StreamReader`). Each remembers whose it is, so that an error
//! names the program: ``cannot write to the stdin of `true` (pid 1234): Broken pipe``.

use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::error::{Doing, Error};
use crate::reactor::Registered;

/// A pipe end made non-blocking and registered with the reactor.
#[derive(Debug)]
pub(super) struct Pipe {
    io: Registered<OwnedFd>,
    program: Arc<str>,
    pid: u32,
}

impl Pipe {
    pub(super) fn new(fd: OwnedFd, program: &Arc<str>, pid: u32) -> io::Result<Pipe> {
        rustix::io::ioctl_fionbio(&fd, true)?;
        Ok(Pipe {
            io: Registered::new(fd)?,
            program: program.clone(),
            pid,
        })
    }

    fn error(&self, doing: Doing, source: io::Error) -> Error {
        Error::new(&self.program, Some(self.pid), doing, source)
    }

    fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        doing: Doing,
    ) -> Poll<Result<usize, Error>> {
        self.io
            .poll_read_with(cx, |fd| Ok(rustix::io::read(fd.as_fd(), &mut *buf)?))
            .map_err(|source| self.error(doing, source))
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize, Error>> {
        self.io
            .poll_write_with(cx, |fd| Ok(rustix::io::write(fd.as_fd(), buf)?))
            .map_err(|source| self.error(Doing::WriteStdin, source))
    }
}

/// The child's standard input: write to it, drop it to close it.
#[derive(Debug)]
pub struct ChildStdin {
    pub(super) pipe: Pipe,
}

/// The child's standard output.
#[derive(Debug)]
pub struct ChildStdout {
    pub(super) pipe: Pipe,
}

/// The child's standard error.
#[derive(Debug)]
pub struct ChildStderr {
    pub(super) pipe: Pipe,
}

impl ChildStdin {
    /// Writes all of `buf`, waiting while the pipe is full.
    ///
    /// # Errors
    ///
    /// Broken pipe (kind `BrokenPipe`, errno `EPIPE`): the child closed its input or
    /// exited. The error names the program.
    pub async fn write_all(&mut self, mut buf: &[u8]) -> Result<(), Error> {
        while !buf.is_empty() {
            let n = poll_fn(|cx| self.pipe.poll_write(cx, buf)).await?;
            buf = &buf[n..];
        }
        Ok(())
    }
}

macro_rules! readable_pipe {
    ($name:ident, $doing:expr) => {
        impl $name {
            /// Reads what the child wrote (0: it closed the pipe, or exited).
            ///
            /// # Errors
            ///
            /// The OS's, naming the program.
            pub async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
                poll_fn(|cx| self.pipe.poll_read(cx, buf, $doing)).await
            }

            /// Reads until the child closes the pipe; returns how many bytes came.
            ///
            /// # Errors
            ///
            /// The OS's, naming the program.
            pub async fn read_to_end(&mut self, out: &mut Vec<u8>) -> Result<usize, Error> {
                let start = out.len();
                let mut buf = [0; 4096];
                loop {
                    match self.read(&mut buf).await? {
                        0 => return Ok(out.len() - start),
                        n => out.extend_from_slice(&buf[..n]),
                    }
                }
            }
        }

        impl futures_io::AsyncRead for $name {
            /// The error is a [`process::Error`](Error) inside an `io::Error`.
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.pipe
                    .poll_read(cx, buf, $doing)
                    .map_err(io::Error::from)
            }
        }
    };
}

readable_pipe!(ChildStdout, Doing::ReadStdout);
readable_pipe!(ChildStderr, Doing::ReadStderr);

impl futures_io::AsyncWrite for ChildStdin {
    /// The error is a [`process::Error`](Error) inside an `io::Error`.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.pipe.poll_write(cx, buf).map_err(io::Error::from)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A pipe closes when dropped; there is no half-close to send.
        Poll::Ready(Ok(()))
    }
}
