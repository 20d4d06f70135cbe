//! What the queue's non-waiting calls return when they cannot do their work: asyncio's
//! `asyncio.QueueFull`, `asyncio.QueueEmpty`, and the `ValueError` of a `task_done()`
//! called once too often.

use std::fmt;

/// [`Queue::put_nowait`](super::Queue::put_nowait) found the queue full; holds the
/// item that was not put.
pub struct QueueFull<T>(pub T);

impl<T> QueueFull<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for QueueFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueFull(..)")
    }
}

impl<T> fmt::Display for QueueFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the queue is full (or putters are waiting before us); `.await` put() to wait for a \
             free place",
        )
    }
}

impl<T> std::error::Error for QueueFull<T> {}

/// [`Queue::get_nowait`](super::Queue::get_nowait) found no item to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueEmpty;

impl fmt::Display for QueueEmpty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the queue is empty (or its items are promised to getters waiting before us); \
             `.await` get() to wait for an item",
        )
    }
}

impl std::error::Error for QueueEmpty {}

/// [`Queue::task_done`](super::Queue::task_done) was called more times than items were put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "task_done() called more times than items were put in the queue (asyncio raises \
             ValueError here): call it once per item taken with get()",
        )
    }
}

impl std::error::Error for TaskDoneError {}
