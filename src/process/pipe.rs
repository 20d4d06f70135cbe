//! A child's standard streams: pipe ends made non-blocking and registered with the
//! reactor, read and written as sockets are (asyncio's `proc.stdin` / `proc.stdout`
//! `StreamWriter` / `StreamReader`). Each remembers whose it is, so that an error
//! names the program: ``cannot write to the stdin of `true` (pid 1234): Broken pipe``.
//!
//! **Windows** cannot wait on an anonymous pipe: it has no readiness (no AFD
//! behind it, and no non-blocking mode worth the name), and overlapped I/O needs a
//! *named* pipe made by the parent, where std's `Command` makes anonymous ones. So
//! there each read or write runs on a pool of threads of its own (`blocking.rs`'s
//! [`BlockingPool`](crate::blocking::BlockingPool), at most `PIPE_THREADS`, 64), and the
//! task awaits it as it awaits `to_thread`: the loop never blocks, at the price of
//! a thread per pipe end in use. asyncio's Windows loop (the `ProactorEventLoop`)
//! makes named pipes with overlapped I/O instead (`windows_utils.pipe`): a
//! completion design, which is a different loop.
//!
//! ```text
//!   Unix: read(2) -> EAGAIN -> wait in the reactor    Windows: a job on the pipes' pool
//!                                                       ReadFile (blocks that thread)
//!   woken by the selector: read again                 woken when the job ends: hand out
//!                                                       its bytes (the rest kept for the
//!                                                       next read)
//! ```
//!
//! A write on Windows hands its bytes (at most `CHUNK`, 64 KiB) to a job and returns at
//! once, as a buffered writer does; the next write, and `flush`, wait for it first,
//! and its error is theirs. A read or write whose task gives up leaves its job
//! running: the bytes it read are kept for the next read, never lost.

use std::future::poll_fn;
use std::io;
#[cfg(unix)]
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::error::{Doing, Error};
#[cfg(unix)]
use crate::reactor::Registered;

/// A pipe end made non-blocking and registered with the reactor.
#[cfg(unix)]
#[derive(Debug)]
pub(super) struct Pipe {
    io: Registered<OwnedFd>,
    program: Arc<str>,
    pid: u32,
}

#[cfg(unix)]
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

    /// Nothing to wait for: a write went to the pipe when it returned.
    fn poll_flush(&self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }
}

/// How many threads the pipes' pool may run at once (Windows): one per pipe end
/// being read or written. Beyond that, reads and writes queue until one ends.
#[cfg(windows)]
const PIPE_THREADS: usize = 64;

/// The most bytes one read or write job moves (Windows).
#[cfg(windows)]
const CHUNK: usize = 64 * 1024;

/// A pipe end read and written by jobs on the pipes' pool (Windows; see the module doc).
#[cfg(windows)]
#[derive(Debug)]
pub(super) struct Pipe {
    file: Arc<std::fs::File>,
    program: Arc<str>,
    pid: u32,
    state: std::sync::Mutex<Jobs>,
}

/// The job in flight on a Windows pipe, and the bytes read past what a read asked.
#[cfg(windows)]
#[derive(Default)]
struct Jobs {
    reading: Option<crate::blocking::Blocking<io::Result<Vec<u8>>>>,
    writing: Option<crate::blocking::Blocking<io::Result<()>>>,
    /// Read by a job, not handed out yet (from `at` on).
    left: Vec<u8>,
    at: usize,
}

#[cfg(windows)]
impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("reading", &self.reading.is_some())
            .field("writing", &self.writing.is_some())
            .field("left", &(self.left.len() - self.at))
            .finish()
    }
}

/// The pool the Windows pipes' jobs run on (apart from `to_thread`'s, so that
/// pipes waiting on slow children cannot hold every thread of the other).
#[cfg(windows)]
fn pool() -> &'static crate::blocking::BlockingPool {
    static POOL: std::sync::OnceLock<crate::blocking::BlockingPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        crate::blocking::BlockingPool::new(PIPE_THREADS, crate::blocking::DEFAULT_KEEP_ALIVE)
    })
}

/// A job's outcome as the pipe's: a panic in the job (a bug) becomes an error.
#[cfg(windows)]
fn job_outcome<T>(outcome: Result<io::Result<T>, crate::TaskError>) -> io::Result<T> {
    outcome.unwrap_or_else(|error| Err(io::Error::other(format!("a pipe job failed: {error}"))))
}

#[cfg(windows)]
impl Pipe {
    pub(super) fn new(
        end: std::os::windows::io::OwnedHandle,
        program: &Arc<str>,
        pid: u32,
    ) -> io::Result<Pipe> {
        Ok(Pipe {
            file: Arc::new(std::fs::File::from(end)),
            program: program.clone(),
            pid,
            state: std::sync::Mutex::new(Jobs::default()),
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
        use std::io::Read;
        let mut jobs = crate::panics::lock(&self.state);
        if jobs.at == jobs.left.len() {
            let job = jobs.reading.get_or_insert_with(|| {
                let (file, len) = (self.file.clone(), buf.len().clamp(1, CHUNK));
                pool().spawn(move || {
                    let mut bytes = vec![0; len];
                    let n = (&*file).read(&mut bytes)?;
                    bytes.truncate(n);
                    Ok(bytes)
                })
            });
            let outcome = std::task::ready!(Pin::new(job).poll(cx));
            jobs.reading = None;
            match job_outcome(outcome) {
                Ok(bytes) => (jobs.left, jobs.at) = (bytes, 0),
                // The writer closed its end: end of stream, as on Unix.
                Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {
                    return Poll::Ready(Ok(0));
                }
                Err(error) => return Poll::Ready(Err(self.error(doing, error))),
            }
        }
        let n = buf.len().min(jobs.left.len() - jobs.at);
        buf[..n].copy_from_slice(&jobs.left[jobs.at..jobs.at + n]);
        jobs.at += n;
        Poll::Ready(Ok(n))
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize, Error>> {
        use std::io::Write;
        std::task::ready!(self.poll_flush(cx))?;
        let bytes = buf[..buf.len().min(CHUNK)].to_vec();
        let (file, n) = (self.file.clone(), bytes.len());
        crate::panics::lock(&self.state).writing =
            Some(pool().spawn(move || (&*file).write_all(&bytes)));
        Poll::Ready(Ok(n))
    }

    /// Waits for the write in flight, if any; its error is this call's.
    fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let mut jobs = crate::panics::lock(&self.state);
        let Some(job) = jobs.writing.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        let outcome = std::task::ready!(Pin::new(job).poll(cx));
        jobs.writing = None;
        Poll::Ready(job_outcome(outcome).map_err(|error| self.error(Doing::WriteStdin, error)))
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
        // Windows: the last bytes were handed to a job; its error is this call's.
        poll_fn(|cx| self.pipe.poll_flush(cx)).await
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

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.pipe.poll_flush(cx).map_err(io::Error::from)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A pipe closes when dropped; there is no half-close to send. What was
        // written is flushed first (Windows: the write in flight).
        self.pipe.poll_flush(cx).map_err(io::Error::from)
    }
}
