//! The event loop: a ready queue, a timer wheel, and a thread that parks when
//! there is nothing to do.
//!
//! This is asyncio's `BaseEventLoop`. Its heart, `_run_once`, does three things in
//! turn, and so does [`Runtime::block_on`] here:
//!
//! ```text
//!            +-------------------------------------------------------------+
//!            |  one turn of the loop                                       |
//!            |                                                             |
//!   other    |  1. take the wake-ups that came from other threads          |
//!  threads --+--> (a crossbeam channel) into the ready queue               |
//!            |  2. fire the timers whose deadline has passed: their tasks  |
//!            |     join the ready queue                  (asyncio: _scheduled heap)
//!            |  3. poll each task that was ready when the turn began,      |
//!            |     once, in order                        (asyncio: _ready deque)
//!            |  4. nothing ready? park the thread until the next timer's   |
//!            |     deadline, or until another thread unparks it            |
//!            +-------------------------------------------------------------+
//! ```
//!
//! * Step 3 runs only the tasks that were ready when the turn began, as
//!   `_run_once` does (`ntodo = len(self._ready)`): a task that wakes itself in a
//!   loop (`yield_now`) goes to the back and waits for the next turn, so it cannot
//!   starve the timers or the other tasks.
//! * Step 4 never spins: the thread sleeps in `park_timeout` for exactly the time
//!   left before the earliest timer (on a virtual clock, time jumps there instead).
//!   A waker on another thread sends the task through the channel, then unparks
//!   the loop; `std`'s park token means an unpark that comes just before the park is
//!   not lost.
//!
//! A task woken *on* the loop thread skips the channel and goes straight into the
//! ready queue (a plain `VecDeque`): the waker checks a thread-local to tell.
//!
//! [`run`] is `asyncio.run`: a fresh runtime on the calling thread, the future driven
//! to completion, then the runtime dropped. **Dropping a runtime cancels every task
//! still pending** (their futures are dropped, their handles report a cancellation),
//! as `asyncio.run` cancels the tasks left when `main()` returns.
//!
//! The moments a tracer would want to see (a task spawned, polled, woken, a timer
//! fired) each happen in one function here: `spawn_on`, `Runnable::run` (called
//! from `run_ready`), `Scheduler::schedule` and `fire_timers`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use crate::clock::Clock;
use crate::debug::{DEFAULT_SLOW_POLL, Debug, Warning, WarningHook};
use crate::panics::lock;
use crate::task::Task;
use crate::task::cell::{Cell, Header, Runnable};
use crate::time::Timers;
use crate::workers;

/// The part of a runtime that other threads may touch: wakers hold it.
pub(crate) struct Scheduler {
    /// Wake-ups from other threads travel here to the loop.
    remote_tx: Sender<Arc<dyn Runnable>>,
    remote_rx: Receiver<Arc<dyn Runnable>>,
    /// The thread that runs the loop, to unpark it.
    loop_thread: Thread,
    /// Every task not yet finished, so that shutdown can cancel them all.
    /// (Split in `REGISTRY_SHARDS` locks, by task id, so that worker threads
    /// finishing tasks and a thread spawning them rarely wait for each other.)
    registry: [Mutex<Registry>; REGISTRY_SHARDS],
    /// The timer wheel (behind its own lock), with the conversion between instants
    /// and ticks.
    pub(crate) timers: Timers,
    pub(crate) clock: Clock,
    /// Counter behind the default names `Task-1`, `Task-2`, ...
    next_task_id: AtomicU64,
    /// Set after a send on `remote_tx`: the loop looks at the channel only then.
    remote_pending: AtomicBool,
    /// Set when the runtime shuts down: late wake-ups are dropped, not queued.
    closed: AtomicBool,
    /// The worker threads' queues, for a multi-threaded runtime (`src/workers.rs`).
    pub(crate) workers: Option<Arc<workers::Shared>>,
    /// Debug mode's settings, when it is on.
    debug: Option<Debug>,
}

/// A slab of live tasks: a `Vec` of slots and a list of free slots.
#[derive(Default)]
struct Registry {
    slots: Vec<Option<Arc<dyn Runnable>>>,
    free: Vec<usize>,
    live: usize,
}

/// How many locks the registry is split into (a power of two).
const REGISTRY_SHARDS: usize = 8;

/// The part of a runtime only its own thread touches.
struct Local {
    ready: RefCell<VecDeque<Arc<dyn Runnable>>>,
    /// Reused buffer for the wakers of fired timers.
    fired: RefCell<Vec<Waker>>,
}

/// What the thread-local `CONTEXT` holds while a runtime's loop runs on this thread.
struct RunningLoop {
    scheduler: Arc<Scheduler>,
    local: Rc<Local>,
}

thread_local! {
    /// The runtime whose loop runs on this thread, if any (asyncio's
    /// `_get_running_loop()`). `spawn`, `sleep` and the wakers look here.
    static CONTEXT: RefCell<Option<RunningLoop>> = const { RefCell::new(None) };
}

impl Scheduler {
    /// Sends a woken task back to the ready queue: straight into it on the loop's own
    /// thread, through the channel (then unpark the loop) from anywhere else.
    pub(crate) fn schedule(self: &Arc<Self>, task: Arc<dyn Runnable>) {
        if let Some(workers) = &self.workers {
            return self.schedule_on_workers(workers, task);
        }
        // The task stays out here until the closure decides to take it: if the
        // thread-local is already gone (a waker used during thread exit), the
        // closure never runs and the task still goes remote, not lost.
        let mut task = Some(task);
        let _ = CONTEXT.try_with(|context| {
            if let Some(running) = context.borrow().as_ref()
                && Arc::ptr_eq(&running.scheduler, self)
                && let Some(task) = task.take()
            {
                running.local.ready.borrow_mut().push_back(task);
            }
        });
        if let Some(task) = task {
            self.schedule_remote(task);
        }
    }

    fn schedule_remote(&self, task: Arc<dyn Runnable>) {
        if self.closed.load(Ordering::Acquire) {
            return; // The runtime is gone; the task was cancelled at shutdown.
        }
        // The receiver lives in `self`, so the send cannot fail.
        let _ = self.remote_tx.send(task);
        self.remote_pending.store(true, Ordering::Release);
        if self.closed.load(Ordering::Acquire) {
            // Shutdown raced with us and may have drained the channel already:
            // drain it ourselves so no task stays stuck in a dead runtime.
            while self.remote_rx.try_recv().is_ok() {}
            return;
        }
        self.loop_thread.unpark();
    }

    /// A multi-threaded runtime: the task goes to a worker's queue.
    fn schedule_on_workers(&self, workers: &workers::Shared, task: Arc<dyn Runnable>) {
        if self.closed.load(Ordering::Acquire) {
            return; // The runtime is gone; the task was cancelled at shutdown.
        }
        workers.push(task);
        if self.closed.load(Ordering::Acquire) {
            // Shutdown raced with us: nobody will take the task from the injector.
            workers.drain_injector();
        }
    }

    /// Adds a new task to the registry (before its first poll).
    fn register(&self, task: Arc<dyn Runnable>) {
        let shard = task.header().id as usize % REGISTRY_SHARDS;
        let mut registry = lock(&self.registry[shard]);
        let index = match registry.free.pop() {
            Some(index) => index,
            None => {
                registry.slots.push(None);
                registry.slots.len() - 1
            }
        };
        // One number says both where: the slot, then the shard in the low bits.
        let where_ = index * REGISTRY_SHARDS + shard;
        task.header()
            .registry_index
            .store(where_, Ordering::Relaxed);
        registry.slots[index] = Some(task);
        registry.live += 1;
    }

    /// Removes a finished task from the registry.
    pub(crate) fn forget(&self, header: &Header) {
        let where_ = header.registry_index.load(Ordering::Relaxed);
        let (index, shard) = (where_ / REGISTRY_SHARDS, where_ % REGISTRY_SHARDS);
        let removed = {
            let mut registry = lock(&self.registry[shard]);
            let removed = registry.slots.get_mut(index).and_then(Option::take);
            if removed.is_some() {
                registry.free.push(index);
                registry.live -= 1;
            }
            removed
        };
        // `removed` (an Arc of the task) is dropped here, outside the lock.
        drop(removed);
    }

    /// Number of tasks registered and not finished.
    fn live(&self) -> usize {
        self.registry.iter().map(|shard| lock(shard).live).sum()
    }

    /// Whether the calling thread runs this scheduler's loop right now.
    pub(crate) fn is_current(self: &Arc<Self>) -> bool {
        if self.workers.is_some() {
            // Several threads run a multi-threaded runtime, and the one that waits
            // for the timers may be another: always tell it about a new timer.
            return false;
        }
        CONTEXT
            .try_with(|context| {
                context
                    .borrow()
                    .as_ref()
                    .is_some_and(|running| Arc::ptr_eq(&running.scheduler, self))
            })
            .unwrap_or(false)
    }

    /// Debug mode: a task panicked and its panic was never looked at.
    pub(crate) fn exception_never_retrieved(&self, task: String, message: String) {
        if let Some(debug) = &self.debug {
            debug.warn(Warning::ExceptionNeverRetrieved { task, message });
        }
    }

    /// Wakes the loop thread (a timer was added from another thread).
    pub(crate) fn unpark_loop(&self) {
        match &self.workers {
            Some(workers) => workers.unpark_driver(),
            None => self.loop_thread.unpark(),
        }
    }
}

/// Runs `body` on a worker thread of a multi-threaded runtime, with `CONTEXT` set so
/// that `spawn`, `sleep` and `now` find the runtime (`src/workers.rs`).
pub(crate) fn enter_worker(scheduler: Arc<Scheduler>, body: impl FnOnce()) {
    CONTEXT.with(|context| {
        *context.borrow_mut() = Some(RunningLoop {
            scheduler,
            // Unused: a multi-threaded scheduler's tasks go to the workers' queues.
            local: Rc::new(Local {
                ready: RefCell::new(VecDeque::new()),
                fired: RefCell::new(Vec::new()),
            }),
        })
    });
    let _guard = EnterGuard;
    body();
}

/// Spawns `future` as a task of `scheduler` (asyncio's `loop.create_task`).
fn spawn_on<F>(scheduler: &Arc<Scheduler>, future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let id = scheduler.next_task_id.fetch_add(1, Ordering::Relaxed) + 1;
    let cell = Cell::new(future, id, scheduler.clone());
    scheduler.register(cell.clone());
    // A new task starts SCHEDULED: it is put in the ready queue right away.
    scheduler.schedule(cell.clone());
    Task::new(cell)
}

/// Spawns a task on the runtime running on this thread (asyncio's `create_task`).
///
/// The task starts at the loop's next turn and runs to the end whether or not the
/// returned [`Task`] is awaited; await the handle for its value.
///
/// # Panics
///
/// Outside a running runtime. Spawn from inside `clearloop::run(async { ... })`, or
/// call [`Runtime::spawn`] on a runtime you built.
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    with_current_scheduler("clearloop::spawn()", |scheduler| {
        spawn_on(scheduler, future)
    })
    .unwrap_or_else(|message| {
        panic!(
            "{message}; call it from inside clearloop::run(async {{ ... }}), \
                 or use Runtime::spawn on a runtime you built"
        )
    })
}

/// The scheduler of the loop running on this thread, or a message naming `what`.
pub(crate) fn current_scheduler(what: &str) -> Result<Arc<Scheduler>, String> {
    with_current_scheduler(what, Arc::clone)
}

/// Calls `f` with the scheduler of the loop running on this thread, without
/// cloning its `Arc`: every task and worker shares that reference count, and
/// bumping it on each `spawn` or `now()` makes threads fight over its cache line.
pub(crate) fn with_current_scheduler<R>(
    what: &str,
    f: impl FnOnce(&Arc<Scheduler>) -> R,
) -> Result<R, String> {
    let mut f = Some(f);
    CONTEXT
        .try_with(|context| {
            let context = context.borrow();
            let running = context.as_ref()?;
            f.take().map(|f| f(&running.scheduler))
        })
        .ok()
        .flatten()
        .ok_or_else(|| format!("{what} was called outside a clearloop runtime"))
}

/// Runs `future` to completion on a new single-threaded runtime and returns its
/// output (asyncio's `asyncio.run`). Tasks still pending when it returns are
/// cancelled: their futures are dropped.
///
/// # Panics
///
/// When called from inside a running runtime, as `asyncio.run()` refuses to run
/// inside a running loop: `.await` the future instead, or `spawn` it.
pub fn run<F: Future>(future: F) -> F::Output {
    Runtime::new().block_on(future)
}

/// Builds a [`Runtime`]: which clock it runs on.
///
/// ```
/// use clearloop::{Builder, clock::Clock};
/// let runtime = Builder::new().clock(Clock::virtual_clock()).build();
/// let waited = runtime.block_on(async {
///     let start = clearloop::time::now();
///     clearloop::time::sleep(std::time::Duration::from_secs(2)).await;
///     clearloop::time::now() - start
/// });
/// assert_eq!(waited, std::time::Duration::from_secs(2)); // exact, and instant
/// ```
pub struct Builder {
    clock: Clock,
    /// `None`: the single-threaded loop; `Some(n)`: n worker threads.
    worker_threads: Option<usize>,
    debug: bool,
    slow_poll: Duration,
    hook: Option<WarningHook>,
}

impl Builder {
    /// A builder for a single-threaded runtime on the real clock. Debug mode is on
    /// when the environment variable `CLEARLOOP_DEBUG` is `1`.
    pub fn new() -> Builder {
        Builder {
            clock: Clock::real(),
            debug: crate::debug::enabled_by_env(),
            slow_poll: DEFAULT_SLOW_POLL,
            hook: None,
            worker_threads: None,
        }
    }

    /// Switches debug mode on or off (asyncio's `loop.set_debug`): slow polls and
    /// panics nobody retrieved are reported; see [`crate::debug`].
    pub fn debug(mut self, on: bool) -> Builder {
        self.debug = on;
        self
    }

    /// In debug mode, how long one poll may hold the loop before it is reported
    /// (asyncio's `slow_callback_duration`, 100 ms by default).
    pub fn slow_poll_threshold(mut self, threshold: Duration) -> Builder {
        self.slow_poll = threshold;
        self
    }

    /// Where debug-mode warnings go (standard error by default). Setting a hook
    /// does not switch debug mode on: call [`debug`](Builder::debug) too.
    pub fn on_warning(mut self, hook: impl Fn(&Warning) + Send + Sync + 'static) -> Builder {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// The clock the runtime's timers use ([`Clock::virtual_clock`] for tests).
    pub fn clock(mut self, clock: Clock) -> Builder {
        self.clock = clock;
        self
    }

    /// Runs the tasks on `n` worker threads that steal work from each other, instead
    /// of the single-threaded loop (the default, asyncio's model). See
    /// [`workers`] for how they share the tasks.
    ///
    /// `block_on` then polls only its own future on the calling thread, and parks
    /// between polls; the workers run every spawned task, from the moment it is
    /// spawned.
    ///
    /// # Panics
    ///
    /// If `n` is 0: a runtime with no thread could never run a task.
    pub fn worker_threads(mut self, n: usize) -> Builder {
        assert!(
            n > 0,
            "Builder::worker_threads(0): a runtime needs at least one worker thread"
        );
        self.worker_threads = Some(n);
        self
    }

    /// Builds the runtime. Its loop runs on the thread that calls `build` and later
    /// `block_on`: a `Runtime` stays on its thread (it is not `Send`), as an asyncio
    /// loop belongs to one thread. With [`worker_threads`](Builder::worker_threads),
    /// the worker threads start here.
    pub fn build(self) -> Runtime {
        let workers = self
            .worker_threads
            .map(|n| workers::Shared::new(n, self.clock.is_auto_advance()));
        let (workers, locals) = match workers {
            Some((shared, locals)) => (Some(Arc::new(shared)), locals),
            None => (None, Vec::new()),
        };
        let (remote_tx, remote_rx) = crossbeam_channel::unbounded();
        let scheduler = Arc::new(Scheduler {
            remote_tx,
            remote_rx,
            loop_thread: thread::current(),
            registry: Default::default(),
            timers: Timers::new(self.clock.now()),
            clock: self.clock,
            next_task_id: AtomicU64::new(0),
            remote_pending: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            workers,
            debug: self.debug.then(|| Debug {
                slow_poll: self.slow_poll,
                hook: self
                    .hook
                    .unwrap_or_else(|| Arc::new(crate::debug::print_warning)),
            }),
        });
        if let Some(shared) = &scheduler.workers {
            workers::start(&scheduler, shared, locals);
        }
        Runtime {
            scheduler,
            local: Rc::new(Local {
                ready: RefCell::new(VecDeque::new()),
                fired: RefCell::new(Vec::new()),
            }),
        }
    }
}

/// A single-threaded event loop (asyncio's event loop object).
///
/// [`run`] builds one, uses it once and drops it; build your own with [`Builder`]
/// to choose the clock, to spawn before running, or to `block_on` several times.
pub struct Runtime {
    scheduler: Arc<Scheduler>,
    local: Rc<Local>,
}

/// The loop's own waker for the future passed to `block_on` (it is not a task).
struct MainWaker {
    woken: AtomicBool,
    thread: Thread,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

/// Sets `CONTEXT` for the duration of `block_on`, and clears it even on a panic.
struct EnterGuard;

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|context| context.borrow_mut().take());
    }
}

impl Runtime {
    /// A single-threaded runtime on the real clock.
    pub fn new() -> Runtime {
        Builder::new().build()
    }

    /// The clock this runtime's timers use.
    pub fn clock(&self) -> &Clock {
        &self.scheduler.clock
    }

    /// A handle that spawns tasks on this runtime from any thread.
    pub fn handle(&self) -> Handle {
        Handle {
            scheduler: self.scheduler.clone(),
        }
    }

    /// Spawns a task on this runtime. It runs during `block_on` (on a
    /// multi-threaded runtime, at once, on the workers).
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_on(&self.scheduler, future)
    }

    /// Number of tasks spawned on this runtime that have not finished yet.
    pub fn live_tasks(&self) -> usize {
        self.scheduler.live()
    }

    /// Number of timers (sleeps) registered in this runtime's timer wheel.
    pub fn pending_timers(&self) -> usize {
        self.scheduler.timers.len()
    }

    /// Drives `future` to completion on this thread, running every task of this
    /// runtime meanwhile (asyncio's `loop.run_until_complete`).
    ///
    /// # Panics
    ///
    /// When called from inside a running runtime (a loop cannot run inside a loop):
    /// `.await` the future instead, or `spawn` it. A panic of `future` itself
    /// propagates to the caller, as an exception from `main()` leaves `asyncio.run`.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.enter();
        let _guard = EnterGuard;
        if let Some(workers) = &self.scheduler.workers {
            return workers::block_on(workers, future);
        }
        let main = Arc::new(MainWaker {
            woken: AtomicBool::new(true),
            thread: thread::current(),
        });
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if main.woken.load(Ordering::Acquire)
                && main.woken.swap(false, Ordering::AcqRel)
                && let Poll::Ready(output) = future.as_mut().poll(&mut cx)
            {
                return output;
            }
            self.take_remote();
            self.fire_timers();
            self.run_ready();
            if self.local.ready.borrow().is_empty() && !main.woken.load(Ordering::Acquire) {
                self.park();
            }
        }
    }

    /// Puts this runtime in the thread-local `CONTEXT`, refusing to nest.
    fn enter(&self) {
        let nested = CONTEXT.with(|context| {
            let mut context = context.borrow_mut();
            if context.is_some() {
                return true;
            }
            *context = Some(RunningLoop {
                scheduler: self.scheduler.clone(),
                local: self.local.clone(),
            });
            false
        });
        if nested {
            panic!(
                "clearloop::run() / Runtime::block_on() was called from inside a running \
                 runtime (like asyncio.run() inside a running event loop): \
                 `.await` the future instead, or spawn() it as a task"
            );
        }
    }

    /// Step 1: wake-ups that came from other threads join the ready queue.
    fn take_remote(&self) {
        // A plain load on most turns; the channel is only touched after a send.
        if !self.scheduler.remote_pending.load(Ordering::Acquire) {
            return;
        }
        self.scheduler
            .remote_pending
            .store(false, Ordering::Release);
        let mut ready = self.local.ready.borrow_mut();
        while let Ok(task) = self.scheduler.remote_rx.try_recv() {
            ready.push_back(task);
        }
    }

    /// Step 2: timers whose deadline has passed wake their tasks.
    fn fire_timers(&self) {
        let timers = &self.scheduler.timers;
        if timers.is_empty() {
            return; // one load: a loop with no timers does not read the clock
        }
        let mut fired = self.local.fired.borrow_mut();
        timers.fire_due(self.scheduler.clock.now(), &mut fired);
        // Wake outside the timers' lock: a woken task may register a new timer.
        for waker in fired.drain(..) {
            waker.wake();
        }
    }

    /// Step 3: poll each task that was ready when the turn began, once.
    fn run_ready(&self) {
        let ready_at_start = self.local.ready.borrow().len();
        for _ in 0..ready_at_start {
            let Some(task) = self.local.ready.borrow_mut().pop_front() else {
                break;
            };
            match &self.scheduler.debug {
                None => task.run(),
                Some(debug) => self.run_timed(task, debug),
            }
        }
    }

    /// Debug mode's poll: a poll that holds the loop too long is reported. Timed on
    /// the real clock, whatever the runtime's clock: blocking costs real time.
    fn run_timed(&self, task: Arc<dyn Runnable>, debug: &Debug) {
        let name = task.name();
        let start = Instant::now();
        task.run();
        let took = start.elapsed();
        if took > debug.slow_poll {
            debug.warn(Warning::SlowPoll { task: name, took });
        }
    }

    /// Step 4: nothing to do until the next timer, or until another thread wakes us.
    fn park(&self) {
        let deadline = self.scheduler.timers.next_deadline();
        self.scheduler.clock.park_until(deadline);
    }

    /// Cancels every task left: drops its future, records the cancellation.
    fn shut_down(&self) {
        self.scheduler.closed.store(true, Ordering::Release);
        if let Some(workers) = &self.scheduler.workers {
            // Join the workers first: no task may be polled while we cancel it.
            workers.stop();
        }
        loop {
            // Take the whole registry first: a future's `Drop` may touch it.
            let mut tasks: Vec<Arc<dyn Runnable>> = Vec::new();
            for shard in &self.scheduler.registry {
                let mut registry = lock(shard);
                registry.free.clear();
                registry.live = 0;
                tasks.extend(registry.slots.drain(..).flatten());
            }
            if tasks.is_empty() {
                break;
            }
            for task in tasks {
                task.shut_down();
            }
        }
        self.local.ready.borrow_mut().clear();
        while self.scheduler.remote_rx.try_recv().is_ok() {}
        self.scheduler.timers.clear();
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("clock", &self.clock)
            .field("debug", &self.debug)
            .field("slow_poll", &self.slow_poll)
            .field("worker_threads", &self.worker_threads)
            .finish()
    }
}

impl Default for Runtime {
    fn default() -> Runtime {
        Runtime::new()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shut_down();
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("clock", &self.scheduler.clock)
            .field("live_tasks", &self.live_tasks())
            .finish()
    }
}

/// Spawns tasks on a runtime from any thread (asyncio's
/// `asyncio.run_coroutine_threadsafe(coro, loop)`; tokio's `Handle`).
///
/// A [`Runtime`] stays on the thread that built it; its handle is `Send`, `Sync` and
/// cheap to clone. A task spawned from another thread reaches a single-threaded loop
/// through its cross-thread channel, and a multi-threaded runtime through its
/// injector. After the runtime shut down, a spawned task is cancelled at once.
///
/// ```
/// let runtime = clearloop::Builder::new().worker_threads(2).build();
/// let handle = runtime.handle();
/// let task = std::thread::spawn(move || handle.spawn(async { 6 * 7 }))
///     .join()
///     .unwrap();
/// assert_eq!(runtime.block_on(task), 42);
/// ```
#[derive(Clone)]
pub struct Handle {
    scheduler: Arc<Scheduler>,
}

impl Handle {
    /// Spawns `future` on the runtime (see [`Runtime::spawn`]).
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let scheduler = &self.scheduler;
        let id = scheduler.next_task_id.fetch_add(1, Ordering::Relaxed) + 1;
        let cell = Cell::new(future, id, scheduler.clone());
        scheduler.register(cell.clone());
        // Registered first, checked second: a shutdown that set `closed` before our
        // registration is seen here (the registry's lock orders the two), and one
        // that sets it later finds the task in the registry and cancels it itself.
        if scheduler.closed.load(Ordering::Acquire) {
            cell.shut_down();
            scheduler.forget(&cell.header);
        } else {
            scheduler.schedule(cell.clone());
        }
        Task::new(cell)
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("closed", &self.scheduler.closed.load(Ordering::Relaxed))
            .finish()
    }
}
