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
//! Two files: `src/workers/shared.rs` holds the queues and the push that the
//! scheduler calls (`RuntimeCore::schedule`, on `ReadyQueues::Workers`); this file
//! holds what the threads do with them (their loop, parking, the timers) and the
//! multi-threaded `block_on`.
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
//! queue while every worker sleeps (`src/workers/idle.rs`, checked by `loom`). Only
//! one woken worker *searches* at a time: while one searches, a new task
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
//! ## Sockets: who waits on the selector
//!
//! The driver does, as tokio's parked worker holds its I/O driver. The runtime owns
//! one reactor, made at the first wait on I/O by any of its tasks; from then on the
//! driver sleeps in `epoll_wait` until the next timer instead of parking: a ready
//! socket wakes its task *on the driver's thread*, straight into that worker's
//! queue, and the driver runs it when the wait returns. The other parked workers
//! park as before. The reactor's creation unparks the driver (it may have gone to
//! sleep on the clock before any socket existed), so it moves into the selector at
//! once. Waking the driver from another thread (a task pushed, an earlier timer)
//! goes through `Shared::unpark`, which sees `in_selector` and writes to the
//! selector's eventfd. While every worker is busy running tasks, each looks at the
//! selector without waiting every 61st turn (`Reactor::look`; skipped while the
//! driver sits there), so readiness is heard within 61 polls of a worker, never
//! after a timeout. Nothing polls: an idle server with open connections is a few
//! sleeping threads, and uses no CPU (`tests/net_resources.rs` measures it).
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

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use crossbeam_deque::{Steal, Worker as LocalQueue};

use crate::panics::lock;
use crate::runtime::scheduler::{RuntimeCore, enter_worker};
use crate::runtime::timers::wake_fired;
use crate::task::coop;

mod idle;
pub(crate) mod shared;
#[cfg(loom)]
#[doc(hidden)]
pub use idle::Idle;
pub(crate) use shared::Shared;
use shared::{CURRENT, Current, GLOBAL_QUEUE_INTERVAL, MAX_LIFO_STREAK, NONE, TaskRef};

/// Starts the worker threads of `scheduler`, one per local queue.
pub(crate) fn start(
    scheduler: &Arc<RuntimeCore>,
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

/// A worker thread's body: its thread-locals set, the loop run until shutdown,
/// then its queue emptied.
fn worker_main(
    scheduler: Arc<RuntimeCore>,
    shared: Arc<Shared>,
    index: usize,
    local: LocalQueue<TaskRef>,
) {
    CURRENT.with(|current| {
        *current.borrow_mut() = Some(Current {
            shared: Arc::as_ptr(&shared),
            local,
            lifo: Cell::new(None),
        })
    });
    crate::trace::hooks::set_worker(index + 1);
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

/// One worker's own state, on its own thread.
struct Worker<'a> {
    /// The queues and counters every worker shares.
    shared: &'a Shared,
    /// The runtime: its timers and clock.
    scheduler: &'a RuntimeCore,
    /// This worker's number (its place in `stealers`, `threads`).
    index: usize,
    /// Turns so far, to look at the injector first every 61st.
    tick: u32,
    /// Tasks taken from the LIFO slot in a row.
    lifo_streak: u32,
    /// Woken by a notification and not found a task yet.
    searching: bool,
    /// Reused buffer for the wakers of fired timers.
    fired: Vec<Waker>,
}

impl Worker<'_> {
    /// The worker's loop ("One turn of a worker" in the module doc).
    fn run(&mut self) {
        while !self.shared.shutdown.load(Ordering::Acquire) {
            self.tick = self.tick.wrapping_add(1);
            let fair_turn = self.tick.is_multiple_of(GLOBAL_QUEUE_INTERVAL);
            if fair_turn {
                self.fire_timers();
                self.look_at_the_selector();
            }
            if let Some(task) = self.next_task(fair_turn) {
                self.found_work();
                if let Some(task) = task.run() {
                    self.shared.requeue(task);
                }
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

    /// The next task to poll: the LIFO slot, the local queue, the injector, or a
    /// steal.
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
        let _traced = self.scheduler.trace.as_ref().map(|t| t.firing_timers());
        // Wake outside the timers' lock: a woken task may register a new timer.
        wake_fired(&mut self.fired)
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
            // Pairs with the fence after a reactor is made (`OwnReactor`): either
            // its maker sees us as the driver and unparks us, or we see the reactor
            // below and wait in it.
            std::sync::atomic::fence(Ordering::SeqCst);
            if let Some(trace) = &self.scheduler.trace {
                trace.flush_if_due(); // the streamed trace is written while we idle
            }
            let deadline = self.scheduler.timers.next_deadline();
            if shared.auto_advance && (shared.busy.load(Ordering::SeqCst) != 0 || shared.has_work())
            {
                // Somebody is still busy: virtual time must not jump yet. The last
                // one to become idle unparks us (`unbusy`).
                std::thread::park();
            } else {
                self.wait_for_deadline(deadline);
            }
            shared.driver.store(NONE, Ordering::SeqCst);
        } else {
            std::thread::park();
        }
        shared.busy.fetch_add(1, Ordering::SeqCst);
        self.unregister();
    }

    /// Every 61st turn, a look at the selector without waiting, unless the driver
    /// sits there: sockets that became ready while every worker is busy wake their
    /// tasks now, on this worker (see `Reactor::look`).
    fn look_at_the_selector(&self) {
        #[cfg(any(unix, windows))]
        if let Some(reactor) = self.scheduler.io.get() {
            reactor.look();
        }
    }

    /// The driver's sleep: once a task of this runtime has waited on I/O (and made
    /// its reactor), in the selector, so that readiness wakes tasks on this worker;
    /// before that, and on a virtual clock, parked on the clock. The reactor's
    /// creation unparks the driver, which then comes back here and waits there.
    fn wait_for_deadline(&self, deadline: Option<std::time::Instant>) {
        let clock = &self.scheduler.clock;
        #[cfg(any(unix, windows))]
        if let Some(reactor) = self.scheduler.io.get()
            && crate::reactor::select_until(deadline)
        {
            self.wait_on_selector(reactor);
            return;
        }
        clock.park_until(deadline);
    }

    /// On the selector: `epoll_wait` until the next timer (to its last whole
    /// millisecond: the next turn parks the rest). A push from another thread that
    /// picks this worker sees `in_selector` and calls `notify`.
    #[cfg(any(unix, windows))]
    fn wait_on_selector(&self, reactor: &crate::reactor::Reactor) {
        let shared = self.shared;
        shared.in_selector.store(self.index, Ordering::SeqCst);
        std::sync::atomic::fence(Ordering::SeqCst);
        // Look once more after announcing: a push or a new timer published before
        // the flag was set went to `unpark` only, so it must be seen here; and after
        // taking the seat (`wait_unless` says why).
        let deadline = self.scheduler.timers.next_deadline();
        let timeout = deadline.map(|at| at.saturating_duration_since(std::time::Instant::now()));
        if timeout != Some(std::time::Duration::ZERO) {
            // Work, shutdown, or an earlier timer than the one we would wait for.
            let woken = || {
                shared.has_work()
                    || shared.shutdown.load(Ordering::SeqCst)
                    || self.scheduler.timers.next_deadline() != deadline
            };
            if let Err(error) = reactor.wait_unless(timeout, woken) {
                eprintln!("clearloop: waiting on the selector failed: {error}");
                self.scheduler.clock.park_until(deadline);
            }
        }
        shared.in_selector.store(NONE, Ordering::SeqCst);
    }

    /// After parking: leave the sleepers list, or learn that a notification took us
    /// out of it (then we are searching).
    fn unregister(&mut self) {
        self.searching = self.shared.idle.unregister(self.index);
    }
}

/// `block_on` for a multi-threaded runtime: the workers run the tasks; this thread
/// polls `future` when woken and parks in between.
pub(crate) fn block_on<F: Future>(shared: &Arc<Shared>, budget: u32, future: F) -> F::Output {
    shared.busy.fetch_add(1, Ordering::SeqCst);
    let main = Arc::new(WorkersMainWaker {
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
            let polled = coop::with_budget(budget, || future.as_mut().poll(&mut cx));
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

/// `block_on`'s thread: its future must be polled.
const WOKEN: u8 = 0b01;
/// `block_on` returned: a late wake-up gives its `busy` count straight back.
const DONE: u8 = 0b10;

/// The waker of the future given to a multi-threaded `block_on`: besides unparking
/// the thread, it counts it busy, so that a virtual clock does not jump while the
/// main future has work to do. (The single-threaded loop's is `LoopMainWaker`.)
struct WorkersMainWaker {
    /// WOKEN and DONE.
    state: AtomicU8,
    /// The `block_on` thread, to unpark.
    thread: Thread,
    /// For the `busy` count.
    shared: Arc<Shared>,
}

impl Wake for WorkersMainWaker {
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
struct Finish<'a>(&'a Arc<WorkersMainWaker>);

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        if self.0.state.swap(DONE, Ordering::AcqRel) & WOKEN != 0 {
            self.0.shared.unbusy(NONE);
        }
    }
}
