//! Blocking work off the loop: [`to_thread`] / [`spawn_blocking`], and the pool of
//! threads behind them.
//!
//! A task that calls a blocking function (`std::thread::sleep`, a file read, a long
//! computation) holds its loop thread: no other task runs until it returns. The cure,
//! in asyncio as here, is to hand the function to *another* thread and await its
//! result, so the loop keeps turning meanwhile:
//!
//! | asyncio / `concurrent.futures`                    | clearloop                                |
//! |---------------------------------------------------|------------------------------------------|
//! | `await asyncio.to_thread(f)`                      | [`to_thread`]`(f).await`                 |
//! | `await loop.run_in_executor(None, f)`             | [`spawn_blocking`]`(f).await` (the same) |
//! | `ThreadPoolExecutor(max_workers=n)`               | [`BlockingPool::new`]`(n, keep_alive)`   |
//! | `executor.submit(f)` → `Future`                   | [`BlockingPool::spawn`] → [`Blocking`]   |
//! | `executor.shutdown(wait=True)`                    | [`BlockingPool::shutdown`]`(true)`       |
//! | the exception `f` raised, re-raised by `await`    | `Err(`[`TaskError`]`)` with the panic    |
//!
//! ```text
//!   loop thread(s)                 BlockingPool (Mutex + Condvar)
//!   +------------------+ spawn(f)  +----------------------------------------+
//!   | task: to_thread  |---------->| queue: [job, job, ...]                 |
//!   |  (f).await       |           | threads: 0 ..= max, started on demand  |
//!   |   ... Pending    |           |   idle ones wait on the Condvar;       |
//!   |                  |           |   idle longer than keep_alive: exit    |
//!   |   <- wake -------|-----------|  job done: result in the slot, wake    |
//!   +------------------+           +----------------------------------------+
//! ```
//!
//! The pool grows **on demand**: a job that arrives when more jobs wait than threads
//! are idle starts a thread, up to `max_threads`; beyond that, jobs wait in the
//! queue (they are never refused). A thread that found no job for `keep_alive` exits,
//! so an idle program holds no threads. [`to_thread`] uses one pool for the whole
//! process, of [`DEFAULT_MAX_THREADS`] threads kept [`DEFAULT_KEEP_ALIVE`]
//! (CPython's default executor: `min(32, os.cpu_count() + 4)` threads, which never
//! exit).
//!
//! A panic in `f` is caught on the pool thread and becomes the awaitable's error, as
//! the exception of `f` is raised by `await asyncio.to_thread(f)`.
//!
//! ## What shutdown does, and what it cannot do
//!
//! A thread cannot be stopped from outside, in Rust as in Python. So:
//! * dropping the [`Blocking`] future, or the task that awaits it, **does not stop
//!   `f`**: it runs to its end and its result is dropped (asyncio: cancelling the
//!   awaiting task leaves the thread running);
//! * [`BlockingPool::shutdown`] refuses new jobs (their awaitables end cancelled),
//!   **cancels the jobs still queued**, lets the running ones finish, and with
//!   `wait = true` joins every thread (`ThreadPoolExecutor.shutdown(wait=True,
//!   cancel_futures=True)`). Dropping a `BlockingPool` shuts it down without waiting:
//!   its threads finish their current job, then exit;
//! * shutting a [`Runtime`](crate::Runtime) down does not touch the pool: the process-wide
//!   pool of [`to_thread`] lives as long as the process, its threads detached.
//!
//! The awaitable does not need a runtime: any executor can poll it, and
//! [`Blocking::wait`] blocks a plain thread on it.
//!
//! ```
//! use clearloop::blocking::to_thread;
//!
//! let sum = clearloop::run(async {
//!     // Blocking work on a pool thread; the loop is free meanwhile.
//!     to_thread(|| (1..=100u64).sum::<u64>()).await.unwrap()
//! });
//! assert_eq!(sum, 5050);
//!
//! let error = clearloop::run(async { to_thread(|| -> u8 { panic!("disk full") }).await });
//! assert_eq!(error.unwrap_err().panic_message(), Some("disk full"));
//! ```

use std::any::Any;
use std::collections::VecDeque;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::clock::Work;
use crate::panics::lock;
use crate::panics::message as panic_message;
use crate::task::TaskError;

/// Threads of the process-wide pool behind [`to_thread`] (tokio allows 512; CPython's
/// default executor `min(32, cpu_count + 4)`).
pub const DEFAULT_MAX_THREADS: usize = 64;

/// How long an idle thread of the process-wide pool waits for a job before it exits
/// (tokio: 10 s).
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Runs the blocking function `f` on the process-wide pool and returns an awaitable
/// of its result (asyncio's `await asyncio.to_thread(f)`).
///
/// The loop is free while `f` runs. Await the result: `Ok(value)`, or `Err` with the
/// panic of `f` ([`TaskError::is_panic`]); `err.raise()` re-raises it.
pub fn to_thread<F, T>(f: F) -> Blocking<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    static POOL: OnceLock<BlockingPool> = OnceLock::new();
    POOL.get_or_init(|| BlockingPool::new(DEFAULT_MAX_THREADS, DEFAULT_KEEP_ALIVE))
        .spawn(f)
}

/// The same as [`to_thread`], under tokio's name (asyncio's
/// `loop.run_in_executor(None, f)`).
pub fn spawn_blocking<F, T>(f: F) -> Blocking<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    to_thread(f)
}

/// A pool of OS threads for blocking jobs (`concurrent.futures.ThreadPoolExecutor`).
pub struct BlockingPool {
    shared: Arc<PoolShared>,
}

struct PoolShared {
    state: Mutex<PoolState>,
    /// Idle threads wait here for a job (or for shutdown).
    job_ready: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    /// Pool number, for thread names: `clearloop-blocking-<pool>.<n>`.
    id: u64,
}

/// Who may touch what: everything below is read and written under the one lock.
struct PoolState {
    queue: VecDeque<Job>,
    /// Threads alive (running a job or idle).
    threads: usize,
    /// Of those, waiting on the Condvar.
    idle: usize,
    /// The most threads ever alive at once (the bound test reads it).
    peak: usize,
    /// Threads started so far, to name the next one.
    started: u64,
    shutdown: bool,
    /// Threads not yet joined, for `shutdown(true)`; finished ones are pruned.
    handles: Vec<JoinHandle<()>>,
}

/// A queued job: run it, or drop it (which cancels its awaitable).
type Job = Box<dyn FnOnce() + Send>;

impl BlockingPool {
    /// A pool of at most `max_threads` threads (at least one); a thread idle for
    /// `keep_alive` exits. No thread starts before the first job.
    pub fn new(max_threads: usize, keep_alive: Duration) -> BlockingPool {
        static POOLS: AtomicU64 = AtomicU64::new(0);
        BlockingPool {
            shared: Arc::new(PoolShared {
                state: Mutex::new(PoolState {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    peak: 0,
                    started: 0,
                    shutdown: false,
                    handles: Vec::new(),
                }),
                job_ready: Condvar::new(),
                max_threads: max_threads.max(1),
                keep_alive,
                id: POOLS.fetch_add(1, Ordering::Relaxed) + 1,
            }),
        }
    }

    /// Queues `f` for a pool thread (`executor.submit(f)`), starting a thread if every
    /// thread is busy and the bound allows; returns the awaitable of its result.
    /// After [`shutdown`](BlockingPool::shutdown), the awaitable ends cancelled.
    pub fn spawn<F, T>(&self, f: F) -> Blocking<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let handoff = Arc::new(Handoff {
            slot: Mutex::new(Slot::Waiting(None)),
        });
        // A task of a runtime on an auto-advance clock awaits this job: until it ends,
        // virtual time must not jump (the `clock` module doc states the rule). Counted
        // from now, not from when a pool thread picks the job up.
        let work = crate::runtime::scheduler::with_current_scheduler("to_thread", |s| {
            s.clock.start_work()
        })
        .ok()
        .flatten();
        JOBS_IN_FLIGHT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let completer = Completer {
            handoff: Some(handoff.clone()),
            work: work.clone(),
        };
        let job: Job = Box::new(move || {
            let outcome = match &completer.work {
                // A `clock.sleep` inside `f` is waiting, not work in flight.
                Some(work) => work.enter(|| catch_unwind(AssertUnwindSafe(f))),
                None => catch_unwind(AssertUnwindSafe(f)),
            };
            completer.complete(outcome);
        });
        let mut state = lock(&self.shared.state);
        if state.shutdown {
            drop(state);
            drop(job); // the completer's Drop marks the awaitable cancelled
        } else {
            state.queue.push_back(job);
            if state.idle > 0 {
                self.shared.job_ready.notify_one();
            }
            // More jobs waiting than idle threads to take them: grow, within the bound.
            if state.queue.len() > state.idle && state.threads < self.shared.max_threads {
                self.start_thread(&mut state);
            }
        }
        Blocking { handoff, work }
    }

    fn start_thread(&self, state: &mut PoolState) {
        state.started += 1;
        let name = format!("clearloop-blocking-{}.{}", self.shared.id, state.started);
        let shared = self.shared.clone();
        match std::thread::Builder::new()
            .name(name)
            .spawn(move || shared.thread_main())
        {
            Ok(handle) => {
                state.threads += 1;
                state.peak = state.peak.max(state.threads);
                state.handles.retain(|handle| !handle.is_finished());
                state.handles.push(handle);
            }
            // The OS refused a thread: the job waits for a thread already there. With
            // none at all it would wait forever, so say so loudly.
            Err(error) => assert!(
                state.threads > 0,
                "clearloop: cannot start a blocking-pool thread: {error}"
            ),
        }
    }

    /// Threads alive right now.
    pub fn threads(&self) -> usize {
        lock(&self.shared.state).threads
    }

    /// The most threads that were ever alive at once.
    pub fn peak_threads(&self) -> usize {
        lock(&self.shared.state).peak
    }

    /// Stops the pool (`executor.shutdown(wait, cancel_futures=True)`): new jobs are
    /// refused, queued jobs are cancelled, running jobs finish. With `wait`, returns
    /// once every thread has exited.
    pub fn shutdown(&self, wait: bool) {
        let (cancelled, handles) = {
            let mut state = lock(&self.shared.state);
            state.shutdown = true;
            let handles = if wait {
                std::mem::take(&mut state.handles)
            } else {
                Vec::new()
            };
            (std::mem::take(&mut state.queue), handles)
        };
        self.shared.job_ready.notify_all();
        // Dropped outside the lock: each completer wakes its awaiter.
        drop(cancelled);
        for handle in handles {
            let _ = handle.join();
        }
    }
}

impl Drop for BlockingPool {
    fn drop(&mut self) {
        self.shutdown(false);
    }
}

impl std::fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = lock(&self.shared.state);
        f.debug_struct("BlockingPool")
            .field("threads", &state.threads)
            .field("idle", &state.idle)
            .field("queued", &state.queue.len())
            .field("max_threads", &self.shared.max_threads)
            .finish()
    }
}

impl PoolShared {
    /// One pool thread: take jobs until none comes for `keep_alive`, or shutdown.
    fn thread_main(&self) {
        let mut state = lock(&self.state);
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                job(); // never panics: the job catches the panic of `f`
                state = lock(&self.state);
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (next, waited) = self
                .job_ready
                .wait_timeout(state, self.keep_alive)
                .unwrap_or_else(PoisonError::into_inner);
            state = next;
            state.idle -= 1;
            // Timed out with nothing to do: this thread is not needed any more.
            if waited.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
    }
}

/// Where the result of a job waits for its awaitable.
struct Handoff<T> {
    slot: Mutex<Slot<T>>,
}

enum Slot<T> {
    /// The job has not finished; maybe somebody awaits it.
    Waiting(Option<Waker>),
    /// It finished (value or panic payload), or was cancelled (`None`).
    Done(Option<std::thread::Result<T>>),
    /// The awaitable took the outcome.
    Taken,
}

/// Jobs handed to a pool whose outcome is not sent yet, in the whole process: while
/// one is, the virtual loop's deadlock check says nothing (the job may wake a task).
static JOBS_IN_FLIGHT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether any blocking job, of any pool, has not sent its outcome yet.
pub(crate) fn jobs_in_flight() -> bool {
    JOBS_IN_FLIGHT.load(std::sync::atomic::Ordering::SeqCst) > 0
}

/// Sends the job's outcome to its awaitable; dropped unused, it sends "cancelled".
struct Completer<T> {
    handoff: Option<Arc<Handoff<T>>>,
    /// The job in flight on a virtual clock, if any: released after the wake.
    work: Option<Arc<Work>>,
}

impl<T> Completer<T> {
    fn complete(mut self, outcome: std::thread::Result<T>) {
        self.send(Some(outcome));
    }

    fn send(&mut self, outcome: Option<std::thread::Result<T>>) {
        if let Some(handoff) = self.handoff.take() {
            handoff.finish(outcome);
            JOBS_IN_FLIGHT.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
        // Wake first, then stop holding virtual time: in the other order the loop
        // could see nothing in flight and no task ready, and jump.
        if let Some(work) = self.work.take() {
            work.finish();
        }
    }
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        self.send(None);
    }
}

impl<T> Handoff<T> {
    fn finish(&self, outcome: Option<std::thread::Result<T>>) {
        let waker = {
            let mut slot = lock(&self.slot);
            match std::mem::replace(&mut *slot, Slot::Done(outcome)) {
                Slot::Waiting(waker) => waker,
                _ => None,
            }
        };
        // Wake outside the lock: the awaiter's poll takes it.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The awaitable of a blocking job: `Ok(value)`, or `Err` if the job panicked or was
/// cancelled by the pool's shutdown.
///
/// Dropping it does not stop the job (a thread cannot be stopped); the job's result
/// is then dropped on the pool thread.
#[must_use = "the job runs anyway; await this to get its result"]
pub struct Blocking<T> {
    handoff: Arc<Handoff<T>>,
    /// The job in flight on a virtual clock, if any: dropping the awaitable releases
    /// it, since the job can then wake nobody.
    work: Option<Arc<Work>>,
}

impl<T> Drop for Blocking<T> {
    fn drop(&mut self) {
        if let Some(work) = self.work.take() {
            work.finish();
        }
    }
}

impl<T> Blocking<T> {
    /// Whether the job finished (`concurrent.futures.Future.done()`).
    pub fn done(&self) -> bool {
        !matches!(*lock(&self.handoff.slot), Slot::Waiting(_))
    }

    /// Blocks the calling thread until the job ends (`future.result()` from a plain
    /// thread). Do not call it on a loop thread: use `.await` there.
    pub fn wait(self) -> Result<T, TaskError> {
        let thread = std::thread::current();
        let waker = Waker::from(Arc::new(ThreadWaker(thread)));
        let mut cx = Context::from_waker(&waker);
        let mut this = self;
        loop {
            if let Poll::Ready(outcome) = Pin::new(&mut this).poll(&mut cx) {
                return outcome;
            }
            std::thread::park();
        }
    }
}

/// Unparks a thread blocked in [`Blocking::wait`].
struct ThreadWaker(std::thread::Thread);

impl std::task::Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// What an error of a blocking job calls the job.
const JOB_NAME: &str = "to_thread";

fn into_error(payload: Box<dyn Any + Send>) -> TaskError {
    let message = panic_message(payload.as_ref());
    TaskError::panicked(JOB_NAME.to_string(), message, Some(payload))
}

impl<T> Future for Blocking<T> {
    type Output = Result<T, TaskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = lock(&self.handoff.slot);
        match &mut *slot {
            Slot::Waiting(waker) => {
                match waker {
                    Some(old) if old.will_wake(cx.waker()) => {}
                    _ => *waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            Slot::Done(_) => {
                let Slot::Done(outcome) = std::mem::replace(&mut *slot, Slot::Taken) else {
                    unreachable!("matched just above");
                };
                Poll::Ready(match outcome {
                    Some(Ok(value)) => Ok(value),
                    Some(Err(payload)) => Err(into_error(payload)),
                    None => Err(TaskError::cancelled(JOB_NAME.to_string())),
                })
            }
            Slot::Taken => panic!("a Blocking future was polled after it returned its result"),
        }
    }
}

impl<T> std::fmt::Debug for Blocking<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blocking")
            .field("done", &self.done())
            .finish()
    }
}
