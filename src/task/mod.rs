//! Tasks: a future that the loop drives on its own, and the handle to it.
//!
//! `spawn(future)` is asyncio's `create_task(coro)`: the future starts running at
//! the loop's next turn, whether or not anybody awaits it, and [`spawn`](crate::spawn)
//! returns a [`Task`], the handle through which you ask how it went.
//!
//! | asyncio (`Task`, `Future`)        | clearloop ([`Task<T>`])                                   |
//! |-----------------------------------|-----------------------------------------------------------|
//! | `await task`                      | `task.await`: the value; a panic in the task is re-raised |
//! | `try: await task except E: ...`   | `task.join().await`: `Result<T, TaskError>`               |
//! | `task.done()`                     | [`Task::done`]                                            |
//! | `task.result()`                   | [`Task::result`]: a clone of the value, or a [`TaskError`]|
//! | `task.exception()`                | [`Task::exception`]                                       |
//! | `task.cancel()`, `cancelled()`    | [`Task::cancel`], [`Task::cancelled`]                     |
//! | `task.cancel(msg)`                | [`Task::cancel_with`]; [`TaskError::cancel_message`]      |
//! | `asyncio.shield(task)`            | [`shield`]`(task)`                                        |
//! | `add_done_callback(fn)`           | [`Task::add_done_callback`] (returns a [`CallbackId`])    |
//! | `remove_done_callback(fn)`        | [`Task::remove_done_callback`]`(id)`                      |
//! | `task.get_name()`, `set_name()`   | [`Task::name`], [`Task::set_name`]                        |
//! | `InvalidStateError`               | [`TaskError`] with [`TaskError::is_not_done`]             |
//! | `CancelledError`                  | [`TaskError`] with [`TaskError::is_cancelled`]           |
//! | `await asyncio.sleep(0)`          | [`yield_now`]`().await`                                   |
//!
//! **Why `result()` clones.** Python hands the same result object to everyone who
//! asks. A Rust value has one owner: it can be moved out once, or copied. So:
//! `task.await` and [`Task::join`] *move* the value out (any `T`, no copy), and
//! [`Task::result`] *clones* it (`T: Clone`), so it can be asked again and again like
//! Python's. Wait for the task without taking its value with [`Task::wait`].
//!
//! **Cancellation follows the await.** A handle dropped without ever being awaited
//! *detaches* the task: it runs to the end, as an asyncio task runs whether or not
//! anyone awaits it. But a handle dropped *while it is awaited* (`.await` or
//! [`join`](Task::join) returned `Pending`, and the task has not finished) cancels
//! the task, as asyncio cancels the task an awaiter was waiting for when the awaiter
//! itself is cancelled, or when `wait_for` gives up:
//!
//! ```text
//!   outer.cancel("msg")                      the loop drops outer's future ...
//!     outer ──awaits──> inner (Task)   ──>   ... and with it the awaited handle:
//!                                            inner.cancel("msg")  (same message)
//!     outer ──awaits──> shield(inner)  ──>   the shield lets go: inner runs on
//!     drop(spawn(job))  (never awaited) ──>  job runs on (detached)
//!     wait_for(inner, 2 s) expires      ──>  inner is cancelled at the deadline
//! ```
//!
//! The rule goes as deep as the awaits do: a task awaiting a task awaiting a task is
//! cancelled all the way down, each at its next turn. [`shield`] (asyncio's
//! `asyncio.shield`) awaits without binding, and [`Task::detach`] unbinds a handle
//! that was awaited through `&mut task`. `gather` holds its children the same way (a
//! dropped gather cancels those still running, as asyncio's does); `wait` does not
//! (on timeout it hands back the pending tasks, running, as asyncio's does), nor does
//! [`Task::wait`].
//!
//! tokio's `JoinHandle` always detaches, awaited or not: there, a `timeout` around a
//! handle leaves the task running. Here the handle behaves like the asyncio `Task` a
//! learner translates, and costs the same: one `bool` on the handle, set by the poll.
//!
//! **Done-callbacks** ([`Task::add_done_callback`], asyncio's
//! `Future.add_done_callback`) run on the loop at the turn after the task finished,
//! in the order they were added, never inside the task's last poll.
//!
//! **Local tasks.** [`spawn`](crate::spawn) requires a `Send` future, even on the
//! single-threaded loop: the future lives in the task's cell, which wakers on any
//! thread share, and on a multi-threaded runtime any worker polls it. A future
//! holding an `Rc<RefCell<_>>` (asyncio's shared variables, translated) goes to
//! [`spawn_local`](crate::spawn_local) instead, which keeps it on the loop's thread
//! (`src/runtime/local.rs` shows how, without `unsafe`).
//!
//! **Cancellation is drop.** asyncio throws `CancelledError` into the coroutine at its
//! `await`, and the coroutine may catch it. A Rust future cannot be resumed with an
//! error: `cancel()` marks the task and wakes it, and at its next turn the loop drops
//! the future instead of polling it. The `Drop` of everything it holds runs then, on
//! the loop (a `Sleep` removes its timer, a lock guard unlocks); there is no
//! `except CancelledError:` block, so cleanup lives in `Drop`.
//!
//! [`TaskError`] lives in `error.rs`; the futures that await a task ([`Wait`], [`Join`],
//! [`shield`]) in `join.rs`; the allocation behind the handle in `cell/`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

pub(crate) mod cell;
pub mod coop;
pub(crate) mod state;
pub(crate) mod wait;

use cell::{Joinable, Outcome, Slot, name_of};
use state::AfterCancel;

mod error;
mod join;

pub use error::TaskError;
pub use join::{Join, Shield, Wait, shield};

/// The handle to a spawned task (asyncio's `Task`).
///
/// Await it for the task's value. Every other question (`done`, `result`,
/// `exception`, `cancel`) is a method, answered at once, never blocking.
#[must_use = "a task runs even if its handle is dropped; drop it explicitly to detach it"]
pub struct Task<T> {
    /// The task's cell, seen through the trait that names only `T` (the future's
    /// type is not in the handle's). A fat pointer: the handle is 24 bytes with the
    /// two fields below, against tokio's 8 (a thin pointer to a header that carries
    /// a vtable built by hand, which takes `unsafe` code).
    cell: Arc<dyn Joinable<T>>,
    /// Which handle this is, for the task's list of awaiters.
    id: u32,
    /// This handle is being awaited (`.await` or `join()` returned `Pending` and the
    /// task has not finished): dropping it now cancels the task. See the module doc.
    awaited: bool,
    /// An await of this handle returned `Ready`: the slot is `Taken` for good
    /// (every `Ready` of `poll_outcome` leaves it so). The handle's `Drop` then has
    /// nothing to do under the task's lock (no awaiter to remove, no outcome to
    /// drop or report, and the handle count is only read while the slot is
    /// `Running` or `Finished`), so it skips the lock: the awaited task's handle
    /// costs one lock, not two (callgrind: ~40 instructions a spawn-and-await).
    taken: bool,
}

impl<T> Task<T> {
    /// The first handle, made by `spawn` (the cell counts it already).
    pub(crate) fn new(cell: Arc<dyn Joinable<T>>) -> Task<T> {
        Task {
            cell,
            id: 0,
            awaited: false,
            taken: false,
        }
    }

    /// A second handle on the same task, for a gather or a task group that watches
    /// it while its owner keeps the first. Only one of them can take the value.
    pub(crate) fn watcher(&self) -> Task<T> {
        let mut meta = self.cell.meta();
        meta.handles += 1;
        let id = meta.next_handle_id;
        meta.next_handle_id += 1;
        drop(meta);
        Task {
            cell: self.cell.clone(),
            id,
            awaited: false,
            taken: false,
        }
    }

    /// Registers `cx`'s waker to be woken when the task finishes; true if it has
    /// finished already. Leaves the outcome in place.
    pub(crate) fn poll_done(&self, cx: &mut Context<'_>) -> bool {
        let mut meta = self.cell.meta();
        if matches!(meta.slot, Slot::Running(_)) {
            meta.register(self.id, cx.waker());
            wait::on_task(self.cell.header().id);
            false
        } else {
            true
        }
    }

    /// Whether the task ended by panicking or being cancelled, without marking the
    /// outcome as retrieved (a group looks, then reports or re-raises it).
    pub(crate) fn failed(&self) -> bool {
        matches!(
            self.cell.meta().slot,
            Slot::Finished(Outcome::Panicked(_) | Outcome::Cancelled)
        )
    }

    /// Whether the task ended by panicking (not retrieved either).
    pub(crate) fn panicked(&self) -> bool {
        matches!(self.cell.meta().slot, Slot::Finished(Outcome::Panicked(_)))
    }

    /// True once the task has finished: returned, panicked or been cancelled.
    pub fn done(&self) -> bool {
        self.cell.header().state.is_done()
    }

    /// True if the task finished by being cancelled.
    pub fn cancelled(&self) -> bool {
        self.done() && matches!(self.cell.meta().slot, Slot::Finished(Outcome::Cancelled))
    }

    /// Asks the task to stop: at its next turn the loop drops its future instead of
    /// polling it. Returns false if the task had already finished (as asyncio does).
    ///
    /// A task that is being polled when it is cancelled (it cancels itself, or
    /// another thread cancels it) finishes that poll first, then is dropped.
    pub fn cancel(&self) -> bool {
        self.cancel_because(None)
    }

    /// [`cancel`](Task::cancel) with a message (asyncio's `task.cancel(msg)`): the
    /// [`TaskError`] of the cancelled task carries it ([`TaskError::cancel_message`],
    /// and its `Display`). A second call before the task stops replaces the message,
    /// as in asyncio. Returns false if the task had already finished.
    pub fn cancel_with(&self, message: impl Into<String>) -> bool {
        self.cancel_because(Some(Arc::from(message.into())))
    }

    /// The one cancel behind `cancel`, `cancel_with` and a dropped await.
    fn cancel_because(&self, message: Option<Arc<str>>) -> bool {
        if let Some(message) = message {
            let mut meta = self.cell.meta();
            if !matches!(meta.slot, Slot::Running(_)) {
                return false;
            }
            meta.extras().cancel_message = Some(message);
        }
        match self.cell.header().state.cancel() {
            AfterCancel::Push => self.cell.clone().schedule(),
            AfterCancel::Marked => {}
            AfterCancel::TooLate => return false,
        }
        true
    }

    /// The task's name: `Task-1`, `Task-2`, … in spawn order, or the one you set.
    pub fn name(&self) -> String {
        name_of(self.cell.header(), &self.cell.meta())
    }

    /// Renames the task (asyncio's `set_name`); the name shows in panics and errors.
    pub fn set_name(&self, name: impl Into<String>) {
        let name = name.into();
        if let Some(trace) = self.cell.trace() {
            trace.renamed(self.cell.header().id, &name);
        }
        self.cell.meta().extras().name = Some(name.into_boxed_str());
    }

    /// The task's panic or cancellation, if it ended that way (asyncio's
    /// `exception()`): `Ok(None)` for a task that returned a value, `Ok(Some(error))`
    /// for one that panicked or was cancelled, and `Err` (not done) for a task still
    /// running. The error carries the panic message, not its payload: the payload
    /// stays with the task, for `.await` to re-raise or [`join`](Task::join) to hand
    /// over.
    ///
    /// asyncio raises `CancelledError` from `exception()` on a cancelled task; here
    /// the cancellation is returned like any other exception.
    pub fn exception(&self) -> Result<Option<TaskError>, TaskError> {
        self.look(|_| ()).map(Result::err)
    }

    /// The outcome, left in place (the one match behind `result()` and
    /// `exception()`): `Err` when there is no outcome to look at (not done, or moved
    /// out), else `Ok` of `on_value(&value)` or of the task's own failure. Marks the
    /// outcome as retrieved.
    fn look<R>(&self, on_value: impl FnOnce(&T) -> R) -> Result<Result<R, TaskError>, TaskError> {
        let meta = self.cell.meta();
        if !matches!(meta.slot, Slot::Running(_)) {
            self.cell.header().set_retrieved();
        }
        // Formatted only for an error: a value costs no String.
        let name = || name_of(self.cell.header(), &meta);
        match &meta.slot {
            Slot::Running(_) => Err(TaskError::not_done(name())),
            Slot::Taken => Err(TaskError::taken(name())),
            Slot::Finished(Outcome::Value(value)) => Ok(Ok(on_value(value))),
            Slot::Finished(Outcome::Panicked(payload)) => Ok(Err(TaskError::panicked(
                name(),
                crate::panics::message(&**payload),
                None,
            ))),
            Slot::Finished(Outcome::Cancelled) => Ok(Err(TaskError::cancelled_with(
                name(),
                meta.cancel_message(),
            ))),
        }
    }

    /// A future that completes when the task is done, leaving its outcome in place
    /// for [`result`](Task::result) and [`exception`](Task::exception). It never
    /// re-raises: use it to wait, then ask.
    pub fn wait(&self) -> Wait<'_, T> {
        Wait { task: self }
    }

    /// A future of the task's outcome as a `Result`: the value, or a [`TaskError`]
    /// for a panic (with its payload) or a cancellation. Unlike `.await`, it does not
    /// re-raise: this is `try: await task / except`.
    pub fn join(self) -> Join<T> {
        Join { task: self }
    }

    /// Polls for the outcome and moves it out once it is there.
    pub(crate) fn poll_outcome(&self, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>> {
        let mut meta = self.cell.meta();
        match &mut meta.slot {
            Slot::Running(_) => {
                // Register, then the loop's `finish` takes the wakers under the same
                // lock: no completion can slip between the check and the register.
                meta.register(self.id, cx.waker());
                wait::on_task(self.cell.header().id);
                Poll::Pending
            }
            Slot::Taken => Poll::Ready(Err(TaskError::taken(name_of(self.cell.header(), &meta)))),
            Slot::Finished(_) => {
                // Not marked as retrieved: the slot is `Taken` from here on, and only a
                // `Finished` panic is ever reported as never retrieved (that saves a
                // call through the vtable on every join).
                let Slot::Finished(outcome) = std::mem::replace(&mut meta.slot, Slot::Taken) else {
                    unreachable!("matched Finished just above")
                };
                // The name is formatted only for an error: a value costs no String.
                let name = || name_of(self.cell.header(), &meta);
                Poll::Ready(match outcome {
                    Outcome::Value(value) => Ok(value),
                    Outcome::Cancelled => {
                        Err(TaskError::cancelled_with(name(), meta.cancel_message()))
                    }
                    Outcome::Panicked(payload) => {
                        let message = crate::panics::message(&*payload);
                        Err(TaskError::panicked(
                            name(),
                            message,
                            Some(payload.into_payload()),
                        ))
                    }
                })
            }
        }
    }
}

impl<T> Task<T> {
    /// `poll_outcome` for whoever *awaits* the handle (`.await`, `join()`): while it
    /// is pending the handle is marked awaited, so that dropping it cancels the task.
    /// One store of a `bool` on the handle: awaiting costs nothing more.
    fn poll_bound(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>> {
        let poll = self.poll_outcome(cx);
        self.awaited = poll.is_pending();
        self.taken = poll.is_ready();
        poll
    }

    /// Lets the task run on even if this handle was being awaited: dropping the
    /// returned handle detaches the task, as dropping a handle that was never
    /// awaited does. For a handle awaited through `&mut task` (in a `select`-like
    /// combinator, or `timeout(d, &mut task)`) that you mean to drop later without
    /// cancelling the task.
    pub fn detach(mut self) -> Task<T> {
        self.awaited = false;
        self
    }
}

impl<T: Send + 'static> Task<T> {
    /// Calls `callback` once the task is done (asyncio's
    /// `Future.add_done_callback`), with a handle on the task to ask it
    /// `result()`, `exception()`, `cancelled()`.
    ///
    /// The loop runs it *after* the task finished, never inside the task's last
    /// poll: a small step of its own is queued when the task finishes (asyncio's
    /// `call_soon`), so the callbacks run at the loop's next turn, in the order they
    /// were added, after the awaiters were woken (they are queued first). A callback
    /// added to a task that is done already is queued at once, and runs at the next
    /// turn as well. A panicking callback is reported on standard error with the
    /// task's name, and the others still run.
    ///
    /// The handle the callback gets counts as one of the task's handles until the
    /// callback has run, so the outcome waits for it. Differences from asyncio:
    /// the callback must be `Send` (a task may finish on a worker thread), and a
    /// runtime dropped before the callbacks' turn drops them unrun (`asyncio.run`
    /// gives cancelled tasks one more turn).
    pub fn add_done_callback(
        &self,
        callback: impl FnOnce(&Task<T>) + Send + 'static,
    ) -> CallbackId {
        let watcher = self.watcher();
        let callback: cell::Callback = Box::new(move || callback(&watcher));
        let mut meta = self.cell.meta();
        let id = meta.next_handle_id;
        meta.next_handle_id += 1;
        if matches!(meta.slot, Slot::Running(_)) {
            meta.extras().callbacks.push((id, callback));
        } else {
            drop(meta);
            self.cell.call_soon(vec![(id, callback)]);
        }
        CallbackId(id)
    }

    /// Removes a callback added by [`add_done_callback`](Task::add_done_callback)
    /// before it was queued (asyncio's `remove_done_callback`). Returns whether it
    /// was still there: false once the task finished (its callbacks are queued then).
    pub fn remove_done_callback(&self, id: CallbackId) -> bool {
        let mut meta = self.cell.meta();
        let Some(extras) = &mut meta.extras else {
            return false;
        };
        let Some(index) = extras
            .callbacks
            .iter()
            .position(|(other, _)| *other == id.0)
        else {
            return false;
        };
        let (_, callback) = extras.callbacks.remove(index);
        drop(meta);
        // Dropped outside the lock: it holds a handle, whose `Drop` takes the lock.
        drop(callback);
        true
    }
}

/// Names a done-callback, for [`Task::remove_done_callback`] (asyncio removes by the
/// function itself; a Rust closure has no identity to compare, so `add` returns one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackId(u32);

impl<T: Clone> Task<T> {
    /// The task's value, cloned, so it can be asked for again (asyncio's
    /// `result()`). A task that panicked or was cancelled gives that as the error;
    /// a task still running gives a "not done" error at once (asyncio's
    /// `InvalidStateError`) and never blocks.
    pub fn result(&self) -> Result<T, TaskError> {
        self.look(T::clone).and_then(|outcome| outcome)
    }
}

/// `task.await` gives the value. A panic in the task is re-raised here with its
/// original payload, as an exception in a coroutine propagates to whoever awaits it;
/// a cancelled task re-raises as a panic saying so. For a `Result`, use
/// [`Task::join`].
impl<T> Future for Task<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        std::task::ready!(coop::poll_budget(cx));
        match self.poll_bound(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(value)) => Poll::Ready(value),
            Poll::Ready(Err(error)) => error.raise(),
        }
    }
}

/// Dropping a handle detaches the task (it runs on), unless the handle was being
/// awaited: then the task is cancelled (see the module doc). In debug mode, the last
/// handle of a task that panicked, and whose panic nobody looked at, reports
/// "Task exception was never retrieved", as asyncio logs it.
impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        if self.taken {
            return; // See the field: the slot is `Taken`, nothing left to do.
        }
        if self.awaited {
            // The await was dropped before the task finished: its awaiter was
            // cancelled, so the task is too (with the awaiter's message, if any).
            self.cancel_because(cell::cancelling_message());
        }
        // Declared before the guard, so dropped after it: this handle's waker is
        // released outside the task's lock.
        let _our_waker;
        let mut meta = self.cell.meta();
        meta.handles -= 1;
        if let Slot::Running(awaiters) = &mut meta.slot {
            _our_waker = awaiters.remove(self.id);
        }
        if meta.handles > 0 || !matches!(meta.slot, Slot::Finished(_)) {
            return;
        }
        // The last handle of a finished task: nobody can take the outcome any more.
        let unseen_panic = match &meta.slot {
            Slot::Finished(Outcome::Panicked(payload)) if !self.cell.header().retrieved() => {
                Some(crate::panics::message(&**payload))
            }
            _ => None,
        };
        let name = || name_of(self.cell.header(), &meta);
        let unseen_panic = unseen_panic.map(|message| (name(), message));
        let outcome = std::mem::replace(&mut meta.slot, Slot::Taken);
        drop(meta);
        if let Some((name, message)) = unseen_panic {
            self.cell.exception_never_retrieved(name, message);
        }
        // Dropped here, where the handle is dropped, not later on whichever thread
        // lets go of the task last; a panic of its `Drop` is reported, not raised.
        if let Err(payload) = crate::panics::catch(|| drop(outcome)) {
            let name = name_of(self.cell.header(), &self.cell.meta());
            crate::panics::report(
                format_args!("the output of task '{name}'"),
                &*payload,
                "it panicked when dropped with the task's last handle; the runtime goes on",
            );
        }
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("name", &self.name())
            .field("done", &self.done())
            .finish()
    }
}

/// Gives the other tasks a turn: the current task goes to the back of the ready
/// queue (asyncio's `await asyncio.sleep(0)`).
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Wake ourselves first: the loop queues us behind everybody already waiting.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
