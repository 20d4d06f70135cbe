//! The task's one allocation: a header, the future, and the slot for its outcome.
//!
//! ```text
//!   Arc<Cell<F>>  (one heap allocation per task)
//!   +----------------------------------------------------------+
//!   | header: state (atomic), id, the runtime it belongs to   |  <- wakers and the
//!   | future: Mutex<Option<F>>    polled by the loop; None     |     ready queue hold
//!   |                             once the task is finished    |     Arc<dyn Runnable>,
//!   | meta:   Mutex<Meta>         name, outcome (value, panic  |     the handle holds
//!   |                             or cancellation), the waker  |     Arc<dyn Joinable<T>>
//!   |                             of whoever awaits the task   |
//!   +----------------------------------------------------------+
//! ```
//!
//! CPython splits the same roles between `Task` (it drives the coroutine: `__step`)
//! and its base class `Future` (the result, the exception, the done-callbacks). Here
//! the loop sees the cell through [`Runnable`] ("poll me once") and the [`Task`]
//! handle sees it through [`Joinable`] ("is my value there?"): two views of one
//! allocation, so a task costs a single `malloc`.
//!
//! [`Task`]: crate::task::Task

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use futures_task::{ArcWake, waker_ref};

use super::state::{Start, State};
use crate::panics::lock;
use crate::runtime::Scheduler;

/// How a task ended.
pub(crate) enum Outcome<T> {
    /// It returned a value.
    Value(T),
    /// It panicked; the payload is kept so `.await` can re-raise the very same panic.
    Panicked(Box<dyn Any + Send>),
    /// It was cancelled (or still pending when its runtime shut down).
    Cancelled,
}

/// Where the outcome waits for the handle.
pub(crate) enum Slot<T> {
    /// Not finished. The wakers of whoever awaits it, each under the id of the
    /// handle that registered it (the owner's handle, a gather or a task group
    /// watching it): one entry per handle, replaced when the same handle polls again.
    Running(Awaiters),
    /// Finished; the outcome is here.
    Finished(Outcome<T>),
    /// Finished, and `await` or `join` moved the outcome out.
    Taken,
}

/// Everything about a task that the handle reads, under one lock.
pub(crate) struct Meta<T> {
    /// Set by `Task::set_name`; `None` means the default `Task-<id>`.
    pub(crate) name: Option<Box<str>>,
    pub(crate) slot: Slot<T>,
    /// Handles alive (the owner's, plus any a gather or group holds).
    pub(crate) handles: u32,
    /// Ids given to handles so far.
    pub(crate) next_handle_id: u32,
    /// Somebody looked at the outcome (await, join, result, exception): a failure
    /// that nobody looked at is reported in debug mode.
    pub(crate) retrieved: bool,
}

impl<T> Meta<T> {
    /// Registers `waker` for the handle `id` while the task runs.
    pub(crate) fn register(&mut self, id: u32, waker: &Waker) {
        if let Slot::Running(awaiters) = &mut self.slot {
            awaiters.register(id, waker);
        }
    }
}

/// The wakers of whoever awaits a running task, by handle id. Nearly always one
/// (the owner awaiting its task) or none, so that case lives inline: awaiting a
/// task costs no allocation beyond the waker's own reference count.
#[derive(Default)]
pub(crate) enum Awaiters {
    #[default]
    None,
    One(u32, Waker),
    Many(Vec<(u32, Waker)>),
}

impl Awaiters {
    fn register(&mut self, id: u32, waker: &Waker) {
        match self {
            Awaiters::None => *self = Awaiters::One(id, waker.clone()),
            Awaiters::One(owner, old) if *owner == id => {
                if !old.will_wake(waker) {
                    *old = waker.clone();
                }
            }
            Awaiters::One(..) => {
                let Awaiters::One(owner, old) = std::mem::take(self) else {
                    unreachable!("matched One just above")
                };
                *self = Awaiters::Many(vec![(owner, old), (id, waker.clone())]);
            }
            Awaiters::Many(all) => match all.iter_mut().find(|(owner, _)| *owner == id) {
                Some((_, old)) if old.will_wake(waker) => {}
                Some((_, old)) => *old = waker.clone(),
                None => all.push((id, waker.clone())),
            },
        }
    }

    /// Forgets handle `id`'s waker (the handle was dropped).
    pub(crate) fn remove(&mut self, id: u32) -> Option<Waker> {
        match self {
            Awaiters::One(owner, _) if *owner == id => match std::mem::take(self) {
                Awaiters::One(_, waker) => Some(waker),
                _ => unreachable!("matched One just above"),
            },
            Awaiters::Many(all) => {
                let index = all.iter().position(|(owner, _)| *owner == id)?;
                Some(all.swap_remove(index).1)
            }
            _ => None,
        }
    }

    /// Wakes every awaiter (the task finished).
    fn wake_all(self) {
        match self {
            Awaiters::None => {}
            Awaiters::One(_, waker) => waker.wake(),
            Awaiters::Many(all) => all.into_iter().for_each(|(_, waker)| waker.wake()),
        }
    }
}

/// The part of a task that neither the loop nor the handle needs to know the type of.
pub(crate) struct Header {
    pub(crate) state: State,
    /// Per-runtime counter, for the default name `Task-<id>` as in asyncio.
    pub(crate) id: u64,
    /// Where a wake-up sends the task back to.
    pub(crate) scheduler: Arc<Scheduler>,
    /// Index in the runtime's list of live tasks (set when the loop registers it).
    pub(crate) registry_index: std::sync::atomic::AtomicUsize,
}

/// The allocation itself.
pub(crate) struct Cell<F: Future> {
    pub(crate) header: Header,
    future: Mutex<Option<F>>,
    meta: Mutex<Meta<F::Output>>,
}

/// The loop's view of a task: poll it once, or cancel it at shutdown.
pub(crate) trait Runnable: Send + Sync {
    fn header(&self) -> &Header;
    /// One step: asyncio's `Task.__step`.
    fn run(self: Arc<Self>);
    /// Drops the future now and records a cancellation (runtime shutdown).
    fn shut_down(&self);
    /// The task's name, for debug-mode warnings.
    fn name(&self) -> String;
}

/// The handle's view of a task: its outcome, typed.
pub(crate) trait Joinable<T>: Send + Sync {
    fn header(&self) -> &Header;
    fn meta(&self) -> MutexGuard<'_, Meta<T>>;
    /// Puts the task in its runtime's ready queue (after a successful `cancel`).
    fn schedule(self: Arc<Self>);
}

impl<F> Cell<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    pub(crate) fn new(future: F, id: u64, scheduler: Arc<Scheduler>) -> Arc<Cell<F>> {
        Arc::new(Cell {
            header: Header {
                state: State::new_scheduled(),
                id,
                scheduler,
                registry_index: std::sync::atomic::AtomicUsize::new(usize::MAX),
            },
            future: Mutex::new(Some(future)),
            meta: Mutex::new(Meta {
                name: None,
                slot: Slot::Running(Awaiters::None),
                handles: 1,
                next_handle_id: 1,
                retrieved: false,
            }),
        })
    }

    /// Stores the outcome, wakes whoever awaits it, then marks the task done and
    /// tells the runtime to forget it. The future was dropped before this.
    fn finish(&self, outcome: Outcome<F::Output>) {
        let (awaiters, unseen_panic) = {
            let mut meta = lock(&self.meta);
            if let Outcome::Panicked(payload) = &outcome {
                let name = name_of(&self.header, &meta);
                crate::panics::kept(
                    format_args!("task '{name}'"),
                    &**payload,
                    "stored on the task",
                );
            }
            // A panic with no handle left to report it: say so now (debug mode).
            let unseen_panic = match &outcome {
                Outcome::Panicked(payload) if meta.handles == 0 => Some((
                    name_of(&self.header, &meta),
                    crate::panics::message(&**payload),
                )),
                _ => None,
            };
            let awaiters = match std::mem::replace(&mut meta.slot, Slot::Finished(outcome)) {
                Slot::Running(awaiters) => awaiters,
                _ => Awaiters::None,
            };
            (awaiters, unseen_panic)
        };
        // Outcome first, DONE second: whoever sees `done()` finds the outcome there.
        self.header.state.complete();
        awaiters.wake_all();
        if let Some((task, message)) = unseen_panic {
            self.header
                .scheduler
                .exception_never_retrieved(task, message);
        }
    }

    /// Drops the future in place, catching a panic from its `Drop`.
    fn drop_future(&self, future: &mut Option<F>) -> Option<Box<dyn Any + Send>> {
        crate::panics::catch(|| *future = None).err()
    }
}

impl<F> Runnable for Cell<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn header(&self) -> &Header {
        &self.header
    }

    fn run(self: Arc<Self>) {
        match self.header.state.start_poll() {
            Start::Skip => {}
            Start::Cancel => {
                let mut future = lock(&self.future);
                // Cancellation is drop: the future's destructors run here, on the loop.
                let outcome = match self.drop_future(&mut future) {
                    Some(payload) => Outcome::Panicked(payload),
                    None => Outcome::Cancelled,
                };
                drop(future);
                self.finish(outcome);
                self.header.scheduler.forget(&self.header);
            }
            Start::Poll => {
                let waker = waker_ref(&self);
                let mut cx = Context::from_waker(&waker);
                let mut future = lock(&self.future);
                let Some(pinned) = future.as_mut() else {
                    return;
                };
                // SAFETY: the future lives inside the `Arc` allocation, which never
                // moves, and this code never moves it out of its `Option`: it is only
                // polled in place and dropped in place (set to `None`). That is the
                // promise `Pin` asks for.
                let pinned = unsafe { Pin::new_unchecked(pinned) };
                // A panic in the task is caught here, like an exception in a coroutine:
                // the loop and the other tasks go on, the panic is stored on the task.
                let polled = crate::panics::catch(|| pinned.poll(&mut cx));
                let outcome = match polled {
                    Ok(Poll::Pending) => {
                        drop(future);
                        if self.header.state.end_poll_pending() {
                            // Clone the task, not the scheduler: every task and every
                            // worker shares the scheduler's reference count, and
                            // bumping it on each re-queue made two workers fight
                            // over its cache line (perf: 3/4 of `run`'s time).
                            self.header.scheduler.schedule(self.clone());
                        }
                        return;
                    }
                    Ok(Poll::Ready(value)) => Outcome::Value(value),
                    Err(payload) => Outcome::Panicked(payload),
                };
                // The task is finished: drop its future now, not when the last waker
                // or handle goes away, so that what it holds is released at once.
                let outcome = match self.drop_future(&mut future) {
                    Some(payload) if !matches!(outcome, Outcome::Panicked(_)) => {
                        Outcome::Panicked(payload)
                    }
                    _ => outcome,
                };
                drop(future);
                self.finish(outcome);
                self.header.scheduler.forget(&self.header);
            }
        }
    }

    fn shut_down(&self) {
        let mut future = lock(&self.future);
        if future.is_none() {
            return;
        }
        let outcome = match self.drop_future(&mut future) {
            Some(payload) => Outcome::Panicked(payload),
            None => Outcome::Cancelled,
        };
        drop(future);
        self.finish(outcome);
    }

    fn name(&self) -> String {
        name_of(&self.header, &lock(&self.meta))
    }
}

impl<F> Joinable<F::Output> for Cell<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn header(&self) -> &Header {
        &self.header
    }

    fn meta(&self) -> MutexGuard<'_, Meta<F::Output>> {
        lock(&self.meta)
    }

    fn schedule(self: Arc<Self>) {
        let scheduler = self.header.scheduler.clone();
        scheduler.schedule(self);
    }
}

impl<F> ArcWake for Cell<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn wake_by_ref(arc_self: &Arc<Self>) {
        if arc_self.header.state.wake() {
            arc_self.header.scheduler.schedule(arc_self.clone());
        }
    }
}

/// `Task-<id>` unless the task was given a name.
pub(crate) fn name_of<T>(header: &Header, meta: &Meta<T>) -> String {
    match &meta.name {
        Some(name) => name.to_string(),
        None => format!("Task-{}", header.id),
    }
}
