//! The multi-threaded runtime: n worker threads share the tasks, and steal from each
//! other when they run out.
//!
//! asyncio has one loop per thread and no way to spread tasks over cores (and the GIL
//! would keep them from computing in parallel anyway). Rust has no GIL, so
//! [`Builder::worker_threads`](crate::Builder::worker_threads)`(n)` starts n OS
//! threads that each run the loop of [`runtime`](crate::runtime) over a queue of
//! their own. There is no Python equivalent; the nearest is a `ThreadPoolExecutor`
//! whose threads would each run an event loop and hand tasks to each other.
//!
//! ```text
//!                 spawn / wake from outside the workers
//!                                 |
//!                                 v
//!                +----------------------------------+   global FIFO (crossbeam Injector)
//!                |  injector:  T  T  T  T           |   every worker takes batches
//!                +----------------------------------+   from it
//!                   | steal_batch       | steal_batch
//!                   v                   v
//!   worker 0  +-------------+     +-------------+  worker 1      wake / spawn *on* a
//!   (thread)  | local: T T T| <-- | local: T    |  (thread)      worker: its own local
//!             +-------------+ steal half when   +-------------+  queue (no lock)
//!                  |          its own is empty       |
//!             poll one task                     poll one task
//!                  |                                 |
//!             nothing anywhere: park           nothing anywhere: park; one parked
//!             (sleepers list)                  worker "drives" the timers
//! ```
//!
//! ## One turn of a worker
//!
//! 1. Every 61st turn, look at the injector first, so that tasks from outside are
//!    not starved by a busy local queue (tokio's number: a prime, so it does not
//!    beat with the workload's own cycles), and fire the due timers.
//! 2. Take a task: the *LIFO slot* (the task the last poll woke, so a message and its
//!    reader stay on one core; at most 3 in a row), else the local queue (FIFO, so
//!    `yield_now` goes to the back, as on the single-threaded loop), else a batch from
//!    the injector, else half of another worker's queue. Poll it once.
//! 3. Nothing anywhere: fire due timers; still nothing: **park**.
//!
//! ## Parking without losing a wake-up, and without spinning
//!
//! A worker that parks first writes its number in the *sleepers* list, then looks at
//! every queue once more, then parks (register, check again, sleep). Whoever pushes a
//! task first pushes, then reads the sleepers count: both steps are read-modify-writes
//! of one atomic, so one of the two sees the other, and a task is never left in a
//! queue while every worker sleeps (`src/workers/idle.rs`, checked by `loom`). Only one woken worker *searches* at a time: while one searches, a new task
//! wakes nobody else (the searcher will find it, or re-check before it parks);
//! when the searcher finds work it wakes the next one, so a burst of tasks fans out
//! worker by worker instead of waking all of them for one task.
//!
//! ## Timers, and the virtual clock
//!
//! The timer wheel is the runtime's, behind its `Mutex`. The first worker that parks
//! becomes the **driver**: it parks only until the next deadline, then fires the due
//! timers; the others park with no deadline. A new earlier timer unparks the driver.
//! On an auto-advance virtual clock, "parking until the deadline" moves time there, so
//! the driver may do it only when **nobody is busy**: a `busy` counter counts the
//! workers that are not parked plus the `block_on` thread while its future is woken;
//! the one that brings it to zero unparks the driver.
//!
//! ## Shutdown
//!
//! Dropping the runtime sets a flag, unparks every worker, joins them all (a task
//! that never returns from `poll` would block this, as it would block tokio), then
//! cancels every task left, exactly as the single-threaded runtime does. Each worker
//! empties its local queue before it exits, so no task is kept alive by a queue.
//!
//! ```
//! use clearloop::Builder;
//!
//! let runtime = Builder::new().worker_threads(2).build();
//! let threads = runtime.block_on(async {
//!     let tasks: Vec<_> = (0..8)
//!         .map(|_| clearloop::spawn(async { std::thread::current().name().map(String::from) }))
//!         .collect();
//!     let mut names = Vec::new();
//!     for task in tasks {
//!         names.push(task.await.unwrap());
//!     }
//!     names
//! });
//! assert!(threads.iter().all(|name| name.starts_with("clearloop-worker-")));
//! ```

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{JoinHandle, Thread};

use crossbeam_deque::{Injector, Steal, Stealer, Worker as LocalQueue};

use crate::panics::lock;
use crate::runtime::{Scheduler, enter_worker};

mod idle;
use crate::task::cell::Runnable;
#[cfg(loom)]
#[doc(hidden)]
pub use idle::Idle;
#[cfg(not(loom))]
use idle::Idle;

type TaskRef = Arc<dyn Runnable>;

/// "No worker": the value of `driver` when no parked worker drives the timers.
const NONE: usize = usize::MAX;

/// At most this many tasks in a row from the LIFO slot (tokio's number) before the
/// worker takes one from its queue.
const MAX_LIFO_STREAK: u32 = 3;

/// A worker looks at the injector before its own queue once every this many turns.
const GLOBAL_QUEUE_INTERVAL: u32 = 61;

/// What the workers of one runtime share.
pub(crate) struct Shared {
    /// Tasks spawned or woken outside the workers.
    injector: Injector<TaskRef>,
    /// The other end of each worker's local queue, for stealing.
    stealers: Vec<Stealer<TaskRef>>,
    /// The worker threads, to unpark them (set once they are started).
    threads: OnceLock<Vec<Thread>>,
    /// Their join handles, taken by shutdown.
    handles: Mutex<Vec<JoinHandle<()>>>,
    /// Which workers sleep, and how many search (`src/workers/idle.rs`).
    idle: Idle,
    /// Workers not parked, plus the `block_on` thread while its future is woken.
    busy: AtomicUsize,
    /// The parked worker that waits for the next timer, or `NONE`.
    driver: AtomicUsize,
    shutdown: AtomicBool,
    /// The clock moves by itself when waited on (virtual auto-advance).
    auto_advance: bool,
}

/// What the thread-local `CURRENT` holds on a worker thread.
struct Current {
    /// Which runtime this worker belongs to (compared by address only).
    shared: *const Shared,
    local: LocalQueue<TaskRef>,
    /// The task woken last by the task being polled: it runs next, on this worker,
    /// while what it needs is still in this core's cache (tokio's "LIFO slot"). Not
    /// stealable, and not announced to sleeping workers: it waits only until the
    /// current poll returns.
    lifo: Cell<Option<TaskRef>>,
    /// The task being polled (its address), to tell a yield from a wake of another.
    running: Cell<*const ()>,
}

thread_local! {
    /// This thread's local queue, when the thread is a worker.
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
}

impl Shared {
    /// The shared part for `n` workers, and their local queues (one per thread).
    pub(crate) fn new(n: usize, auto_advance: bool) -> (Shared, Vec<LocalQueue<TaskRef>>) {
        let locals: Vec<LocalQueue<TaskRef>> = (0..n).map(|_| LocalQueue::new_fifo()).collect();
        let shared = Shared {
            injector: Injector::new(),
            stealers: locals.iter().map(LocalQueue::stealer).collect(),
            threads: OnceLock::new(),
            handles: Mutex::new(Vec::new()),
            idle: Idle::new(n),
            busy: AtomicUsize::new(n),
            driver: AtomicUsize::new(NONE),
            shutdown: AtomicBool::new(false),
            auto_advance,
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
            {
                if std::ptr::eq(Arc::as_ptr(&task).cast::<()>(), current.running.get()) {
                    // The task woke itself (`yield_now`): to the back of the queue, as
                    // on the single-threaded loop, so the others get their turn.
                    current.local.push(task);
                    spread = true;
                } else if let Some(previous) = current.lifo.replace(Some(task)) {
                    // Only one slot: the task it held joins the queue, where others
                    // may steal it.
                    current.local.push(previous);
                    spread = true;
                }
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

    /// Drops every task waiting in the injector (shutdown).
    pub(crate) fn drain_injector(&self) {
        while !matches!(self.injector.steal(), Steal::Empty) {}
    }

    /// Wakes one parked worker, unless one is already searching or none sleeps.
    fn notify_one(&self) {
        if let Some(index) = self.idle.notify() {
            self.unpark(index);
        }
    }

    fn unpark(&self, index: usize) {
        if let Some(thread) = self.threads.get().and_then(|threads| threads.get(index)) {
            thread.unpark();
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
    fn has_work(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|stealer| !stealer.is_empty())
    }

    /// One participant stops being busy (`who`: a worker's index, or `NONE`). The
    /// last one tells the driver that a virtual clock may now jump.
    fn unbusy(&self, who: usize) {
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
        for thread in self.threads.get().into_iter().flatten() {
            thread.unpark();
        }
        let handles = std::mem::take(&mut *lock(&self.handles));
        for handle in handles {
            // A worker never panics (task panics are caught in `Runnable::run`).
            let _ = handle.join();
        }
        self.drain_injector();
    }
}

/// Starts the worker threads of `scheduler`, one per local queue.
pub(crate) fn start(
    scheduler: &Arc<Scheduler>,
    shared: &Arc<Shared>,
    locals: Vec<LocalQueue<TaskRef>>,
) {
    let mut handles = Vec::with_capacity(locals.len());
    // The workers wait here until `threads` is set: before that, a worker could not
    // unpark another one, and a wake-up would be lost.
    let started = Arc::new(Barrier::new(locals.len() + 1));
    for (index, local) in locals.into_iter().enumerate() {
        let (scheduler, shared, started) = (scheduler.clone(), shared.clone(), started.clone());
        let handle = std::thread::Builder::new()
            .name(format!("clearloop-worker-{index}"))
            .spawn(move || {
                started.wait();
                worker_main(scheduler, shared, index, local)
            })
            .unwrap_or_else(|error| {
                panic!("clearloop: cannot start worker thread {index}: {error}")
            });
        handles.push(handle);
    }
    let _ = shared.threads.set(
        handles
            .iter()
            .map(|handle| handle.thread().clone())
            .collect(),
    );
    *lock(&shared.handles) = handles;
    started.wait();
}

fn worker_main(
    scheduler: Arc<Scheduler>,
    shared: Arc<Shared>,
    index: usize,
    local: LocalQueue<TaskRef>,
) {
    CURRENT.with(|current| {
        *current.borrow_mut() = Some(Current {
            shared: Arc::as_ptr(&shared),
            local,
            lifo: Cell::new(None),
            running: Cell::new(std::ptr::null()),
        })
    });
    enter_worker(scheduler.clone(), || {
        Worker {
            shared: &shared,
            scheduler: &scheduler,
            index,
            tick: 0,
            lifo_streak: 0,
            searching: false,
            fired: Vec::new(),
        }
        .run()
    });
    // Empty the local queue: its stealer (in `shared`) would keep the tasks alive.
    CURRENT.with(|current| {
        if let Some(current) = current.borrow_mut().take() {
            drop(current.lifo.take());
            while current.local.pop().is_some() {}
        }
    });
}

/// Records which task this worker polls (null: none), for `Shared::push`.
fn set_running(task: *const ()) {
    CURRENT.with(|current| {
        if let Some(current) = current.borrow().as_ref() {
            current.running.set(task);
        }
    });
}

/// One worker's own state, on its own thread.
struct Worker<'a> {
    shared: &'a Shared,
    scheduler: &'a Scheduler,
    index: usize,
    tick: u32,
    /// Tasks taken from the LIFO slot in a row.
    lifo_streak: u32,
    /// Woken by a notification and not found a task yet.
    searching: bool,
    /// Reused buffer for the wakers of fired timers.
    fired: Vec<Waker>,
}

impl Worker<'_> {
    fn run(&mut self) {
        while !self.shared.shutdown.load(Ordering::Acquire) {
            self.tick = self.tick.wrapping_add(1);
            let fair_turn = self.tick.is_multiple_of(GLOBAL_QUEUE_INTERVAL);
            if fair_turn {
                self.fire_timers();
            }
            if let Some(task) = self.next_task(fair_turn) {
                self.found_work();
                set_running(Arc::as_ptr(&task).cast());
                task.run();
                set_running(std::ptr::null());
                continue;
            }
            if self.fire_timers() > 0 {
                continue;
            }
            self.park();
        }
        if self.searching {
            self.searching = false;
            self.shared.idle.stop_searching();
        }
    }

    /// Ends a search: the next idle worker may now be woken for the next task.
    fn found_work(&mut self) {
        if self.searching {
            self.searching = false;
            // The last searcher wakes one more, in case there is more work about.
            if self.shared.idle.found_work() && self.shared.has_work() {
                self.shared.notify_one();
            }
        }
    }

    fn next_task(&mut self, injector_first: bool) -> Option<TaskRef> {
        CURRENT.with(|current| {
            let current = current.borrow();
            let current = current.as_ref()?;
            let local = &current.local;
            // The LIFO slot first, but not forever: two tasks waking each other would
            // otherwise keep the rest of the queue waiting.
            if let Some(task) = current.lifo.take() {
                if self.lifo_streak < MAX_LIFO_STREAK {
                    self.lifo_streak += 1;
                    return Some(task);
                }
                local.push(task);
            }
            self.lifo_streak = 0;
            if injector_first
                && let Steal::Success(task) = self.shared.injector.steal_batch_and_pop(local)
            {
                return Some(task);
            }
            local.pop().or_else(|| self.steal(local))
        })
    }

    /// A batch from the injector, else half of another worker's queue.
    fn steal(&self, local: &LocalQueue<TaskRef>) -> Option<TaskRef> {
        let n = self.shared.stealers.len();
        loop {
            let mut retry = false;
            match self.shared.injector.steal_batch_and_pop(local) {
                Steal::Success(task) => return Some(task),
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            // Start after ourselves, so that workers do not all rob worker 0.
            for offset in 1..n {
                let victim = &self.shared.stealers[(self.index + offset) % n];
                match victim.steal_batch_and_pop(local) {
                    Steal::Success(task) => return Some(task),
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            // `Retry`: another thread moved the queue meanwhile; look again.
            if !retry {
                return None;
            }
        }
    }

    /// Fires the due timers; returns how many fired. Their tasks land in this
    /// worker's queue.
    fn fire_timers(&mut self) -> usize {
        let timers = &self.scheduler.timers;
        if timers.is_empty() {
            return 0; // one load: no lock, no clock read
        }
        timers.fire_due(self.scheduler.clock.now(), &mut self.fired);
        let fired = self.fired.len();
        // Wake outside the timers' lock: a woken task may register a new timer.
        for waker in self.fired.drain(..) {
            waker.wake();
        }
        fired
    }

    /// Register as a sleeper, check once more, then park.
    fn park(&mut self) {
        let shared = self.shared;
        shared.idle.register(self.index, self.searching);
        self.searching = false;
        // Register, *then* look again (the idle module says why this order matters).
        if shared.has_work() || shared.shutdown.load(Ordering::SeqCst) {
            self.unregister();
            return;
        }
        let driver = shared
            .driver
            .compare_exchange(NONE, self.index, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        shared.unbusy(self.index);
        if driver {
            let deadline = self.scheduler.timers.next_deadline();
            let clock = &self.scheduler.clock;
            if shared.auto_advance && (shared.busy.load(Ordering::SeqCst) != 0 || shared.has_work())
            {
                // Somebody is still busy: virtual time must not jump yet. The last
                // one to become idle unparks us (`unbusy`).
                std::thread::park();
            } else {
                clock.park_until(deadline);
            }
            shared.driver.store(NONE, Ordering::SeqCst);
        } else {
            std::thread::park();
        }
        shared.busy.fetch_add(1, Ordering::SeqCst);
        self.unregister();
    }

    /// After parking: leave the sleepers list, or learn that a notification took us
    /// out of it (then we are searching).
    fn unregister(&mut self) {
        self.searching = self.shared.idle.unregister(self.index);
    }
}

/// `block_on` for a multi-threaded runtime: the workers run the tasks; this thread
/// polls `future` when woken and parks in between.
pub(crate) fn block_on<F: Future>(shared: &Arc<Shared>, future: F) -> F::Output {
    shared.busy.fetch_add(1, Ordering::SeqCst);
    let main = Arc::new(MainWaker {
        state: AtomicU8::new(WOKEN),
        thread: std::thread::current(),
        shared: shared.clone(),
    });
    let waker = Waker::from(main.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    // Gives back this thread's share of `busy`, even if `future` panics.
    let finish = Finish(&main);
    loop {
        if main.state.fetch_and(!WOKEN, Ordering::AcqRel) & WOKEN != 0 {
            // While we poll, the WOKEN we just took keeps us counted as busy.
            let polled = future.as_mut().poll(&mut cx);
            shared.unbusy(NONE);
            if let Poll::Ready(output) = polled {
                drop(finish);
                return output;
            }
            continue;
        }
        std::thread::park();
    }
}

/// `block_on`'s thread: WOKEN (its future must be polled) and DONE (returned).
const WOKEN: u8 = 0b01;
const DONE: u8 = 0b10;

/// The waker of the future given to a multi-threaded `block_on`.
struct MainWaker {
    state: AtomicU8,
    thread: Thread,
    shared: Arc<Shared>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Count the thread busy *before* it can be seen woken, so that the driver
        // never sees `busy == 0` while a poll of the main future is due.
        self.shared.busy.fetch_add(1, Ordering::SeqCst);
        let set = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                (state & (WOKEN | DONE) == 0).then_some(state | WOKEN)
            });
        match set {
            Ok(_) => self.thread.unpark(),
            // Already woken (counted once) or finished: give the count back.
            Err(_) => self.shared.unbusy(NONE),
        }
    }
}

/// Marks the main future DONE; a wake-up that came during its last poll gives its
/// `busy` back here.
struct Finish<'a>(&'a Arc<MainWaker>);

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        if self.0.state.swap(DONE, Ordering::AcqRel) & WOKEN != 0 {
            self.0.shared.unbusy(NONE);
        }
    }
}
