//! A barrier: `parties` tasks wait for one another, then all go on together.
//!
//! Each task calls `wait().await`; the first `parties - 1` to arrive wait, and the
//! last one's arrival releases them all at once. Each gets its *arrival index*
//! (`0` for the first to arrive, `parties - 1` for the one that released the others),
//! so that exactly one of them can do a job for the group (`if index == 0`). Then the
//! barrier is empty again, ready for the next round: it is *cyclic*.
//!
//! asyncio: `asyncio.Barrier(parties)` (Python 3.11): `await barrier.wait()` returns
//! the index, `parties`, `n_waiting`, `broken`, `await barrier.abort()`,
//! `await barrier.reset()`, and `BrokenBarrierError`. Differences: `abort` and `reset`
//! need no `await` here (they only change the state and wake the waiters), and the
//! error is a `Result`, not an exception.
//!
//! ```text
//!   Barrier(3)                     round 1                          round 2
//!   A: wait() ──► index 0 ─ waits ─┐                     A: wait() ─► index 0 ...
//!   B: wait() ──► index 1 ─ waits ─┤ all three go on
//!   C: wait() ──► index 2 ─────────┘ (C released them)
//!
//!   abort():  every waiter, and every later wait(), gets Err(BrokenBarrierError)
//!             until reset();
//!   reset():  the waiters of the current round get Err(BrokenBarrierError); the
//!             barrier is empty and not broken.
//! ```
//!
//! A waiter that is cancelled (its `wait()` future dropped) before the round is
//! complete leaves it: the round then needs one more arrival, as in asyncio.
//!
//! ```
//! use std::sync::Arc;
//! use clearloop::sync::Barrier;
//!
//! let indices = clearloop::run(async {
//!     let barrier = Arc::new(Barrier::new(3));
//!     let tasks: Vec<_> = (0..3)
//!         .map(|_| {
//!             let barrier = barrier.clone();
//!             clearloop::spawn(async move { barrier.wait().await.unwrap() })
//!         })
//!         .collect();
//!     let mut indices = Vec::new();
//!     for task in tasks {
//!         indices.push(task.await);
//!     }
//!     indices
//! });
//! assert_eq!(indices, [0, 1, 2]); // spawned in that order, so arrived in that order
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::{StateLock, lock_state};

/// A cyclic barrier for `parties` tasks (`asyncio.Barrier`); see the
/// [module documentation](self).
pub struct Barrier {
    parties: usize,
    state: StateLock<State>,
}

/// What a barrier knows, behind its internal lock.
#[derive(Debug)]
struct State {
    /// Tasks of the current round, in arrival order; at most `parties - 1` (the
    /// last arrival ends the round instead of waiting).
    waiting: Vec<Waiter>,
    /// Tasks whose round ended but that have not been polled since: their outcome.
    /// A waiter is in `waiting` or here, never both.
    finished: Vec<(u64, Result<usize, BrokenBarrierError>)>,
    /// Set by `abort()`, cleared by `reset()`: every `wait()` fails at once.
    broken: bool,
    /// The id the next waiter gets.
    next_id: u64,
}

/// One task waiting for its round to end.
#[derive(Debug)]
struct Waiter {
    id: u64,
    /// Its arrival index: how many were waiting when it came (asyncio's `_count`).
    index: usize,
    waker: Waker,
}

impl State {
    /// Ends the round: each waiter gets `Ok(index)` (released) or the error
    /// (reset, abort). Returns the wakers to call once the lock is released.
    fn end_round(&mut self, released: bool) -> Vec<Waker> {
        let mut wakers = Vec::with_capacity(self.waiting.len());
        for waiter in self.waiting.drain(..) {
            let outcome = if released {
                Ok(waiter.index)
            } else {
                Err(BrokenBarrierError)
            };
            self.finished.push((waiter.id, outcome));
            wakers.push(waiter.waker);
        }
        wakers
    }
}

impl Barrier {
    /// A barrier for `parties` tasks (`asyncio.Barrier(parties)`).
    ///
    /// # Panics
    ///
    /// If `parties` is 0 (asyncio: `ValueError: parties must be > 0`).
    #[track_caller]
    pub fn new(parties: usize) -> Barrier {
        assert!(
            parties > 0,
            "Barrier::new(0): a barrier needs at least one party (asyncio: parties must be > 0)"
        );
        Barrier {
            parties,
            state: StateLock::new(State {
                waiting: Vec::new(),
                finished: Vec::new(),
                broken: false,
                next_id: 0,
            }),
        }
    }

    /// Waits until `parties` tasks are waiting, then returns this task's arrival
    /// index, `0..parties` (`await barrier.wait()`).
    ///
    /// # Errors
    ///
    /// [`BrokenBarrierError`] if the barrier is broken ([`abort`](Self::abort)), or
    /// becomes broken or is [`reset`](Self::reset) while this task waits.
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            id: None,
        }
    }

    /// How many tasks the barrier waits for (`barrier.parties`).
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many tasks are waiting in the current round (`barrier.n_waiting`).
    pub fn n_waiting(&self) -> usize {
        lock_state(&self.state).waiting.len()
    }

    /// Whether the barrier is broken (`barrier.broken`).
    pub fn broken(&self) -> bool {
        lock_state(&self.state).broken
    }

    /// Breaks the barrier (`await barrier.abort()`): the tasks waiting, and every
    /// later `wait()`, get [`BrokenBarrierError`] until [`reset`](Self::reset).
    pub fn abort(&self) {
        let wakers = {
            let mut state = lock_state(&self.state);
            state.broken = true;
            state.end_round(false)
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Empties the barrier (`await barrier.reset()`): the tasks waiting get
    /// [`BrokenBarrierError`], and the barrier is no longer broken.
    pub fn reset(&self) {
        let wakers = {
            let mut state = lock_state(&self.state);
            state.broken = false;
            state.end_round(false)
        };
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock_state(&self.state);
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &state.waiting.len())
            .field("broken", &state.broken)
            .finish()
    }
}

/// The future returned by [`Barrier::wait`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    /// Our id once we arrived and had to wait; `None` before arriving and after
    /// returning.
    id: Option<u64>,
}

impl Future for BarrierWait<'_> {
    type Output = Result<usize, BrokenBarrierError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let barrier = self.barrier;
        let mut state = lock_state(&barrier.state);
        let Some(id) = self.id else {
            // Arriving.
            if state.broken {
                return Poll::Ready(Err(BrokenBarrierError));
            }
            let index = state.waiting.len();
            if index + 1 == barrier.parties {
                // The last arrival releases the round and does not wait.
                let wakers = state.end_round(true);
                drop(state);
                wakers.into_iter().for_each(Waker::wake);
                return Poll::Ready(Ok(index));
            }
            let id = state.next_id;
            state.next_id += 1;
            state.waiting.push(Waiter {
                id,
                index,
                waker: cx.waker().clone(),
            });
            self.id = Some(id);
            crate::task::wait::on_primitive(crate::task::wait::BARRIER_WORD);
            return Poll::Pending;
        };
        if let Some(at) = state.finished.iter().position(|(done, _)| *done == id) {
            let (_, outcome) = state.finished.swap_remove(at);
            self.id = None;
            return Poll::Ready(outcome);
        }
        // Still waiting: keep the waker of whoever polls us now.
        if let Some(waiter) = state.waiting.iter_mut().find(|w| w.id == id)
            && !waiter.waker.will_wake(cx.waker())
        {
            waiter.waker = cx.waker().clone();
        }
        crate::task::wait::on_primitive(crate::task::wait::BARRIER_WORD);
        Poll::Pending
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        let Some(id) = self.id else { return };
        let mut state = lock_state(&self.barrier.state);
        // Cancelled while waiting: leave the round (asyncio's `finally: _count -= 1`).
        // Cancelled after the round ended: forget the outcome nobody will read.
        state.waiting.retain(|w| w.id != id);
        state.finished.retain(|(done, _)| *done != id);
    }
}

/// The barrier was broken ([`Barrier::abort`]) or reset ([`Barrier::reset`]) while
/// this task waited, or was broken when it arrived (asyncio's `BrokenBarrierError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokenBarrierError;

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the barrier is broken: abort() was called, or reset() while this task waited; \
             call reset() before using it again",
        )
    }
}

impl std::error::Error for BrokenBarrierError {}
