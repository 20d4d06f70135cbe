//! Ctrl-C as something a task can `.await`, so a server stops cleanly.
//!
//! A signal arrives at any instant, on any thread, in the middle of any code: a
//! signal handler may do almost nothing (no lock, no allocation, no `println!`: only
//! the "async-signal-safe" calls, such as `write(2)`). So the handler does not wake
//! tasks itself. It counts the signal and writes one byte into a pipe; the reading
//! end of the pipe is an ordinary source of the [reactor](crate::reactor), and the
//! tasks that wait for Ctrl-C wait on it as they would on a socket. This is the
//! "self-pipe trick", and it is exactly what asyncio does: `loop.add_signal_handler(
//! signal.SIGINT, callback)` calls `signal.set_wakeup_fd(self._csock)`, CPython's C
//! handler writes the signal number into that socket, and the selector wakes the loop,
//! which runs the callback.
//!
//! ```text
//!   kernel: SIGINT ──> on_sigint (async-signal-safe, any thread)
//!                        RECEIVED += 1
//!                        write(pipe, [1])  ──────┐
//!                                                 v
//!   task: ctrl_c().await                    reactor: pipe readable
//!     RECEIVED > seen? no                       -> wake every waiting task
//!     wait on the pipe (a Source) ─ Pending     
//!     ... woken: drain the pipe,
//!     RECEIVED > seen? yes -> Ready(())
//! ```
//!
//! The count, not the byte, says whether a signal came: a [`CtrlC`] remembers the count
//! when it was made and is ready once the count is higher. So every waiter wakes (not
//! only the one that drained the pipe), a byte left over from an old signal never
//! completes a new waiter, and a full pipe (the byte not written) loses nothing.
//!
//! ## What happens to the default behaviour of Ctrl-C
//!
//! With no handler, SIGINT kills the process (Python raises `KeyboardInterrupt`). Here:
//!
//! * **before** the first [`ctrl_c()`]: untouched; Ctrl-C kills the process;
//! * **from the moment [`ctrl_c()`] returns** (not its first poll: a future made and
//!   not yet awaited already catches the signal) until the last [`CtrlC`] completes or
//!   is dropped: the handler is installed, Ctrl-C no longer kills the process, every
//!   waiter wakes;
//! * **after**: the previous disposition is put back (usually the default). A second
//!   Ctrl-C, while the server shuts down, kills it: the usual "press twice to force".
//!
//! asyncio keeps its handler until `remove_signal_handler`; tokio installs its handler
//! once and never removes it (its `ctrl_c` doc warns that Ctrl-C stops killing the
//! process for good). Putting the old one back is what "leave things as they were"
//! means here.
//!
//! ## Why a self-pipe and not a signalfd
//!
//! Linux's `signalfd` reads signals from a descriptor with no handler at all, but only
//! signals *blocked* in every thread: a thread that did not block SIGINT (one started
//! before, a library's thread) still receives it and dies of the default action. A
//! runtime cannot block it in threads it did not start. The handler works whatever the
//! threads, on every Unix.
//!
//! ## Limits
//!
//! * SIGINT only (Ctrl-C; on Windows the console's `CTRL_C_EVENT`).
//! * The handler is installed with C's `signal()` (std has no signal API and the crate
//!   depends neither on `libc` nor on `signal-hook`); putting the previous handler back
//!   restores its address, not the `sigaction` flags another library may have given it.
//!   The default and "ignore" (the usual cases) come back exactly.
//! * A handler set by someone else *while* a [`CtrlC`] waits is overwritten when the
//!   last one ends.
//! * The pipe is a source of the process-wide reactor, like every socket: on an
//!   auto-advance [virtual clock](crate::clock), a task waiting for Ctrl-C counts as a
//!   task waiting on I/O ("Tasks waiting on I/O" in that module).
//!
//! ```
//! use clearloop::signal;
//!
//! clearloop::run(async {
//!     let stop = signal::ctrl_c(); // SIGINT is caught from here on
//!     assert_eq!(signal::waiting(), 1);
//!     drop(stop); // nobody waits: the previous behaviour is back
//!     assert_eq!(signal::waiting(), 0);
//! });
//! ```
//!
//! ## Windows: a console control handler
//!
//! Windows has no signals: Ctrl-C in a console makes the system start a *new
//! thread* in the process and call the handlers registered with
//! `SetConsoleCtrlHandler` there, with `CTRL_C_EVENT`; with none registered, the
//! default handler ends the process. That thread is an ordinary thread, so the
//! handler needs no self-pipe: it counts the event and wakes the waiting tasks
//! itself, and a loop asleep in its selector is woken as by any other thread's
//! wake (the runtime's `notify`: a completion packet posted to the port). The
//! handler is registered while a [`CtrlC`] lives and removed after, as the SIGINT
//! handler is; other events (Ctrl-Break, closing the console) go on to the next
//! handler. asyncio on Windows wakes its loop through a socket given to
//! `signal.set_wakeup_fd`, CPython's own handler writing to it.
//!
//! ```text
//!   console: Ctrl-C ──> a new thread: on_console_event(CTRL_C_EVENT)
//!                         RECEIVED += 1; take the wakers (under the lock); wake them
//!   task: ctrl_c().await
//!     RECEIVED > seen? no: store the waker (under the same lock) ─ Pending
//!     ... woken: RECEIVED > seen? yes -> Ready(())
//! ```
//!
//! A server stops on Ctrl-C by racing it against its accept loop (see the
//! `echo_server` example); in a test, send the signal to the process yourself
//! (`tests/signal_ctrl_c.rs`).

#![cfg(any(unix, windows))]

#[cfg(windows)]
pub use self::console::{CtrlC, ctrl_c, waiting};
#[cfg(unix)]
pub use self::sigint::{CtrlC, ctrl_c, waiting};

/// SIGINT, caught with a handler that writes to a self-pipe (the module doc).
#[cfg(unix)]
mod sigint {
    use std::ffi::c_int;
    use std::future::Future;
    use std::io::{self, Read};
    use std::os::fd::{AsRawFd, BorrowedFd};
    use std::os::unix::net::UnixStream;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
    use std::sync::{Mutex, OnceLock};
    use std::task::{Context, Poll};

    use crate::panics::lock;
    use crate::reactor::Registered;

    /// A signal's disposition as C's `signal()` takes and returns it: a handler's address,
    /// or `SIG_DFL` (0) or `SIG_IGN` (1).
    type Disposition = usize;

    /// What `signal()` returns on failure (`SIG_ERR`, `(void (*)(int)) -1`).
    const SIG_ERR: Disposition = usize::MAX;

    unsafe extern "C" {
        /// C's `signal(2)`, from the C library std already links. glibc, musl and the
        /// BSDs give it the same meaning: the handler stays installed after a delivery,
        /// and interrupted system calls restart (`SA_RESTART`).
        fn signal(signum: c_int, handler: Disposition) -> Disposition;
    }

    /// How many SIGINTs the handler has seen since the process started.
    static RECEIVED: AtomicU64 = AtomicU64::new(0);
    /// The writing end of the pipe, for the handler (`-1`: not made yet).
    static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);

    /// The SIGINT handler: only async-signal-safe work. An atomic add, one `write(2)`
    /// through rustix. On Linux that is a raw system call, which leaves `errno` alone;
    /// elsewhere rustix calls the C library's `write`, which may set it, so the handler
    /// saves `errno` and puts it back: either way the code the signal interrupted reads
    /// its own error, not ours. A full pipe or any error is ignored: the count is what
    /// waiters read.
    extern "C" fn on_sigint(_signum: c_int) {
        #[cfg(not(target_os = "linux"))]
        // SAFETY: the C library's errno location is valid for the thread, for as long as
        // the thread lives (this handler runs on it); reading an `int` there is safe.
        let saved = unsafe { *errno_location() };
        RECEIVED.fetch_add(1, Ordering::SeqCst);
        let fd = PIPE_WRITE.load(Ordering::SeqCst);
        if fd >= 0 {
            // SAFETY: `fd` is the writing end of the pipe in `PIPE`, made before the
            // handler is installed and never closed (the pipe lives as long as the process).
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            // Ignored on purpose (see above): a handler has nowhere to report.
            let _full_or_failed = rustix::io::write(fd, &[1]);
        }
        #[cfg(not(target_os = "linux"))]
        // SAFETY: as above; writing back the `int` that was there.
        unsafe {
            *errno_location() = saved
        };
    }

    #[cfg(not(target_os = "linux"))]
    unsafe extern "C" {
        /// The address of the calling thread's `errno` (the C library's; its name
        /// differs between systems).
        #[cfg_attr(
            any(
                target_os = "macos",
                target_os = "ios",
                target_os = "freebsd",
                target_os = "dragonfly"
            ),
            link_name = "__error"
        )]
        #[cfg_attr(
            any(target_os = "netbsd", target_os = "openbsd"),
            link_name = "__errno"
        )]
        fn errno_location() -> *mut c_int;
    }

    /// The pipe, made once: the reading end registered with the reactor, and the writing
    /// end the handler writes to (kept here so it stays open).
    struct Pipe {
        read: Registered<UnixStream>,
        _write: UnixStream,
    }

    /// Who waits, and what SIGINT did before we took it.
    struct Handler {
        /// Live [`CtrlC`] values (made, neither completed nor dropped).
        waiting: usize,
        /// The disposition `signal()` returned when we installed ours; put back when
        /// `waiting` falls to 0.
        previous: Disposition,
    }

    static HANDLER: Mutex<Handler> = Mutex::new(Handler {
        waiting: 0,
        previous: 0,
    });

    /// The pipe, made on first use.
    fn pipe() -> io::Result<&'static Pipe> {
        static PIPE: OnceLock<Pipe> = OnceLock::new();
        if let Some(pipe) = PIPE.get() {
            return Ok(pipe);
        }
        // Called under `HANDLER`'s lock only, so one thread makes it. A socket pair is
        // the pipe std can make; both ends non-blocking: the handler must never block,
        // and the reader drains until "would block".
        let (read, write) = UnixStream::pair()?;
        read.set_nonblocking(true)?;
        write.set_nonblocking(true)?;
        let pipe = Pipe {
            read: Registered::new(read)?,
            _write: write,
        };
        let pipe = PIPE.get_or_init(|| pipe);
        PIPE_WRITE.store(pipe._write.as_raw_fd(), Ordering::SeqCst);
        Ok(pipe)
    }

    /// Waits for Ctrl-C (SIGINT): the returned future completes at the first SIGINT
    /// received after this call (asyncio's `loop.add_signal_handler(signal.SIGINT,
    /// callback)`; tokio's `signal::ctrl_c()`).
    ///
    /// The handler is installed now, before the first poll; it is removed, and the
    /// previous behaviour of SIGINT put back, when the last live [`CtrlC`] completes or is
    /// dropped (see the module doc).
    ///
    /// The future gives `Err` at once when SIGINT cannot be caught: the pipe cannot be
    /// made (out of file descriptors) or `signal()` refuses; the error says which.
    pub fn ctrl_c() -> CtrlC {
        match install() {
            Ok((seen, pipe)) => CtrlC {
                seen,
                waiting: Ok(pipe),
            },
            Err(error) => CtrlC {
                seen: 0,
                waiting: Err(Some(io::Error::new(
                    error.kind(),
                    format!("signal::ctrl_c(): cannot catch SIGINT: {error}"),
                ))),
            },
        }
    }

    /// One more waiter: installs the handler if it is the first. Returns the count of
    /// signals so far and the pipe.
    fn install() -> io::Result<(u64, &'static Pipe)> {
        let mut handler = lock(&HANDLER);
        let pipe = pipe()?;
        // Read before installing: a signal caught by our handler is then always one this
        // waiter counts.
        let seen = RECEIVED.load(Ordering::SeqCst);
        if handler.waiting == 0 {
            // SAFETY: `on_sigint` does only async-signal-safe work (an atomic add and a
            // `write(2)` on a descriptor that stays open), so it may run at any instant.
            let previous = unsafe { signal(SIGINT, on_sigint as extern "C" fn(c_int) as usize) };
            if previous == SIG_ERR {
                return Err(io::Error::other(format!(
                    "signal(SIGINT) failed: {}",
                    io::Error::last_os_error()
                )));
            }
            handler.previous = previous;
        }
        handler.waiting += 1;
        Ok((seen, pipe))
    }

    /// How many [`CtrlC`] are live now (made, neither completed nor dropped): while it is
    /// above 0, SIGINT is caught.
    pub fn waiting() -> usize {
        lock(&HANDLER).waiting
    }

    const SIGINT: c_int = rustix::process::Signal::INT.as_raw();

    /// One fewer waiter; the last one puts the previous disposition back.
    fn release() {
        let mut handler = lock(&HANDLER);
        handler.waiting -= 1;
        if handler.waiting == 0 {
            // SAFETY: `previous` is what `signal()` returned for SIGINT, so a valid
            // disposition for it (the default, "ignore", or the handler that was there).
            unsafe { signal(SIGINT, handler.previous) };
        }
    }

    /// The future [`ctrl_c`] returns: `Ready(Ok(()))` at the first SIGINT after it was
    /// made. Dropping it before then removes its claim on the signal.
    #[must_use = "SIGINT is caught only while this future lives; `.await` it"]
    pub struct CtrlC {
        /// [`RECEIVED`] when this future was made.
        seen: u64,
        /// `Ok`: still counted in [`Handler::waiting`], waiting on the pipe. `Err`: done,
        /// with the error to give (once) if catching SIGINT failed.
        waiting: Result<&'static Pipe, Option<io::Error>>,
    }

    impl CtrlC {
        /// Leaves the waiters (if still among them) and gives the outcome.
        fn finish(&mut self, outcome: io::Result<()>) -> Poll<io::Result<()>> {
            if self.waiting.is_ok() {
                self.waiting = Err(None);
                release();
            }
            Poll::Ready(outcome)
        }
    }

    impl Future for CtrlC {
        type Output = io::Result<()>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            let pipe = match &mut this.waiting {
                Ok(pipe) => *pipe,
                Err(error) => return Poll::Ready(error.take().map_or(Ok(()), Err)),
            };
            let seen = this.seen;
            // Drain the pipe, then look at the count: a byte is only written after its
            // signal was counted. Nothing counted yet: wait for the next byte. Whoever
            // drained a byte wakes the other waiters: the selector is edge-triggered, and
            // reports nothing once the pipe is empty again.
            let received = pipe.read.poll_read_with(cx, |mut reader| {
                let mut sink = [0; 64];
                let mut drained = false;
                while let Ok(1..) = reader.read(&mut sink) {
                    drained = true;
                }
                if drained {
                    pipe.read.wake_readers();
                }
                if RECEIVED.load(Ordering::SeqCst) > seen {
                    Ok(())
                } else {
                    Err(io::ErrorKind::WouldBlock.into())
                }
            });
            match received {
                Poll::Pending => Poll::Pending,
                Poll::Ready(outcome) => this.finish(outcome.map_err(|error| {
                    io::Error::new(
                        error.kind(),
                        format!("signal::ctrl_c(): cannot read the signal pipe: {error}"),
                    )
                })),
            }
        }
    }

    impl Drop for CtrlC {
        fn drop(&mut self) {
            if self.waiting.is_ok() {
                release();
            }
        }
    }

    impl std::fmt::Debug for CtrlC {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("CtrlC")
                .field("arrived", &(RECEIVED.load(Ordering::SeqCst) > self.seen))
                .field("waiting", &self.waiting.is_ok())
                .finish()
        }
    }
}

/// Ctrl-C on Windows: a console control handler (the module doc, "Windows").
#[cfg(windows)]
mod console {
    use std::future::Future;
    use std::io;
    use std::pin::Pin;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::task::{Context, Poll, Waker};

    use windows_sys::Win32::System::Console::{CTRL_C_EVENT, SetConsoleCtrlHandler};
    use windows_sys::core::BOOL;

    use crate::clock::IoWait;
    use crate::panics::lock;

    /// How many Ctrl-C events the handler has seen since the process started.
    static RECEIVED: AtomicU64 = AtomicU64::new(0);

    /// Who waits, and whether the handler is registered.
    struct Handler {
        /// Live [`CtrlC`] values (made, neither completed nor dropped).
        waiting: usize,
        /// The tasks to wake at the next Ctrl-C.
        wakers: Vec<Waker>,
    }

    static HANDLER: Mutex<Handler> = Mutex::new(Handler {
        waiting: 0,
        wakers: Vec::new(),
    });

    /// The console control handler: runs on a thread the system starts for the
    /// event, so it may lock and wake. `TRUE`: handled (the process lives on);
    /// `FALSE` for the other events, which go on to the next handler.
    unsafe extern "system" fn on_console_event(event: u32) -> BOOL {
        if event != CTRL_C_EVENT {
            return 0;
        }
        let wakers = {
            let mut handler = lock(&HANDLER);
            // Counted under the lock that waiters register under: a waiter either
            // sees the new count, or has its waker here.
            RECEIVED.fetch_add(1, Ordering::SeqCst);
            std::mem::take(&mut handler.wakers)
        };
        wakers.into_iter().for_each(Waker::wake);
        1
    }

    /// Waits for Ctrl-C: the returned future completes at the first `CTRL_C_EVENT`
    /// received after this call (asyncio's `loop.add_signal_handler(signal.SIGINT,
    /// callback)`; tokio's `signal::ctrl_c()`).
    ///
    /// The handler is registered now, before the first poll; it is removed, and
    /// Ctrl-C ends the process again, when the last live [`CtrlC`] completes or is
    /// dropped.
    ///
    /// The future gives `Err` at once when `SetConsoleCtrlHandler` refuses; the error
    /// says so.
    pub fn ctrl_c() -> CtrlC {
        let mut handler = lock(&HANDLER);
        let seen = RECEIVED.load(Ordering::SeqCst);
        if handler.waiting == 0 {
            // SAFETY: `on_console_event` has the signature the system calls, and is
            // a `static` function: it lives as long as the process.
            if unsafe { SetConsoleCtrlHandler(Some(on_console_event), 1) } == 0 {
                let error = io::Error::last_os_error();
                return CtrlC {
                    seen,
                    waiting: Err(Some(io::Error::new(
                        error.kind(),
                        format!(
                            "signal::ctrl_c(): cannot catch Ctrl-C: SetConsoleCtrlHandler: {error}"
                        ),
                    ))),
                    io_wait: None,
                };
            }
        }
        handler.waiting += 1;
        CtrlC {
            seen,
            waiting: Ok(()),
            io_wait: None,
        }
    }

    /// How many [`CtrlC`] are live now (made, neither completed nor dropped): while
    /// it is above 0, Ctrl-C is caught.
    pub fn waiting() -> usize {
        lock(&HANDLER).waiting
    }

    /// One fewer waiter; the last one removes the handler.
    fn release() {
        let mut handler = lock(&HANDLER);
        handler.waiting -= 1;
        if handler.waiting == 0 {
            handler.wakers.clear();
            // SAFETY: removes the function registered by `ctrl_c`. A failure leaves
            // it registered: Ctrl-C would then be counted, not end the process.
            if unsafe { SetConsoleCtrlHandler(Some(on_console_event), 0) } == 0 {
                eprintln!(
                    "clearloop: cannot remove the Ctrl-C handler: {}",
                    io::Error::last_os_error()
                );
            }
        }
    }

    /// The future [`ctrl_c`] returns: `Ready(Ok(()))` at the first Ctrl-C after it was
    /// made. Dropping it before then removes its claim on the event.
    #[must_use = "Ctrl-C is caught only while this future lives; `.await` it"]
    pub struct CtrlC {
        /// [`RECEIVED`] when this future was made.
        seen: u64,
        /// `Ok`: still counted in [`Handler::waiting`]. `Err`: done, with the error
        /// to give (once) if catching Ctrl-C failed.
        waiting: Result<(), Option<io::Error>>,
        /// While it waits, a task of a runtime on an auto-advance clock waits on the
        /// world, as for a socket (the `clock` module's I/O rule).
        io_wait: Option<IoWait>,
    }

    impl CtrlC {
        fn finish(&mut self) -> Poll<io::Result<()>> {
            self.io_wait = None;
            if self.waiting.is_ok() {
                self.waiting = Err(None);
                release();
            }
            Poll::Ready(Ok(()))
        }
    }

    impl Future for CtrlC {
        type Output = io::Result<()>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            if let Err(error) = &mut this.waiting {
                return Poll::Ready(error.take().map_or(Ok(()), Err));
            }
            let mut handler = lock(&HANDLER);
            if RECEIVED.load(Ordering::SeqCst) > this.seen {
                drop(handler);
                return this.finish();
            }
            if !handler.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                handler.wakers.push(cx.waker().clone());
            }
            drop(handler);
            if this.io_wait.is_none() {
                this.io_wait =
                    crate::runtime::scheduler::with_current_scheduler("ctrl_c", |core| {
                        core.clock.start_io_wait()
                    })
                    .ok()
                    .flatten();
            }
            Poll::Pending
        }
    }

    impl Drop for CtrlC {
        fn drop(&mut self) {
            self.io_wait = None;
            if self.waiting.is_ok() {
                release();
            }
        }
    }

    impl std::fmt::Debug for CtrlC {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("CtrlC")
                .field("arrived", &(RECEIVED.load(Ordering::SeqCst) > self.seen))
                .field("waiting", &self.waiting.is_ok())
                .finish()
        }
    }
}
