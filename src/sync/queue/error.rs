//! What the queue's calls return when they cannot do their work: asyncio's
//! `asyncio.QueueFull`, `asyncio.QueueEmpty`, `asyncio.QueueShutDown` (Python 3.13),
//! and the `ValueError` of a `task_done()` called once too often.
//!
//! ```text
//!   asyncio                           clearloop
//!   put_nowait: QueueFull             Err(PutNowaitError::Full(item))      the item comes back
//!   put_nowait: QueueShutDown         Err(PutNowaitError::ShutDown(item))
//!   get_nowait: QueueEmpty            Err(GetNowaitError::Empty)
//!   get_nowait: QueueShutDown         Err(GetNowaitError::ShutDown)
//!   await put(x): QueueShutDown       checked_put(x).await: Err(QueueShutDown(x))
//!   await get():  QueueShutDown       checked_get().await:  Err(QueueShutDown(()))
//!   task_done(): ValueError           Err(TaskDoneError)
//! ```

use std::fmt;

/// [`Queue::put_nowait`](super::Queue::put_nowait) did not put the item; holds it.
pub enum PutNowaitError<T> {
    /// The queue is full, or putters are waiting before us (asyncio's `QueueFull`).
    Full(T),
    /// The queue was shut down (asyncio's `QueueShutDown`): it takes no more items.
    ShutDown(T),
}

impl<T> PutNowaitError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            PutNowaitError::Full(item) | PutNowaitError::ShutDown(item) => item,
        }
    }

    /// Whether the queue was shut down (then no later put can succeed either).
    pub fn is_shut_down(&self) -> bool {
        matches!(self, PutNowaitError::ShutDown(_))
    }
}

impl<T> fmt::Debug for PutNowaitError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PutNowaitError::Full(_) => "Full(..)",
            PutNowaitError::ShutDown(_) => "ShutDown(..)",
        })
    }
}

impl<T> fmt::Display for PutNowaitError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutNowaitError::Full(_) => f.write_str(
                "the queue is full (or putters are waiting before us); `.await` put() to wait \
                 for a free place",
            ),
            PutNowaitError::ShutDown(_) => f.write_str(SHUT_DOWN_PUT),
        }
    }
}

impl<T> std::error::Error for PutNowaitError<T> {}

// Equality ignores nothing: two errors are equal if they say the same about equal items.
impl<T: PartialEq> PartialEq for PutNowaitError<T> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (PutNowaitError::Full(a), PutNowaitError::Full(b))
            | (PutNowaitError::ShutDown(a), PutNowaitError::ShutDown(b)) => a == b,
            _ => false,
        }
    }
}

/// [`Queue::get_nowait`](super::Queue::get_nowait) found no item to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetNowaitError {
    /// No free item now (asyncio's `QueueEmpty`): none at all, or all promised to
    /// getters that were waiting before us.
    Empty,
    /// The queue was shut down and no free item is left (asyncio's
    /// `QueueShutDown`): none will ever come.
    ShutDown,
}

impl fmt::Display for GetNowaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetNowaitError::Empty => f.write_str(
                "the queue is empty (or its items are promised to getters waiting before us); \
                 `.await` get() to wait for an item",
            ),
            GetNowaitError::ShutDown => f.write_str(SHUT_DOWN_GET),
        }
    }
}

impl std::error::Error for GetNowaitError {}

/// The queue was shut down ([`Queue::shutdown`](super::Queue::shutdown)): asyncio's
/// `QueueShutDown`, returned by [`checked_put`](super::Queue::checked_put) (holding
/// the item that was not put) and [`checked_get`](super::Queue::checked_get)
/// (holding `()`: no item was left to take).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QueueShutDown<T = ()>(pub T);

impl<T> QueueShutDown<T> {
    /// The item that was not put (`()` for a get).
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueShutDown")
    }
}

impl<T> fmt::Display for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the queue is shut down (shutdown() was called): it takes no more items, and \
             get() gives only the items left in it (asyncio raises QueueShutDown here); \
             end the loop that puts or gets on this error",
        )
    }
}

impl<T> std::error::Error for QueueShutDown<T> {}

/// What a put on a shut-down queue says.
pub(super) const SHUT_DOWN_PUT: &str = "the queue is shut down (shutdown() was called): it takes no more items (asyncio raises \
     QueueShutDown here); stop producing once you shut it down";

/// What a get on a shut-down, empty queue says.
pub(super) const SHUT_DOWN_GET: &str = "the queue is shut down (shutdown() was called) and no item is left: none will come \
     (asyncio raises QueueShutDown here); end the consumer's loop on this error";

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
