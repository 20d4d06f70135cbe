//! Child processes whose exit and pipes are awaited in the reactor (asyncio's
//! `create_subprocess_exec`).
//!
//! The course's first slide names sub-processes: three commands started at once end
//! together, where one after the other they take three times as long. A child's exit
//! is a readiness event like a socket's: Linux gives each process a **pidfd**
//! (`pidfd_open`, Linux 5.3), a file descriptor that turns readable when the process
//! exits. So the reactor waits on it as on a socket; no thread per child, and no
//! process-wide `SIGCHLD` handler to share with other libraries (asyncio's
//! `PidfdChildWatcher` makes the same choice; its older `ThreadedChildWatcher` spends a
//! thread per child, and tokio's unix driver listens for `SIGCHLD`).
//!
//! | asyncio                                          | clearloop                              |
//! |--------------------------------------------------|----------------------------------------|
//! | `await create_subprocess_exec(prog, *args, stdout=PIPE)` | [`Command::new`]`(prog).args(..).stdout(Stdio::piped()).spawn()` |
//! | `await proc.wait()`, `proc.returncode`           | [`Child::wait`]`().await`              |
//! | `await proc.communicate()`                       | [`Command::output`]`().await`          |
//! | `proc.kill()`, `proc.pid`                        | [`Child::kill`], [`Child::id`]         |
//! | `proc.stdout.read()`, `proc.stdin.write()`       | [`ChildStdout::read`], [`ChildStdin::write_all`] |
//!
//! ```text
//!   spawn(): fork+exec (std)  -> pidfd_open(pid) -> registered with the reactor
//!   wait():  try_wait -> still running -> Pending ... child exits: pidfd readable
//!            <- woken by the reactor -- try_wait -> Some(status)   (the zombie is reaped)
//! ```
//!
//! **No zombie.** A child that exits stays a zombie until its parent waits for it.
//! Dropping a [`Child`] that was not waited for hands it to a small thread that
//! waits for it (the child keeps running, as in Python and tokio; call
//! [`Child::kill`] first to stop it).
//!
//! **Virtual time.** A child runs in real time, like a job of the blocking pool, so
//! a task waiting for its exit counts as *in flight* on an auto-advance clock
//! ([`clock`](crate::clock)): virtual time does not jump until the child has exited.
//!
//! ```
//! use clearloop::process::Command;
//!
//! let (status, output) = clearloop::run(async {
//!     let status = Command::new("sh").args(["-c", "exit 3"]).status().await.unwrap();
//!     let output = Command::new("echo").arg("bonjour").output().await.unwrap();
//!     (status, output)
//! });
//! assert_eq!(status.code(), Some(3));
//! assert_eq!(output.stdout, b"bonjour\n");
//! ```

#![cfg(target_os = "linux")]

use std::ffi::OsStr;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::{Pin, pin};
use std::process::{ExitStatus, Output, Stdio};
use std::sync::Arc;
use std::task::{Context, Poll};

use rustix::process::{Pid, PidfdFlags, pidfd_open};

use crate::clock::Work;
use crate::reactor::Registered;

/// A command to run (`std::process::Command`, whose methods it forwards).
#[derive(Debug)]
pub struct Command {
    std: std::process::Command,
}

impl Command {
    /// A command running `program`, found in `PATH` as a shell would.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            std: std::process::Command::new(program),
        }
    }

    /// Adds one argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// The child's standard input (`Stdio::piped()` for a [`ChildStdin`]).
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self
    }

    /// The child's standard output (`Stdio::piped()` for a [`ChildStdout`]).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// The child's standard error (`Stdio::piped()` for a [`ChildStderr`]).
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Starts the child (asyncio's `create_subprocess_exec`).
    ///
    /// # Errors
    ///
    /// No such program, permission denied, out of file descriptors: the OS's error,
    /// naming the program.
    pub fn spawn(&mut self) -> io::Result<Child> {
        let program = self.std.get_program().to_string_lossy().into_owned();
        let named = |error: io::Error| {
            io::Error::new(error.kind(), format!("cannot start `{program}`: {error}"))
        };
        let mut child = self.std.spawn().map_err(named)?;
        let pidfd = match pidfd_open(Pid::from_child(&child), PidfdFlags::NONBLOCK) {
            Ok(fd) => fd,
            Err(errno) => {
                // Without a pidfd (a kernel older than 5.3) we could not wait for it:
                // stop it rather than leave it running unwatched.
                let _ = child.kill();
                let _ = child.wait();
                return Err(named(errno.into()));
            }
        };
        let pipe = |fd: Option<OwnedFd>| fd.map(Pipe::new).transpose();
        Ok(Child {
            stdin: pipe(child.stdin.take().map(OwnedFd::from))?.map(|pipe| ChildStdin { pipe }),
            stdout: pipe(child.stdout.take().map(OwnedFd::from))?.map(|pipe| ChildStdout { pipe }),
            stderr: pipe(child.stderr.take().map(OwnedFd::from))?.map(|pipe| ChildStderr { pipe }),
            exit: Registered::new(pidfd)?,
            std: Some(child),
        })
    }

    /// Runs the command to its end and returns its exit status (its standard
    /// streams are the parent's unless set otherwise).
    ///
    /// # Errors
    ///
    /// Those of [`spawn`](Command::spawn) and [`Child::wait`].
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }

    /// Runs the command with its output and error piped, and returns them with its
    /// status (asyncio's `await proc.communicate()`). Both pipes are read at once, so
    /// a child that fills one while we read the other cannot deadlock.
    ///
    /// # Errors
    ///
    /// Those of [`spawn`](Command::spawn), of reading the pipes, and of
    /// [`Child::wait`].
    pub async fn output(&mut self) -> io::Result<Output> {
        self.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.spawn()?;
        let (mut out, mut err) = (child.stdout.take(), child.stderr.take());
        let read_out = async {
            let mut buf = Vec::new();
            if let Some(out) = &mut out {
                out.read_to_end(&mut buf).await?;
            }
            io::Result::Ok(buf)
        };
        let read_err = async {
            let mut buf = Vec::new();
            if let Some(err) = &mut err {
                err.read_to_end(&mut buf).await?;
            }
            io::Result::Ok(buf)
        };
        let (stdout, stderr) = join(read_out, read_err).await;
        let status = child.wait().await?;
        Ok(Output {
            status,
            stdout: stdout?,
            stderr: stderr?,
        })
    }
}

/// Polls two futures in turn until both are done (what `output` needs, without a
/// dependency and without spawning).
async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut out_a, mut out_b) = (None, None);
    poll_fn(|cx| {
        if out_a.is_none()
            && let Poll::Ready(value) = a.as_mut().poll(cx)
        {
            out_a = Some(value);
        }
        if out_b.is_none()
            && let Poll::Ready(value) = b.as_mut().poll(cx)
        {
            out_b = Some(value);
        }
        if out_a.is_some() && out_b.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    (out_a.expect("both are done"), out_b.expect("both are done"))
}

/// A running (or exited, not yet waited for) child process.
#[derive(Debug)]
pub struct Child {
    /// `None` once reaped (or handed to the reaper thread in `Drop`).
    std: Option<std::process::Child>,
    /// The pidfd: readable when the child exits.
    exit: Registered<OwnedFd>,
    /// The child's standard input, if piped: take it to write (drop it to close).
    pub stdin: Option<ChildStdin>,
    /// The child's standard output, if piped.
    pub stdout: Option<ChildStdout>,
    /// The child's standard error, if piped.
    pub stderr: Option<ChildStderr>,
}

impl Child {
    /// The child's process id (`proc.pid`).
    pub fn id(&self) -> u32 {
        self.std.as_ref().map_or(0, std::process::Child::id)
    }

    /// Sends `SIGKILL` (`proc.kill()`); then [`wait`](Child::wait) for it.
    ///
    /// # Errors
    ///
    /// None once it has exited (killing an exited child is not an error, as in
    /// Python); the OS's otherwise.
    pub fn kill(&mut self) -> io::Result<()> {
        match &mut self.std {
            Some(child) => child.kill(),
            None => Ok(()),
        }
    }

    /// Waits for the child to exit and reaps it (`await proc.wait()`). Closes its
    /// standard input first, as Python's `wait` does not but `communicate` does, so a
    /// child reading to the end of its input can finish.
    ///
    /// # Errors
    ///
    /// The OS's (`waitpid` failing, which does not happen to a child we own).
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        // A child runs in real time: in flight on an auto-advance clock until it
        // exits (or this wait is dropped).
        let _in_flight = InFlight(
            crate::runtime::with_current_scheduler("Child::wait", |s| s.clock.start_work())
                .ok()
                .flatten(),
        );
        let Some(child) = &mut self.std else {
            return Err(io::Error::other("the child was already waited for"));
        };
        let status = poll_fn(|cx| {
            self.exit.poll_read_with(cx, |_| match child.try_wait()? {
                Some(status) => Ok(status),
                None => Err(io::ErrorKind::WouldBlock.into()),
            })
        })
        .await?;
        self.std = None;
        Ok(status)
    }
}

/// A piece of work in flight on a virtual clock, finished when dropped.
struct InFlight(Option<Arc<Work>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(work) = self.0.take() {
            work.finish();
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let Some(mut child) = self.std.take() else {
            return;
        };
        // Exited already: reap it now. Still running: a thread waits for it, so it
        // never stays a zombie (the thread exits with it).
        if !matches!(child.try_wait(), Ok(Some(_))) {
            let _ = std::thread::Builder::new()
                .name("clearloop-reaper".into())
                .spawn(move || child.wait());
        }
    }
}

/// A pipe end made non-blocking and registered with the reactor.
#[derive(Debug)]
struct Pipe {
    io: Registered<OwnedFd>,
}

impl Pipe {
    fn new(fd: OwnedFd) -> io::Result<Pipe> {
        rustix::io::ioctl_fionbio(&fd, true)?;
        Ok(Pipe {
            io: Registered::new(fd)?,
        })
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_read_with(cx, |fd| Ok(rustix::io::read(fd.as_fd(), &mut *buf)?))
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_write_with(cx, |fd| Ok(rustix::io::write(fd.as_fd(), buf)?))
    }
}

/// The child's standard input: write to it, drop it to close it.
#[derive(Debug)]
pub struct ChildStdin {
    pipe: Pipe,
}

/// The child's standard output.
#[derive(Debug)]
pub struct ChildStdout {
    pipe: Pipe,
}

/// The child's standard error.
#[derive(Debug)]
pub struct ChildStderr {
    pipe: Pipe,
}

impl ChildStdin {
    /// Writes all of `buf`, waiting while the pipe is full.
    ///
    /// # Errors
    ///
    /// Broken pipe: the child closed its input or exited.
    pub async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = poll_fn(|cx| self.pipe.poll_write(cx, buf)).await?;
            buf = &buf[n..];
        }
        Ok(())
    }
}

macro_rules! readable_pipe {
    ($name:ident) => {
        impl $name {
            /// Reads what the child wrote (0: it closed the pipe, or exited).
            ///
            /// # Errors
            ///
            /// The OS's.
            pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                poll_fn(|cx| self.pipe.poll_read(cx, buf)).await
            }

            /// Reads until the child closes the pipe; returns how many bytes came.
            ///
            /// # Errors
            ///
            /// The OS's.
            pub async fn read_to_end(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
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
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.pipe.poll_read(cx, buf)
            }
        }
    };
}

readable_pipe!(ChildStdout);
readable_pipe!(ChildStderr);

impl futures_io::AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.pipe.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A pipe closes when dropped; there is no half-close to send.
        Poll::Ready(Ok(()))
    }
}
