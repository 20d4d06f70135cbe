//! Running futures together: `gather`, `wait` and `as_completed`.
//!
//! `asyncio.gather(a(), b(), c())` wraps each coroutine in a task, so they all run
//! at once, and gives their results **in the order they were passed**, whatever
//! order they finish in. So does [`gather`]:
//!
//! ```text
//!   gather([a, b, c])        a ████████████░░░░░░░░  done 2nd
//!                            b ████░░░░░░░░░░░░░░░░  done 1st
//!                            c ████████████████████  done 3rd
//!   .await  ──>  [a's value, b's value, c's value]   (input order, 2 s for three 2-s sleeps)
//! ```
//!
//! | asyncio                                         | clearloop                                        |
//! |-------------------------------------------------|--------------------------------------------------|
//! | `await gather(*coros)`                          | [`gather`]`(futures).await` → `Vec<T>`           |
//! | `await gather(*tasks)`                          | [`gather_tasks`]`(tasks).await`                  |
//! | `await gather(..., return_exceptions=True)`     | `gather(..).`[`return_exceptions`](Gather::return_exceptions)`().await` → `Vec<Result<T, TaskError>>` |
//! | `await gather(a(), b())` with different types   | [`gather!`](crate::gather!)`(a(), b()).await` → `(A, B)` |
//! | `done, pending = await wait(tasks, return_when=...)` | [`wait`]`(tasks, ReturnWhen::...).await`    |
//! | `await wait(tasks, timeout=2)`                  | `wait(tasks, ReturnWhen::AllCompleted).`[`timeout`](WaitTasks::timeout)`(d).await` |
//! | `await wait([])`: `ValueError`                  | `wait([], ..)` panics, naming `wait()`           |
//! | `for f in as_completed(tasks): await f`         | `let mut it = `[`as_completed`]`(tasks); while let Some(r) = it.next().await` |
//!
//! **When a child fails.** By default, the first panic (or cancellation) of a child
//! is what awaiting the gather gives: it is re-raised at once, like an exception
//! propagating out of `await gather(...)`. The **other children keep running**:
//! asyncio documents the same ("other awaitables in the sequence won't be cancelled
//! and will continue to run"). With `return_exceptions()`, nothing is raised: every
//! child's value or error comes back, in order.
//!
//! **Cancelling a gather** (dropping it before it finished, for instance because the
//! task awaiting it was cancelled) cancels every child still running.
//!
//! All of them are built on [`crate::children`]'s one mechanism; each picks a policy.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::children::{Next, Policy, Watch};
use crate::runtime::spawn;
use crate::task::{Task, TaskError};
use crate::time::Sleep;

/// Runs every future as a task, at once, and waits for all their values, in input
/// order (asyncio's `gather`). The first child to fail is re-raised by `.await`;
/// see the module doc.
///
/// # Panics
///
/// Outside a running runtime, since the futures are spawned as tasks.
#[track_caller]
pub fn gather<F>(futures: impl IntoIterator<Item = F>) -> Gather<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut futures = futures.into_iter().peekable();
    // Nothing to spawn needs no runtime: `gather([])` is ready at once, anywhere.
    if futures.peek().is_some() {
        need_runtime("clearloop::gather()");
    }
    gather_tasks(futures.map(spawn).collect::<Vec<_>>())
}

/// Panics, naming `what` (the function the user called), outside a running
/// runtime; `#[track_caller]` makes the panic point at the user's line.
#[doc(hidden)]
#[track_caller]
pub fn need_runtime(what: &str) {
    if let Err(message) = crate::runtime::with_current_scheduler(what, |_| ()) {
        panic!("{message}; call it inside clearloop::run(async {{ ... }})");
    }
}

/// [`gather`] for tasks already spawned.
pub fn gather_tasks<T: Send>(tasks: impl IntoIterator<Item = Task<T>>) -> Gather<T> {
    Gather {
        watch: Watch::new(tasks.into_iter().collect()),
        finished: false,
    }
}

/// The future returned by [`gather`]: all the values, in input order.
#[must_use = "futures do nothing unless awaited; the children run anyway"]
pub struct Gather<T: Send> {
    watch: Watch<Task<T>>,
    finished: bool,
}

impl<T: Send> Gather<T> {
    /// asyncio's `return_exceptions=True`: never fails; gives each child's value or
    /// error, in input order.
    pub fn return_exceptions(self) -> GatherResults<T> {
        GatherResults { gather: self }
    }

    /// Drives the watch with `policy`; `Ready` when the policy says stop.
    fn poll_with(&mut self, cx: &mut Context<'_>, policy: Policy) -> Poll<Option<usize>> {
        loop {
            match self.watch.poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    self.finished = true;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(index)) => match self.watch.decide(policy, index) {
                    Next::Stop if self.watch.remaining() > 0 => {
                        self.finished = true;
                        return Poll::Ready(Some(index));
                    }
                    Next::Stop => {
                        self.finished = true;
                        return Poll::Ready(None);
                    }
                    Next::GoOn | Next::CancelTheRest => {}
                },
            }
        }
    }

    /// Takes every child's outcome: they are all finished.
    fn take_all(&mut self) -> Vec<Result<T, TaskError>> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        self.watch
            .children()
            .iter()
            .map(|child| match child.poll_outcome(&mut cx) {
                Poll::Ready(outcome) => outcome,
                Poll::Pending => unreachable!("every child has finished"),
            })
            .collect()
    }
}

impl<T: Send> Future for Gather<T> {
    type Output = Vec<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<T>> {
        match self.poll_with(cx, Policy::FailFast) {
            Poll::Pending => Poll::Pending,
            // Stopped early: a child failed. Re-raise it; the others run on.
            Poll::Ready(Some(index)) => {
                let mut noop = Context::from_waker(std::task::Waker::noop());
                match self.watch.children()[index].poll_outcome(&mut noop) {
                    Poll::Ready(Err(error)) => error.raise(),
                    _ => unreachable!("the policy stops early only on a failure"),
                }
            }
            Poll::Ready(None) => Poll::Ready(
                self.take_all()
                    .into_iter()
                    .map(|outcome| outcome.unwrap_or_else(|error| error.raise()))
                    .collect(),
            ),
        }
    }
}

/// Cancelling a gather cancels its children: dropped before it finished, it
/// cancels every child still running. After it finished (even early, on a
/// failure), dropping it detaches the children instead.
impl<T: Send> Drop for Gather<T> {
    fn drop(&mut self) {
        if !self.finished {
            self.watch.cancel_rest();
        }
    }
}

/// The future returned by [`Gather::return_exceptions`].
#[must_use = "futures do nothing unless awaited; the children run anyway"]
pub struct GatherResults<T: Send> {
    gather: Gather<T>,
}

impl<T: Send> Future for GatherResults<T> {
    type Output = Vec<Result<T, TaskError>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.gather.poll_with(cx, Policy::CollectAll) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) => Poll::Ready(self.gather.take_all()),
        }
    }
}

/// When [`wait`] returns (asyncio's `return_when`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnWhen {
    /// As soon as one task finishes (`FIRST_COMPLETED`).
    FirstCompleted,
    /// As soon as one task fails, or when all are done (`FIRST_EXCEPTION`).
    FirstException,
    /// When every task is done (`ALL_COMPLETED`, the default in asyncio).
    AllCompleted,
}

/// Waits for some or all of `tasks` (asyncio's `wait`) and returns `(done,
/// pending)`: the finished tasks and the others, each list in input order. Nothing
/// is raised and nothing is cancelled: look at each task, and cancel the pending
/// ones yourself if you no longer need them.
///
/// Add [`.timeout(d)`](WaitTasks::timeout) for asyncio's `wait(tasks, timeout=d)`.
///
/// # Panics
///
/// If `tasks` is empty: there would be nothing to wait for, and asyncio raises
/// `ValueError` for it too.
#[track_caller]
pub fn wait<T: Send>(tasks: impl IntoIterator<Item = Task<T>>, when: ReturnWhen) -> WaitTasks<T> {
    let tasks: Vec<Task<T>> = tasks.into_iter().collect();
    assert!(
        !tasks.is_empty(),
        "clearloop::wait() was given no tasks: there is nothing to wait for \
         (asyncio.wait raises ValueError for an empty set too); check that the set \
         is not empty before waiting"
    );
    let policy = match when {
        ReturnWhen::FirstCompleted => Policy::FirstCompleted,
        ReturnWhen::FirstException => Policy::FirstException,
        ReturnWhen::AllCompleted => Policy::CollectAll,
    };
    WaitTasks {
        watch: Some(Watch::new(tasks)),
        policy,
        timeout: None,
        timer: None,
    }
}

/// The future returned by [`wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitTasks<T: Send> {
    watch: Option<Watch<Task<T>>>,
    policy: Policy,
    /// How long to wait at most, counted from the first poll (asyncio's `timeout=`).
    timeout: Option<Duration>,
    /// The timer for `timeout`, made at the first poll: a wait that is over at
    /// once costs none.
    timer: Option<Sleep>,
}

impl<T: Send> WaitTasks<T> {
    /// Waits at most `duration`, counted from when the wait is first awaited
    /// (asyncio's `wait(tasks, timeout=...)`). When time runs out, the wait
    /// returns `(done, pending)` as they are then: nothing is cancelled, and no
    /// error is raised (unlike [`wait_for`](crate::wait_for)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use clearloop::{Builder, ReturnWhen, clock::Clock, spawn, time::sleep, wait};
    ///
    /// let runtime = Builder::new().clock(Clock::virtual_clock()).build();
    /// let (done, pending) = runtime.block_on(async {
    ///     let tasks = [1, 5].map(|s| spawn(sleep(Duration::from_secs(s))));
    ///     let (done, pending) = wait(tasks, ReturnWhen::AllCompleted)
    ///         .timeout(Duration::from_secs(2))
    ///         .await;
    ///     (done.len(), pending.len())
    /// });
    /// assert_eq!((done, pending), (1, 1));
    /// ```
    pub fn timeout(mut self, duration: Duration) -> WaitTasks<T> {
        self.timeout = Some(duration);
        self
    }
}

/// The finished tasks, then the others.
pub type DonePending<T> = (Vec<Task<T>>, Vec<Task<T>>);

impl<T: Send> Future for WaitTasks<T> {
    type Output = DonePending<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<DonePending<T>> {
        let this = &mut *self;
        let watch = this
            .watch
            .as_mut()
            .expect("WaitTasks polled after it returned");
        loop {
            match watch.poll_next(cx) {
                Poll::Pending => {
                    let Some(timeout) = this.timeout else {
                        return Poll::Pending;
                    };
                    let timer = this
                        .timer
                        .get_or_insert_with(|| crate::time::sleep(timeout));
                    match Pin::new(timer).poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(()) => break, // time is up: return things as they are
                    }
                }
                Poll::Ready(None) => break,
                Poll::Ready(Some(index)) => {
                    if watch.decide(this.policy, index) == Next::Stop {
                        break;
                    }
                }
            }
        }
        // Returning drops the timer: it leaves the wheel.
        this.timer = None;
        let tasks = self.watch.take().expect("checked above").into_children();
        Poll::Ready(tasks.into_iter().partition(|task| task.done()))
    }
}

/// Yields the tasks' outcomes in the order they finish (asyncio's
/// `as_completed`).
pub fn as_completed<T: Send>(tasks: impl IntoIterator<Item = Task<T>>) -> AsCompleted<T> {
    AsCompleted {
        watch: Watch::new(tasks.into_iter().collect()),
    }
}

/// The iterator-like value returned by [`as_completed`]: call
/// [`next`](AsCompleted::next) until it gives `None`.
pub struct AsCompleted<T: Send> {
    watch: Watch<Task<T>>,
}

impl<T: Send> AsCompleted<T> {
    /// The next task to finish: its value, or its panic or cancellation; `None` when
    /// every task has been given.
    pub async fn next(&mut self) -> Option<Result<T, TaskError>> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, TaskError>>> {
        match self.watch.poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(index)) => {
                let mut noop = Context::from_waker(std::task::Waker::noop());
                match self.watch.children()[index].poll_outcome(&mut noop) {
                    Poll::Ready(outcome) => Poll::Ready(Some(outcome)),
                    Poll::Pending => unreachable!("a child reported as finished"),
                }
            }
        }
    }
}

/// Handles on the tasks of a tuple, for [`GatherTuple`] to watch.
#[doc(hidden)]
pub struct Watchers(Vec<Box<dyn crate::children::Watched>>);

/// Tuples of tasks that [`gather!`](crate::gather!) can wait for together.
#[doc(hidden)]
pub trait TaskTuple {
    /// The tuple of values.
    type Output;
    /// Handles that watch the same tasks.
    fn watchers(&self) -> Watchers;
    /// Takes every value (all finished); re-raises the first failure in input order.
    fn take(&self) -> Self::Output;
}

macro_rules! task_tuple {
    ($($name:ident $index:tt),+) => {
        impl<$($name: Send + 'static),+> TaskTuple for ($(Task<$name>,)+) {
            type Output = ($($name,)+);

            fn watchers(&self) -> Watchers {
                Watchers(vec![$(Box::new(self.$index.watcher())),+])
            }

            fn take(&self) -> Self::Output {
                let mut noop = Context::from_waker(std::task::Waker::noop());
                ($(
                    match self.$index.poll_outcome(&mut noop) {
                        Poll::Ready(Ok(value)) => value,
                        Poll::Ready(Err(error)) => error.raise(),
                        Poll::Pending => unreachable!("every child has finished"),
                    },
                )+)
            }
        }
    };
}

task_tuple!(A 0);
task_tuple!(A 0, B 1);
task_tuple!(A 0, B 1, C 2);
task_tuple!(A 0, B 1, C 2, D 3);
task_tuple!(A 0, B 1, C 2, D 3, E 4);
task_tuple!(A 0, B 1, C 2, D 3, E 4, F 5);

/// The future behind [`gather!`](crate::gather!).
#[doc(hidden)]
#[must_use = "futures do nothing unless awaited; the children run anyway"]
pub struct GatherTuple<Tup: TaskTuple> {
    tasks: Tup,
    watch: Watch<Box<dyn crate::children::Watched>>,
    finished: bool,
}

impl<Tup: TaskTuple> GatherTuple<Tup> {
    #[doc(hidden)]
    pub fn new(tasks: Tup) -> Self {
        let watch = Watch::new(tasks.watchers().0);
        GatherTuple {
            tasks,
            watch,
            finished: false,
        }
    }
}

impl<Tup: TaskTuple + Unpin> Future for GatherTuple<Tup> {
    type Output = Tup::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Tup::Output> {
        loop {
            match self.watch.poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => break,
                Poll::Ready(Some(index)) => {
                    let child = &self.watch.children()[index];
                    if child.failed() {
                        let error = child.error().expect("a failed child has an error");
                        self.finished = true;
                        error.raise();
                    }
                }
            }
        }
        self.finished = true;
        Poll::Ready(self.tasks.take())
    }
}

impl<Tup: TaskTuple> Drop for GatherTuple<Tup> {
    fn drop(&mut self) {
        if !self.finished {
            self.watch.cancel_rest();
        }
    }
}

/// What [`gather!`] returns: the gathering itself when a runtime runs on this thread
/// (the tasks start at once, as asyncio's `gather` schedules them at the call), or,
/// outside any runtime, a boxed future that spawns them when first polled, so that
/// `clearloop::run(gather!(a(), b()))` works as `asyncio.run` of a coroutine does.
#[doc(hidden)]
pub enum GatherStart<Now, Later> {
    /// Spawned at the call.
    Now(Now),
    /// Spawned at the first poll.
    Later(Later),
}

impl<Now, Later> Future for GatherStart<Now, Later>
where
    Now: Future + Unpin,
    Later: Future<Output = Now::Output> + Unpin,
{
    type Output = Now::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Now::Output> {
        match self.get_mut() {
            GatherStart::Now(now) => Pin::new(now).poll(cx),
            GatherStart::Later(later) => Pin::new(later).poll(cx),
        }
    }
}

/// Whether a runtime runs on this thread (for [`gather!`]'s choice).
#[doc(hidden)]
pub fn runtime_here() -> bool {
    crate::runtime::with_current_scheduler("gather!", |_| ()).is_ok()
}

/// `gather` for futures of different types: spawns each, waits for all, and gives
/// a tuple of their values, in order. The first failure is re-raised.
///
/// Inside a runtime the tasks start at once; outside one (`run(gather!(..))`) they
/// are spawned when the gathering is first polled.
///
/// # Panics
///
/// When polled outside a running runtime (the message names `gather!` and the line
/// is yours).
///
/// ```
/// use clearloop::{gather, run};
/// let (number, text) = run(async { gather!(async { 6 * 7 }, async { "done" }).await });
/// assert_eq!((number, text), (42, "done"));
/// let (a, b) = run(gather!(async { 1 }, async { 2 })); // built outside, polled inside
/// assert_eq!((a, b), (1, 2));
/// ```
#[macro_export]
macro_rules! gather {
    ($($future:expr),+ $(,)?) => {{
        if $crate::gather::runtime_here() {
            $crate::gather::GatherStart::Now($crate::gather::GatherTuple::new((
                $($crate::spawn($future),)+
            )))
        } else {
            $crate::gather::GatherStart::Later(::std::boxed::Box::pin(async move {
                // Checked first, so that the panic names `gather!` and points at its line.
                $crate::gather::need_runtime("clearloop::gather!()");
                $crate::gather::GatherTuple::new(($($crate::spawn($future),)+)).await
            }))
        }
    }};
}
