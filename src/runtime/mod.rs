//! The event loop: a ready queue, a timer wheel, and a thread that parks when
//! there is nothing to do.
//!
//! This is asyncio's `BaseEventLoop`. Its heart, `_run_once`, does four things in
//! turn, and so does one turn of [`Runtime::block_on`] here:
//!
//! ```text
//!            +-------------------------------------------------------------+
//!            |  one turn of the loop                                       |
//!            |                                                             |
//!   other    |  1. take the wake-ups that came from other threads          |
//!  threads --+--> (a crossbeam channel) into the ready queue               |
//!            |                                   (asyncio: the self-pipe)  |
//!            |  2. fire the timers whose deadline has passed: their tasks  |
//!            |     join the ready queue          (asyncio: _scheduled heap)|
//!            |  3. poll each task that was ready when the turn began,      |
//!            |     once, in order                (asyncio: _ready deque)   |
//!            |  4. nothing ready? wait on the selector (sockets) until the  |
//!            |     next timer's deadline, or until another thread wakes it |
//!            |     (no socket yet, or a virtual clock: park the thread)    |
//!            |                                   (asyncio: select(timeout))|
//!            +-------------------------------------------------------------+
//! ```
//!
//! * Step 3 runs only the tasks that were ready when the turn began, as
//!   `_run_once` does (`ntodo = len(self._ready)`): a task that wakes itself in a
//!   loop (`yield_now`) goes to the back and waits for the next turn, so it cannot
//!   starve the timers or the other tasks.
//! * Step 4 never spins: the thread sleeps for exactly the time left before the
//!   earliest timer (on a virtual clock, time jumps there instead). Once a task of
//!   this runtime has waited on I/O, the runtime has its own reactor and the loop
//!   sleeps in its `epoll_wait`, as `_run_once` sleeps in `select(timeout)`: a ready
//!   socket wakes its task right here, on this thread ([`reactor`](crate::reactor)
//!   draws it). Before that it sleeps in `park_timeout`.
//! * A turn that leaves tasks ready skips step 4, so the loop also *looks* at its
//!   selector without waiting once every 61 polls (asyncio's `select(0)`, which it
//!   makes on every such turn; the reactor's module doc says why 61): a task that
//!   always stays ready cannot keep a socket unheard.
//!   A waker on another thread sends the task through the channel, then *rouses*
//!   the loop: `Reactor::notify` (the eventfd, asyncio's self-pipe) if the loop
//!   sits in the selector, `Thread::unpark` if it is parked. The loop says where it
//!   is before it looks at its queues one last time, and the waker publishes the
//!   task before it looks where the loop is (both `SeqCst`), so one of them always
//!   sees the other; `std`'s park token means an unpark that comes just before the
//!   park is not lost either.
//!
//! The loop is `Runtime::run_loop` below, and each step is one small method. Where a
//! woken task goes (this loop's queue, or the channel from another thread) is the
//! scheduler's business: `src/runtime/scheduler.rs` is the next file to read, then
//! `src/runtime/timers.rs`, the timers it owns. [`Builder`] makes a runtime; a
//! [`Handle`] spawns onto it from any thread.
//!
//! [`run`] is `asyncio.run`: a fresh runtime on the calling thread, the future driven
//! to completion, then the runtime dropped. **Dropping a runtime cancels every task
//! still pending** (their futures are dropped, their handles report a cancellation),
//! as `asyncio.run` cancels the tasks left when `main()` returns.
//!
//! **Nothing the loop calls into kills it.** A task's poll, its future's and its
//! output's `Drop`, a waker, a debug-mode hook: each runs under
//! [`panics::catch`](crate::panics), and a panic is kept on its task or reported on
//! standard error with the task's name, as asyncio's `call_exception_handler` logs
//! `Exception in callback ...` and goes on. Only the future given to `block_on`
//! itself re-raises, as an exception from `main()` leaves `asyncio.run`.
//!
//! **A task that never waits still yields.** A task whose every `.await` is ready at
//! once (an uncontended lock, in a loop) would hold the loop forever, and a 1 ms
//! sleeper beside it would wake when it is done. Each poll of a task therefore gets a
//! *cooperative budget* (128 ready resources by default, tokio's number): when it is
//! spent, the next resource answers `Pending` and re-queues the task, and the loop
//! turns. asyncio has no such thing, and the same loop starves there too (an
//! uncontended `asyncio.Lock.acquire()` never yields); the price here is one
//! thread-local decrement per resource poll. [`task::coop`](crate::task::coop) says
//! more; [`Builder::cooperative_budget`] changes it or switches it off.
//!
//! The moments a tracer would want to see (a task spawned, polled, woken, a timer
//! fired) each happen in one function: `spawn_on` and `RuntimeCore::schedule`
//! (`scheduler.rs`), `Runnable::run` (`task/cell/mod.rs`, called from `run_ready`), and
//! `fire_timers` here.

use std::future::Future;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;

use crate::debug::{Debug, Warning};
use crate::task::cell::Runnable;
use crate::task::{Task, coop};
use crate::workers;

mod builder;
mod handle;
mod local;
mod registry;
pub(crate) mod scheduler;
pub(crate) mod timers;

pub use builder::Builder;
pub use handle::Handle;
use scheduler::{Local, ReadyQueues, Remote, RuntimeCore};
// The paths other modules have used since before the scheduler had its own file
// (`timeout.rs` imports `current_scheduler` from here). Hidden: the docs show each
// item once, where it lives.
pub(crate) use scheduler::current_network;
#[allow(unused_imports)]
#[doc(hidden)]
pub(crate) use scheduler::{
    RuntimeCore as Scheduler, current_scheduler, enter_worker, with_current_scheduler,
};

/// How many polls a loop whose tasks stay ready runs between two looks at its
/// selector (the reactor's module doc says why 61, tokio's number).
const LOOK_INTERVAL: u32 = 61;

/// A runtime: the event loop, its tasks and timers (asyncio's event loop object).
///
/// [`run`] builds one, uses it once and drops it; build your own with [`Builder`]
/// to choose the clock, to spawn before running, or to `block_on` several times.
pub struct Runtime {
    core: Arc<RuntimeCore>,
    local: Rc<Local>,
}

impl Runtime {
    /// Drives `future` to completion on this thread, running every task of this
    /// runtime meanwhile (asyncio's `loop.run_until_complete`).
    ///
    /// # Panics
    ///
    /// When called from inside a running runtime (a loop cannot run inside a loop):
    /// `.await` the future instead, or `spawn` it. A panic of `future` itself
    /// propagates to the caller, as an exception from `main()` leaves `asyncio.run`.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _entered = scheduler::enter(&self.core, &self.local);
        match &self.core.ready {
            ReadyQueues::Loop(remote) => self.run_loop(remote, future),
            ReadyQueues::Workers(workers) => workers::block_on(workers, self.core.budget, future),
        }
    }

    /// The loop itself: poll the main future when woken, then one turn. Tracks its
    /// caller (`block_on`'s, which tracks its own): a deadlock report names the
    /// user's line that ran the loop.
    #[track_caller]
    fn run_loop<F: Future>(&self, remote: &Remote, future: F) -> F::Output {
        let main = Arc::new(LoopMainWaker {
            trace: self.core.trace.clone(),
            woken: AtomicBool::new(true),
            waiter: remote.waiter.clone(),
        });
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        // Polls since the loop last looked at its selector (a wait in step 4 is a
        // look too).
        let mut unheard = 0;
        loop {
            if main.woken.load(Ordering::Acquire)
                && main.woken.swap(false, Ordering::AcqRel)
                && let Poll::Ready(output) = coop::with_budget(self.core.budget, || {
                    self.poll_main(future.as_mut(), &mut cx)
                })
            {
                return output;
            }
            self.take_remote(remote);
            self.fire_timers();
            unheard += self.run_ready();
            if self.local.ready.borrow().is_empty() && !main.woken.load(Ordering::Acquire) {
                crate::trace::live::check_deadlock(
                    &self.core,
                    &self.local,
                    remote,
                    &main.woken,
                    |until| self.park(remote, &main.woken, Some(until)),
                );
                self.park(remote, &main.woken, None);
                unheard = 0;
            } else if unheard >= LOOK_INTERVAL {
                // Tasks stay ready, so step 4 is not reached: look at the sockets
                // anyway, without waiting (asyncio's `select(0)`).
                self.look_at_the_selector();
                unheard = 0;
            }
        }
    }

    /// Step 1: wake-ups that came from other threads join the ready queue.
    /// Inlined: on most turns this is one load, not worth a call.
    #[inline(always)]
    fn take_remote(&self, remote: &Remote) {
        // A plain load on most turns; the channel is only touched after a send.
        if remote.pending.load(Ordering::Acquire) {
            self.drain_remote(remote);
        }
    }

    /// Step 1 when another thread sent something: drain the channel.
    #[inline(never)]
    fn drain_remote(&self, remote: &Remote) {
        remote.pending.store(false, Ordering::Release);
        let mut ready = self.local.ready.borrow_mut();
        while let Ok(task) = remote.rx.try_recv() {
            ready.push_back(task);
        }
    }

    /// Step 2: timers whose deadline has passed wake their tasks. Inlined: with no
    /// timer this is one load (a loop with no timers does not read the clock).
    #[inline(always)]
    fn fire_timers(&self) {
        if !self.core.timers.is_empty() {
            self.fire_due_timers();
        }
    }

    /// Step 2 with timers registered.
    #[inline(never)]
    fn fire_due_timers(&self) {
        let timers = &self.core.timers;
        let mut fired = self.local.fired.borrow_mut();
        timers.fire_due(self.core.clock.now(), &mut fired);
        if let Some(chooser) = &self.local.chooser {
            chooser.shuffle(&mut fired); // a simulation: same-instant timers in seeded order
        }
        let _traced = self.core.trace.as_ref().map(|trace| trace.firing_timers());
        // Wake outside the timers' lock: a woken task may register a new timer.
        timers::wake_fired(&mut fired);
    }

    /// Step 3: poll each task that was ready when the turn began, once; returns how
    /// many.
    fn run_ready(&self) -> u32 {
        if let Some(chooser) = &self.local.chooser {
            return self.run_chosen(chooser); // a simulation: one branch a turn here
        }
        let ready_at_start = self.local.ready.borrow().len();
        for _ in 0..ready_at_start {
            let Some(task) = self.local.ready.borrow_mut().pop_front() else {
                break;
            };
            self.run_one(task);
        }
        ready_at_start as u32
    }

    /// One poll of `task`, in step 3.
    #[inline(always)]
    fn run_one(&self, task: Arc<dyn Runnable>) {
        let again = match &self.core.debug {
            None => task.run(),
            Some(debug) => run_timed(task, debug),
        };
        // Woken during its poll (`yield_now`): to the back of the queue, with the
        // reference `run` was given (no count touched, no thread-local).
        if let Some(task) = again {
            self.local.ready.borrow_mut().push_back(task);
        }
    }

    /// Step 3 on a simulation runtime ([`crate::sim`]): the same turn, each task
    /// taken where the seed says instead of from the front.
    #[cold]
    #[inline(never)]
    fn run_chosen(&self, chooser: &crate::sim::Chooser) -> u32 {
        let ready_at_start = self.local.ready.borrow().len();
        for _ in 0..ready_at_start {
            let Some(task) = self.local.next_chosen(chooser) else {
                break;
            };
            self.run_one(task);
        }
        ready_at_start as u32
    }

    /// Between step 3 and the next turn, while tasks stay ready: the sockets that
    /// became ready wake their tasks now, into this turn's queue (see the reactor's
    /// module doc, "One selector per loop").
    fn look_at_the_selector(&self) {
        #[cfg(any(unix, windows))]
        if let Some(reactor) = self.core.io.get() {
            reactor.look();
        }
    }

    /// Step 4: nothing to do until the next timer, a socket's readiness, or a wake
    /// from another thread. Once a task of this runtime has waited on I/O (and so
    /// made its reactor), the loop waits on the selector; otherwise, and always on a
    /// virtual clock, it parks on its clock. `until` bounds the sleep further (the
    /// debug mode's idle report).
    fn park(&self, remote: &Remote, main_woken: &AtomicBool, until: Option<Instant>) {
        if let Some(trace) = &self.core.trace {
            trace.flush_if_due(); // the streamed trace is written while the loop idles
        }
        let deadline = earliest(self.core.timers.next_deadline(), until);
        #[cfg(any(unix, windows))]
        if let Some(reactor) = self.core.io.get()
            && crate::reactor::select_until(deadline)
        {
            self.wait_on_selector(reactor, remote, main_woken, until);
            return;
        }
        let _ = (remote, main_woken);
        self.core.clock.park_until(deadline);
    }

    /// Step 4 on the selector: `epoll_wait` until the next timer (to its last whole
    /// millisecond: the next turn parks the rest). Readiness wakes tasks on this
    /// thread (straight into the ready queue); another thread's wake sees
    /// `in_selector` and calls `notify`.
    #[cfg(any(unix, windows))]
    fn wait_on_selector(
        &self,
        reactor: &crate::reactor::Reactor,
        remote: &Remote,
        main_woken: &AtomicBool,
        until: Option<Instant>,
    ) {
        let waiter = &remote.waiter;
        waiter.in_selector.store(true, Ordering::SeqCst);
        // Look once more after announcing: a wake (or a new timer) published before
        // the flag was set went to `unpark`, not to `notify`, so it must be seen here.
        let deadline = earliest(self.core.timers.next_deadline(), until);
        let timeout = deadline.map(|at| at.saturating_duration_since(Instant::now()));
        if timeout != Some(std::time::Duration::ZERO) {
            let woken = || {
                remote.pending.load(Ordering::SeqCst)
                    || main_woken.load(Ordering::SeqCst)
                    || !self.local.ready.borrow().is_empty()
                    || earliest(self.core.timers.next_deadline(), until) != deadline
            };
            if let Err(error) = reactor.wait_unless(timeout, woken) {
                eprintln!("clearloop: waiting on the selector failed: {error}");
                self.core.clock.park_until(deadline);
            }
        }
        waiter.in_selector.store(false, Ordering::SeqCst);
    }

    /// Polls `block_on`'s future once; traced as task 0, "main".
    fn poll_main<F: Future>(&self, future: Pin<&mut F>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match &self.core.trace {
            None => future.poll(cx),
            Some(trace) => crate::trace::live::poll_main(trace, future, cx),
        }
    }

    /// What every live task is doing now (tokio-console's task list): name, state,
    /// for how long, and, **when tracing is on**, what it waits on (a timer, a named
    /// lock, semaphore, event, condition or queue). With tracing off the list has each
    /// task's id and name only: the waits are known from the trace alone, so that a
    /// runtime that does not trace pays nothing for them. See [`crate::trace::live`].
    pub fn dump(&self) -> crate::trace::Snapshot {
        crate::trace::live::snapshot(&self.core)
    }

    /// The recorder of this runtime's trace, when tracing is on
    /// ([`Builder::trace`]): its events, its timeline.
    pub fn trace(&self) -> Option<&Arc<crate::trace::Recorder>> {
        self.core.trace.as_ref()
    }

    /// A single-threaded runtime on the real clock.
    pub fn new() -> Runtime {
        Builder::new().build()
    }

    /// The clock this runtime's timers use.
    pub fn clock(&self) -> &crate::clock::Clock {
        &self.core.clock
    }

    /// A handle that spawns tasks on this runtime from any thread.
    pub fn handle(&self) -> Handle {
        Handle {
            core: self.core.clone(),
        }
    }

    /// Spawns a task on this runtime. It runs during `block_on` (on a
    /// multi-threaded runtime, at once, on the workers).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        scheduler::spawn_on(&self.core, future)
    }

    /// Number of tasks spawned on this runtime that have not finished yet. Exact as
    /// soon as `block_on` returns, on one thread or on workers: a task leaves the
    /// registry before it wakes whoever awaits it.
    pub fn live_tasks(&self) -> usize {
        self.core.live()
    }

    /// Number of timers (sleeps) registered in this runtime's timer wheel.
    pub fn pending_timers(&self) -> usize {
        self.core.timers.len()
    }

    /// Cancels every task left: drops its future, records the cancellation.
    fn shut_down(&self) {
        self.core.closed.store(true, Ordering::Release);
        if let ReadyQueues::Workers(workers) = &self.core.ready {
            // Join the workers first: no task may be polled while we cancel it.
            workers.stop();
        }
        loop {
            // Take the whole registry first: a future's `Drop` may touch it.
            let tasks = self.core.take_all_tasks();
            if tasks.is_empty() {
                break;
            }
            for task in tasks {
                caught(task, |task| task.shut_down());
            }
        }
        self.local.ready.borrow_mut().clear();
        // The local tasks' futures (cancelled just above: their stand-ins could not
        // reach the slab without a running loop) are dropped here, on our thread.
        for future in self.local.local_tasks.take_all() {
            if let Err(payload) = crate::panics::catch(move || drop(future)) {
                crate::panics::report(
                    "the runtime's cleanup of a local task",
                    &*payload,
                    "the runtime goes on",
                );
            }
        }
        if let ReadyQueues::Loop(remote) = &self.core.ready {
            while remote.rx.try_recv().is_ok() {}
        }
        self.core.timers.clear();
        // Tasks of other runtimes may still wait on sockets whose home is our
        // reactor, which nobody will drive now: each is woken to wait at its own.
        #[cfg(any(unix, windows))]
        if let Some(reactor) = self.core.io.get() {
            reactor.retire();
        }
    }
}

/// The earlier of two optional instants (`None`: no limit).
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Calls `f` on `task` (shutdown's cancellation), then lets go of it, catching any
/// panic on the way: a `Drop` of a future or output that panics is reported, and
/// the other tasks are still cancelled.
///
/// The loop and the workers call [`Runnable::run`] without this: every call into
/// user code inside `run` (the poll, the future's and a detached output's `Drop`,
/// the awaiters' wakers, the debug hook) is caught where it happens, and naming the
/// task there costs nothing on the path where nothing panics.
fn caught(task: Arc<dyn Runnable>, f: impl FnOnce(&Arc<dyn Runnable>)) {
    let id = task.header().id;
    if let Err(payload) = crate::panics::catch(move || {
        f(&task);
        drop(task);
    }) {
        crate::panics::report(
            format_args!("the runtime's cleanup of task 'Task-{id}'"),
            &*payload,
            "the runtime goes on",
        );
    }
}

/// Debug mode's poll: a poll that holds the loop too long is reported. Timed on
/// the real clock, whatever the runtime's clock: blocking costs real time.
pub(crate) fn run_timed(task: Arc<dyn Runnable>, debug: &Debug) -> Option<Arc<dyn Runnable>> {
    let name = task.name();
    let start = Instant::now();
    let again = task.run();
    let took = start.elapsed();
    if took > debug.slow_poll {
        debug.warn(Warning::SlowPoll { task: name, took });
    }
    again
}

/// The single-threaded loop's waker for the future passed to `block_on` (it is not
/// a task): a flag, and the thread to unpark. (The workers' `block_on` has its own,
/// `WorkersMainWaker`, which also counts the thread as busy.)
struct LoopMainWaker {
    /// The runtime's recorder, to record the wake-ups of task 0 ("main").
    trace: crate::trace::Tracer,
    woken: AtomicBool,
    waiter: Arc<scheduler::LoopWaiter>,
}

impl Wake for LoopMainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(trace) = &self.trace {
            trace.woken(crate::trace::TaskId(0));
        }
        self.woken.store(true, Ordering::SeqCst);
        self.waiter.rouse();
    }
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
#[track_caller]
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match scheduler::spawn_here(future) {
        Ok(task) => task,
        Err(_) => panic!(
            "{}",
            "clearloop::spawn() was called outside a clearloop runtime; call it from \
             inside clearloop::run(async { ... }), or use Runtime::spawn on a runtime \
             you built"
        ),
    }
}

/// Spawns a task whose future need not be `Send` (an `Rc<RefCell<_>>` inside) on
/// the single-threaded loop running on this thread (tokio's `spawn_local`; asyncio
/// needs no such thing, since its tasks never leave the loop's thread).
///
/// The task is like any other (a [`Task`] handle; woken from any thread; cancelled
/// when the runtime is dropped), but its future stays on this thread: see
/// `src/runtime/local.rs` for how, and why [`spawn`] needs `Send`. Its output must
/// be `Send`, as the handle may be awaited from anywhere.
///
/// ```
/// use std::{cell::RefCell, rc::Rc};
///
/// let total = clearloop::run(async {
///     let counter = Rc::new(RefCell::new(0));
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let counter = counter.clone();
///             clearloop::spawn_local(async move { *counter.borrow_mut() += 1 })
///         })
///         .collect();
///     for task in tasks {
///         task.await;
///     }
///     let total = *counter.borrow();
///     total
/// });
/// assert_eq!(total, 3);
/// ```
///
/// # Panics
///
/// Outside a running runtime, and on a multi-threaded runtime (its worker threads,
/// or its `block_on`): the message says what to do instead.
#[track_caller]
pub fn spawn_local<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: Send + 'static,
{
    match scheduler::spawn_local_here(future) {
        Ok(task) => task,
        Err(message) => panic!("{message}"),
    }
}

/// Runs `future` to completion on a new single-threaded runtime and returns its
/// output (asyncio's `asyncio.run`). Tasks still pending when it returns are
/// cancelled: their futures are dropped.
///
/// # Panics
///
/// When called from inside a running runtime, as `asyncio.run()` refuses to run
/// inside a running loop: `.await` the future instead, or `spawn` it.
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    Runtime::new().block_on(future)
}

impl Default for Runtime {
    fn default() -> Runtime {
        Runtime::new()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shut_down();
        if let Some(trace) = &self.core.trace {
            trace.write_outputs();
        }
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("clock", &self.core.clock)
            .field("live_tasks", &self.live_tasks())
            .finish()
    }
}
