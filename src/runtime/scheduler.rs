//! The scheduler: where a task goes when it is spawned, woken or due, and how the
//! code running on a thread finds its runtime.
//!
//! Everything here has an asyncio name. A runtime's [`RuntimeCore`] is the part of
//! the event loop that other code calls *into*, from the loop's thread or any other:
//!
//! | asyncio (`BaseEventLoop`)            | clearloop                                          |
//! |--------------------------------------|----------------------------------------------------|
//! | `loop.call_soon(task.__step)`        | `schedule(task)` on the loop's own thread          |
//! | `loop.call_soon_threadsafe(...)`     | `schedule(task)` from any other thread             |
//! | `loop.call_at(when, callback)`       | a `Sleep` inserted in [`Timers`] (the wheel)       |
//! | `loop._ready`, `loop._scheduled`     | [`ReadyQueues`], [`Timers`]                        |
//! | `asyncio.all_tasks()` (`_all_tasks`) | the registry, which shutdown cancels               |
//! | `asyncio._get_running_loop()`        | [`with_current_scheduler`], the thread-local `CONTEXT` |
//! | `loop.create_task(coro)`             | [`spawn_on`]                                       |
//!
//! ```text
//!              wake / spawn                        ReadyQueues::Loop
//!   task ────> RuntimeCore::schedule ──match──> on the loop's thread: its VecDeque
//!                   │                    │      elsewhere: channel + rouse the loop
//!                   │                    └────> ReadyQueues::Workers
//!                   │                           a worker's own deque, or the injector
//!   sleep ───> Timers::check ──> TimerWheel<Waker>   (fired by whoever runs the loop)
//!
//!   spawn(), sleep(), now() ──> CONTEXT (thread-local) ──> the RuntimeCore running here
//! ```
//!
//! Where a ready task waits is decided once, in one `match` on [`ReadyQueues`]: the
//! single-threaded loop's queue, or the worker threads' queues
//! ([`workers`](mod@crate::workers)). The rest of the runtime does not care which.
//!
//! Tasks reach this file only through the [`Schedule`] trait (the task module's
//! side of the contract): the task module does not import the runtime, the runtime
//! imports tasks, and `time` and `workers` import this file. No circle.
//!
//! ## Why not `Scheduler`?
//!
//! This type was called `Scheduler`, beside `sched::Scheduler` (CPython's `sched`)
//! and `schedule::Scheduler` (the `schedule` library). A reader who meets all three
//! in the generated docs could not tell them apart; "the runtime's core" says what it
//! is: the runtime's state that wakers, sleeps and handles share.
//!
//! The core owns the runtime's **timers** ([`Timers`], in `src/runtime/timers.rs`,
//! the next file): `call_at`'s side of the loop.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::thread::{self, Thread};

use crossbeam_channel::{Receiver, Sender};

use crate::clock::Clock;
use crate::debug::{Debug, Warning};
use crate::panics::lock;
use crate::task::Task;
use crate::task::cell::{Cell, Header, Runnable, Schedule};

use super::local::{LocalSlot, LocalTasks};
use super::registry::{Entry, NOT_REGISTERED, REGISTRY_SHARDS, Registry};
use super::timers::Timers;
use crate::workers::shared as workers;

/// A runtime's own reactor, shared by its core and the threads that wait on it
/// (nothing on systems without the reactor yet).
#[cfg(any(unix, windows))]
pub(crate) type OwnIo = Arc<crate::reactor::OwnReactor>;
/// A runtime's own reactor (none on this system yet).
#[cfg(not(any(unix, windows)))]
pub(crate) type OwnIo = Arc<()>;

/// The part of a runtime that other threads may touch: every task, waker, sleep and
/// [`Handle`](crate::Handle) holds an `Arc` of it.
pub(crate) struct RuntimeCore {
    /// Where ready tasks wait: the loop's queue, or the workers'.
    pub(crate) ready: ReadyQueues,
    /// Every task not yet finished, so that shutdown can cancel them all.
    /// (Split in `REGISTRY_SHARDS` locks, by task id, so that worker threads
    /// finishing tasks and a thread spawning them rarely wait for each other.)
    registry: [Mutex<Registry>; REGISTRY_SHARDS],
    /// The timer wheel (behind its own lock), with the conversion between instants
    /// and ticks.
    pub(crate) timers: Timers,
    /// The clock the timers read: real, or virtual in tests.
    pub(crate) clock: Clock,
    /// Counter behind the default names `Task-1`, `Task-2`, ...
    next_task_id: AtomicU64,
    /// Set when the runtime shuts down: late wake-ups are dropped, not queued.
    pub(crate) closed: AtomicBool,
    /// Debug mode's settings, when it is on.
    pub(crate) debug: Option<Debug>,
    /// What each poll may spend on ready resources before it yields
    /// ([`coop`](crate::task::coop); `UNLIMITED` when switched off).
    pub(crate) budget: u32,
    /// The trace recorder when tracing is on ([`crate::trace`]); `None` costs one branch.
    pub(crate) trace: crate::trace::Tracer,
    /// The runtime's own reactor, made at its first wait on I/O (real clock only:
    /// a virtual clock's waits go to the process's I/O thread).
    pub(crate) io: OwnIo,
}

/// Where the ready tasks of a runtime wait (asyncio's `loop._ready`).
pub(crate) enum ReadyQueues {
    /// The single-threaded loop (asyncio's model): a `VecDeque` its own thread
    /// reaches through `CONTEXT`, and a channel for the other threads.
    Loop(Remote),
    /// `Builder::worker_threads(n)`: the workers' deques and injector.
    Workers(Arc<workers::Shared>),
}

/// How other threads reach a single-threaded loop (the self-pipe of asyncio's
/// `call_soon_threadsafe`).
pub(crate) struct Remote {
    /// Wake-ups from other threads travel here to the loop.
    tx: Sender<Arc<dyn Runnable>>,
    /// The loop's end of the channel (step 1 of its turn drains it).
    pub(crate) rx: Receiver<Arc<dyn Runnable>>,
    /// Set after a send on `tx`: the loop looks at the channel only then.
    pub(crate) pending: AtomicBool,
    /// The thread that runs the loop, to wake it wherever it waits.
    pub(crate) waiter: Arc<LoopWaiter>,
}

/// The thread that runs a single-threaded loop, and where it waits in step 4: on
/// the selector (woken by [`Reactor::notify`](crate::reactor::Reactor::notify),
/// asyncio's self-pipe) or parked (woken by `Thread::unpark`). A waker from another
/// thread looks at `in_selector` and uses the matching one.
pub(crate) struct LoopWaiter {
    thread: Thread,
    /// The loop sits in `epoll_wait` (set before it looks at its queues one last
    /// time, cleared when it returns).
    pub(crate) in_selector: AtomicBool,
    /// The loop's reactor, to notify while it sits there.
    io: OwnIo,
}

impl LoopWaiter {
    fn new(thread: Thread, io: OwnIo) -> LoopWaiter {
        LoopWaiter {
            thread,
            in_selector: AtomicBool::new(false),
            io,
        }
    }

    /// Wakes the loop from step 4. The caller has published what the loop should
    /// see (a flag, a timer) before: with `SeqCst` on both sides, either the loop
    /// sees it before it waits, or this sees `in_selector` and notifies.
    pub(crate) fn rouse(&self) {
        #[cfg(any(unix, windows))]
        if self.in_selector.load(Ordering::SeqCst) {
            // The loop's own thread, dispatching readiness from inside its wait:
            // it looks at its flags when the wait returns, so a notify would only
            // cost an eventfd write and one more empty wait.
            if thread::current().id() != self.thread.id()
                && let Some(reactor) = self.io.get()
            {
                reactor.rouse();
            }
            return;
        }
        // Parked (or about to park): `std`'s unpark token is never lost.
        self.thread.unpark();
    }
}

impl Remote {
    /// The way in to a loop that will run on `thread` (and wait in `io`).
    pub(crate) fn new(thread: Thread, io: OwnIo) -> Remote {
        let (tx, rx) = crossbeam_channel::unbounded();
        Remote {
            tx,
            rx,
            pending: AtomicBool::new(false),
            waiter: Arc::new(LoopWaiter::new(thread, io)),
        }
    }
}

/// The part of a single-threaded runtime only its own thread touches.
pub(crate) struct Local {
    /// The ready queue (asyncio's `_ready` deque).
    pub(crate) ready: RefCell<VecDeque<Arc<dyn Runnable>>>,
    /// Reused buffer for the wakers of fired timers.
    pub(crate) fired: RefCell<Vec<Waker>>,
    /// The futures of local tasks (`spawn_local`), which never leave this thread.
    pub(crate) local_tasks: Rc<LocalTasks>,
    /// A simulation's seeded choice of the next ready task ([`crate::sim`]);
    /// `None`, the front of the queue, everywhere else.
    pub(crate) chooser: Option<crate::sim::Chooser>,
    /// A simulation's network ([`crate::sim::net`]), where its sockets live.
    pub(crate) network: Option<Arc<crate::sim::net::World>>,
}

impl Local {
    /// An empty ready queue.
    pub(crate) fn new() -> Rc<Local> {
        Local::with(None, None)
    }

    /// The loop of a simulation runtime seeded with `seed`: its chooser and its
    /// network.
    pub(crate) fn simulated(seed: crate::sim::Seed) -> Rc<Local> {
        let network_seed = match seed {
            crate::sim::Seed::Fifo => 0,
            crate::sim::Seed::Number(n) => n,
        };
        Local::with(
            crate::sim::Chooser::new(seed),
            Some(crate::sim::net::World::new(network_seed)),
        )
    }

    fn with(
        chooser: Option<crate::sim::Chooser>,
        network: Option<Arc<crate::sim::net::World>>,
    ) -> Rc<Local> {
        Rc::new(Local {
            ready: RefCell::new(VecDeque::new()),
            fired: RefCell::new(Vec::new()),
            local_tasks: Rc::default(),
            chooser,
            network,
        })
    }

    /// A simulation's pick of the next task to run ([`crate::sim`]): where its
    /// seed says, not the front of the queue.
    pub(crate) fn next_chosen(&self, chooser: &crate::sim::Chooser) -> Option<Arc<dyn Runnable>> {
        let mut ready = self.ready.borrow_mut();
        if ready.is_empty() {
            return None;
        }
        let index = chooser.pick(ready.len());
        ready.remove(index)
    }
}

/// What the thread-local `CONTEXT` holds while a runtime runs on this thread.
struct RunningLoop {
    /// The runtime: what `spawn`, `sleep` and `now` find.
    core: Arc<RuntimeCore>,
    /// Its ready queue, for a wake-up on this very thread.
    local: Rc<Local>,
}

thread_local! {
    /// The runtime running on this thread, if any (asyncio's `_get_running_loop()`).
    /// `spawn`, `sleep`, `now` and the wakers look here.
    static CONTEXT: RefCell<Option<RunningLoop>> = const { RefCell::new(None) };

    /// The same runtime and ready queue as `CONTEXT`, as two raw pointers (null:
    /// none), for the one question a wake-up asks on every call: "does this thread
    /// run that loop, and where is its queue?". Plain pointers in a `Cell` have no
    /// destructor, so reading them is one thread-local load: no borrow flag, no
    /// `Option`, no is-it-destroyed check (callgrind: ~15 instructions a wake-up
    /// less than through `CONTEXT`). Set and cleared with `CONTEXT`, whose `Rc`
    /// keeps the `Local` alive while they are set.
    static LOOP_HERE: std::cell::Cell<(*const RuntimeCore, *const Local)> =
        const { std::cell::Cell::new((std::ptr::null(), std::ptr::null())) };
}

impl RuntimeCore {
    /// A runtime's core, before any task.
    pub(crate) fn new(
        ready: ReadyQueues,
        clock: Clock,
        debug: Option<Debug>,
        budget: u32,
        trace: crate::trace::Tracer,
        io: OwnIo,
    ) -> RuntimeCore {
        RuntimeCore {
            ready,
            budget,
            trace,
            io,
            registry: Default::default(),
            timers: Timers::new(clock.now()),
            clock,
            next_task_id: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            debug,
        }
    }

    /// The loop's own thread pushes straight into its queue; returns the task when
    /// this thread does not run this loop (or its thread-local is already gone: a
    /// waker used during thread exit), so that it goes remote, not lost.
    #[inline]
    fn push_local(&self, task: Arc<dyn Runnable>) -> Option<Arc<dyn Runnable>> {
        match self.local_here() {
            Some(local) => {
                local.ready.borrow_mut().push_back(task);
                None
            }
            None => Some(task),
        }
    }

    /// This loop's thread-local part, when this thread is running this loop now.
    /// The reference is for the caller's next step only (a push), never kept.
    #[inline]
    fn local_here(&self) -> Option<&Local> {
        let (core, local) = LOOP_HERE.with(std::cell::Cell::get);
        if !std::ptr::eq(core, self) {
            return None;
        }
        // SAFETY: `LOOP_HERE` holds this thread's running loop (`core` is not null:
        // it equals `self`), set by `enter` and cleared by `Entered`'s drop before
        // `CONTEXT` lets go of the `Rc<Local>` it points into: the `Local` is alive,
        // and only this thread reads it (through shared references, as `CONTEXT`).
        Some(unsafe { &*local })
    }

    /// `call_soon_threadsafe`: the task goes through the channel, then the loop is
    /// roused (unparked, or its selector notified). Out of line: inlined, its
    /// registers made every wake-up on the loop's own thread save and restore
    /// six more (callgrind: ~10 instructions a wake-up).
    #[cold]
    #[inline(never)]
    fn schedule_remote(&self, remote: &Remote, task: Arc<dyn Runnable>) {
        if self.closed.load(Ordering::Acquire) {
            return; // The runtime is gone; the task was cancelled at shutdown.
        }
        // The receiver lives in `self`, so the send cannot fail.
        let _ = remote.tx.send(task);
        remote.pending.store(true, Ordering::SeqCst);
        if self.closed.load(Ordering::Acquire) {
            // Shutdown raced with us and may have drained the channel already:
            // drain it ourselves so no task stays stuck in a dead runtime.
            while remote.rx.try_recv().is_ok() {}
            return;
        }
        remote.waiter.rouse();
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

    /// Adds a new task to the registry (before its first poll). The caller passes
    /// the header it already has (the concrete cell's): through the `dyn` task it
    /// was two virtual calls a spawn. Inlined into the spawn: one call less.
    #[inline]
    fn register(&self, header: &Header, task: Arc<dyn Runnable>) {
        let shard = header.id as usize % REGISTRY_SHARDS;
        lock(&self.registry[shard]).insert(header, task, shard);
    }

    /// Number of tasks registered and not finished.
    pub(crate) fn live(&self) -> usize {
        self.registry.iter().map(|shard| lock(shard).live).sum()
    }

    /// Every live task (the registry's), for `all_tasks` and `Runtime::dump`.
    pub(crate) fn live_tasks(&self) -> Vec<Arc<dyn Runnable>> {
        let mut tasks = Vec::new();
        for shard in &self.registry {
            tasks.extend(lock(shard).tasks().cloned());
        }
        tasks
    }

    /// Empties the registry (shutdown): every task in it, which the caller cancels.
    pub(crate) fn take_all_tasks(&self) -> Vec<Arc<dyn Runnable>> {
        let mut tasks: Vec<Arc<dyn Runnable>> = Vec::new();
        for shard in &self.registry {
            let registry = std::mem::take(&mut *lock(shard));
            for page in registry.pages {
                tasks.extend(page.into_iter().filter_map(|entry| match entry {
                    Entry::Task(task) => Some(task),
                    Entry::Vacant { .. } => None,
                }));
            }
        }
        for task in &tasks {
            // Its slot is gone: its `release` must not free a slot a new task took.
            task.header()
                .registry_index
                .store(NOT_REGISTERED, Ordering::Relaxed);
        }
        tasks
    }

    /// Whether the calling thread runs this runtime's loop right now.
    pub(crate) fn is_current(&self) -> bool {
        match &self.ready {
            ReadyQueues::Loop(_) => CONTEXT
                .try_with(|context| {
                    context
                        .borrow()
                        .as_ref()
                        .is_some_and(|running| std::ptr::eq(Arc::as_ptr(&running.core), self))
                })
                .unwrap_or(false),
            // Several threads run a multi-threaded runtime, and the one that waits
            // for the timers may be another: always tell it about a new timer.
            ReadyQueues::Workers(_) => false,
        }
    }

    /// Wakes the thread that waits for the timers (a timer was added from another
    /// thread, or is earlier than the one it waits for).
    pub(crate) fn unpark_timer_thread(&self) {
        match &self.ready {
            ReadyQueues::Loop(remote) => remote.waiter.rouse(),
            ReadyQueues::Workers(workers) => workers.unpark_driver(),
        }
    }
}

/// What the reactor needs of a runtime (`src/reactor/owner.rs`): its reactor, made
/// at the first wait, and its clock.
#[cfg(any(unix, windows))]
impl crate::reactor::Owner for RuntimeCore {
    fn reactor(&self) -> std::io::Result<&Arc<crate::reactor::Reactor>> {
        if self.clock.is_virtual() {
            // The loop sleeps on its clock, not in a selector: the I/O thread waits.
            return crate::reactor::Reactor::shared();
        }
        // Made now: the thread that sleeps for the timers may be parked on the
        // clock, and must move into the new selector.
        self.io.get_or_create(|| self.unpark_timer_thread())
    }

    fn clock(&self) -> &Clock {
        &self.clock
    }
}

impl Schedule for RuntimeCore {
    /// Sends a woken task back to a ready queue: `call_soon` on the loop's own
    /// thread (straight into its queue), `call_soon_threadsafe` from anywhere else
    /// (the channel, then unpark the loop), or a worker's queue.
    fn schedule(&self, task: Arc<dyn Runnable>) {
        match &self.ready {
            ReadyQueues::Loop(remote) => {
                if let Some(task) = self.push_local(task) {
                    self.schedule_remote(remote, task);
                }
            }
            ReadyQueues::Workers(workers) => self.schedule_on_workers(workers, task),
        }
    }

    #[inline]
    fn push_here<R: Runnable + 'static>(&self, task: Arc<R>) -> Option<Arc<R>> {
        if let ReadyQueues::Workers(_) = self.ready {
            return Some(task);
        }
        match self.local_here() {
            Some(local) => {
                local.ready.borrow_mut().push_back(task);
                None
            }
            None => Some(task),
        }
    }

    /// Removes a finished task from the registry. Inlined into the task's
    /// `finish` (its only caller), whose frame it shared anyway.
    #[inline]
    fn release(&self, header: &Header) {
        let where_ = header
            .registry_index
            .swap(NOT_REGISTERED, Ordering::Relaxed);
        if where_ == NOT_REGISTERED {
            return; // shutdown took it out already
        }
        let (index, shard) = (
            where_ as usize / REGISTRY_SHARDS,
            where_ as usize % REGISTRY_SHARDS,
        );
        let removed = lock(&self.registry[shard]).remove(index);
        // `removed` (an Arc of the task) is dropped here, outside the lock. The
        // task calls this from its own `run`, which holds another Arc of it: this
        // is never the last one.
        drop(removed);
    }

    fn exception_never_retrieved(&self, task: String, message: String) {
        if let Some(debug) = &self.debug {
            debug.warn(Warning::ExceptionNeverRetrieved { task, message });
        }
    }

    fn budget(&self) -> u32 {
        self.budget
    }

    fn trace(&self) -> Option<&Arc<crate::trace::Recorder>> {
        self.trace.as_ref()
    }
}

/// Spawns `future` as a task of `core` (asyncio's `loop.create_task`): registered
/// first, then pushed to a ready queue, since a new task starts SCHEDULED.
///
/// Registered first, checked second: a shutdown that set `closed` before our
/// registration is seen here (the registry's lock orders the two), and one that sets
/// it later finds the task in the registry and cancels it itself. Either way a task
/// spawned on a runtime that is gone (through a [`Handle`](crate::Handle)) is
/// cancelled at once.
#[track_caller]
pub(crate) fn spawn_on<F>(core: &Arc<RuntimeCore>, future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_into(core, None, future, Location::caller())
}

/// `clearloop::spawn`: a task of the runtime running on this thread. On a
/// single-threaded loop it goes straight into the loop's queue, found in the one
/// look at `LOOP_HERE` that found the runtime (through `schedule`, a second look
/// cost some 40 instructions a spawn). `Err` when no runtime runs here.
#[track_caller]
pub(crate) fn spawn_here<F>(future: F) -> Result<Task<F::Output>, F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let at = Location::caller();
    // `LOOP_HERE`, not `CONTEXT`: one thread-local load, no borrow flag (callgrind:
    // ~15 instructions a spawn).
    let (core, local) = LOOP_HERE.with(std::cell::Cell::get);
    if core.is_null() {
        return Err(future);
    }
    // SAFETY: `core` is `Arc::as_ptr` of the `Arc<RuntimeCore>` that `CONTEXT`
    // holds while `LOOP_HERE` is set (`enter` to `Entered`'s drop, which cannot
    // run during this call): the `Arc` rebuilt here is borrowed, never dropped
    // (`ManuallyDrop`), so no count changes; `local` is alive for the same reason
    // (see `push_local`).
    let core = std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(core) });
    // SAFETY: as in `push_local`.
    let local = unsafe { &*local };
    Ok(spawn_into(&core, Some(local), future, at))
}

/// `spawn_on`, with the queue of the loop running on this thread when the caller
/// has it (`here`: only for a runtime that runs on this thread). `at` is the user's
/// line that spawned it: the trace names an unnamed task's row by it (the task
/// itself does not keep it: 8 more bytes in every task, for a report).
fn spawn_into<F>(
    core: &Arc<RuntimeCore>,
    here: Option<&Local>,
    future: F,
    at: &'static Location<'static>,
) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let id = core.next_task_id.fetch_add(1, Ordering::Relaxed) + 1;
    let cell = Cell::new(future, id, core.clone());
    if let Some(trace) = &core.trace {
        trace.spawned(crate::trace::TaskId(id), || format!("Task-{id}"));
        trace.spawned_at(crate::trace::TaskId(id), at);
    }
    core.register(&cell.header, cell.clone());
    if core.closed.load(Ordering::Acquire) {
        cancel_at_once(cell.clone());
    } else {
        match (here, &core.ready) {
            (Some(local), ReadyQueues::Loop(_)) => local.ready.borrow_mut().push_back(cell.clone()),
            _ => core.schedule(cell.clone()),
        }
    }
    Task::new(cell)
}

/// A spawn on a runtime that shut down: the task is cancelled before it ever runs.
/// Out of line, so that `spawn_on`'s common path stays small enough to inline.
#[cold]
#[inline(never)]
fn cancel_at_once(task: Arc<dyn Runnable>) {
    task.shut_down();
}

/// Sets `CONTEXT` for as long as it lives, and clears it when dropped, even on a
/// panic. It also lends the runtime to the reactor's waits on this thread.
pub(crate) struct Entered {
    _slab: super::local::SlabEntered,
    #[cfg(any(unix, windows))]
    _lent: crate::reactor::Lent,
}

impl Drop for Entered {
    fn drop(&mut self) {
        // `LOOP_HERE` first: it points into what `CONTEXT` keeps alive.
        LOOP_HERE.with(|here| here.set((std::ptr::null(), std::ptr::null())));
        let _ = CONTEXT.try_with(|context| context.borrow_mut().take());
        // The last poll's leftover budget must not limit what runs here next.
        crate::task::coop::unlimited();
    }
}

/// Makes `core` the runtime running on this thread (for `block_on`), refusing to
/// nest one loop inside another.
///
/// # Panics
///
/// When a runtime already runs on this thread.
#[track_caller]
pub(crate) fn enter(core: &Arc<RuntimeCore>, local: &Rc<Local>) -> Entered {
    let nested = CONTEXT.with(|context| {
        let mut context = context.borrow_mut();
        if context.is_some() {
            return true;
        }
        *context = Some(RunningLoop {
            core: core.clone(),
            local: local.clone(),
        });
        LOOP_HERE.with(|here| here.set((Arc::as_ptr(core), Rc::as_ptr(local))));
        false
    });
    if nested {
        panic!(
            "clearloop::run() / Runtime::block_on() was called from inside a running \
             runtime (like asyncio.run() inside a running event loop): \
             `.await` the future instead, or spawn() it as a task"
        );
    }
    Entered {
        _slab: super::local::enter(Arc::as_ptr(core) as usize, local.local_tasks.clone()),
        #[cfg(any(unix, windows))]
        _lent: crate::reactor::lend(core.clone()),
    }
}

/// Runs `body` on a worker thread of a multi-threaded runtime, with `CONTEXT` set so
/// that `spawn`, `sleep` and `now` find the runtime (`src/workers/mod.rs`).
pub(crate) fn enter_worker(core: Arc<RuntimeCore>, body: impl FnOnce()) {
    // The `Local` is unused: a multi-threaded runtime's tasks go to the workers'
    // queues, never to a `VecDeque` of the thread.
    let _entered = enter(&core, &Local::new());
    body();
}

/// The runtime running on this thread, or a message naming `what` (the function the
/// user called) for the panic the caller raises.
pub(crate) fn current_scheduler(what: &str) -> Result<Arc<RuntimeCore>, String> {
    with_current_scheduler(what, Arc::clone)
}

/// Calls `f` with the runtime running on this thread (asyncio's
/// `_get_running_loop()`), without cloning its `Arc`: every task and worker shares
/// that reference count, and bumping it on each `spawn` or `now()` makes threads
/// fight over its cache line.
pub(crate) fn with_current_scheduler<R>(
    what: &str,
    f: impl FnOnce(&Arc<RuntimeCore>) -> R,
) -> Result<R, String> {
    let mut f = Some(f);
    CONTEXT
        .try_with(|context| {
            let context = context.borrow();
            let running = context.as_ref()?;
            f.take().map(|f| f(&running.core))
        })
        .ok()
        .flatten()
        .ok_or_else(|| format!("{what} was called outside a clearloop runtime"))
}

/// The simulated network of the runtime running on this thread, if it is a
/// simulation ([`crate::sim::net`]).
pub(crate) fn current_network() -> Option<Arc<crate::sim::net::World>> {
    CONTEXT
        .try_with(|context| context.borrow().as_ref()?.local.network.clone())
        .ok()
        .flatten()
}

/// `spawn_local`: `future` goes into the running loop's slab, and a task whose
/// future is its `Send` stand-in is spawned as any other. `Err` is the message of
/// the panic (outside a runtime, or on a multi-threaded one).
#[track_caller]
pub(crate) fn spawn_local_here<F>(future: F) -> Result<Task<F::Output>, String>
where
    F: Future + 'static,
    F::Output: Send + 'static,
{
    let at = Location::caller();
    let found = CONTEXT
        .try_with(|context| {
            let context = context.borrow();
            let running = context.as_ref()?;
            Some((running.core.clone(), running.local.clone()))
        })
        .ok()
        .flatten();
    let Some((core, local)) = found else {
        return Err(
            "clearloop::spawn_local() was called outside a clearloop runtime; call it \
                    from inside clearloop::run(async { ... }): a local task runs on the loop \
                    of the thread that spawns it"
                .to_string(),
        );
    };
    if let ReadyQueues::Workers(_) = core.ready {
        return Err(
            "clearloop::spawn_local() was called on a multi-threaded runtime \
                    (Builder::worker_threads): its tasks move between threads, so they must \
                    be Send. Use spawn() with Arc<Mutex<_>> instead of Rc<RefCell<_>>, or \
                    build the runtime without worker_threads to keep one loop thread"
                .to_string(),
        );
    }
    let slot = LocalSlot::new(&local.local_tasks, Arc::as_ptr(&core) as usize, future);
    Ok(spawn_into(&core, None, slot, at))
}
