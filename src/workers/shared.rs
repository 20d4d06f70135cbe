//! What the workers of one runtime share: the injector, the stealers, the sleepers,
//! and the thread-local that tells a push on a worker from a push from outside.
//!
//! This is the half of the multi-threaded runtime that the scheduler calls into
//! (`RuntimeCore::schedule` pushes here); the worker threads' loop, in
//! [`workers`](super), takes from here. It imports neither the runtime nor the
//! workers' loop: only the task's `Runnable` view.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{JoinHandle, Thread};

use crossbeam_deque::{Injector, Steal, Stealer, Worker as LocalQueue};

use super::idle::Idle;
use crate::panics::lock;
use crate::task::cell::Runnable;

/// A task as the queues hold it.
pub(super) type TaskRef = Arc<dyn Runnable>;

/// "No worker": the value of `driver` when no parked worker drives the timers.
pub(super) const NONE: usize = usize::MAX;

/// At most this many tasks in a row from the LIFO slot (tokio's number) before the
/// worker takes one from its queue.
pub(super) const MAX_LIFO_STREAK: u32 = 3;

/// A worker looks at the injector before its own queue once every this many turns.
pub(super) const GLOBAL_QUEUE_INTERVAL: u32 = 61;

/// What the workers of one runtime share.
pub(crate) struct Shared {
    /// Tasks spawned or woken outside the workers.
    pub(super) injector: Injector<TaskRef>,
    /// The other end of each worker's local queue, for stealing.
    pub(super) stealers: Vec<Stealer<TaskRef>>,
    /// The worker threads, to unpark them (set once they are started).
    pub(super) threads: OnceLock<Vec<Thread>>,
    /// Their join handles, taken by shutdown.
    pub(super) handles: Mutex<Vec<JoinHandle<()>>>,
    /// Which workers sleep, and how many search (`src/workers/idle.rs`).
    pub(super) idle: Idle,
    /// Workers not parked, plus the `block_on` thread while its future is woken.
    pub(super) busy: AtomicUsize,
    /// The parked worker that waits for the next timer, or `NONE`.
    pub(super) driver: AtomicUsize,
    /// The driver, while it waits in the reactor's selector (where `unpark` does not
    /// reach it), or `NONE`.
    pub(super) in_selector: AtomicUsize,
    /// Set by `stop`: every worker leaves its loop.
    pub(super) shutdown: AtomicBool,
    /// The clock moves by itself when waited on (virtual auto-advance).
    pub(super) auto_advance: bool,
    /// The runtime's reactor, which the driver waits on once it exists.
    #[cfg(any(unix, windows))]
    pub(super) io: Arc<crate::reactor::OwnReactor>,
}

/// What the thread-local `CURRENT` holds on a worker thread.
pub(super) struct Current {
    /// Which runtime this worker belongs to (compared by address only).
    pub(super) shared: *const Shared,
    /// This worker's own deque (the other end is in `Shared::stealers`).
    pub(super) local: LocalQueue<TaskRef>,
    /// The task woken last by the task being polled: it runs next, on this worker,
    /// while what it needs is still in this core's cache (tokio's "LIFO slot"). Not
    /// stealable, and not announced to sleeping workers: it waits only until the
    /// current poll returns.
    pub(super) lifo: Cell<Option<TaskRef>>,
}

thread_local! {
    /// This thread's local queue, when the thread is a worker.
    pub(super) static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
}

impl Shared {
    /// The shared part for `n` workers, and their local queues (one per thread).
    pub(crate) fn new(
        n: usize,
        auto_advance: bool,
        #[cfg(any(unix, windows))] io: Arc<crate::reactor::OwnReactor>,
    ) -> (Shared, Vec<LocalQueue<TaskRef>>) {
        let locals: Vec<LocalQueue<TaskRef>> = (0..n).map(|_| LocalQueue::new_fifo()).collect();
        let shared = Shared {
            injector: Injector::new(),
            stealers: locals.iter().map(LocalQueue::stealer).collect(),
            threads: OnceLock::new(),
            handles: Mutex::new(Vec::new()),
            idle: Idle::new(n),
            busy: AtomicUsize::new(n),
            driver: AtomicUsize::new(NONE),
            in_selector: AtomicUsize::new(NONE),
            shutdown: AtomicBool::new(false),
            auto_advance,
            #[cfg(any(unix, windows))]
            io,
        };
        (shared, locals)
    }

    /// Puts a runnable task in a queue: this worker's own when called on one of our
    /// workers, the injector otherwise; then wakes a worker if all are asleep.
    pub(crate) fn push(&self, task: TaskRef) {
        let mut task = Some(task);
        // On one of our workers, the task lands in its own queue and that worker runs
        // it before it parks: waking another one only spreads the work, so a cheap
        // look decides. Only a push from outside needs the full `notify` to be safe.
        let mut spread = false;
        let _ = CURRENT.try_with(|current| {
            if let Some(current) = current.borrow().as_ref()
                && std::ptr::eq(current.shared, self)
                && let Some(task) = task.take()
                && let Some(previous) = current.lifo.replace(Some(task))
            {
                // Only one slot: the task it held joins the queue, where others
                // may steal it.
                current.local.push(previous);
                spread = true;
            }
        });
        match task {
            Some(task) => {
                self.injector.push(task);
                self.notify_one();
            }
            None if spread && self.idle.may_want_a_worker() => self.notify_one(),
            None => {}
        }
    }

    /// A task woken during its own poll on a worker (`yield_now`), handed back by
    /// `run`: to the back of that worker's queue, as on the single-threaded loop,
    /// so the others get their turn first (not the LIFO slot, which would run it
    /// again at once); another worker is woken if one may want the work.
    pub(super) fn requeue(&self, task: TaskRef) {
        let mut task = Some(task);
        let _ = CURRENT.try_with(|current| {
            if let Some(current) = current.borrow().as_ref()
                && let Some(task) = task.take()
            {
                current.local.push(task);
            }
        });
        match task {
            // Not on a worker of ours (never: only workers call this).
            Some(task) => {
                self.injector.push(task);
                self.notify_one();
            }
            None if self.idle.may_want_a_worker() => self.notify_one(),
            None => {}
        }
    }

    /// Drops every task waiting in the injector (shutdown).
    pub(crate) fn drain_injector(&self) {
        while !matches!(self.injector.steal(), Steal::Empty) {}
    }

    /// Wakes one parked worker, unless one is already searching or none sleeps.
    pub(super) fn notify_one(&self) {
        if let Some(index) = self.idle.notify() {
            self.unpark(index);
        }
    }

    /// Unparks worker `index` (once the threads are started), or interrupts its
    /// wait in the selector. A worker never needs to unpark itself: it is running,
    /// and looks at the queues before it parks again.
    pub(super) fn unpark(&self, index: usize) {
        let Some(thread) = self.threads.get().and_then(|threads| threads.get(index)) else {
            return;
        };
        if thread.id() == std::thread::current().id() {
            return;
        }
        thread.unpark();
        // Pairs with the fence in `Worker::wait_on_selector`: either we see it sits
        // in the selector, or it sees what we pushed before it waits.
        std::sync::atomic::fence(Ordering::SeqCst);
        #[cfg(any(unix, windows))]
        if self.in_selector.load(Ordering::SeqCst) == index
            && let Some(reactor) = self.io.get()
        {
            reactor.rouse();
        }
    }

    /// A new timer was registered: the driver may be parked for a later deadline.
    pub(crate) fn unpark_driver(&self) {
        let driver = self.driver.load(Ordering::SeqCst);
        if driver != NONE {
            self.unpark(driver);
        }
    }

    /// Whether any queue holds a task.
    pub(super) fn has_work(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|stealer| !stealer.is_empty())
    }

    /// One participant stops being busy (`who`: a worker's index, or `NONE`). The
    /// last one tells the driver that a virtual clock may now jump.
    pub(super) fn unbusy(&self, who: usize) {
        if self.busy.fetch_sub(1, Ordering::SeqCst) == 1 && self.auto_advance {
            let driver = self.driver.load(Ordering::SeqCst);
            if driver != NONE && driver != who {
                self.unpark(driver);
            }
        }
    }

    /// Stops and joins every worker (runtime shutdown), then empties the injector.
    pub(crate) fn stop(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        for index in 0..self.stealers.len() {
            self.unpark(index);
        }
        let handles = std::mem::take(&mut *lock(&self.handles));
        for handle in handles {
            // A worker never panics: every call into user code it makes is caught
            // (`Runnable::run`, the timers' wakers, the debug hook).
            let _ = handle.join();
        }
        self.drain_injector();
    }
}
