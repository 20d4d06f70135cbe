//! Watching many tasks at once: the one mechanism behind `gather`, `wait`,
//! `as_completed` and `TaskGroup`, with the policy that tells them apart.
//!
//! asyncio's `gather`, `wait`, `as_completed` and `TaskGroup` are four functions with
//! four implementations (done-callbacks in `gather`, a counter in `_wait`, a queue in
//! `as_completed`, `_on_task_done` in `TaskGroup`). They all do the same thing:
//! learn, in order, which child just finished, and decide what that means. Here
//! that is one `Watch` and one `Policy` (both crate-private; read them in the source):
//!
//! ```text
//!   child 0 ──finish──> ChildWaker{0} ──push 0──┐
//!   child 1 ──finish──> ChildWaker{1} ──push 1──┤    finished: [2, 0, ...]
//!   child 2 ──finish──> ChildWaker{2} ──push 2──┘        │ wake the parent
//!                                                        v
//!   parent (gather / wait / group):  poll_next() -> Some(2), then Some(0), ...
//!                                    policy.after(child 2 failed?) -> go on / stop / cancel the rest
//! ```
//!
//! Each child gets its own waker that knows the child's index: when the child
//! finishes, its waker pushes the index into a shared queue and wakes the parent.
//! The parent never polls the children that are still running, so watching n
//! children costs O(n) in all, not O(n) per wake-up.
//!
//! | policy              | used by                                        | a failure...                       | stops when          |
//! |---------------------|------------------------------------------------|------------------------------------|---------------------|
//! | `FailFast`          | `gather`                                       | is the result, at once; others run on | first failure or all done |
//! | `CollectAll`        | `gather(..).return_exceptions()`, `wait(ALL_COMPLETED)` | is kept with the others     | all done            |
//! | `FirstCompleted`    | `wait(FIRST_COMPLETED)`                        | counts as done                     | first done          |
//! | `FirstException`    | `wait(FIRST_EXCEPTION)`                        | stops the wait                     | first failure or all done |
//! | `CancelOnFailure`   | `TaskGroup`                                    | cancels every other child          | all done            |

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use crate::task::{Task, TaskError};

/// What one child's end means to its siblings and to whoever waits for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Policy {
    FailFast,
    CollectAll,
    FirstCompleted,
    FirstException,
    CancelOnFailure,
}

/// What the watcher does after a child finished.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Keep waiting for the others.
    GoOn,
    /// Done waiting: give the result now.
    Stop,
    /// Cancel every child still running, then keep waiting for them to finish.
    CancelTheRest,
}

impl Policy {
    /// The decision after a child ended; `failed` says whether it panicked or was
    /// cancelled, `panicked` whether it panicked.
    pub(crate) fn after(self, failed: bool, panicked: bool, remaining: usize) -> Next {
        if remaining == 0 {
            return Next::Stop;
        }
        match self {
            Policy::FailFast if failed => Next::Stop,
            Policy::FirstException if failed => Next::Stop,
            Policy::FirstCompleted => Next::Stop,
            // A child the group cancelled itself is not a new failure.
            Policy::CancelOnFailure if panicked => Next::CancelTheRest,
            _ => Next::GoOn,
        }
    }
}

/// A child as the watcher sees it: done yet? failed? cancel it. Implemented by
/// every `Task<T>`, so a task group can watch tasks of different types.
pub(crate) trait Watched: Send {
    /// Registers `cx`'s waker for the child's end; true if it has ended already.
    fn poll_done(&self, cx: &mut Context<'_>) -> bool;
    /// The child panicked or was cancelled.
    fn failed(&self) -> bool;
    /// The child panicked.
    fn panicked(&self) -> bool;
    /// The child's panic or cancellation (marks it as retrieved).
    fn error(&self) -> Option<TaskError>;
    /// Asks the child to stop.
    fn cancel(&self) -> bool;
}

impl<T: Send> Watched for Task<T> {
    fn poll_done(&self, cx: &mut Context<'_>) -> bool {
        Task::poll_done(self, cx)
    }

    fn failed(&self) -> bool {
        Task::failed(self)
    }

    fn panicked(&self) -> bool {
        Task::panicked(self)
    }

    fn error(&self) -> Option<TaskError> {
        self.exception().ok().flatten()
    }

    fn cancel(&self) -> bool {
        Task::cancel(self)
    }
}

/// A boxed child is watched like the child itself (task groups hold children of
/// different types this way).
impl Watched for Box<dyn Watched> {
    fn poll_done(&self, cx: &mut Context<'_>) -> bool {
        (**self).poll_done(cx)
    }

    fn failed(&self) -> bool {
        (**self).failed()
    }

    fn panicked(&self) -> bool {
        (**self).panicked()
    }

    fn error(&self) -> Option<TaskError> {
        (**self).error()
    }

    fn cancel(&self) -> bool {
        (**self).cancel()
    }
}

/// Indices of the children that finished, in the order they finished.
struct Finished {
    queue: Mutex<FinishedQueue>,
}

struct FinishedQueue {
    indices: VecDeque<usize>,
    parent: Option<Waker>,
}

/// The waker handed to child `index`: records the index, wakes the parent.
struct ChildWaker {
    index: usize,
    finished: Arc<Finished>,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let parent = {
            let mut queue = self
                .finished
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            queue.indices.push_back(self.index);
            queue.parent.clone()
        };
        // Wake outside the lock.
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

/// Watches a set of children and reports each one's end, in order.
pub(crate) struct Watch<C> {
    children: Vec<C>,
    finished: Arc<Finished>,
    registered: bool,
    remaining: usize,
}

impl<C: Watched> Watch<C> {
    /// The decision `policy` takes about child `index`, which just finished.
    pub(crate) fn decide(&self, policy: Policy, index: usize) -> Next {
        let child = &self.children[index];
        policy.after(child.failed(), child.panicked(), self.remaining)
    }

    pub(crate) fn new(children: Vec<C>) -> Watch<C> {
        let remaining = children.len();
        Watch {
            children,
            finished: Arc::new(Finished {
                queue: Mutex::new(FinishedQueue {
                    indices: VecDeque::new(),
                    parent: None,
                }),
            }),
            registered: false,
            remaining,
        }
    }

    pub(crate) fn children(&self) -> &[C] {
        &self.children
    }

    pub(crate) fn into_children(self) -> Vec<C> {
        self.children
    }

    /// How many children have not been reported yet.
    pub(crate) fn remaining(&self) -> usize {
        self.remaining
    }

    /// The index of the next child that finished; `Ready(None)` once every child
    /// has been reported.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<usize>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let mut queue = self
            .finished
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match &queue.parent {
            Some(parent) if parent.will_wake(cx.waker()) => {}
            _ => queue.parent = Some(cx.waker().clone()),
        }
        if !self.registered {
            self.registered = true;
            drop(queue);
            // First poll: hand each child its own waker. A child that finished
            // already is queued directly.
            let mut done_already = Vec::new();
            for (index, child) in self.children.iter().enumerate() {
                let waker = self.child_waker(index);
                if child.poll_done(&mut Context::from_waker(&waker)) {
                    done_already.push(index);
                }
            }
            queue = self
                .finished
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            queue.indices.extend(done_already);
        }
        match queue.indices.pop_front() {
            Some(index) => {
                self.remaining -= 1;
                Poll::Ready(Some(index))
            }
            None => Poll::Pending,
        }
    }

    /// Adds a child to watch: a task group's child spawned after the watch began.
    /// Call it from the parent's poll (it then calls `poll_next`, which reports the
    /// child if it has already finished).
    pub(crate) fn push(&mut self, child: C) {
        let index = self.children.len();
        if self.registered {
            let waker = self.child_waker(index);
            if child.poll_done(&mut Context::from_waker(&waker)) {
                let mut queue = self
                    .finished
                    .queue
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                queue.indices.push_back(index);
            }
        }
        self.children.push(child);
        self.remaining += 1;
    }

    /// The waker handed to child `index`.
    fn child_waker(&self, index: usize) -> Waker {
        Waker::from(Arc::new(ChildWaker {
            index,
            finished: self.finished.clone(),
        }))
    }

    /// Cancels every child not reported yet.
    pub(crate) fn cancel_rest(&self) {
        for child in &self.children {
            child.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_stop_where_their_names_say() {
        use Next::*;
        use Policy::*;
        // (policy, failed, panicked, remaining) -> next
        let cases = [
            (FailFast, false, false, 2, GoOn),
            (FailFast, true, true, 2, Stop),
            (FailFast, true, false, 2, Stop), // a cancelled child fails a gather
            (CollectAll, true, true, 2, GoOn),
            (FirstCompleted, false, false, 2, Stop),
            (FirstException, false, false, 2, GoOn),
            (FirstException, true, true, 2, Stop),
            (CancelOnFailure, true, true, 2, CancelTheRest),
            (CancelOnFailure, true, false, 2, GoOn),
            (CancelOnFailure, false, false, 0, Stop),
            (CollectAll, false, false, 0, Stop),
        ];
        for (policy, failed, panicked, remaining, expected) in cases {
            assert_eq!(
                policy.after(failed, panicked, remaining),
                expected,
                "{policy:?} failed={failed} panicked={panicked} remaining={remaining}"
            );
        }
    }
}
