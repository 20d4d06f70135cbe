//! The reaper: one thread for the whole process waits for every child that was
//! dropped while still running, and reaps each one when it exits.
//!
//! A child that exits stays a zombie until its parent waits for it. Dropping a
//! running [`Child`](super::Child) must not kill it (Python and tokio let it run), so
//! somebody has to wait for it later. One thread per child (what asyncio's
//! `ThreadedChildWatcher` does) costs a thread, its stack and a `clone` per dropped
//! child, and a child whose thread cannot start stays a zombie. Here its exit is an
//! event like any other: the orphan's exit descriptor (`exit.rs`: its pidfd on
//! Linux, its own kqueue elsewhere) turns readable when it exits, so one thread
//! waiting on one *watcher*, with **no timeout**, watches them all:
//!
//! ```text
//!   Child dropped, still running              clearloop-reaper (one per process)
//!     watcher.add(exit fd, key) ----------->    watcher.wait(no timeout): asleep,
//!     watched[key] = the std Child                no CPU, however many orphans
//!     (any thread, at any time: a wait in
//!      progress sees the new descriptor)
//!   ... the child exits: its exit descriptor turns readable
//!                                             <- wakes with [key]
//!                                                waitpid(pid, WNOHANG): reaped
//!                                                watcher.delete(exit fd); slot freed
//!
//!   watcher    Linux                               macOS, FreeBSD, NetBSD
//!   new        epoll_create                        kqueue()
//!   add        epoll_ctl(ADD, pidfd, IN, key)      kevent(ADD, EVFILT_READ, its kqueue, key)
//!   wait       epoll_wait(no timeout)              kevent(no timeout)
//!   delete     epoll_ctl(DEL, pidfd)               kevent(DELETE, EVFILT_READ, its kqueue)
//! ```
//!
//! On kqueue systems the reaper's kqueue watches the orphans' kqueues (a kqueue
//! is readable while an event is pending in it, and kqueues nest), not their pids:
//! the child's own kqueue was given its exit note when it started, so a child that
//! exits just before the drop is still seen, where a new `EVFILT_PROC` for its pid
//! could be refused (`ESRCH`, `exit.rs`) and never fire.
//!
//! New orphans are handed over by `add` from the dropping thread itself: both
//! kernels let one thread add to an epoll instance or a kqueue that another thread
//! waits on, and wake that wait if the new descriptor is ready already (the kernel
//! wakes the waiters of a queue whenever an event becomes pending in it, whoever
//! registered it; mio's kqueue waker, an `EVFILT_USER` triggered from another
//! thread, relies on the same), so no eventfd or pipe is needed.
//!
//! Both registrations are level-triggered: an exit reported while `waitpid` cannot
//! take it yet is reported again, never lost. On Linux that does not happen (a
//! pidfd is readable once its process is a zombie); on kqueue systems the exit
//! note comes a moment before the zombie (`exit.rs`), and the reaper then goes
//! round once or twice more until `waitpid` has it.
//!
//! **Started before the first child.** [`start`] runs in `Command::spawn` *before*
//! the OS spawns anything: if the thread or its watcher cannot be created (out of
//! memory, out of file descriptors), `spawn` fails and nothing ran. Later drops
//! only need `add`, which fails only when the kernel is out of memory (or, on
//! Linux, of `max_user_watches`). Then, or if the reaper ever stopped, the orphan
//! is reported on stderr and kept in `waiting`: the next spawn or drop of a child
//! reaps it if it has exited, or hands it to the reaper again. It is never killed
//! and never forgotten.

use std::io;
use std::mem;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};

use crate::panics::lock;

/// The reaper's stack. It runs a loop of three system calls; the 2 MiB a std
/// thread gets by default is address space it never touches, and the first thing
/// to fail under an address-space limit (`prlimit --as`).
const STACK: usize = 64 * 1024;

/// At most this many exits are handled per wakeup (more wait for the next one).
const EVENTS_PER_WAIT: usize = 32;

/// A child dropped while running.
pub(super) struct Orphan {
    pub(super) child: std::process::Child,
    /// Its exit descriptor (`exit.rs`), shared with the dropped `Child`'s
    /// registration in the reactor: an `Arc`, so handing it over opens no
    /// descriptor (which could fail: `EMFILE`).
    pub(super) exit: Arc<OwnedFd>,
    pub(super) program: Arc<str>,
}

/// Everything the reaper knows, behind one lock.
struct State {
    /// The watcher (epoll instance or kqueue) the reaper thread waits on; `None`
    /// until the first spawn (or after the thread stopped on an error).
    watcher: Option<Arc<OwnedFd>>,
    /// The orphans being watched, by the key their exit descriptor is registered
    /// with (a slab: `free` lists the empty slots, reused first).
    watched: Vec<Option<Orphan>>,
    free: Vec<usize>,
    /// Orphans no reaper watches (see the module doc), looked at again at the next
    /// spawn or drop.
    waiting: Vec<Orphan>,
}

static STATE: Mutex<State> = Mutex::new(State {
    watcher: None,
    watched: Vec::new(),
    free: Vec::new(),
    waiting: Vec::new(),
});

/// Starts the reaper thread if it is not running, and gives it the orphans that
/// were waiting for one. Called by `Command::spawn` before the OS spawn.
///
/// # Errors
///
/// When the watcher (`EMFILE`) or the thread (`EAGAIN`, `ENOMEM`) cannot be
/// created: the OS's error, untouched.
pub(super) fn start() -> io::Result<()> {
    let mut state = lock(&STATE);
    if state.watcher.is_none() {
        let watcher = Arc::new(watcher::new()?);
        let theirs = watcher.clone();
        std::thread::Builder::new()
            .name("clearloop-reaper".into())
            .stack_size(STACK)
            .spawn(move || reap_forever(&theirs))?;
        state.watcher = Some(watcher);
    }
    state.look_at_waiting();
    Ok(())
}

/// Hands a running child to the reaper; it keeps running.
pub(super) fn adopt(orphan: Orphan) {
    let mut state = lock(&STATE);
    state.look_at_waiting();
    if let Err((orphan, error)) = state.watch(orphan) {
        eprintln!(
            "clearloop: cannot hand `{}` (pid {}) to the reaper ({error}); it keeps running, \
             and is reaped at the next spawn or drop of a child",
            orphan.program,
            orphan.child.id()
        );
        state.waiting.push(orphan);
    }
}

impl State {
    /// Registers the orphan's exit descriptor with the reaper's watcher.
    fn watch(&mut self, orphan: Orphan) -> Result<(), (Orphan, io::Error)> {
        let Some(watcher) = &self.watcher else {
            return Err((orphan, io::Error::other("the reaper is not running")));
        };
        let key = self.free.pop().unwrap_or(self.watched.len());
        if let Err(error) = watcher::add(watcher, &orphan.exit, key) {
            if key < self.watched.len() {
                self.free.push(key);
            }
            return Err((orphan, error));
        }
        // Under the lock, so the reaper finds it even if the exit came first.
        if key == self.watched.len() {
            self.watched.push(Some(orphan));
        } else {
            self.watched[key] = Some(orphan);
        }
        Ok(())
    }

    /// Reaps the waiting orphans that exited and hands the others to the reaper
    /// if it runs now (nothing to do, and no system call, when none wait).
    fn look_at_waiting(&mut self) {
        for mut orphan in mem::take(&mut self.waiting) {
            if reap(&mut orphan) {
                continue;
            }
            if let Err((orphan, _)) = self.watch(orphan) {
                self.waiting.push(orphan);
            }
        }
    }
}

/// `waitpid(WNOHANG)`: whether the orphan is gone (reaped now, or an error that
/// leaves nothing to wait for, reported).
fn reap(orphan: &mut Orphan) -> bool {
    match orphan.child.try_wait() {
        Ok(Some(_)) => true,
        Ok(None) => false,
        Err(error) => {
            eprintln!(
                "clearloop: cannot reap `{}` (pid {}): {error}",
                orphan.program,
                orphan.child.id()
            );
            true
        }
    }
}

/// The reaper thread: sleep in the watcher until some orphans exit, reap them.
fn reap_forever(watcher: &OwnedFd) {
    let mut keys = Vec::with_capacity(EVENTS_PER_WAIT);
    loop {
        // No timeout: an exit is an event, never something a timer finds out.
        if let Err(error) = watcher::wait(watcher, &mut keys) {
            return stop(error);
        }
        let mut state = lock(&STATE);
        for &key in &keys {
            let Some(mut orphan) = state.watched.get_mut(key).and_then(Option::take) else {
                continue;
            };
            if !reap(&mut orphan) {
                // Not a zombie yet: Linux never comes here (a pidfd is readable
                // only once its process is one); on kqueue systems the exit note
                // came a moment early (`exit.rs`). Still registered, and
                // level-triggered: it is reported again.
                state.watched[key] = Some(orphan);
                continue;
            }
            // Before the descriptor can close (the orphan drops at the end of this turn).
            if let Err(error) = watcher::delete(watcher, &orphan.exit) {
                eprintln!("clearloop: the reaper cannot forget a reaped child: {error}");
            }
            state.free.push(key);
        }
    }
}

/// The wait failed on the reaper's own watcher (a bug: it cannot, but for
/// `EINTR`, which `wait` retries). Nothing is dropped silently: the watched
/// orphans go back to waiting, and the next spawn starts a new reaper that takes
/// them.
fn stop(error: io::Error) {
    let mut state = lock(&STATE);
    eprintln!(
        "clearloop: the reaper of dropped children stops ({error}); the {} children it \
         watched are looked at again at the next spawn or drop",
        state.watched.iter().flatten().count()
    );
    state.watcher = None;
    state.free.clear();
    let watched: Vec<Orphan> = mem::take(&mut state.watched)
        .into_iter()
        .flatten()
        .collect();
    state.waiting.extend(watched);
}

/// Linux's watcher: an epoll instance over the orphans' pidfds.
#[cfg(target_os = "linux")]
mod watcher {
    use std::io;
    use std::mem::MaybeUninit;
    use std::os::fd::OwnedFd;

    use rustix::event::epoll::{self, CreateFlags, Event, EventData, EventFlags};

    use super::EVENTS_PER_WAIT;

    pub(super) fn new() -> io::Result<OwnedFd> {
        Ok(epoll::create(CreateFlags::CLOEXEC)?)
    }

    /// Watches `exit` (a pidfd) for readability, level-triggered, under `key`.
    pub(super) fn add(watcher: &OwnedFd, exit: &OwnedFd, key: usize) -> io::Result<()> {
        let data = EventData::new_u64(key as u64);
        Ok(epoll::add(watcher, exit, data, EventFlags::IN)?)
    }

    pub(super) fn delete(watcher: &OwnedFd, exit: &OwnedFd) -> io::Result<()> {
        Ok(epoll::delete(watcher, exit)?)
    }

    /// Sleeps, with no timeout, until some watched descriptors are readable, and
    /// puts their keys in `keys` (none when a signal interrupted the wait).
    pub(super) fn wait(watcher: &OwnedFd, keys: &mut Vec<usize>) -> io::Result<()> {
        let mut buffer = [const { MaybeUninit::<Event>::uninit() }; EVENTS_PER_WAIT];
        keys.clear();
        match epoll::wait(watcher, &mut buffer, None) {
            Ok((events, _)) => keys.extend(events.iter().map(|event| event.data.u64() as usize)),
            Err(rustix::io::Errno::INTR) => {}
            Err(errno) => return Err(errno.into()),
        }
        Ok(())
    }
}

/// The watcher of macOS and the BSDs: a kqueue over the orphans' own kqueues
/// (or, for a child that exited before its note could be registered, the ended
/// pipe `exit.rs` gives it instead: readable too).
#[cfg(not(target_os = "linux"))]
mod watcher {
    use std::io;
    use std::mem::MaybeUninit;
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::time::Duration;

    use rustix::event::kqueue::{self, Event, EventFilter, EventFlags};

    use super::EVENTS_PER_WAIT;

    pub(super) fn new() -> io::Result<OwnedFd> {
        Ok(kqueue::kqueue()?)
    }

    /// Applies one change (`ADD` or `DELETE`) of the `EVFILT_READ` registration of
    /// `exit`, and returns at once (no room for events, zero timeout).
    fn change(watcher: &OwnedFd, exit: &OwnedFd, flags: EventFlags, key: usize) -> io::Result<()> {
        let read = EventFilter::Read(exit.as_raw_fd());
        let change = Event::new(read, flags, std::ptr::without_provenance_mut(key));
        let mut no_events: [Event; 0] = [];
        // SAFETY: `kevent` requires each descriptor registered in the kqueue to stay
        // valid while registered: `exit` is deregistered (`delete`) before the
        // orphan holding it drops, and the kernel also removes a registration when
        // its descriptor is closed.
        unsafe { kqueue::kevent(watcher, &[change], &mut no_events, Some(Duration::ZERO))? };
        Ok(())
    }

    /// Watches `exit` (the child's kqueue) for readability, level-triggered (no
    /// `EV_CLEAR`), under `key`.
    pub(super) fn add(watcher: &OwnedFd, exit: &OwnedFd, key: usize) -> io::Result<()> {
        change(watcher, exit, EventFlags::ADD, key)
    }

    pub(super) fn delete(watcher: &OwnedFd, exit: &OwnedFd) -> io::Result<()> {
        change(watcher, exit, EventFlags::DELETE, 0)
    }

    /// Sleeps, with no timeout, until some watched descriptors are readable, and
    /// puts their keys in `keys` (none when a signal interrupted the wait).
    pub(super) fn wait(watcher: &OwnedFd, keys: &mut Vec<usize>) -> io::Result<()> {
        let mut buffer = [const { MaybeUninit::<Event>::uninit() }; EVENTS_PER_WAIT];
        keys.clear();
        // SAFETY: no change is applied here (the list is empty); the registrations
        // made by `add` are covered there.
        match unsafe { kqueue::kevent(watcher, &[], &mut buffer, None) } {
            Ok((events, _)) => keys.extend(events.iter().map(|event| event.udata().addr())),
            Err(rustix::io::Errno::INTR) => {}
            Err(errno) => return Err(errno.into()),
        }
        Ok(())
    }
}
