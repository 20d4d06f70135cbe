//! The task's one allocation: a header, the future, and the slot for its outcome.
//!
//! ```text
//!   Arc<Cell<F, S>>: one heap allocation per task (bytes for a trivial future)
//!   +-------------------------------------------------------------+
//!   | strong, weak    the Arc's two counts                    16  |
//!   | header          state | traced | future_gone |          24  |  <- wakers and the
//!   |                 retrieved | registry index (u32) |          |     ready queue hold
//!   |                 id (u64) | wait word (u64)                  |     Arc<dyn Runnable>,
//!   | scheduler       Arc<S>: where a wake-up sends the task   8  |     the handle holds
//!   | meta            Mutex<Meta>: the slot (the awaiters'    48  |     Arc<dyn Joinable<T>>
//!   |                 wakers, then the outcome), handle counts,   |
//!   |                 extras (name, cancel message, callbacks)    |
//!   | future          F itself, in place, no lock: the state   0  |
//!   |                 grants it (+ F's own size)                  |
//!   +-------------------------------------------------------------+  96 bytes
//! ```
//!
//! CPython splits the same roles between `Task` (it drives the coroutine: `__step`)
//! and its base class `Future` (the result, the exception, the done-callbacks). Here
//! the loop sees the cell through [`Runnable`] ("poll me once") and the [`Task`]
//! handle sees it through [`Joinable`] ("is my value there?"): two views of one
//! allocation, so a task costs a single `malloc`.
//!
//! ## The task knows its scheduler, through a trait
//!
//! A task must find its way back to a ready queue when it is woken, from any thread,
//! long after `spawn` returned: so the cell holds an `Arc` of its runtime's
//! scheduler. It holds it through the [`Schedule`] trait (tokio's `Schedule` trait
//! plays the same part), not the concrete type, so that this module does not import
//! the runtime: the runtime builds on tasks, tasks do not build on the runtime. The
//! cell is generic over the scheduler, so the call is static (no vtable on a wake),
//! and the only scheduler there is, `RuntimeCore`, is the one type it is built with.
//!
//! asyncio's `Task` keeps its loop too (`self._loop`), and calls
//! `self._loop.call_soon(self.__step)` whenever it must run again.
//!
//! ## Who may touch what
//!
//! * `header.state`: anybody, any thread, by atomic read-modify-writes
//!   (the [`state`](super::state) module).
//! * `future`: only the thread that holds RUNNING, won by `start_poll` (the loop,
//!   or one worker) or by `start_shutdown` (the runtime's drop, after every worker
//!   has stopped); and the cell's `Drop`, which holds the last reference. No lock:
//!   the state machine is the lock.
//! * `meta`: the handles and the loop, each under the lock, never while user code
//!   runs (a waker is woken, and an output dropped, after the lock is released).
//!
//! ## The state machine is the lock
//!
//! The future is polled on every turn of the task, so it has no `Mutex`: the
//! RUNNING bit of the state already lets one thread at a time poll it (a second
//! `start_poll` skips a RUNNING task), and a lock would only check that again at
//! the price of two locked instructions a poll. The future sits in an
//! `UnsafeCell`, and each access says, in its `// SAFETY:` comment, which
//! transition granted it (`cell/future.rs` draws them, and a `loom` model there
//! checks them from several threads):
//!
//! ```text
//!   start_poll:     SCHEDULED -> RUNNING      grants: poll the future; drop it
//!                   (skips DONE, RUNNING)     (Ready, panic, or CANCEL set)
//!   end_poll_pending: RUNNING -> idle         gives the grant back
//!   complete:       -> DONE                   the future is gone for good
//!   start_shutdown: idle -> RUNNING           grants: drop it (runtime shutdown)
//!   Drop of the cell (&mut, last reference)   grants: drop it if still there
//!   wake, cancel:   set SCHEDULED / CANCEL    grant nothing: never touch it
//! ```
//!
//! `meta` keeps its lock: the handles read and write it from any thread while the
//! task runs, with no transition to say who may.
//!
//! How a task ends (its outcome stored, its awaiters woken, its callbacks queued) is
//! in `finish.rs`.
//!
//! ## Where an idle task's bytes go
//!
//! A task spawned and parked forever costs its cell (96 bytes), its slot in the
//! runtime's registry (16: an `Arc<dyn Runnable>`, in pages that never double, see
//! `src/runtime/scheduler.rs`), and its share of the ready queue it passed through
//! (16 a task, up to twice that while the queue's capacity is half used): about 125
//! bytes at 100,000 tasks, 121 at a million. tokio's idle task costs 136 to 138 (its
//! cell is 128 bytes, and aligned to 128).
//!
//! The cell reached 96 bytes (from 120) by packing, not by cleverness: what every
//! task carries is inline, what few tasks use is boxed on first use. The wait word
//! (8 bytes, `wait.rs`) then took it to 104, and the future's `Mutex` (8 bytes: a
//! futex word, a poison flag, the `Option`'s tag, padding) paid them back.
//!
//! * The header's small fields share one word: a `u32` registry index instead of a
//!   `usize` (four billion live tasks would need 400 GB), and `retrieved` moved here
//!   from `Meta`, where a `bool` cost 8 bytes of padding.
//! * [`Awaiters::Many`] (several handles awaiting one task) holds a `Box<Vec>`, and
//!   [`Outcome::Panicked`] a thin [`Panic`]: inline, each made every slot 8 bytes
//!   bigger for a case few tasks meet.
//! * The future has no `Mutex` and no `Option` (see "The state machine is the
//!   lock"); whether it is still there is a flag in the header's spare byte.
//! * One word stays that `unsafe` code could remove (tokio does): the `Arc`'s weak
//!   count. A test, `a_trivial_task_is_one_96_byte_allocation`, keeps the figures
//!   honest.
//!
//! [`Task`]: crate::task::Task

use std::any::Any;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use futures_task::{ArcWake, waker_ref};

use super::state::{AfterPoll, AfterWake, Start, State};
use crate::panics::{catch, lock, report};

mod finish;
mod future;

use future::FutureCell;

/// How a task ended.
pub(crate) enum Outcome<T> {
    /// It returned a value.
    Value(T),
    /// It panicked; the payload is kept so `.await` can re-raise the very same panic.
    Panicked(Panic),
    /// It was cancelled (or still pending when its runtime shut down).
    Cancelled,
}

/// What the tracer records of an outcome: how the task ended, not its value
/// (`Cell::finish` hands `&outcome` to the tracer, which converts it only when it
/// records). The conversion lives here, beside the type: the task calls the tracer,
/// the tracer does not know the task's types.
impl<T> From<&Outcome<T>> for crate::trace::Outcome {
    fn from(outcome: &Outcome<T>) -> crate::trace::Outcome {
        match outcome {
            Outcome::Value(_) => crate::trace::Outcome::Value,
            Outcome::Panicked(payload) => {
                crate::trace::Outcome::Panic(crate::panics::message(&**payload))
            }
            Outcome::Cancelled => crate::trace::Outcome::Cancelled,
        }
    }
}

/// A panic's payload, boxed once more: `catch_unwind` gives a fat pointer (16 bytes),
/// which made [`Outcome`] three words and every task's [`Slot`] 8 bytes bigger, for
/// a case few tasks meet. A thin `Box` keeps `Outcome<()>` at two words; the price is
/// one more allocation when a task panics. It derefs to the payload itself, so
/// `&**payload` reads as it did.
pub(crate) struct Panic(Box<Box<dyn Any + Send>>);

impl Panic {
    /// Keeps `payload` (the `Err` of a `catch`).
    pub(crate) fn new(payload: Box<dyn Any + Send>) -> Panic {
        Panic(Box::new(payload))
    }

    /// The payload as `catch_unwind` gave it, to raise again or hand over.
    pub(crate) fn into_payload(self) -> Box<dyn Any + Send> {
        *self.0
    }
}

impl std::ops::Deref for Panic {
    type Target = dyn Any + Send;

    fn deref(&self) -> &(dyn Any + Send) {
        &**self.0
    }
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
    /// Running (with its awaiters), finished (with the outcome), or taken.
    pub(crate) slot: Slot<T>,
    /// Handles alive (the owner's, plus any a gather or group holds).
    pub(crate) handles: u32,
    /// Ids given to handles so far.
    pub(crate) next_handle_id: u32,
    /// What few tasks use (a name, a cancel message, done-callbacks), boxed on
    /// first use: one pointer in every task, nothing to drop or move for the others.
    pub(crate) extras: Option<Box<Extras>>,
}

/// The rarely used part of [`Meta`].
#[derive(Default)]
pub(crate) struct Extras {
    /// Set by `Task::set_name`; `None` means the default `Task-<id>`.
    pub(crate) name: Option<Box<str>>,
    /// The message of `cancel_with`, for the cancellation error.
    pub(crate) cancel_message: Option<Arc<str>>,
    /// `add_done_callback`'s callbacks, in the order they were added, by id. Run by
    /// the loop after the task finished (`call_soon`), never inside its last poll.
    pub(crate) callbacks: Vec<(u32, Callback)>,
}

impl<T> Meta<T> {
    /// `cancel_with`'s message, if any.
    pub(crate) fn cancel_message(&self) -> Option<Arc<str>> {
        self.extras.as_ref()?.cancel_message.clone()
    }

    /// The extras, made on first use.
    pub(crate) fn extras(&mut self) -> &mut Extras {
        self.extras.get_or_insert_with(Box::default)
    }
}

/// A done-callback, with the handle it was given bound in.
pub(crate) type Callback = Box<dyn FnOnce() + Send>;

thread_local! {
    /// While `cancel_now` drops a cancelled task's future: that task's
    /// `cancel_with` message, so that a task it was awaiting, cancelled by the
    /// dropped await, is cancelled with the same message (asyncio passes `msg` on
    /// to the future the task waits for).
    static CANCELLING: std::cell::RefCell<Option<Arc<str>>> = const { std::cell::RefCell::new(None) };
}

/// The message of the cancellation whose drop is running on this thread, if any.
pub(crate) fn cancelling_message() -> Option<Arc<str>> {
    CANCELLING
        .try_with(|message| message.borrow().clone())
        .ok()
        .flatten()
}

/// Runs the done-callbacks of task `name` soon, on the loop (asyncio's
/// `call_soon`): one small unregistered task polls them, in order, each under
/// [`catch`]. Unregistered: it has no name, no handle, and is not in
/// `live_tasks()`; a runtime that shuts down before its turn drops it unrun.
pub(crate) fn call_soon<S: Schedule>(
    scheduler: &Arc<S>,
    name: String,
    callbacks: Vec<(u32, Callback)>,
) {
    let task = format!("task '{name}'");
    let run_them = async move {
        for (_, callback) in callbacks {
            if let Err(payload) = catch(callback) {
                report(
                    format_args!("a done callback of task '{name}'"),
                    &*payload,
                    "the other callbacks still run",
                );
            }
        }
    };
    let cell = Cell::new(run_them, 0, scheduler.clone());
    // Named, for debug mode's slow-poll warning and a tracer.
    lock(&cell.meta).extras().name = Some(format!("done callbacks of {task}").into_boxed_str());
    scheduler.schedule(cell);
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
    /// Nobody awaits the task.
    None,
    /// One handle awaits it (the usual case): inline, no allocation.
    One(u32, Waker),
    /// Several handles (a gather or a group beside the owner). Boxed: a `Vec` inline
    /// (three words) would make every task's slot 8 bytes bigger for a case few
    /// tasks meet; the box is one word, and one more allocation only then.
    #[expect(
        clippy::box_collection,
        reason = "one word instead of three in every task, see the doc above"
    )]
    Many(Box<Vec<(u32, Waker)>>),
}

impl Awaiters {
    /// Stores handle `id`'s waker, replacing the one it stored before.
    fn register(&mut self, id: u32, waker: &Waker) {
        match self {
            Awaiters::None => {
                // Not `*self = ..`: that assignment calls the drop glue of the old
                // value, out of line since `Many` is boxed, on every first await
                // (callgrind: 14 instructions). The old value is `None`: nothing to drop.
                let none = std::mem::replace(self, Awaiters::One(id, waker.clone()));
                std::mem::forget(none);
            }
            Awaiters::One(owner, old) if *owner == id => {
                if !old.will_wake(waker) {
                    *old = waker.clone();
                }
            }
            Awaiters::One(..) => {
                let Awaiters::One(owner, old) = std::mem::take(self) else {
                    unreachable!("matched One just above")
                };
                *self = Awaiters::Many(Box::new(vec![(owner, old), (id, waker.clone())]));
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
            Awaiters::Many(all) => (*all).into_iter().for_each(|(_, waker)| waker.wake()),
        }
    }
}

/// What a task needs from the runtime that runs it (tokio's `Schedule` trait): a
/// way back into a ready queue, and somewhere to say it finished.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// Puts a woken task back in a ready queue (asyncio's `call_soon`, or
    /// `call_soon_threadsafe` from another thread).
    fn schedule(&self, task: Arc<dyn Runnable>);
    /// A wake-up's fast way in: on the thread that runs this task's loop, puts
    /// `task` straight in its queue (`None`); anywhere else hands it back, for
    /// [`schedule`](Schedule::schedule). Never drops `task`: a by-value wake-up
    /// calls it through a pointer to the scheduler that `task` keeps alive.
    fn push_here<R: Runnable + 'static>(&self, task: Arc<R>) -> Option<Arc<R>> {
        Some(task)
    }
    /// The task finished: the runtime forgets it (its registry lets go of it).
    fn release(&self, header: &Header);
    /// Debug mode: a task panicked and nobody looked at the panic.
    fn exception_never_retrieved(&self, task: String, message: String);
    /// The cooperative budget each poll starts with ([`coop`](super::coop)).
    fn budget(&self) -> u32;
    /// The runtime's trace recorder, when tracing is on ([`crate::trace`]).
    fn trace(&self) -> Option<&Arc<crate::trace::Recorder>>;
}

/// The part of a task that neither the loop nor the handle needs to know the type of.
/// 24 bytes: four one-byte fields and a `u32` share the first word, the id has
/// the second, the wait word the third (a test keeps it so).
pub(crate) struct Header {
    /// Queued, running, done, cancelled: the bits of [`State`].
    pub(crate) state: State,
    /// Its runtime records a trace ([`crate::trace`]): the poll's one branch.
    pub(crate) traced: bool,
    /// The future was dropped (or is being dropped) for good: set by the holder of
    /// RUNNING just before it drops it, read by a holder and by the cell's `Drop`
    /// (`cell/future.rs`). It takes the header's spare byte: a flag beside the
    /// future would cost 8 bytes of padding for a small future.
    future_gone: AtomicBool,
    /// Somebody looked at the outcome left in place (`result`, `exception`): a panic
    /// that nobody looked at is reported in debug mode (`await` and `join` take the
    /// outcome out, which needs no flag). Read and written only under the `meta`
    /// lock; it lives here, as an atomic, because the header had a spare byte and
    /// `Meta` did not (in `Meta` this `bool` cost 8 bytes of padding).
    retrieved: AtomicBool,
    /// Where the runtime's registry keeps the task (set when it registers it;
    /// `u32::MAX` once it let go of it). 32 bits: four billion tasks alive at once
    /// would need some 400 GB, so a `usize` would only add padding.
    pub(crate) registry_index: AtomicU32,
    /// Per-runtime counter, for the default name `Task-<id>` as in asyncio.
    pub(crate) id: u64,
    /// What the task waited on at the end of its last poll, in one word
    /// ([`wait`](super::wait)): read by a deadlock report, written once a poll.
    pub(crate) waiting: AtomicU64,
}

impl Header {
    /// The header of task `id`, SCHEDULED, not registered yet.
    pub(crate) fn new(id: u64, traced: bool) -> Header {
        Header {
            state: State::new_scheduled(),
            traced,
            future_gone: AtomicBool::new(false),
            retrieved: AtomicBool::new(false),
            registry_index: AtomicU32::new(u32::MAX),
            id,
            waiting: AtomicU64::new(0),
        }
    }

    /// Marks the outcome as looked at (the caller holds the `meta` lock).
    pub(crate) fn set_retrieved(&self) {
        self.retrieved.store(true, Ordering::Relaxed);
    }

    /// Whether somebody looked at the outcome (the caller holds the `meta` lock,
    /// which orders this read after every `set_retrieved`).
    pub(crate) fn retrieved(&self) -> bool {
        self.retrieved.load(Ordering::Relaxed)
    }
}

/// The allocation itself.
pub(crate) struct Cell<F: Future, S> {
    /// What every view needs, whatever the future's type.
    pub(crate) header: Header,
    /// Where a wake-up sends the task back to.
    scheduler: Arc<S>,
    /// The future, polled and dropped in place, with no lock: RUNNING in the
    /// header's state grants it (`cell/future.rs`). Gone once `future_gone` is set.
    future: FutureCell<F>,
    /// The name, the outcome and the awaiters: what the handle reads.
    meta: Mutex<Meta<F::Output>>,
}

/// The loop's view of a task: poll it once, or cancel it at shutdown.
pub(crate) trait Runnable: Send + Sync {
    /// The state, the id, the registry index.
    fn header(&self) -> &Header;
    /// One step: asyncio's `Task.__step`. Returns the task itself when it was woken
    /// during the poll (NOTIFIED, `yield_now`): the caller puts it at the back of
    /// its own ready queue, with the reference the queue handed to `run`, so that a
    /// re-queue touches no reference count.
    #[must_use = "a task woken during its poll is lost if it is not queued again"]
    fn run(self: Arc<Self>) -> Option<Arc<dyn Runnable>>;
    /// Drops the future now and records a cancellation (runtime shutdown).
    fn shut_down(&self);
    /// The task's name, for debug-mode warnings and reports.
    fn name(&self) -> String;
}

/// The handle's view of a task: its outcome, typed.
pub(crate) trait Joinable<T>: Send + Sync {
    /// The state, the id.
    fn header(&self) -> &Header;
    /// The name, the outcome, the awaiters, under the task's lock.
    fn meta(&self) -> MutexGuard<'_, Meta<T>>;
    /// Puts the task in its runtime's ready queue (after a successful `cancel`).
    fn schedule(self: Arc<Self>);
    /// Debug mode: the last handle of a task whose panic nobody looked at is gone.
    fn exception_never_retrieved(&self, task: String, message: String);
    /// The runtime's trace recorder, when tracing is on.
    fn trace(&self) -> Option<&Arc<crate::trace::Recorder>>;
    /// Runs done-callbacks soon, on the loop (a callback added to a finished task).
    fn call_soon(&self, callbacks: Vec<(u32, Callback)>);
}

impl<F, S> Cell<F, S>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    /// The task's one allocation, SCHEDULED, with one handle counted (the one
    /// `spawn` returns).
    pub(crate) fn new(future: F, id: u64, scheduler: Arc<S>) -> Arc<Cell<F, S>> {
        Arc::new(Cell {
            header: Header::new(id, scheduler.trace().is_some()),
            scheduler,
            future: FutureCell::new(future),
            meta: Mutex::new(Meta {
                slot: Slot::Running(Awaiters::None),
                handles: 1,
                next_handle_id: 1,
                extras: None,
            }),
        })
    }

    /// Polls the future once (the `Start::Poll` branch of `run`); returns
    /// `AfterPoll::Requeue` when the task must go back to a ready queue.
    ///
    /// # Safety
    ///
    /// The caller won RUNNING (`start_poll` returned `Start::Poll`).
    unsafe fn poll_once(self: &Arc<Self>) -> AfterPoll {
        let waker = waker_ref(self);
        let mut cx = Context::from_waker(&waker);
        // A panic in the task is caught here, like an exception in a coroutine:
        // the loop and the other tasks go on, the panic is stored on the task.
        let budget = self.scheduler.budget();
        let (waiting, future) = (&self.header.waiting, &self.future);
        let mut poll = || {
            catch(|| {
                super::wait::polling(waiting, || {
                    super::coop::budgeted(budget, || {
                        // SAFETY: our caller won RUNNING, held until
                        // `end_poll_pending` or `complete` below; and the future is
                        // there: a task whose future is gone is DONE (or RUNNING for
                        // good, had its `finish` unwound), and `start_poll` skips both.
                        unsafe { future.poll(&mut cx) }
                    })
                })
            })
        };
        // Tracing off: one test of a byte of the header, already in cache.
        let polled = match self.header.traced {
            false => poll(),
            true => {
                crate::trace::hooks::poll_task(self.scheduler.trace(), self.header.id, poll, || {
                    self.header.state.notified_while_running()
                })
            }
        };
        let outcome = match polled {
            // `run` hands the task back to the loop or worker that popped it.
            Ok(Poll::Pending) => return self.header.state.end_poll_pending(),
            Ok(Poll::Ready(value)) => Outcome::Value(value),
            Err(payload) => Outcome::Panicked(Panic::new(payload)),
        };
        // The task is finished: drop its future now, not when the last waker
        // or handle goes away, so that what it holds is released at once. A
        // panic in that `Drop` becomes the outcome, unless the poll panicked.
        // SAFETY: RUNNING is still ours (`complete` comes in `finish`), and the
        // future is there: it was just polled.
        let outcome = match catch(|| unsafe { self.drop_future() }) {
            Err(payload) if !matches!(outcome, Outcome::Panicked(_)) => {
                Outcome::Panicked(Panic::new(payload))
            }
            _ => outcome,
        };
        self.finish(outcome);
        AfterPoll::Idle
    }

    /// Drops the future in place, for good: marks it gone first, so that a `Drop`
    /// that panics leaves a future that nobody drops a second time.
    ///
    /// # Safety
    ///
    /// The caller holds RUNNING, and the future is there (`future_gone` unset).
    unsafe fn drop_future(&self) {
        self.header.future_gone.store(true, Ordering::Relaxed);
        // SAFETY: the caller's promises, passed on.
        unsafe { self.future.drop_in_place() }
    }
}

/// The last reference is gone: a future still there (a task never run, or not
/// run to its end: a done-callbacks task dropped unrun at shutdown) is dropped
/// here, its panic reported, not raised on whichever thread let go last.
impl<F: Future, S> Drop for Cell<F, S> {
    fn drop(&mut self) {
        if *self.header.future_gone.get_mut() {
            return;
        }
        let future = &self.future;
        // SAFETY: `&mut self`: no other reference to the cell is left, so nobody
        // else can touch the future; and it is there (`future_gone` unset).
        if let Err(payload) = catch(|| unsafe { future.drop_in_place() }) {
            report(
                format_args!("the future of task 'Task-{}'", self.header.id),
                &*payload,
                "it panicked when dropped with the task's last reference; the runtime goes on",
            );
        }
    }
}

impl<F, S> Runnable for Cell<F, S>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    fn header(&self) -> &Header {
        &self.header
    }

    fn run(self: Arc<Self>) -> Option<Arc<dyn Runnable>> {
        let after = match self.header.state.start_poll() {
            Start::Skip => AfterPoll::Idle,
            Start::Cancel => {
                // SAFETY: `start_poll` won RUNNING for us.
                unsafe { self.cancel_now() };
                AfterPoll::Idle
            }
            // SAFETY: the same.
            Start::Poll => unsafe { self.poll_once() },
        };
        // Requeue: the queue's reference goes back to a queue (the task was woken
        // during its poll). Idle: it is dropped here; the wakers hold their own.
        match after {
            AfterPoll::Requeue => Some(self),
            AfterPoll::Idle => None,
        }
    }

    fn shut_down(&self) {
        // Skipped for a task that a poll holds (never at shutdown: the workers
        // have stopped) or that another shutdown holds (a late `Handle::spawn`
        // racing the runtime's drop: both cancel the task, one drops the future).
        if self.header.state.start_shutdown() == Start::Cancel {
            // SAFETY: `start_shutdown` won RUNNING for us.
            unsafe { self.cancel_now() }
        }
    }

    fn name(&self) -> String {
        name_of(&self.header, &lock(&self.meta))
    }
}

impl<F, S> Joinable<F::Output> for Cell<F, S>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    fn header(&self) -> &Header {
        &self.header
    }

    fn meta(&self) -> MutexGuard<'_, Meta<F::Output>> {
        lock(&self.meta)
    }

    fn schedule(self: Arc<Self>) {
        let scheduler = self.scheduler.clone();
        scheduler.schedule(self);
    }

    fn exception_never_retrieved(&self, task: String, message: String) {
        self.scheduler.exception_never_retrieved(task, message);
    }

    fn trace(&self) -> Option<&Arc<crate::trace::Recorder>> {
        self.scheduler.trace()
    }

    fn call_soon(&self, callbacks: Vec<(u32, Callback)>) {
        call_soon(&self.scheduler, self.name(), callbacks);
    }
}

impl<F, S> ArcWake for Cell<F, S>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    fn wake_by_ref(arc_self: &Arc<Self>) {
        if arc_self.header.state.wake() == AfterWake::Push {
            push_woken(arc_self);
        }
    }

    /// `waker.wake()` (by value, the usual call): the waker's own reference moves
    /// into the ready queue. The default, `wake_by_ref` then a drop, cloned the
    /// `Arc` for the queue and dropped the waker's, two locked instructions for
    /// nothing (callgrind: ~20 instructions a wake-up).
    fn wake(self: Arc<Self>) {
        if self.header.state.wake() == AfterWake::Push {
            push_woken_owned(self);
        }
    }
}

/// A by-value wake-up that queues the task: straight into the queue of the loop
/// running on this thread, with the waker's reference; anywhere else, as
/// `push_woken` does. Out of line, as `push_woken`.
#[inline(never)]
fn push_woken_owned<F, S>(task: Arc<Cell<F, S>>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    if let Some(trace) = task.scheduler.trace() {
        trace.woken(crate::trace::TaskId(task.header.id));
    }
    // `task` moves into the call, so the scheduler is reached through a pointer.
    let scheduler: *const S = Arc::as_ptr(&task.scheduler);
    // SAFETY: `scheduler` points into the allocation of the task's own `Arc<S>`,
    // which moving `task` does not move; `push_here` never drops `task` (it queues
    // it or hands it back), so that `Arc<S>` outlives the call.
    let refused = unsafe { &*scheduler }.push_here(task);
    if let Some(task) = refused {
        // `schedule` may drop what it is given (a runtime that is gone): the
        // reference kept here keeps the scheduler alive meanwhile.
        push_woken(&task);
    }
}

/// A wake-up that queues the task (traced when tracing is on). Out of line, so
/// that a wake-up that queues nothing (a task waking itself: `yield_now`) stays a
/// few instructions with no stack frame (callgrind: 6 instructions a wake-up).
#[inline(never)]
fn push_woken<F, S>(task: &Arc<Cell<F, S>>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    if let Some(trace) = task.scheduler.trace() {
        trace.woken(crate::trace::TaskId(task.header.id));
    }
    task.scheduler.schedule(task.clone());
}

/// `Task-<id>` unless the task was given a name.
pub(crate) fn name_of<T>(header: &Header, meta: &Meta<T>) -> String {
    match meta.extras.as_ref().and_then(|extras| extras.name.as_ref()) {
        Some(name) => name.to_string(),
        None => format!("Task-{}", header.id),
    }
}

#[cfg(test)]
mod tests;
