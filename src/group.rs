//! Structured concurrency: a task group whose tasks never outlive it.
//!
//! asyncio 3.11's `TaskGroup` is used with `async with`:
//!
//! ```python
//! async with asyncio.TaskGroup() as tg:
//!     tg.create_task(fetch("a"))
//!     tg.create_task(fetch("b"))
//!     await asyncio.sleep(5)        # the body runs beside the children
//! # here every child is done; if one failed, the body was cancelled at its
//! # current await, the other children were cancelled, and the group raised
//! # an ExceptionGroup
//! ```
//!
//! Rust has no `async with`; [`task_group`] takes the body as a closure, and
//! polls it beside the children:
//!
//! ```text
//!   task_group(|tg| async move {            t=0  body starts; spawns a, b
//!       tg.spawn(a());   // fails at t=1     t=1  a panics: the group closes,
//!       tg.spawn(b());   // sleeps 10 s            drops the body at its await (its
//!       sleep(5 s).await;                          Drop runs, its later code never),
//!       never_reached();                           cancels b
//!   }).await                                t=1  Err(ExceptionGroup [a's panic])
//! ```
//!
//! | asyncio                                   | clearloop                                          |
//! |-------------------------------------------|----------------------------------------------------|
//! | `async with TaskGroup() as tg: body`      | [`task_group`]`(\|tg\| async move { body }).await` |
//! | `tg.create_task(coro)`                    | [`tg.spawn(future)`](GroupHandle::spawn)           |
//! | passing `tg` to a child                   | `tg.clone()`: a [`GroupHandle`] is a cheap `Arc`   |
//! | `RuntimeError: TaskGroup ... is shutting down` | [`GroupHandle::try_spawn`] → [`GroupClosed`], or `spawn` panics |
//! | the body raises: the group cancels all    | the body panics: the same, its panic is in the group |
//! | `ExceptionGroup`                          | [`ExceptionGroup`]                                 |
//!
//! Where Rust makes us differ:
//!
//! * **Cancelling the body is dropping it.** asyncio throws `CancelledError` into
//!   the body at its `await`, and the body's `except`/`finally` run. Here the body
//!   future is dropped where it awaits: what it holds is dropped (its `Drop` is
//!   its `finally`), and nothing after that `await` runs. A `Drop` that panics
//!   joins the group's errors, as an exception raised in `finally` does.
//! * **Only panics are failures.** A child cancelled by you (`task.cancel()`) or by
//!   the group is not an error, as `CancelledError` is not in asyncio.
//! * **The handles need no care.** [`GroupHandle::spawn`] returns a [`GroupTask`]:
//!   the group awaits and cancels the task, so dropping the handle is fine (a
//!   plain [`Task`] warns when unused; this one does not).
//!
//! The older, unscoped form stays: [`TaskGroup::new`], [`TaskGroup::spawn`], then
//! [`TaskGroup::wait`]. There the body is your own code between `spawn` and `wait`,
//! and a failure is seen only when it reaches `wait`. A group dropped without
//! `wait` (the code that owned it was cancelled, or returned early) cancels its
//! children: nothing it started runs on unseen.
//!
//! Both forms are [`crate::children`]'s mechanism with the `CancelOnFailure` policy.
//!
//! ```
//! use std::time::Duration;
//! use clearloop::{Builder, clock::Clock, group::task_group, time::{now, sleep}};
//!
//! let runtime = Builder::new().clock(Clock::virtual_clock()).build();
//! let (reached_the_end, took, failures) = runtime.block_on(async {
//!     let start = now();
//!     let mut reached_the_end = false;
//!     let reached = &mut reached_the_end; // the body may borrow: it is not spawned
//!     let result = task_group(|tg| async move {
//!         tg.spawn(async {
//!             sleep(Duration::from_secs(1)).await;
//!             panic!("the feed is down");
//!         });
//!         sleep(Duration::from_secs(5)).await;
//!         *reached = true; // never: the body is dropped at t=1
//!     })
//!     .await;
//!     (reached_the_end, now() - start, result.unwrap_err().errors().len())
//! });
//! assert_eq!((reached_the_end, took, failures), (false, Duration::from_secs(1), 1));
//! ```

use std::fmt;
use std::future::{Future, poll_fn};
use std::ops::Deref;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::children::{Next, Policy, Watch, Watched};
use crate::gather::need_runtime;
use crate::runtime::spawn;
use crate::task::{Join, Task, TaskError};

/// Runs `body` as the body of a task group (asyncio 3.11's `async with
/// TaskGroup() as tg:`) and returns its value once it and every child are done.
///
/// `body` receives the group's [`GroupHandle`]; whatever it spawns there (and
/// whatever those children spawn with a clone of the handle) belongs to the
/// group. The body is polled beside the children, in the task that awaits
/// `task_group`; it may borrow from that task, since it is not spawned.
///
/// When a child panics, or the body does: the group closes (spawning into it is
/// an error from then on), drops the body where it awaits, cancels every other
/// child, waits for them to end, and returns every panic in an
/// [`ExceptionGroup`]. A child that ends cancelled is not a failure.
///
/// If the future `task_group` returns is itself dropped (the task awaiting it was
/// cancelled, or a timeout expired), the body is dropped and every child is
/// cancelled.
///
/// # Errors
///
/// An [`ExceptionGroup`] with the panics of the body and of the children, the
/// body's first, then the children's in the order they were spawned.
pub async fn task_group<B, Fut>(body: B) -> Result<Fut::Output, ExceptionGroup>
where
    B: FnOnce(GroupHandle) -> Fut,
    Fut: Future,
{
    let shared = Arc::new(Mutex::new(Shared::default()));
    let mut scope = Scope {
        watch: Watch::new(Vec::new()),
        shared: shared.clone(),
        finished: false,
    };
    // The body lives pinned in this future's own state: `set(None)` drops it in
    // place, at whatever await it had reached.
    let mut body = pin!(Some(body(GroupHandle { shared })));
    let mut output = None;
    let mut body_error = None;
    let mut failing = false;
    let mut shut_down = false;
    poll_fn(|cx| {
        // 1. The body, until it returns, panics, or is dropped by a failure.
        if let Some(error) = poll_body(body.as_mut(), cx, &mut output) {
            body_error = Some(error);
            failing = true;
        }
        loop {
            // 2. Children spawned since the last look, then those that finished.
            scope.adopt(cx.waker());
            while let Poll::Ready(Some(index)) = scope.watch.poll_next(cx) {
                if scope.watch.children()[index].panicked() {
                    failing = true;
                }
            }
            // A failure: close, drop the body, cancel the rest (once: a closed
            // group adopts no new child).
            if failing && !shut_down {
                shut_down = true;
                scope.shut_down(body.as_mut(), &mut body_error);
            }
            // 3. Done when the body is gone and every child has ended; a child
            // spawned meanwhile (on another thread) sends us round again.
            if body.is_some() || scope.watch.remaining() > 0 {
                return Poll::Pending;
            }
            if scope.close_if_no_newcomer() {
                scope.finished = true;
                return Poll::Ready(());
            }
        }
    })
    .await;
    let mut errors: Vec<TaskError> = body_error.into_iter().collect();
    errors.extend(scope.failures());
    match output {
        Some(value) if errors.is_empty() => Ok(value),
        _ => Err(ExceptionGroup { errors }),
    }
}

/// Polls the body once (phase 1 of [`task_group`]), catching its panic: its value
/// goes to `output` and the body is dropped, done; its panic comes back as the
/// group's first error. A body already gone is not polled.
fn poll_body<Fut: Future>(
    mut body: Pin<&mut Option<Fut>>,
    cx: &mut Context<'_>,
    output: &mut Option<Fut::Output>,
) -> Option<TaskError> {
    let running = body.as_mut().as_pin_mut()?;
    match crate::panics::catch(|| running.poll(cx)) {
        Ok(Poll::Pending) => None,
        Ok(Poll::Ready(value)) => {
            *output = Some(value);
            body.set(None);
            None
        }
        Err(payload) => Some(body_panic(payload)),
    }
}

/// The body's panic, as one of the group's errors.
fn body_panic(payload: crate::panics::Payload) -> TaskError {
    crate::panics::kept(
        "the body of a task_group",
        &*payload,
        "stored in its ExceptionGroup",
    );
    let message = crate::panics::message(&*payload);
    TaskError::panicked("task_group body".to_owned(), message, Some(payload))
}

/// What the group and its handles share.
#[derive(Default)]
struct Shared {
    /// Set once the group has failed or finished: spawning is refused from then on.
    closing: bool,
    /// Children spawned through a handle and not yet seen by the group's future.
    incoming: Vec<Box<dyn Watched>>,
    /// The group's future, to wake when a child is spawned from elsewhere.
    waker: Option<Waker>,
}

/// The group's side of a [`task_group`]: the children it watches.
struct Scope {
    watch: Watch<Box<dyn Watched>>,
    shared: Arc<Mutex<Shared>>,
    finished: bool,
}

impl Scope {
    /// A failure (phase 2 of [`task_group`], once): close the group so that it adopts
    /// no new child, drop the body where it awaits, cancel every other child.
    fn shut_down<Fut>(
        &mut self,
        mut body: Pin<&mut Option<Fut>>,
        body_error: &mut Option<TaskError>,
    ) {
        self.close();
        if body.is_some()
            && let Err(payload) = crate::panics::catch(|| body.set(None))
        {
            // The body's `Drop` panicked: its `finally` raised.
            body_error.get_or_insert(body_panic(payload));
        }
        self.watch.cancel_rest();
    }

    /// Moves the children spawned since the last look into the watch, and leaves
    /// our waker for the next spawn.
    fn adopt(&mut self, waker: &Waker) {
        let incoming = {
            let mut shared = crate::panics::lock(&self.shared);
            match &shared.waker {
                Some(known) if known.will_wake(waker) => {}
                _ => shared.waker = Some(waker.clone()),
            }
            std::mem::take(&mut shared.incoming)
        };
        for child in incoming {
            self.watch.push(child);
        }
    }

    /// Refuses new children from now on, and adopts those that came in meanwhile.
    fn close(&mut self) {
        let incoming = {
            let mut shared = crate::panics::lock(&self.shared);
            shared.closing = true;
            shared.waker = None;
            std::mem::take(&mut shared.incoming)
        };
        for child in incoming {
            self.watch.push(child);
        }
    }

    /// The group's end, when the body is gone and every child it knows has ended:
    /// closes and returns true if no child came in meanwhile (from another
    /// thread); otherwise adopts the newcomers and stays open for them.
    fn close_if_no_newcomer(&mut self) -> bool {
        let incoming = {
            let mut shared = crate::panics::lock(&self.shared);
            if shared.incoming.is_empty() {
                shared.closing = true;
                shared.waker = None;
                return true;
            }
            std::mem::take(&mut shared.incoming)
        };
        for child in incoming {
            self.watch.push(child);
        }
        false
    }

    /// The panics of the children, in spawn order (each marked as retrieved).
    fn failures(&self) -> Vec<TaskError> {
        let children = self.watch.children().iter();
        let panicked = children.filter(|child| child.panicked());
        panicked.filter_map(|child| child.error()).collect()
    }
}

impl Drop for Scope {
    /// The group's future was dropped before it finished (its awaiter was
    /// cancelled): nothing it started may run on unseen.
    fn drop(&mut self) {
        if !self.finished {
            self.close();
            self.watch.cancel_rest();
        }
    }
}

/// A handle to spawn into a task group (asyncio's `tg` in `async with TaskGroup()
/// as tg`). Clone it (an `Arc`) to give children their own.
#[derive(Clone)]
pub struct GroupHandle {
    shared: Arc<Mutex<Shared>>,
}

impl GroupHandle {
    /// Spawns `future` as a child of the group (asyncio's `tg.create_task`). The
    /// group waits for it, and cancels it if a sibling fails.
    ///
    /// # Panics
    ///
    /// If the group is shutting down (a child failed, or the group has finished),
    /// as asyncio raises `RuntimeError`; use [`try_spawn`](GroupHandle::try_spawn)
    /// to get an error instead. Outside a running runtime.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> GroupTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self.try_spawn(future) {
            Ok(task) => task,
            Err(closed) => panic!("GroupHandle::spawn(): {closed}"),
        }
    }

    /// Like [`spawn`](GroupHandle::spawn), with an error instead of a panic when
    /// the group is shutting down; the future is dropped then, never run.
    ///
    /// # Errors
    ///
    /// [`GroupClosed`] if the group is shutting down or has finished.
    ///
    /// # Panics
    ///
    /// Outside a running runtime.
    #[track_caller]
    pub fn try_spawn<F>(&self, future: F) -> Result<GroupTask<F::Output>, GroupClosed>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        need_runtime("clearloop::group::GroupHandle::spawn()");
        let mut shared = crate::panics::lock(&self.shared);
        if shared.closing {
            drop(shared);
            // Dropped outside the lock: its `Drop` is user code.
            drop(future);
            return Err(GroupClosed);
        }
        // Spawned under the lock, so that a group closing now either sees this
        // child or refuses it: never a child it does not watch.
        let task = spawn(future);
        shared.incoming.push(Box::new(task.watcher()));
        let waker = shared.waker.clone();
        drop(shared);
        // Wake outside the lock: the group adopts the child at its next poll.
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(GroupTask { task })
    }

    /// Whether the group is shutting down (a child failed) or has finished:
    /// spawning into it is an error.
    pub fn is_closing(&self) -> bool {
        crate::panics::lock(&self.shared).closing
    }
}

impl fmt::Debug for GroupHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupHandle")
            .field("closing", &self.is_closing())
            .finish()
    }
}

/// Why [`GroupHandle::try_spawn`] refused: the group no longer takes children
/// (asyncio raises `RuntimeError("TaskGroup ... is shutting down")`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupClosed;

impl fmt::Display for GroupClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "this task group is shutting down (a child failed, or the group has \
             finished) and takes no new tasks; spawn while the group is running, \
             or use clearloop::spawn for a task outside it",
        )
    }
}

impl std::error::Error for GroupClosed {}

/// A task that a group owns: the group waits for it and cancels it, so dropping
/// this handle is fine (unlike a plain [`Task`], it does not warn when unused).
///
/// It reads like a [`Task`] (it derefs to one: `done()`, `result()`, `cancel()`,
/// `name()`), and awaiting it gives the task's value.
pub struct GroupTask<T> {
    task: Task<T>,
}

impl<T> GroupTask<T> {
    /// The task's outcome as a `Result`, as [`Task::join`].
    pub fn join(self) -> Join<T> {
        self.task.join()
    }

    /// The plain [`Task`] handle.
    pub fn into_task(self) -> Task<T> {
        self.task
    }
}

impl<T> Deref for GroupTask<T> {
    type Target = Task<T>;

    fn deref(&self) -> &Task<T> {
        &self.task
    }
}

/// Awaiting a group's task gives its value, as awaiting a [`Task`] does.
impl<T> Future for GroupTask<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.task).poll(cx)
    }
}

impl<T> fmt::Debug for GroupTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.task.fmt(f)
    }
}

/// A set of tasks that end together (asyncio's `TaskGroup`), left with an explicit
/// [`wait`](TaskGroup::wait); see [`task_group`] for the scoped form.
#[must_use = "a TaskGroup cancels its tasks when dropped; call .wait().await"]
#[derive(Default)]
pub struct TaskGroup {
    children: Vec<Box<dyn Watched>>,
}

impl TaskGroup {
    /// An empty group.
    pub fn new() -> TaskGroup {
        TaskGroup::default()
    }

    /// Spawns a task in the group (asyncio's `tg.create_task`). The group keeps
    /// the task and cancels it if the group is dropped; the returned handle is for
    /// you to look at or await, and may be dropped.
    ///
    /// # Panics
    ///
    /// Outside a running runtime.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> GroupTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        need_runtime("clearloop::TaskGroup::spawn()");
        let task = spawn(future);
        self.children.push(Box::new(task.watcher()));
        GroupTask { task }
    }

    /// Number of tasks spawned in the group.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// Whether no task was spawned in the group.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// Waits for every task of the group (leaving asyncio's `async with` block).
    /// The first task to panic makes the group cancel all the others; once every
    /// task has ended, the panics are returned together. Tasks the group cancelled
    /// because of a failure are not counted as failures.
    pub async fn wait(mut self) -> Result<(), ExceptionGroup> {
        let mut waiting = Waiting {
            watch: Watch::new(std::mem::take(&mut self.children)),
            finished: false,
        };
        let watch = &mut waiting.watch;
        let mut cancelled_the_rest = false;
        while let Some(index) = std::future::poll_fn(|cx| watch.poll_next(cx)).await {
            if watch.decide(Policy::CancelOnFailure, index) == Next::CancelTheRest
                && !cancelled_the_rest
            {
                cancelled_the_rest = true;
                watch.cancel_rest();
            }
        }
        waiting.finished = true;
        let errors: Vec<TaskError> = waiting
            .watch
            .children()
            .iter()
            .filter(|child| child.panicked())
            .filter_map(|child| child.error())
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ExceptionGroup { errors })
        }
    }
}

/// The group's children while `wait` runs: if `wait` itself is cancelled (its
/// future dropped), the children are cancelled with it.
struct Waiting {
    watch: Watch<Box<dyn Watched>>,
    finished: bool,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if !self.finished {
            self.watch.cancel_rest();
        }
    }
}

impl Drop for TaskGroup {
    fn drop(&mut self) {
        // Only a group that was never waited for still holds children.
        for child in &self.children {
            child.cancel();
        }
    }
}

impl fmt::Debug for TaskGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("tasks", &self.children.len())
            .finish()
    }
}

/// Every panic of a task group, reported together (asyncio's `ExceptionGroup`).
///
/// Its `Display` lists them:
///
/// ```text
/// unhandled errors in a TaskGroup (2 sub-exceptions)
///   - task 'Task-2' panicked: the feed is down
///   - task 'Task-3' panicked: the disk is full
/// ```
#[derive(Debug)]
pub struct ExceptionGroup {
    errors: Vec<TaskError>,
}

impl ExceptionGroup {
    /// The failures, in the order the tasks were spawned.
    pub fn errors(&self) -> &[TaskError] {
        &self.errors
    }
}

impl fmt::Display for ExceptionGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.errors.len();
        write!(
            f,
            "unhandled errors in a TaskGroup ({count} sub-exception{})",
            if count == 1 { "" } else { "s" }
        )?;
        for error in &self.errors {
            write!(f, "\n  - {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ExceptionGroup {}
