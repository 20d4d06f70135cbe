//! A child's exit as a file descriptor that turns readable when the child exits:
//! what [`Child::wait`](super::Child::wait) waits on in the reactor, and what the
//! reaper watches once a running child is dropped (`reaper.rs`). Each system has
//! its own way to make one; everything else in `process` is the same code.
//!
//! ```text
//!   Linux (5.3 and later)                    macOS, FreeBSD, NetBSD
//!   ---------------------------------------  ------------------------------------------
//!   pidfd_open(pid)                          kq = kqueue()
//!                                            kevent(kq, ADD EVFILT_PROC pid NOTE_EXIT)
//!   readable once the child is a zombie      readable once the exit note is queued in kq
//!   (waitpid then reaps it at once)          (a moment before the zombie: see below)
//!   stays readable                           stays readable: the note is never read out
//! ```
//!
//! **A kqueue is itself a descriptor to watch.** asyncio's `KqueueSelector` and
//! Python's `select.kqueue` know `EVFILT_PROC`: "tell me when process *pid*
//! exits". A kqueue's descriptor reads as ready while an event is pending in it
//! (`poll(2)` and `select(2)` say so, and another kqueue can watch it with
//! `EVFILT_READ`), so a kqueue holding the one note for one child *is* that
//! child's exit descriptor: it goes where Linux puts the pidfd, and the reactor
//! cannot tell the difference. It costs one descriptor per child, as a pidfd does,
//! and no thread and no `SIGCHLD` handler. kqueues are never inherited by a
//! process started after it (the kernels close them in the child of `fork` and
//! `posix_spawn`), so no `CLOEXEC` is needed.
//!
//! **The note is never read out of the queue.** Reading it (`kevent` with room for
//! one event) would empty the queue, and its descriptor would never be readable
//! again: a second [`wait`](super::Child::wait), or the reaper after a drop, would
//! wait forever. Left there, the kqueue stays readable from the exit on, exactly
//! like a pidfd, and a level-triggered selector (`poll(2)`, the reactor's on these
//! systems) reports it on every look while a task waits on it. That costs nothing
//! once `wait` returned: the reactor asks about a descriptor only while a task
//! waits on it.
//!
//! **Readable a moment before it can be reaped.** Linux makes the pidfd readable
//! once the process is a zombie, so `waitpid` then succeeds. macOS queues the exit
//! note from inside the kernel's exit path, a moment *before* the process becomes
//! a zombie (xnu's `proc_exit` calls `proc_knote(p, NOTE_EXIT)`, then sets
//! `p_stat = SZOMB`), and so do the BSDs by libuv's account (its pull request
//! 3521, "fix hang after NOTE_EXIT"): a `waitpid(WNOHANG)` in between says "still
//! running". So `wait` asks the
//! descriptor itself ([`is_readable`]) when `waitpid` finds nothing: readable means
//! the child is on its way out, and the task yields and tries again at its next
//! turn instead of waiting for a report that may not come again (a future
//! edge-triggered kqueue selector would report it once). [`READABLE_BEFORE_REAPABLE`]
//! keeps that system call off Linux, where it cannot happen.
//!
//! **A child that has exited already.** The child may exit before `kevent` can
//! register the note: FreeBSD then queues it at once, but macOS answers `ESRCH`
//! (the process is past the point where anyone may start watching it), and no note
//! will ever come. The child is exiting, so its exit descriptor must be readable
//! now: it becomes the read end of a pipe whose write end is closed, which reads
//! as end of file, ready at once and forever, as an exited child's pidfd is.
//!
//! **Windows** needs none of this: a process *handle* is a kernel object that
//! becomes signalled when the process exits, and stays so; there are no zombies
//! (the exit code is kept while a handle is open). The reactor watches a copy of
//! the child's handle as a *waitable* source (`polling`'s `add_waitable`: a
//! thread-pool wait, `RegisterWaitForSingleObject`, that posts to the selector's
//! completion port), so no thread is spent per child, as with a pidfd.

use std::io;
#[cfg(unix)]
use std::os::fd::{AsFd, OwnedFd};
#[cfg(unix)]
use std::sync::Arc;

#[cfg(unix)]
use rustix::event::{PollFd, PollFlags, Timespec};
#[cfg(unix)]
use rustix::process::Pid;

/// Whether this system's exit descriptor can turn readable a moment before
/// `waitpid` can reap the child (the module doc). Not on Linux, nor on Windows.
pub(super) const READABLE_BEFORE_REAPABLE: bool = cfg!(all(unix, not(target_os = "linux")));

/// What the reactor watches for a child's exit: its exit descriptor, shared (an
/// `Arc`) so that `Drop` can hand it to the reaper without opening another.
#[cfg(unix)]
pub(super) type Exit = Arc<OwnedFd>;

/// What the reactor watches for a child's exit: a handle to the process, which
/// becomes signalled when it exits.
#[cfg(windows)]
#[derive(Debug)]
pub(super) struct Exit(std::os::windows::io::OwnedHandle);

#[cfg(windows)]
impl crate::reactor::AsSource for Exit {
    fn as_source(&self) -> crate::reactor::BorrowedSource<'_> {
        use std::os::windows::io::AsHandle;
        crate::reactor::BorrowedSource::Waitable(self.0.as_handle())
    }
}

/// A copy of `child`'s handle (`DuplicateHandle`): signalled when it exits.
///
/// # Errors
///
/// Out of handles or memory.
#[cfg(windows)]
pub(super) fn watch(child: &std::process::Child) -> io::Result<Exit> {
    use std::os::windows::io::AsHandle;
    Ok(Exit(child.as_handle().try_clone_to_owned()?))
}

/// A descriptor that turns readable when `child` exits, and stays so: its pidfd.
///
/// # Errors
///
/// A kernel older than 5.3 (`ENOSYS`), or no descriptor left (`EMFILE`).
#[cfg(target_os = "linux")]
pub(super) fn watch(child: &std::process::Child) -> io::Result<Exit> {
    use rustix::process::{PidfdFlags, pidfd_open};
    Ok(Arc::new(pidfd_open(
        Pid::from_child(child),
        PidfdFlags::NONBLOCK,
    )?))
}

/// A descriptor that turns readable when `child` exits, and stays so: a kqueue of
/// its own holding `EVFILT_PROC` / `NOTE_EXIT` for its pid.
///
/// # Errors
///
/// No descriptor left for the kqueue (`EMFILE`), or the kernel out of memory for
/// the note (`ENOMEM`).
#[cfg(all(unix, not(target_os = "linux")))]
pub(super) fn watch(child: &std::process::Child) -> io::Result<Exit> {
    use rustix::event::kqueue::{Event, EventFilter, EventFlags, ProcessEvents, kevent, kqueue};
    let queue = kqueue()?;
    let note = Event::new(
        EventFilter::Proc {
            pid: Pid::from_child(child),
            flags: ProcessEvents::EXIT,
        },
        EventFlags::ADD,
        std::ptr::null_mut(),
    );
    // No room for events: `kevent` only registers the note and returns at once
    // (the zero timeout says so too), with the registration's error if any.
    let mut no_events: [Event; 0] = [];
    // SAFETY: `kevent` requires the descriptors the events name to stay valid as
    // long as the kqueue; an `EVFILT_PROC` event names a process id, no descriptor.
    let added = unsafe {
        kevent(
            &queue,
            &[note],
            &mut no_events,
            Some(std::time::Duration::ZERO),
        )
    };
    match added {
        Ok(_) => Ok(Arc::new(queue)),
        // Exiting already (the module doc): readable now, forever.
        Err(rustix::io::Errno::SRCH) => {
            drop(queue);
            ended_pipe().map(Arc::new)
        }
        Err(errno) => Err(errno.into()),
    }
}

/// The read end of a pipe whose write end is closed: readable (end of file) now
/// and forever. std's `pipe` sets `CLOEXEC` on both ends.
#[cfg(all(unix, any(not(target_os = "linux"), test)))]
fn ended_pipe() -> io::Result<OwnedFd> {
    let (reader, writer) = std::io::pipe()?;
    drop(writer);
    Ok(reader.into())
}

/// Whether `exit` reads as ready now (a `poll(2)` that does not wait): the child
/// has exited, or is exiting.
///
/// # Errors
///
/// The OS's (none expected on a descriptor we own).
#[cfg(unix)]
pub(super) fn is_readable(exit: &impl AsFd) -> io::Result<bool> {
    let mut fds = [PollFd::new(exit, PollFlags::IN)];
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    loop {
        match rustix::event::poll(&mut fds, Some(&now)) {
            Ok(_) => return Ok(!fds[0].revents().is_empty()),
            Err(rustix::io::Errno::INTR) => continue,
            Err(errno) => return Err(errno.into()),
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::super::Child;
    use crate::reactor::Registered;

    /// What a kqueue system shows for a moment at each exit, and for the whole
    /// life of a child whose note could not be registered: an exit descriptor that
    /// reads as ready while `waitpid` still finds the child running. Made on Linux
    /// with the ended pipe in place of the pidfd. `wait` must look again at its
    /// next turns rather than wait for a report: the default epoll selector reports
    /// the pipe once, and a wait that went back to it would wait for nothing (until
    /// the test's 30 s limit, which then fails it).
    #[test]
    fn wait_ends_when_the_exit_descriptor_is_ready_before_the_child_can_be_reaped() {
        let std = std::process::Command::new("sh")
            .args(["-c", "sleep 0.2; exit 7"])
            .spawn()
            .unwrap();
        let mut child = Child {
            pid: std.id(),
            std: Some(std),
            program: "sh".into(),
            exit: Registered::new(Arc::new(super::ended_pipe().unwrap())).unwrap(),
            stdin: None,
            stdout: None,
            stderr: None,
        };
        let limit = Duration::from_secs(30);
        let started = Instant::now();
        let status = crate::run(async { crate::timeout(limit, child.wait_for_exit(true)).await });
        // Woken by the timer at the limit, a stuck wait would still find the
        // child reaped: only the time tells it apart.
        assert!(
            started.elapsed() < limit,
            "`wait` was not woken by the exit, only by the {limit:?} timer"
        );
        assert_eq!(status.unwrap().unwrap().code(), Some(7));
    }
}
