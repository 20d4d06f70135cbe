//! The reaper: one thread for the whole process waits for every child that was
//! dropped while still running, and reaps each one when it exits.
//!
//! A child that exits stays a zombie until its parent waits for it. Dropping a
//! running [`Child`](super::Child) must not kill it (Python and tokio let it run), so
//! somebody has to wait for it later. One thread per child (what asyncio's
//! `ThreadedChildWatcher` does) costs a thread, its stack and a `clone` per dropped
//! child, and a child whose thread cannot start stays a zombie. Here its exit is an
//! event like any other: the orphan's pidfd turns readable when it exits, so one
//! thread waiting on one epoll instance, with **no timeout**, watches them all:
//!
//! ```text
//!   Child dropped, still running              clearloop-reaper (one per process)
//!     epoll_ctl(ADD, pidfd, IN, key) ------>    epoll_wait(no timeout): asleep,
//!     watched[key] = the std Child                no CPU, however many orphans
//!     (any thread, at any time: a wait in
//!      progress sees the new pidfd at once)
//!   ... the child exits: its pidfd turns readable
//!                                             <- wakes with [key]
//!                                                waitpid(pid, WNOHANG): reaped
//!                                                epoll_ctl(DEL, pidfd); slot freed
//! ```
//!
//! New orphans are handed over by `epoll_ctl(ADD)` from the dropping thread itself:
//! the kernel lets one thread add to an epoll instance another thread waits on, and
//! wakes that wait if the new descriptor is ready already, so no eventfd is needed.
//!
//! **Started before the first child.** [`start`] runs in `Command::spawn` *before*
//! the OS spawns anything: if the thread or its epoll instance cannot be created
//! (out of memory, out of file descriptors), `spawn` fails and nothing ran. Later
//! drops only need `epoll_ctl(ADD)`, which fails only when the kernel is out of
//! memory (or of `max_user_watches`). Then, or if the reaper ever stopped, the
//! orphan is reported on stderr and kept in `waiting`: the next spawn or drop of a
//! child reaps it if it has exited, or hands it to the reaper again. It is never
//! killed and never forgotten.

use std::io;
use std::mem::{self, MaybeUninit};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};

use rustix::event::epoll::{self, EventData, EventFlags};

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
    /// Shared with the dropped `Child`'s registration in the reactor: an `Arc`, so
    /// handing it over opens no descriptor (which could fail: `EMFILE`).
    pub(super) pidfd: Arc<OwnedFd>,
    pub(super) program: Arc<str>,
}

/// Everything the reaper knows, behind one lock.
struct State {
    /// The epoll instance the reaper thread waits on; `None` until the first spawn
    /// (or after the thread stopped on an error).
    epoll: Option<Arc<OwnedFd>>,
    /// The orphans being watched, by the key their pidfd is registered with (a
    /// slab: `free` lists the empty slots, reused first).
    watched: Vec<Option<Orphan>>,
    free: Vec<usize>,
    /// Orphans no reaper watches (see the module doc), looked at again at the next
    /// spawn or drop.
    waiting: Vec<Orphan>,
}

static STATE: Mutex<State> = Mutex::new(State {
    epoll: None,
    watched: Vec::new(),
    free: Vec::new(),
    waiting: Vec::new(),
});

/// Starts the reaper thread if it is not running, and gives it the orphans that
/// were waiting for one. Called by `Command::spawn` before the OS spawn.
///
/// # Errors
///
/// When the epoll instance (`EMFILE`) or the thread (`EAGAIN`, `ENOMEM`) cannot be
/// created: the OS's error, untouched.
pub(super) fn start() -> io::Result<()> {
    let mut state = lock(&STATE);
    if state.epoll.is_none() {
        let epoll = Arc::new(epoll::create(epoll::CreateFlags::CLOEXEC)?);
        let theirs = epoll.clone();
        std::thread::Builder::new()
            .name("clearloop-reaper".into())
            .stack_size(STACK)
            .spawn(move || reap_forever(&theirs))?;
        state.epoll = Some(epoll);
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
    /// Registers the orphan's pidfd with the reaper's epoll instance.
    fn watch(&mut self, orphan: Orphan) -> Result<(), (Orphan, io::Error)> {
        let Some(epoll) = &self.epoll else {
            return Err((orphan, io::Error::other("the reaper is not running")));
        };
        let key = self.free.pop().unwrap_or(self.watched.len());
        // Level-triggered: an exit reported while we could not take it (it never
        // happens) would be reported again, never lost.
        let data = EventData::new_u64(key as u64);
        if let Err(errno) = epoll::add(&**epoll, &*orphan.pidfd, data, EventFlags::IN) {
            if key < self.watched.len() {
                self.free.push(key);
            }
            return Err((orphan, errno.into()));
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

/// The reaper thread: sleep in `epoll_wait` until some orphans exit, reap them.
fn reap_forever(epoll: &OwnedFd) {
    let mut buffer = [const { MaybeUninit::<epoll::Event>::uninit() }; EVENTS_PER_WAIT];
    loop {
        // No timeout: an exit is an event, never something a timer finds out.
        let events = match epoll::wait(epoll, &mut buffer, None) {
            Ok((events, _)) => events,
            Err(rustix::io::Errno::INTR) => continue,
            Err(errno) => return stop(errno.into()),
        };
        let mut state = lock(&STATE);
        for event in events.iter() {
            let key = event.data.u64() as usize;
            let Some(mut orphan) = state.watched.get_mut(key).and_then(Option::take) else {
                continue;
            };
            if !reap(&mut orphan) {
                // A pidfd is readable only once its process exited: not reached.
                state.watched[key] = Some(orphan);
                continue;
            }
            // Before the pidfd can close (the orphan drops at the end of this turn).
            if let Err(errno) = epoll::delete(epoll, &*orphan.pidfd) {
                eprintln!("clearloop: the reaper cannot forget a reaped child's pidfd: {errno}");
            }
            state.free.push(key);
        }
    }
}

/// `epoll_wait` failed on the reaper's own instance (a bug: it cannot, but for
/// `EINTR`). Nothing is dropped silently: the watched orphans go back to waiting,
/// and the next spawn starts a new reaper that takes them.
fn stop(error: io::Error) {
    let mut state = lock(&STATE);
    eprintln!(
        "clearloop: the reaper of dropped children stops ({error}); the {} children it \
         watched are looked at again at the next spawn or drop",
        state.watched.iter().flatten().count()
    );
    state.epoll = None;
    state.free.clear();
    let watched: Vec<Orphan> = mem::take(&mut state.watched)
        .into_iter()
        .flatten()
        .collect();
    state.waiting.extend(watched);
}
