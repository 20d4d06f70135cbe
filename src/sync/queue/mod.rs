//! A queue between tasks: producers `put`, consumers `get`, and each side waits when
//! it must (the queue is full, or empty).
//!
//! asyncio: `asyncio.Queue(maxsize)`, with `put`/`get` that wait,
//! `put_nowait`/`get_nowait` that fail with `QueueFull`/`QueueEmpty`, and
//! `task_done`/`join` to wait until every item put has been processed. `maxsize == 0`
//! means no limit, as in asyncio. `asyncio.LifoQueue` and `asyncio.PriorityQueue`
//! are the same queue with another [`QueueOrder`]: [`Queue::lifo`], [`Queue::priority`]
//! (smallest item first, like `heapq`).
//!
//! Two waiter queues, one per side, plus one for `join()`:
//!
//! ```text
//!   putters (queue full)      items (maxsize 3)          getters (queue empty)
//!   [ p1 | p2 ] ──put──►  [ a | b | c ] ──get──► [ g1 | g2 ]
//!        ▲                     │                      ▲
//!        └── served when a get frees a place          │
//!                              └─ served when a put brings an item
//!
//!   (both lists hold waiters at once only briefly, while served waiters have not
//!   run yet: a full queue whose items are all promised to getters)
//!
//!   unfinished = items put - task_done() calls;   join() waits for unfinished == 0
//! ```
//!
//! **Promises, not races.** When a `put` serves a waiting getter, the item stays in
//! the buffer but is *promised* to that getter: `get_nowait` by another task cannot
//! take it, and the getter pops one item when it next runs. If the getter is dropped
//! first, the promise passes to the next getter. A freed place is promised to a
//! waiting putter the same way. This is the semaphore's hand-off with items and
//! places as permits, and it keeps both sides first-come, first-served (asyncio
//! wakes a getter and lets it race for the item, re-queueing it at the back if it
//! loses).
//!
//! ```
//! use clearloop::sync::{GetNowaitError, Queue};
//!
//! let queue = Queue::new(2);
//! queue.put_nowait("a").unwrap();
//! queue.put_nowait("b").unwrap();
//! assert!(queue.full());
//! let refused = queue.put_nowait("c").unwrap_err();
//! assert_eq!(refused.into_inner(), "c"); // the item comes back
//! assert_eq!(queue.get_nowait(), Ok("a")); // first in, first out
//! assert_eq!(queue.get_nowait(), Ok("b"));
//! assert_eq!(queue.get_nowait(), Err(GetNowaitError::Empty));
//! ```
//!
//! ## Shutting a queue down (Python 3.13)
//!
//! asyncio 3.13 added `q.shutdown(immediate=False)`: the producer says "no more
//! items", and each consumer ends its loop when it gets `QueueShutDown`, with no
//! sentinel item to send once per consumer. Here:
//!
//! ```text
//!              shutdown()                           shutdown_immediate()
//!   Alive ─────────────────────► ShutDown ─────────────────────► ShutDownImmediate
//!     │                            │ put: Err at once               │ put: Err at once
//!     └── shutdown_immediate() ────┼────────────────────────────►   │ get: Err at once
//!                                  │ get: the items left, then Err  │ (items dropped, each
//!                                  │                                │  counted as task_done)
//!   at the call: every waiting putter is woken with the error; every waiting getter
//!   is woken, and leaves with the error if nothing is left for it
//! ```
//!
//! A waiting putter is woken with the error at once, as are the waiting getters
//! (they wait only when no item is free, and none will come). A getter already
//! *promised* an item keeps it after `shutdown()`, as it would in asyncio (the item
//! is still in the queue); after `shutdown_immediate()` the promise is void, as the
//! item is gone. `join()` is not changed, as in asyncio: `shutdown_immediate()`
//! counts each item it drops as done, which may end it.
//!
//! The calls that wait return the item, not a `Result`: a program that never shuts
//! its queue down has no error to handle. On a shut-down queue they panic with the
//! line that called them (asyncio's uncaught `QueueShutDown`); a loop that should
//! end on shutdown calls [`checked_get`](Queue::checked_get) and
//! [`checked_put`](Queue::checked_put), which return `Err(QueueShutDown)`:
//!
//! ```
//! use clearloop::sync::Queue;
//!
//! let queue = Queue::new(0);
//! let total = clearloop::run(async {
//!     for job in [1, 2, 3] {
//!         queue.put(job).await;
//!     }
//!     queue.shutdown(); // no more jobs: the consumer drains what is left
//!     assert!(queue.checked_put(4).await.is_err());
//!     let mut total = 0;
//!     // asyncio: try: job = await q.get()  except QueueShutDown: break
//!     while let Ok(job) = queue.checked_get().await {
//!         total += job;
//!     }
//!     total
//! });
//! assert_eq!(total, 6);
//! ```
//!
//! The three orders ([`QueueOrder`]) live in `order.rs`, the errors in `error.rs`.

use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::waiters::{Removed, WaitList, WaiterId, WakeList};
use super::{StateGuard, StateLock, lock_state};

mod error;
mod order;

pub use error::{GetNowaitError, PutNowaitError, QueueShutDown, TaskDoneError};
use error::{SHUT_DOWN_GET, SHUT_DOWN_PUT};
pub use order::{Fifo, Lifo, Priority, QueueOrder};

/// A queue of `T`s between tasks (`asyncio.Queue`); `O` decides the order.
pub struct Queue<T, O = Fifo<T>> {
    state: StateLock<State<O>>,
    /// Its name in traces (`Queue-1`, or [`with_name`](Queue::with_name)).
    label: super::semaphore::Label,
    /// The items live in `O`; this only names `T`. `fn() -> T` rather than `T` so that
    /// the marker does not demand `T: Sync` for the queue to be `Sync`: like
    /// `std::sync::Mutex<T>`, the queue only needs `T: Send`.
    _items: PhantomData<fn() -> T>,
}

/// A queue that gives back the last item put first (`asyncio.LifoQueue`).
pub type LifoQueue<T> = Queue<T, Lifo<T>>;

/// A queue that gives back the smallest item first (`asyncio.PriorityQueue`).
pub type PriorityQueue<T> = Queue<T, Priority<T>>;

/// Whether a queue still takes items (asyncio 3.14 names the same three states
/// `ALIVE`, `SHUTDOWN`, `SHUTDOWN_IMMEDIATE`). It only ever moves down this list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Life {
    /// Takes and gives items.
    Alive,
    /// `shutdown()`: takes no more; gives the items left, then errors.
    ShutDown,
    /// `shutdown_immediate()`: its items were dropped; takes and gives nothing.
    ShutDownImmediate,
}

/// What a queue knows, behind its internal lock.
#[derive(Debug)]
struct State<O> {
    items: O,
    /// Most items the buffer may hold, promised places included; 0: no limit.
    maxsize: usize,
    /// Items in `items` promised to getters that were served and have not come
    /// for them yet. Invariant: `promised_items <= items.len()`.
    promised_items: usize,
    /// Free places promised to putters that were served and have not used them yet.
    /// Always 0 once the queue is shut down: no put succeeds after that.
    promised_slots: usize,
    /// Tasks waiting for an item. Invariant: if not empty, every item is promised.
    /// After a shutdown they have all been woken, and leave as they run.
    getters: WaitList,
    /// Tasks waiting for a free place. Invariant: if not empty, no place is free.
    /// Always empty once the queue is shut down.
    putters: WaitList,
    /// Items put and not yet marked done with `task_done()`.
    unfinished: usize,
    /// Tasks waiting in `join()` for `unfinished` to reach 0.
    joiners: WaitList,
    /// Alive, or shut down (and how).
    life: Life,
}

impl<O> State<O> {
    /// Items a newcomer could take now.
    fn free_items<T>(&self) -> usize
    where
        O: QueueOrder<T>,
    {
        self.items.len() - self.promised_items
    }

    /// Places a newcomer could fill now.
    fn free_slots<T>(&self) -> usize
    where
        O: QueueOrder<T>,
    {
        if self.maxsize == 0 {
            return usize::MAX;
        }
        self.maxsize
            .saturating_sub(self.items.len() + self.promised_slots)
    }

    /// Promises free items to waiting getters, oldest first.
    fn serve_getters<T>(&mut self, wake: &mut WakeList)
    where
        O: QueueOrder<T>,
    {
        // Inline, the common case: nobody waits (one test, no call).
        if self.getters.is_empty() {
            return;
        }
        while self.free_items() > 0 && self.getters.serve_front(wake) {
            self.promised_items += 1;
        }
    }

    /// Promises free places to waiting putters, oldest first (none once shut
    /// down: there are no putters left then, and none may come).
    fn serve_putters<T>(&mut self, wake: &mut WakeList)
    where
        O: QueueOrder<T>,
    {
        if self.putters.is_empty() {
            return; // the common case, as in `serve_getters`
        }
        while self.free_slots() > 0 && self.putters.serve_front(wake) {
            self.promised_slots += 1;
        }
    }

    /// Stores an item whose place was free or promised. Then unlock with
    /// [`unlock_after_push`], which serves a waiting getter.
    fn push<T>(&mut self, item: T)
    where
        O: QueueOrder<T>,
    {
        self.items.push(item);
        self.unfinished += 1;
    }

    /// Takes an item that was free or promised. Then unlock with
    /// [`unlock_after_pop`], which serves a waiting putter.
    fn pop<T>(&mut self) -> T
    where
        O: QueueOrder<T>,
    {
        self.items
            .pop()
            .expect("clearloop bug: a free or promised item is missing")
    }

    /// Shuts the queue down (asyncio 3.13's `shutdown(immediate)`): wakes every
    /// waiter, and with `immediate`, takes every item out, to be dropped by the
    /// caller once the lock is released (an item's `Drop` is user code).
    fn shut_down<T>(&mut self, immediate: bool, wake: &mut WakeList) -> Vec<T>
    where
        O: QueueOrder<T>,
    {
        let mut dropped = Vec::new();
        if immediate && self.life != Life::ShutDownImmediate {
            self.life = Life::ShutDownImmediate;
            while let Some(item) = self.items.pop() {
                dropped.push(item);
            }
            // The promises to served getters are void: their items are gone.
            self.promised_items = 0;
            // asyncio calls task_done() for each item it drops: join() may end.
            self.unfinished = self.unfinished.saturating_sub(dropped.len());
            if self.unfinished == 0 {
                self.joiners.serve_all(wake);
            }
        } else if self.life == Life::Alive {
            self.life = Life::ShutDown;
        }
        // Every putter gets the error, served or not: a place promised to it is
        // taken back (no put succeeds after a shutdown).
        self.promised_slots = 0;
        self.putters.serve_all(wake);
        // Getters wait only when no item is free, and none will come now: wake them
        // all, left in the list, so that each finds on its next poll that it still
        // waits with nothing to wait for, and leaves with the error. (A getter served
        // before, promised an item, is not in the list: it takes its item.)
        self.getters.wake_all_in_place(wake);
        dropped
    }
}

impl<T> Queue<T> {
    /// A first-in, first-out queue holding at most `maxsize` items; 0 means no limit
    /// (`asyncio.Queue(maxsize)`).
    pub fn new(maxsize: usize) -> Queue<T> {
        Queue::with_order(maxsize, Fifo(VecDeque::new()))
    }
}

impl<T> Queue<T, Lifo<T>> {
    /// A last-in, first-out queue (`asyncio.LifoQueue(maxsize)`).
    pub fn lifo(maxsize: usize) -> LifoQueue<T> {
        Queue::with_order(maxsize, Lifo(Vec::new()))
    }
}

impl<T: Ord> Queue<T, Priority<T>> {
    /// A queue that gives back the smallest item first (`asyncio.PriorityQueue(maxsize)`).
    pub fn priority(maxsize: usize) -> PriorityQueue<T> {
        Queue::with_order(maxsize, Priority(BinaryHeap::new()))
    }
}

impl<T, O: QueueOrder<T>> Queue<T, O> {
    /// A queue that stores its items in `order` (which should start empty).
    pub fn with_order(maxsize: usize, order: O) -> Queue<T, O> {
        Queue {
            state: StateLock::new(State {
                items: order,
                maxsize,
                promised_items: 0,
                promised_slots: 0,
                getters: WaitList::new(),
                putters: WaitList::new(),
                unfinished: 0,
                joiners: WaitList::new(),
                life: Life::Alive,
            }),
            label: super::semaphore::Label::new(crate::trace::ResourceKind::Queue),
            _items: PhantomData,
        }
    }

    /// This queue, named `name` in traces, `Runtime::dump` and deadlock reports;
    /// unnamed, it is `Queue-1`, `Queue-2`, ...
    pub fn with_name(mut self, name: impl Into<String>) -> Queue<T, O> {
        self.label.name(name.into());
        self
    }

    /// Puts `item`, waiting for a free place if the queue is full (`await q.put(item)`).
    ///
    /// Cancel-safe: dropped while waiting, it leaves the queue of putters (and the
    /// item is dropped with it); dropped after a place was promised to it, the place
    /// goes to the next putter.
    ///
    /// # Panics
    ///
    /// When awaited on a queue that is [shut down](Queue::shutdown), or that is shut
    /// down while it waits (asyncio's uncaught `QueueShutDown`); the message names
    /// the line that called `put`. [`checked_put`](Queue::checked_put) returns the
    /// error instead, with the item.
    #[track_caller]
    pub fn put(&self, item: T) -> Put<'_, T, O> {
        Put {
            putter: Putter::new(self, item),
            caller: Location::caller(),
        }
    }

    /// [`put`](Queue::put), returning `Err(QueueShutDown(item))` when the queue is
    /// shut down (asyncio 3.13: `await q.put(item)` raises `QueueShutDown`): at once
    /// if it already is, or as soon as it is if the put is waiting for a place.
    pub fn checked_put(&self, item: T) -> CheckedPut<'_, T, O> {
        CheckedPut {
            putter: Putter::new(self, item),
        }
    }

    /// Takes the next item, waiting for one if the queue is empty (`await q.get()`).
    ///
    /// Cancel-safe: dropped while waiting, it leaves the queue of getters; dropped
    /// after an item was promised to it, the item goes to the next getter (it is never
    /// lost: it stays in the queue until a getter takes it).
    ///
    /// # Panics
    ///
    /// When the queue is [shut down](Queue::shutdown) and has no item left for it
    /// (asyncio's uncaught `QueueShutDown`); the message names the line that called
    /// `get`. [`checked_get`](Queue::checked_get) returns the error instead.
    #[track_caller]
    pub fn get(&self) -> Get<'_, T, O> {
        Get {
            getter: Getter::new(self),
            caller: Location::caller(),
        }
    }

    /// [`get`](Queue::get), returning `Err(QueueShutDown(()))` once the queue is shut
    /// down and no item is left for it (asyncio 3.13: `await q.get()` raises
    /// `QueueShutDown`). After [`shutdown`](Queue::shutdown) it still returns the
    /// items left, one per call; after [`shutdown_immediate`](Queue::shutdown_immediate)
    /// none. A consumer's loop: `while let Ok(item) = queue.checked_get().await`.
    pub fn checked_get(&self) -> CheckedGet<'_, T, O> {
        CheckedGet {
            getter: Getter::new(self),
        }
    }

    /// Puts `item` now.
    ///
    /// # Errors
    ///
    /// [`PutNowaitError::Full`], holding `item`, if there is no free place or
    /// putters are queued before us; [`PutNowaitError::ShutDown`] if the queue is
    /// shut down.
    pub fn put_nowait(&self, item: T) -> Result<(), PutNowaitError<T>> {
        let mut state = lock_state(&self.state);
        if state.life != Life::Alive {
            return Err(PutNowaitError::ShutDown(item));
        }
        if !can_put_now(&state) {
            return Err(PutNowaitError::Full(item));
        }
        state.push(item);
        unlock_after_push(state);
        Ok(())
    }

    /// Takes the next item now.
    ///
    /// # Errors
    ///
    /// [`GetNowaitError::Empty`] if no item is free (none at all, or all promised to
    /// getters that were waiting before us); [`GetNowaitError::ShutDown`] if no item
    /// is free and the queue is shut down, so none will come.
    pub fn get_nowait(&self) -> Result<T, GetNowaitError> {
        let mut state = lock_state(&self.state);
        if !can_get_now(&state) {
            return Err(match state.life {
                Life::Alive => GetNowaitError::Empty,
                Life::ShutDown | Life::ShutDownImmediate => GetNowaitError::ShutDown,
            });
        }
        let item = state.pop();
        unlock_after_pop(state);
        Ok(item)
    }

    /// Shuts the queue down (asyncio 3.13's `q.shutdown()`): from now on every put
    /// fails, and gets return the items left, then fail. Every task waiting in a put
    /// is woken with the error, and so is every task waiting in a get (no item is
    /// left for them, and none will come). Calling it again does nothing.
    ///
    /// The errors: `Err(QueueShutDown)` from [`checked_put`](Queue::checked_put) and
    /// [`checked_get`](Queue::checked_get), [`PutNowaitError::ShutDown`] and
    /// [`GetNowaitError::ShutDown`] from the `_nowait` calls; [`put`](Queue::put) and
    /// [`get`](Queue::get) panic.
    pub fn shutdown(&self) {
        self.shut_down(false);
    }

    /// Shuts the queue down and drops its items at once (asyncio 3.13's
    /// `q.shutdown(immediate=True)`): gets fail from now on too, even a getter
    /// already promised an item. Each item dropped counts as
    /// [`task_done`](Queue::task_done), as in asyncio, so a [`join`](Queue::join)
    /// waiting only on them returns. Also after [`shutdown`](Queue::shutdown), to
    /// drop what is left.
    pub fn shutdown_immediate(&self) {
        self.shut_down(true);
    }

    fn shut_down(&self, immediate: bool) {
        let mut state = lock_state(&self.state);
        let mut wake = WakeList::new();
        let dropped = state.shut_down(immediate, &mut wake);
        drop(state);
        wake.wake_all();
        // The items' `Drop` runs now, with no lock held: it may use the queue.
        drop(dropped);
    }

    /// Whether [`shutdown`](Queue::shutdown) (or `shutdown_immediate`) was called.
    pub fn is_shut_down(&self) -> bool {
        lock_state(&self.state).life != Life::Alive
    }

    /// Marks one item taken with `get` as processed (`q.task_done()`).
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] if every item put has already been marked done.
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut state = lock_state(&self.state);
        if state.unfinished == 0 {
            return Err(TaskDoneError);
        }
        state.unfinished -= 1;
        let mut wake = WakeList::new();
        if state.unfinished == 0 {
            state.joiners.serve_all(&mut wake);
        }
        drop(state);
        wake.wake_all();
        Ok(())
    }

    /// Waits until every item put has been marked done with `task_done()`
    /// (`await q.join()`). Returns at once if there is nothing unfinished.
    pub fn join(&self) -> Join<'_, T, O> {
        Join {
            queue: self,
            stage: Stage::Start,
        }
    }

    /// How many items a `get_nowait` could take now (`q.qsize()`): the items in the
    /// queue, less those already promised to served getters.
    pub fn qsize(&self) -> usize {
        lock_state(&self.state).free_items()
    }

    /// Whether `get_nowait` would fail now (`q.empty()`).
    pub fn empty(&self) -> bool {
        !can_get_now(&lock_state(&self.state))
    }

    /// Whether no free place is left (`q.full()`); never true without a limit.
    /// (On a shut-down queue `put_nowait` fails anyway.)
    pub fn full(&self) -> bool {
        !can_put_now(&lock_state(&self.state))
    }

    /// The limit given at creation; 0 means none (`q.maxsize`).
    pub fn maxsize(&self) -> usize {
        lock_state(&self.state).maxsize
    }

    /// Items put and not yet marked done.
    pub fn unfinished(&self) -> usize {
        lock_state(&self.state).unfinished
    }
}

/// Unlocks after an item came in, serving the getters that wait for one first.
/// Inlined: nobody waits is the common case, and costs one test.
#[inline]
fn unlock_after_push<T, O: QueueOrder<T>>(state: StateGuard<'_, State<O>>) {
    if !state.getters.is_empty() {
        serve_then_unlock(state, State::serve_getters);
    }
}

/// Unlocks after an item went out, serving the putters that wait for a place
/// first (never any on a queue without a limit). Inlined, as [`unlock_after_push`].
#[inline]
fn unlock_after_pop<T, O: QueueOrder<T>>(state: StateGuard<'_, State<O>>) {
    if !state.putters.is_empty() {
        serve_then_unlock(state, State::serve_putters);
    }
}

/// The slow half of [`unlock_after_push`] and [`unlock_after_pop`]: serves under
/// the lock, and wakes the served tasks once it is dropped.
#[inline(never)]
fn serve_then_unlock<T, O: QueueOrder<T>>(
    mut state: StateGuard<'_, State<O>>,
    serve: fn(&mut State<O>, &mut WakeList),
) {
    let mut wake = WakeList::new();
    serve(&mut state, &mut wake);
    drop(state);
    wake.wake_all();
}

/// A newcomer may put now: nobody queued before it (fairness) and a place is free.
fn can_put_now<T, O: QueueOrder<T>>(state: &State<O>) -> bool {
    state.putters.is_empty() && state.free_slots() > 0
}

/// A newcomer may get now: nobody queued before it (fairness) and an item is free.
fn can_get_now<T, O: QueueOrder<T>>(state: &State<O>) -> bool {
    state.getters.is_empty() && state.free_items() > 0
}

impl<T, O> fmt::Debug for Queue<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock_state(&self.state);
        f.debug_struct("Queue")
            .field("maxsize", &state.maxsize)
            .field("getters", &state.getters.len())
            .field("putters", &state.putters.len())
            .field("unfinished", &state.unfinished)
            .field("life", &state.life)
            .finish_non_exhaustive()
    }
}

/// Where a put, a get or a [`Join`] stands.
#[derive(Debug)]
enum Stage {
    /// Not polled yet.
    Start,
    /// Queued under this id (or already served, if the id is gone).
    Waiting(WaiterId),
    /// Returned; polling again is a bug.
    Done,
}

/// What [`Put`] and [`CheckedPut`] share: one putter's place in the queue, and the
/// item until it is in. The two differ only in what they do with a shutdown.
struct Putter<'a, T, O: QueueOrder<T>> {
    queue: &'a Queue<T, O>,
    /// The item, until it is in the queue (or handed back with the error).
    item: Option<T>,
    stage: Stage,
}

// A putter is never structurally pinned: it only ever moves `item` out by value, and
// no `Pin<&mut T>` is ever made, so it may move freely even if `T` may not.
impl<T, O: QueueOrder<T>> Unpin for Putter<'_, T, O> {}

impl<'a, T, O: QueueOrder<T>> Putter<'a, T, O> {
    fn new(queue: &'a Queue<T, O>, item: T) -> Self {
        Putter {
            queue,
            item: Some(item),
            stage: Stage::Start,
        }
    }

    #[inline]
    fn poll_put(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), QueueShutDown<T>>> {
        // Out of budget: yield first; whatever was handed to us stays ours until the next poll.
        std::task::ready!(crate::task::coop::poll_budget(cx));
        let mut state = lock_state(&self.queue.state);
        // The fast path: first poll, a free place, nobody queued before us.
        if matches!(self.stage, Stage::Start) && state.life == Life::Alive && can_put_now(&state) {
            state.push(self.item.take().expect("the item is here until it is put"));
            unlock_after_push(state);
            self.stage = Stage::Done;
            return Poll::Ready(Ok(()));
        }
        self.poll_put_slow(state, cx)
    }

    /// The rest of [`poll_put`](Self::poll_put), out of line: a shut-down queue, a
    /// full one (we queue), or a later poll (were we served?).
    #[inline(never)]
    fn poll_put_slow(
        &mut self,
        mut state: StateGuard<'_, State<O>>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), QueueShutDown<T>>> {
        match self.stage {
            Stage::Done => panic!("a queue's put future was polled after it completed"),
            _ if state.life != Life::Alive => {
                if let Stage::Waiting(id) = self.stage {
                    // Served by the shutdown, or before it: either way the place is
                    // not ours (the shutdown took promised places back).
                    _ = state.putters.remove(id);
                }
                drop(state);
                self.stage = Stage::Done;
                let item = self.item.take().expect("the item is here until it is put");
                return Poll::Ready(Err(QueueShutDown(item)));
            }
            Stage::Start if can_put_now(&state) => {}
            Stage::Start => {
                // Queue up under the lock we checked under: no lost wake-up.
                self.stage = Stage::Waiting(state.putters.push(1, Some(cx.waker())));
                self.queue.label.waiting();
                if crate::trace::enabled() {
                    self.queue.label.record(false);
                }
                return Poll::Pending;
            }
            Stage::Waiting(id) => {
                if state.putters.poll(id, cx.waker()).is_pending() {
                    self.queue.label.waiting();
                    return Poll::Pending;
                }
                if crate::trace::enabled() {
                    self.queue.label.record(true);
                }
                state.promised_slots -= 1; // ours now: we fill it below
            }
        }
        state.push(self.item.take().expect("the item is here until it is put"));
        unlock_after_push(state);
        self.stage = Stage::Done;
        Poll::Ready(Ok(()))
    }
}

impl<T, O: QueueOrder<T>> Drop for Putter<'_, T, O> {
    #[inline]
    fn drop(&mut self) {
        // Most putters never waited: one test, inlined.
        if let Stage::Waiting(id) = self.stage {
            self.leave(id);
        }
    }
}

impl<T, O: QueueOrder<T>> Putter<'_, T, O> {
    /// A putter dropped while queued (its task cancelled): leaves the queue, or
    /// passes on the place promised to it.
    #[cold]
    #[inline(never)]
    fn leave(&mut self, id: WaiterId) {
        let mut state = lock_state(&self.queue.state);
        let mut wake = WakeList::new();
        // After a shutdown no place is promised to anybody: nothing to pass on.
        if state.putters.remove(id) == Removed::WasServed && state.life == Life::Alive {
            // A place was promised to us: pass it to the next putter.
            state.promised_slots -= 1;
            state.serve_putters(&mut wake);
        }
        drop(state);
        wake.wake_all();
    }
}

/// The future returned by [`Queue::put`]; panics if the queue is shut down.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Put<'a, T, O: QueueOrder<T> = Fifo<T>> {
    putter: Putter<'a, T, O>,
    /// The line that called `put`, for the panic.
    caller: &'static Location<'static>,
}

impl<T, O: QueueOrder<T>> Future for Put<'_, T, O> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match std::task::ready!(self.putter.poll_put(cx)) {
            Ok(()) => Poll::Ready(()),
            Err(_) => panic!(
                "Queue::put() at {}: {SHUT_DOWN_PUT}; use checked_put(), which returns \
                 Err(QueueShutDown(item)), where a shutdown is expected",
                self.caller
            ),
        }
    }
}

/// The future returned by [`Queue::checked_put`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct CheckedPut<'a, T, O: QueueOrder<T> = Fifo<T>> {
    putter: Putter<'a, T, O>,
}

impl<T, O: QueueOrder<T>> Future for CheckedPut<'_, T, O> {
    type Output = Result<(), QueueShutDown<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.putter.poll_put(cx)
    }
}

/// What [`Get`] and [`CheckedGet`] share: one getter's place in the queue.
struct Getter<'a, T, O: QueueOrder<T>> {
    queue: &'a Queue<T, O>,
    stage: Stage,
    _items: PhantomData<fn() -> T>,
}

impl<'a, T, O: QueueOrder<T>> Getter<'a, T, O> {
    fn new(queue: &'a Queue<T, O>) -> Self {
        Getter {
            queue,
            stage: Stage::Start,
            _items: PhantomData,
        }
    }

    #[inline]
    fn poll_get(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, QueueShutDown>> {
        // Out of budget: yield first; whatever was handed to us stays ours until the next poll.
        std::task::ready!(crate::task::coop::poll_budget(cx));
        let mut state = lock_state(&self.queue.state);
        // The fast path: first poll, a free item, nobody queued before us.
        if matches!(self.stage, Stage::Start) && can_get_now(&state) {
            let item = state.pop();
            unlock_after_pop(state);
            self.stage = Stage::Done;
            return Poll::Ready(Ok(item));
        }
        self.poll_get_slow(state, cx)
    }

    /// The rest of [`poll_get`](Self::poll_get), out of line: an empty queue (we
    /// queue), a shut-down one, or a later poll (were we served?).
    #[inline(never)]
    fn poll_get_slow(
        &mut self,
        mut state: StateGuard<'_, State<O>>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, QueueShutDown>> {
        let queue = self.queue;
        let shut_down = match self.stage {
            Stage::Start if can_get_now(&state) => false,
            // Shut down and nothing free: nothing will come.
            Stage::Start if state.life != Life::Alive => true,
            Stage::Start => {
                self.stage = Stage::Waiting(state.getters.push(1, Some(cx.waker())));
                queue.label.waiting();
                if crate::trace::enabled() {
                    queue.label.record(false);
                }
                return Poll::Pending;
            }
            Stage::Waiting(id) if state.life != Life::Alive => {
                match state.getters.remove(id) {
                    // Woken by the shutdown, still waiting: nothing will come.
                    Removed::WasWaiting => true,
                    // Promised an item before: still ours after `shutdown()`, void
                    // after `shutdown_immediate()` (which took the promise back).
                    Removed::WasServed if state.life == Life::ShutDownImmediate => true,
                    Removed::WasServed => {
                        state.promised_items -= 1;
                        false
                    }
                }
            }
            Stage::Waiting(id) => {
                if state.getters.poll(id, cx.waker()).is_pending() {
                    queue.label.waiting();
                    return Poll::Pending;
                }
                if crate::trace::enabled() {
                    queue.label.record(true);
                }
                state.promised_items -= 1; // ours now: we take it below
                false
            }
            Stage::Done => panic!("a queue's get future was polled after it completed"),
        };
        if shut_down {
            drop(state);
            self.stage = Stage::Done;
            return Poll::Ready(Err(QueueShutDown(())));
        }
        let item = state.pop();
        unlock_after_pop(state);
        self.stage = Stage::Done;
        Poll::Ready(Ok(item))
    }
}

impl<T, O: QueueOrder<T>> Drop for Getter<'_, T, O> {
    #[inline]
    fn drop(&mut self) {
        // Most getters never waited: one test, inlined.
        if let Stage::Waiting(id) = self.stage {
            self.leave(id);
        }
    }
}

impl<T, O: QueueOrder<T>> Getter<'_, T, O> {
    /// A getter dropped while queued (its task cancelled): leaves the queue, or
    /// passes on the item promised to it.
    #[cold]
    #[inline(never)]
    fn leave(&mut self, id: WaiterId) {
        let mut state = lock_state(&self.queue.state);
        let mut wake = WakeList::new();
        // After `shutdown_immediate()` no item is promised to anybody: nothing to pass on.
        if state.getters.remove(id) == Removed::WasServed && state.life != Life::ShutDownImmediate {
            // An item was promised to us: it is still in the queue; pass the promise on.
            state.promised_items -= 1;
            state.serve_getters(&mut wake);
        }
        drop(state);
        wake.wake_all();
    }
}

/// The future returned by [`Queue::get`]; panics if the queue is shut down and empty.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Get<'a, T, O: QueueOrder<T> = Fifo<T>> {
    getter: Getter<'a, T, O>,
    /// The line that called `get`, for the panic.
    caller: &'static Location<'static>,
}

impl<T, O: QueueOrder<T>> Future for Get<'_, T, O> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match std::task::ready!(self.getter.poll_get(cx)) {
            Ok(item) => Poll::Ready(item),
            Err(_) => panic!(
                "Queue::get() at {}: {SHUT_DOWN_GET}; use checked_get(), which returns \
                 Err(QueueShutDown), where a shutdown is expected",
                self.caller
            ),
        }
    }
}

/// The future returned by [`Queue::checked_get`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct CheckedGet<'a, T, O: QueueOrder<T> = Fifo<T>> {
    getter: Getter<'a, T, O>,
}

impl<T, O: QueueOrder<T>> Future for CheckedGet<'_, T, O> {
    type Output = Result<T, QueueShutDown>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.getter.poll_get(cx)
    }
}

/// The future returned by [`Queue::join`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Join<'a, T, O: QueueOrder<T> = Fifo<T>> {
    queue: &'a Queue<T, O>,
    stage: Stage,
}

impl<T, O: QueueOrder<T>> Future for Join<'_, T, O> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Out of budget: yield first; whatever was handed to us stays ours until the next poll.
        std::task::ready!(crate::task::coop::poll_budget(cx));
        let queue = self.queue;
        let mut state = lock_state(&queue.state);
        let poll = match self.stage {
            Stage::Start if state.unfinished == 0 => Poll::Ready(()),
            Stage::Start => {
                self.stage = Stage::Waiting(state.joiners.push(1, Some(cx.waker())));
                queue.label.waiting();
                if crate::trace::enabled() {
                    queue.label.record(false);
                }
                Poll::Pending
            }
            Stage::Waiting(id) => {
                let poll = state.joiners.poll(id, cx.waker());
                if poll.is_pending() {
                    queue.label.waiting();
                }
                if poll.is_ready() && crate::trace::enabled() {
                    queue.label.record(true);
                }
                poll
            }
            Stage::Done => panic!("`Join` polled after it completed"),
        };
        if poll.is_ready() {
            self.stage = Stage::Done;
        }
        poll
    }
}

impl<T, O: QueueOrder<T>> Drop for Join<'_, T, O> {
    fn drop(&mut self) {
        if let Stage::Waiting(id) = self.stage {
            // Served or not, nothing to hand on: task_done() serves every joiner.
            let _ = lock_state(&self.queue.state).joiners.remove(id);
        }
    }
}
