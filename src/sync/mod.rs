//! Async locks, semaphores, events, conditions and queues: asyncio's `locks.py`
//! and `queues.py`, rebuilt on one waiter queue.
//!
//! A task that cannot go on (the lock is taken, no permit is left, the queue is
//! empty) must not block its thread: other tasks run there. So it *registers* in a
//! queue of waiters, returns [`Poll::Pending`](std::task::Poll::Pending), and is
//! woken when whoever frees the resource *serves* it. Every primitive here is that
//! one idea with a different rule for "free":
//!
//! | asyncio                              | clearloop                          | a waiter is served when            |
//! |--------------------------------------|------------------------------------|------------------------------------|
//! | `asyncio.Lock`                       | [`Mutex<T>`] (data inside)         | the guard before it is dropped     |
//! | `asyncio.Semaphore`                  | [`Semaphore`]                      | enough permits come back           |
//! | `asyncio.BoundedSemaphore`           | [`BoundedSemaphore`]               | same, and over-release is an error |
//! | `asyncio.Event`                      | [`Event`]                          | `set()` is called                  |
//! | `asyncio.Condition`                  | [`Condition`] (with a [`Mutex`])   | `notify(n)` reaches it             |
//! | `asyncio.Queue`, `LifoQueue`, `PriorityQueue` | [`Queue`], [`LifoQueue`], [`PriorityQueue`] | an item (or a free place) is there |
//! | `asyncio.Barrier`                    | [`Barrier`]                        | the last of `parties` tasks arrives |
//!
//! ```text
//!                 register (back)                      serve (front)
//!   task ──acquire──► [ w7 | w9 | w10 | w12 ] ──release──► w7's waker.wake()
//!                          ▲                                  │
//!            drop (cancel) │ remove w9: leaves no trace       ▼
//!                                                  w7 polled again: served,
//!                                                  it owns what it waited for
//! ```
//!
//! ## Three rules every primitive follows
//!
//! 1. **Register, check again, sleep.** A waiter is put in the queue while the
//!    primitive's internal lock is held, so a release cannot slip in between "I
//!    looked, it was taken" and "I am in the queue" (a *lost wake-up*). Wakers are
//!    called only after that internal lock is dropped, so a woken task running on
//!    another thread does not immediately block on it.
//! 2. **First come, first served, by hand-off.** A release does not put the permit
//!    back "for whoever comes first": it gives it to the waiter at the front of the
//!    queue, which owns it before it even runs again. A newcomer calling
//!    `try_acquire` cannot jump the queue. A waiter that asks for many permits blocks
//!    the smaller requests behind it until it is served: it is never starved, at the
//!    price of permits sometimes staying idle while it waits (see [`Semaphore`]).
//!    asyncio's `Lock.release` instead wakes the first waiter and lets it take the
//!    lock when it runs (`_wake_up_first` in `Lib/asyncio/locks.py`); the outcome
//!    is the same FIFO order.
//! 3. **Cancellation leaves no trace.** In Rust a task is cancelled by dropping its
//!    future. A waiter dropped while queued removes itself; if it had already been
//!    served (the lock or the permits were handed to it, but it had not run yet), it
//!    hands them on to the next waiter. Nothing is lost and nobody waits forever.
//!
//! All of it lives in `waiters` (private: one FIFO list of waiters, shared by all
//! primitives but the [`Barrier`], whose waiters all leave together; `cargo doc
//! --document-private-items` shows it) and in the small state each primitive keeps beside it, both under one
//! `std::sync::Mutex` per primitive. That mutex is held for a few instructions, never
//! across an `.await`. One exception, for speed: a [`Semaphore`] (so a [`Mutex`]
//! too) keeps its free permits in an atomic word beside that mutex, so that taking
//! a free permit, or giving one back when nobody waits, is one atomic instruction
//! and no lock ("The permit word" in [`semaphore`] tells how it stays fair and
//! loses no wake-up).
//!
//! ## Which kind of lock should you use?
//!
//! The async [`Mutex`] is for data that must stay locked *across an `.await`* (a
//! connection, a file being written in steps). For a counter or a map that is only
//! touched between awaits, `std::sync::Mutex` is simpler and faster: its lock is held
//! for a moment and never while the task is suspended, so it cannot stall the loop.
//! asyncio has no such choice to make, because a coroutine can only be interrupted at
//! an `await` anyway.
//!
//! ## Threads
//!
//! Every type here is `Send + Sync`: tasks that share a lock may run on different
//! threads (the multi-threaded runtime relies on it). Under `--cfg loom` the internal
//! mutex comes from `loom`, so `tests/loom_sync.rs` explores the interleavings of the
//! real code.
//!
//! ```
//! use clearloop::sync::Semaphore;
//!
//! let sem = Semaphore::new(3);
//! let a = sem.try_acquire().unwrap();
//! let b = sem.try_acquire_many(2).unwrap();
//! assert_eq!(sem.available_permits(), 0);
//! assert!(sem.try_acquire().is_err()); // asyncio: sem.locked() is True
//! drop((a, b));
//! assert_eq!(sem.available_permits(), 3);
//! ```

// Every `unsafe` (there are four, all in mutex.rs) says why it is sound.
#![deny(clippy::undocumented_unsafe_blocks)]

// One file per primitive, public so that each file's lesson (its `//!` doc) shows in
// the rendered documentation; the types are re-exported here.
pub mod barrier;
pub mod condition;
pub mod event;
pub mod mutex;
pub mod queue;
pub mod semaphore;
// Private: the waiter queue every primitive shares (and [`crate::future`] too);
// read it with `cargo doc --document-private-items`.
pub(crate) mod waiters;

pub use barrier::{Barrier, BarrierWait, BrokenBarrierError};
pub use condition::Condition;
pub use event::{Event, EventWait};
pub use mutex::{Mutex, MutexGuard, TryLockError};
pub use queue::{
    CheckedGet, CheckedPut, Fifo, Get, GetNowaitError, Join, Lifo, LifoQueue, Priority,
    PriorityQueue, Put, PutNowaitError, Queue, QueueOrder, QueueShutDown, TaskDoneError,
};
pub use semaphore::{
    Acquire, AcquireOwned, BoundedSemaphore, OverRelease, OwnedSemaphorePermit, PermitOverflow,
    Semaphore, SemaphorePermit, TooManyPermits, TryAcquireError,
};

/// The mutex that guards each primitive's internal state: loom's under `--cfg loom`
/// (so the model checker sees every lock and unlock), std's otherwise.
#[cfg(loom)]
use loom::sync::{Mutex as StateLock, MutexGuard as StateGuard};
#[cfg(not(loom))]
use std::sync::{Mutex as StateLock, MutexGuard as StateGuard};

/// The atomics of the primitives' lock-free fast paths (a [`Semaphore`]'s permit
/// word): loom's under `--cfg loom`, so that the model checker sees every load and
/// compare-and-swap racing the internal mutex, std's otherwise.
#[cfg(loom)]
use loom::sync::atomic::AtomicUsize;
#[cfg(not(loom))]
use std::sync::atomic::AtomicUsize;

/// Locks a primitive's internal state.
///
/// Poisoning is ignored: the sections under this lock only move counters and
/// wakers and leave the state consistent at every step, so a panic elsewhere in the
/// same thread must not make the primitive unusable for every other task.
fn lock_state<S>(lock: &StateLock<S>) -> StateGuard<'_, S> {
    lock.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
