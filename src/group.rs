//! Structured concurrency: a `TaskGroup` whose tasks never outlive it.
//!
//! asyncio 3.11's `TaskGroup` is used with `async with`:
//!
//! ```python
//! async with asyncio.TaskGroup() as tg:
//!     t1 = tg.create_task(fetch("a"))
//!     t2 = tg.create_task(fetch("b"))
//! # here both are done; if one failed, the other was cancelled
//! ```
//!
//! Rust has no `async with`, so leaving the block is an explicit
//! [`TaskGroup::wait`], which consumes the group:
//!
//! ```text
//!   let mut group = TaskGroup::new();
//!   let t1 = group.spawn(fetch("a"));   ─┐  both run at once
//!   let t2 = group.spawn(fetch("b"));   ─┘
//!   group.wait().await?;                 <- waits for both. The first panic cancels
//!                                           every other child; then every panic is
//!                                           reported together (asyncio's ExceptionGroup)
//! ```
//!
//! A group dropped without `wait` (the code that owned it was cancelled, or
//! returned early) cancels its children: nothing it started runs on unseen. The
//! handles `spawn` returns still work: await them, or ask `result()` after `wait`.
//!
//! The group is [`crate::children`]'s mechanism with the `CancelOnFailure` policy.

use std::fmt;
use std::future::Future;

use crate::children::{Next, Policy, Watch, Watched};
use crate::runtime::spawn;
use crate::task::{Task, TaskError};

/// A set of tasks that end together (asyncio's `TaskGroup`).
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

    /// Spawns a task in the group (asyncio's `tg.create_task`). The returned handle
    /// is yours; the group keeps a second one to watch the task.
    ///
    /// # Panics
    ///
    /// Outside a running runtime.
    pub fn spawn<F>(&mut self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let task = spawn(future);
        self.children.push(Box::new(task.watcher()));
        task
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
