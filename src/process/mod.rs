//! Child processes whose exit and pipes are awaited in the reactor (asyncio's
//! `create_subprocess_exec`).
//!
//! The course's first slide names sub-processes: three commands started at once end
//! together, where one after the other they take three times as long. A child's exit
//! is a readiness event like a socket's: each system can give a file descriptor that
//! turns readable when a process exits, its **exit descriptor** (`exit.rs`). So the
//! reactor waits on it as on a socket; no thread per child, and no process-wide
//! `SIGCHLD` handler to share with other libraries (asyncio's `PidfdChildWatcher`
//! makes the same choice; its older `ThreadedChildWatcher` spends a thread per child,
//! and tokio's unix driver listens for `SIGCHLD`).
//!
//! ```text
//!                     the exit descriptor             the reaper's watcher (dropped children)
//!   Linux 5.3+        pidfd_open(pid)                 one epoll instance over their pidfds
//!   macOS, FreeBSD,   a kqueue of its own holding     one kqueue over their kqueues
//!   NetBSD            EVFILT_PROC / NOTE_EXIT (pid)   (EVFILT_READ: a kqueue with an event
//!                                                      pending reads as ready)
//!   either way        readable from the exit on; the reactor's selector (epoll or
//!                     poll(2)) watches it like any socket
//!   Windows           the process handle, signalled   none: no zombies on Windows
//!                     at the exit (IOCP's waitable)
//! ```
//!
//! **Windows.** A process handle is signalled when the process exits, and the
//! reactor's IOCP selector waits on it (`exit.rs`): no thread per child. Dropping a
//! running child only closes its handles (nothing to reap). Its pipes cannot be
//! waited on (`pipe.rs`): their reads and writes run on a bounded pool of threads.
//! There the examples run `cmd /c` and `ping -n 2 127.0.0.1` where Unix runs `sh -c`
//! and `sleep 1`.
//!
//! **What has run where.** The Linux path is the one tested here, with both
//! selectors (`cargo test`, `CLEARLOOP_SELECTOR=poll cargo test`). The kqueue path
//! of macOS and the BSDs is compiled and checked here (`cargo clippy --lib --target
//! x86_64-apple-darwin`, and `x86_64-unknown-freebsd`, `x86_64-unknown-netbsd`),
//! its kernel behaviour read from the xnu and FreeBSD sources, but it has not been
//! *run*: the first `cargo test --test process_exec` on a Mac is its first test.
//!
//! | asyncio                                          | clearloop                              |
//! |--------------------------------------------------|----------------------------------------|
//! | `await create_subprocess_exec(prog, *args, stdout=PIPE)` | [`Command::new`]`(prog).args(..).stdout(Stdio::piped()).spawn()` |
//! | `await proc.wait()`, `proc.returncode`           | [`Child::wait`]`().await`              |
//! | `await proc.communicate()`                       | [`Command::output`]`().await`          |
//! | `proc.kill()`, `proc.pid`                        | [`Child::kill`], [`Child::id`]         |
//! | `proc.stdout.read()`, `proc.stdin.write()`       | [`ChildStdout::read`], [`ChildStdin::write_all`] |
//! | `OSError` (`errno`, `filename`)                  | [`Error`] ([`raw_os_error`](Error::raw_os_error), [`program`](Error::program)) |
//!
//! ```text
//!   spawn(): reaper running? -> fork+exec (std) -> its exit descriptor, wrapped in Registered
//!                                                  (fails: kill, reap, Err naming the program)
//!   wait():  try_wait -> still running -> the exit descriptor joins the runtime's reactor
//!            (its first wait; fails: Err naming the program, the child still ours)
//!            -> Pending ... child exits: the descriptor turns readable
//!            <- woken by the reactor -- try_wait -> Some(status)   (the zombie is reaped)
//!               (kqueue: still None for a moment? it is exiting: try again next turn)
//! ```
//!
//! **No zombie, and one thread for all the orphans.** A child that exits stays a
//! zombie until its parent waits for it. Dropping a [`Child`] that is still running
//! does not kill it (as in Python and tokio; call [`Child::kill`] first to stop it):
//! it is handed to the **reaper**, one thread for the whole process
//! (`clearloop-reaper`, `reaper.rs`), which sleeps in its own watcher (an epoll
//! instance, or a kqueue), with no timeout, over the exit descriptors of every
//! orphan, and reaps each as its descriptor turns readable. A thread per orphan
//! (asyncio's `ThreadedChildWatcher`) costs a thread each (894 alive at once for
//! 1,000 dropped children, measured on that design) and leaves a zombie whenever
//! its thread cannot start; a loop that polled the orphans every so often would see
//! each exit late. The exit is an event, so one sleeping thread sees them all as
//! they happen:
//!
//! ```text
//!   drop(child), still running    clearloop-reaper: wait(no timeout) over orphans' exit fds
//!     add(its exit fd) ------------>   ...asleep...
//!   the child exits                <-- readable: waitpid (reaped), delete(its exit fd)
//! ```
//!
//! The reaper starts with the first [`Command::spawn`], *before* the OS starts
//! anything, so that if it cannot (out of file descriptors or memory) `spawn`
//! fails and nothing ran. If an orphan cannot be handed over later (the kernel out
//! of memory for `epoll_ctl` or `kevent`), that is said on stderr, and the next
//! spawn or drop of a child reaps it or hands it over again: it is never killed,
//! nor forgotten.
//!
//! **Errors name the program and keep the errno.** std's and tokio's `spawn`
//! return the OS's error as it is: `No such file or directory (os error 2)`, and
//! no word of which program. A `std::io::Error` cannot carry both: one made with
//! ``io::Error::new(kind, "cannot start `prog`")`` has the text, and its
//! `raw_os_error()` is `None` for good. So every fallible call here returns an
//! [`Error`], Python's `OSError` with its `errno` and `filename`: it names the
//! program (and the pid, and the stream, once there is one), and its
//! [`kind`](Error::kind) and [`raw_os_error`](Error::raw_os_error) are the OS
//! error's, which is also its `source()`. `?` turns it into an `io::Error` with the
//! same kind and text, and the `AsyncRead` / `AsyncWrite` impls return that; the
//! errno is then one downcast away: `error.get_ref()` →
//! `downcast_ref::<process::Error>()` → `raw_os_error()` (the example on
//! [`Error`]).
//!
//! **Virtual time.** A child runs in real time, like a job of the blocking pool, so
//! a task waiting for its exit counts as *in flight* on an auto-advance clock
//! ([`clock`](crate::clock)): virtual time does not jump until the child has exited.
//!
//! ```
//! use clearloop::process::Command;
//!
//! // The shell (Python's `shell=True`): `sh -c` on Unix, `cmd /c` on Windows.
//! let (shell, run_line) = if cfg!(windows) { ("cmd", "/c") } else { ("sh", "-c") };
//! let (status, output) = clearloop::run(async {
//!     let status = Command::new(shell).args([run_line, "exit 3"]).status().await.unwrap();
//!     let output = Command::new(shell).args([run_line, "echo bonjour"]).output().await.unwrap();
//!     (status, output)
//! });
//! assert_eq!(status.code(), Some(3));
//! assert_eq!(output.stdout.trim_ascii_end(), b"bonjour"); // "\r\n" ends it on Windows
//! ```

// lib.rs lets code lie idle outside Linux for the I/O modules not ported yet;
// this one is ported, so what it leaves unused is worth a warning everywhere.
#![warn(dead_code, unused_imports)]
#![cfg(any(
    target_os = "linux",
    target_os = "macos",
    target_os = "freebsd",
    target_os = "netbsd",
    windows
))]

use std::ffi::OsStr;
use std::future::poll_fn;
use std::io;
#[cfg(unix)]
use std::os::fd::OwnedFd as PipeEnd;
#[cfg(windows)]
use std::os::windows::io::OwnedHandle as PipeEnd;
use std::pin::pin;
use std::process::{ExitStatus, Output, Stdio};
use std::sync::Arc;
use std::task::Poll;

use crate::clock::Work;
use crate::reactor::Registered;

mod error;
mod exit;
mod pipe;
#[cfg(unix)]
mod reaper;

use error::Doing;
pub use error::Error;
use pipe::Pipe;
pub use pipe::{ChildStderr, ChildStdin, ChildStdout};

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
    /// No such program, permission denied, out of file descriptors or threads: an
    /// [`Error`] naming the program, with the OS's kind and errno. Either nothing
    /// ran, or (its exit descriptor, `exit.rs`, could not be had after the OS
    /// started it) the child was killed and reaped before `spawn` returned: an
    /// error never leaves a process behind.
    pub fn spawn(&mut self) -> Result<Child, Error> {
        let program: Arc<str> = self.std.get_program().to_string_lossy().into();
        // What can fail before the child exists fails here, with nothing started.
        #[cfg(unix)]
        reaper::start().map_err(|error| Error::new(&program, None, Doing::StartReaper, error))?;
        let mut child = self
            .std
            .spawn()
            .map_err(|error| Error::new(&program, None, Doing::Start, error))?;
        let pid = child.id();
        match Child::watch(&mut child, &program) {
            Ok((exit, stdin, stdout, stderr)) => Ok(Child {
                std: Some(child),
                pid,
                program,
                exit,
                stdin,
                stdout,
                stderr,
            }),
            Err(error) => {
                // It runs, but its exit cannot be awaited (out of file descriptors,
                // most likely): stop it now, rather than return an error for a
                // command that goes on running, or leave a zombie.
                if let Err(failed) = child.kill().and_then(|()| child.wait().map(drop)) {
                    eprintln!("clearloop: cannot kill and reap `{program}` (pid {pid}): {failed}");
                }
                Err(Error::new(&program, Some(pid), Doing::Watch, error))
            }
        }
    }

    /// Runs the command to its end and returns its exit status (its standard
    /// streams are the parent's unless set otherwise).
    ///
    /// # Errors
    ///
    /// Those of [`spawn`](Command::spawn) and [`Child::wait`].
    pub async fn status(&mut self) -> Result<ExitStatus, Error> {
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
    pub async fn output(&mut self) -> Result<Output, Error> {
        self.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.spawn()?;
        let (mut out, mut err) = (child.stdout.take(), child.stderr.take());
        let read_out = async {
            let mut buf = Vec::new();
            if let Some(out) = &mut out {
                out.read_to_end(&mut buf).await?;
            }
            Ok(buf)
        };
        let read_err = async {
            let mut buf = Vec::new();
            if let Some(err) = &mut err {
                err.read_to_end(&mut buf).await?;
            }
            Ok(buf)
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
    /// `None` only once `Drop` handed it to the reaper.
    std: Option<std::process::Child>,
    pid: u32,
    /// What [`Command::new`] was given, for errors and reports.
    program: Arc<str>,
    /// The exit descriptor (`exit.rs`: a pidfd on Linux, a kqueue elsewhere):
    /// readable when the child exits. An `Arc`, so that `Drop` can hand it to the
    /// reaper without opening another descriptor.
    exit: Registered<exit::Exit>,
    /// The child's standard input, if piped: take it to write (drop it to close).
    pub stdin: Option<ChildStdin>,
    /// The child's standard output, if piped.
    pub stdout: Option<ChildStdout>,
    /// The child's standard error, if piped.
    pub stderr: Option<ChildStderr>,
}

/// What `spawn` sets up around a started child: its exit descriptor and its
/// pipes, each registered with the reactor.
type Watched = (
    Registered<exit::Exit>,
    Option<ChildStdin>,
    Option<ChildStdout>,
    Option<ChildStderr>,
);

impl Child {
    /// Opens the child's exit descriptor and wraps it and the pipes for the
    /// reactor (each joins the runtime's reactor at its first wait).
    fn watch(child: &mut std::process::Child, program: &Arc<str>) -> io::Result<Watched> {
        let pid = child.id();
        // Without one (a Linux older than 5.3, no descriptor left) we could not
        // wait for it.
        let exit = Registered::new(exit::watch(child)?)?;
        let pipe = |fd: Option<PipeEnd>| fd.map(|fd| Pipe::new(fd, program, pid)).transpose();
        let stdin = pipe(child.stdin.take().map(PipeEnd::from))?.map(|pipe| ChildStdin { pipe });
        let stdout = pipe(child.stdout.take().map(PipeEnd::from))?.map(|pipe| ChildStdout { pipe });
        let stderr = pipe(child.stderr.take().map(PipeEnd::from))?.map(|pipe| ChildStderr { pipe });
        Ok((exit, stdin, stdout, stderr))
    }

    /// The child's process id (`proc.pid`).
    pub fn id(&self) -> u32 {
        self.pid
    }

    /// Sends `SIGKILL` (`proc.kill()`; on Windows `TerminateProcess`); then
    /// [`wait`](Child::wait) for it.
    ///
    /// # Errors
    ///
    /// None once it has exited (killing an exited child is not an error, as in
    /// Python); the OS's otherwise.
    pub fn kill(&mut self) -> Result<(), Error> {
        match &mut self.std {
            Some(child) => child
                .kill()
                .map_err(|error| Error::new(&self.program, Some(self.pid), Doing::Kill, error)),
            None => Ok(()),
        }
    }

    /// Waits for the child to exit and reaps it (`await proc.wait()`); once it
    /// has, returns the same status again, as Python does. Closes its standard
    /// input first, as Python's `wait` does not but `communicate` does, so a child
    /// reading to the end of its input can finish.
    ///
    /// # Errors
    ///
    /// The OS's (`waitpid` failing, which does not happen to a child we own).
    pub async fn wait(&mut self) -> Result<ExitStatus, Error> {
        self.wait_for_exit(exit::READABLE_BEFORE_REAPABLE).await
    }

    /// [`wait`](Child::wait), told whether the exit descriptor may read as ready
    /// before `waitpid` can reap the child (`exit.rs`; a test sets it on Linux).
    async fn wait_for_exit(&mut self, early: bool) -> Result<ExitStatus, Error> {
        drop(self.stdin.take());
        // A child runs in real time: in flight on an auto-advance clock until it
        // exits (or this wait is dropped).
        let _in_flight = InFlight(
            crate::runtime::with_current_scheduler("Child::wait", |s| s.clock.start_work())
                .ok()
                .flatten(),
        );
        let child = self.std.as_mut().expect("only `Drop` takes the child");
        #[cfg(windows)]
        let _ = early; // a signalled process handle means exited: nothing early
        // std keeps the status once reaped: a second wait returns it at once.
        poll_fn(|cx| {
            let tried = self
                .exit
                .poll_read_with(cx, |_exit| match child.try_wait()? {
                    Some(status) => Ok(Some(status)),
                    // Exiting, not a zombie yet (kqueue systems only, `exit.rs`): the
                    // exit was reported, and may not be again. Look at the next turn.
                    #[cfg(unix)]
                    None if early && exit::is_readable(_exit)? => Ok(None),
                    None => Err(io::ErrorKind::WouldBlock.into()),
                });
            match tried {
                Poll::Ready(Ok(None)) => {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                Poll::Ready(Ok(Some(status))) => Poll::Ready(Ok(status)),
                Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
        .map_err(|error| Error::new(&self.program, Some(self.pid), Doing::Wait, error))
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
        match child.try_wait() {
            // Exited (and reaped now), or waited for already.
            Ok(Some(_)) => {}
            // Still running: it keeps running. Windows has no zombies: dropping
            // the handles is all (the process goes on, and its exit code goes
            // with the last handle).
            #[cfg(windows)]
            Ok(None) => {}
            // Still running: it keeps running, and the reaper reaps it when it
            // exits (`reaper.rs`). Its exit descriptor stays open while the reaper
            // holds it; `exit` deregisters it from the reactor right after this.
            #[cfg(unix)]
            Ok(None) => reaper::adopt(reaper::Orphan {
                child,
                exit: self.exit.get_ref().clone(),
                program: self.program.clone(),
            }),
            Err(error) => eprintln!(
                "clearloop: cannot reap `{}` (pid {}): {error}",
                self.program, self.pid
            ),
        }
    }
}
