//! Awaiting a task: the futures a [`Task`] handle gives, and `shield`.
//!
//! asyncio: `await task` (here `task.await` or [`Task::join`], which keeps the
//! error instead of re-raising it), `await asyncio.wait([task])` (here
//! [`Task::wait`]: done, whatever the outcome) and `asyncio.shield(task)`.
//!
//! ```text
//!   task.await      -> T               (a panic or a cancel is raised again)
//!   task.join()     -> Result<T, TaskError>
//!   task.wait()     -> ()              (the handle stays; read result() after)
//!   shield(task)    -> T, and dropping the await leaves the task running
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Task, TaskError, coop};

/// The future returned by [`Task::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<'a, T> {
    pub(super) task: &'a Task<T>,
}

impl<T> Future for Wait<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        std::task::ready!(coop::poll_budget(cx));
        if self.task.poll_done(cx) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// The future returned by [`Task::join`].
#[must_use = "futures do nothing unless awaited"]
pub struct Join<T> {
    pub(super) task: Task<T>,
}

impl<T> Future for Join<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        std::task::ready!(coop::poll_budget(cx));
        self.task.poll_bound(cx)
    }
}

/// Awaits a task without binding its fate to the awaiter (asyncio's
/// `asyncio.shield(task)`): if the await is dropped (the awaiter is cancelled, a
/// `wait_for` around it expires), the task runs on, detached, instead of being
/// cancelled. `shield(task).await` gives the value as `task.await` does.
///
/// asyncio's `shield` returns a new future and leaves you the task to await again
/// later; here the handle moves into the shield (one owner takes the value). To keep
/// the value of a task that outlives a cancelled awaiter, let the task put it
/// somewhere shared (a [`Promise`](crate::future::Promise), a channel).
pub fn shield<T>(task: Task<T>) -> Shield<T> {
    Shield { task }
}

/// The future returned by [`shield`].
#[must_use = "futures do nothing unless awaited; the task runs anyway"]
pub struct Shield<T> {
    pub(super) task: Task<T>,
}

impl<T> Shield<T> {
    /// The task handle back, unbound: dropping it detaches the task.
    pub fn into_inner(self) -> Task<T> {
        self.task
    }
}

impl<T> Future for Shield<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        std::task::ready!(coop::poll_budget(cx));
        // `poll_outcome`, not `poll_bound`: the handle is never marked awaited.
        match self.task.poll_outcome(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(value)) => Poll::Ready(value),
            Poll::Ready(Err(error)) => error.raise(),
        }
    }
}

impl<T> fmt::Debug for Shield<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Shield").field(&self.task).finish()
    }
}
