//! Who sleeps and who searches: the parking protocol of the workers, on its own so
//! that `loom` can check it (`tests/loom_threads.rs`).
//!
//! The rule that no wake-up is lost: a worker that is about to park first announces
//! itself (one read-modify-write on `state`), *then* looks at the queues once more;
//! a thread that pushed a task first pushes, *then* reads `state` with a
//! read-modify-write too. Two RMWs on one atomic are ordered: either the pusher's
//! comes first, and the worker's re-check (which acquires it) sees the task; or the
//! worker's comes first, and the pusher sees a sleeper and wakes it.
//!
//! ```text
//!   state (one AtomicUsize):  | sleeping workers (high bits) | searching (low 16 bits) |
//!
//!   worker, nothing to do             pusher, after pushing a task
//!   ---------------------             ----------------------------
//!   register: sleeping += 1,          notify: read state (RMW)
//!     searching -= 1 if it was          searching > 0 or nobody sleeps: done
//!   re-check the queues                 else, under the lock: pop a sleeper,
//!   park                                  sleeping -= 1, searching += 1, unpark it
//!   unregister: still in the list?
//!     yes: leave it (not searching)
//!     no: a notify took us out: we are searching
//! ```
//!
//! Only one woken worker searches at a time: a second task pushed while one
//! searches wakes nobody (the searcher finds it, or its re-check does). The last
//! searcher that finds work wakes the next sleeper ([`Idle::found_work`]), so a burst
//! of tasks fans out one worker at a time.
//!
//! Python has no equivalent to read beside it: asyncio's loop is one thread, and a
//! `ThreadPoolExecutor`'s idle threads wait on one shared `queue.SimpleQueue`, whose
//! lock does this bookkeeping for them (at the price of every push taking it).

#[cfg(loom)]
use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(loom)]
use loom::sync::{Mutex, MutexGuard};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(loom))]
use std::sync::{Mutex, MutexGuard};

/// One sleeping worker in `state`.
const SLEEPER: usize = 1 << 16;
/// The searching count, in the low bits of `state`.
const SEARCHING_MASK: usize = SLEEPER - 1;

/// The idle workers of one runtime (see the module doc).
pub struct Idle {
    /// Sleeping workers times `SLEEPER`, plus searching workers.
    state: AtomicUsize,
    /// Which workers sleep (or are about to); `notify` pops one.
    sleepers: Mutex<Vec<usize>>,
}

impl Idle {
    /// No worker sleeps; none searches.
    pub fn new(workers: usize) -> Idle {
        Idle {
            state: AtomicUsize::new(0),
            sleepers: Mutex::new(Vec::with_capacity(workers)),
        }
    }

    /// The list of parked workers, under its lock.
    fn sleepers(&self) -> MutexGuard<'_, Vec<usize>> {
        // Only counters and indices change under this lock: poisoning means nothing.
        self.sleepers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Step 1 of parking: worker `index` joins the sleepers (and stops searching, if
    /// it was). The caller must look at the queues *after* this, then park.
    pub fn register(&self, index: usize, searching: bool) {
        let mut sleepers = self.sleepers();
        sleepers.push(index);
        // One RMW does both: a pusher sees either the old state or the new one whole.
        let change = SLEEPER - usize::from(searching);
        self.state.fetch_add(change, Ordering::AcqRel);
    }

    /// After parking (or after the re-check found work): leaves the sleepers list.
    /// Returns true when a [`notify`](Idle::notify) had already taken the worker out:
    /// it is then counted as searching.
    pub fn unregister(&self, index: usize) -> bool {
        let mut sleepers = self.sleepers();
        match sleepers.iter().position(|&sleeper| sleeper == index) {
            Some(position) => {
                sleepers.swap_remove(position);
                self.state.fetch_sub(SLEEPER, Ordering::AcqRel);
                false
            }
            None => true,
        }
    }

    /// Called after a task was pushed: the worker to unpark, if one must be.
    #[must_use = "unpark the worker this returns, or the task may wait forever"]
    pub fn notify(&self) -> Option<usize> {
        // An RMW, not a load: it is ordered with `register`'s (see the module doc).
        let state = self.state.fetch_add(0, Ordering::AcqRel);
        if state & SEARCHING_MASK != 0 || state < SLEEPER {
            return None;
        }
        let mut sleepers = self.sleepers();
        // Look again under the lock: another notify may have woken a searcher.
        if self.state.load(Ordering::Acquire) & SEARCHING_MASK != 0 {
            return None;
        }
        let woken = sleepers.pop()?;
        // sleeping -= 1, searching += 1, in one step.
        self.state.fetch_sub(SLEEPER - 1, Ordering::AcqRel);
        Some(woken)
    }

    /// A cheap look (a plain load), for a task pushed to a *running* worker's own
    /// queue: that worker runs the task anyway before it parks, so a stale answer
    /// costs some parallelism for a moment, never a task. Pushes from outside the
    /// workers must use [`notify`](Idle::notify), whose RMW is what no wake-up lost
    /// rests on.
    pub fn may_want_a_worker(&self) -> bool {
        let state = self.state.load(Ordering::Relaxed);
        state & SEARCHING_MASK == 0 && state >= SLEEPER
    }

    /// A searching worker found a task. Returns true when it was the last searcher:
    /// the caller then notifies once more if work is left.
    pub fn found_work(&self) -> bool {
        self.state.fetch_sub(1, Ordering::AcqRel) & SEARCHING_MASK == 1
    }

    /// A searching worker stops without parking (shutdown).
    pub fn stop_searching(&self) {
        self.state.fetch_sub(1, Ordering::AcqRel);
    }
}
