//! Where the task's future lives: in place, with no lock. The state machine is the
//! lock.
//!
//! Only one thread may poll or drop a future at a time, and a `Mutex` would check
//! that on every poll (two locked instructions, and 8 bytes in every task). But the
//! task's state ([`state`](super::super::state)) already decides who runs the task:
//! the thread whose `start_poll` set RUNNING is the only one that polls it, until
//! `end_poll_pending` clears RUNNING or `complete` sets DONE. That is a lock already,
//! so the future sits in an `UnsafeCell` and every access names the transition that
//! granted it, as tokio's `core.rs` and async-task's `raw.rs` do:
//!
//! ```text
//!   who touches the future            what grants it
//!   ------------------------------    ----------------------------------------------
//!   the loop / a worker polls it      start_poll -> Start::Poll: RUNNING won, held
//!                                     until end_poll_pending (Pending) or complete
//!   it drops it (Ready, panic)        the same RUNNING, before complete sets DONE
//!   it drops it (cancel() was called) start_poll -> Start::Cancel: RUNNING won
//!   shutdown drops it                 start_shutdown -> Start::Cancel: RUNNING won
//!                                     (skipped if RUNNING or DONE is set already)
//!   the cell's Drop drops it          `&mut self`: the last reference is gone
//!
//!   state bits:   CANCEL  DONE  RUNNING  SCHEDULED
//!                             |    |
//!                             |    +-- set: one thread owns the future
//!                             +------- set: the future is gone (or going) for good
//! ```
//!
//! A wake-up never touches the future: it only sets SCHEDULED (or NOTIFIED, the same
//! bit while RUNNING is set) and pushes the task. A handle never touches it either:
//! it reads the outcome, behind the cell's other lock.
//!
//! Whether the future is still there is a flag of the header (`future_gone`), set
//! by the thread that holds the grant just before it drops the future, and read only
//! by a holder of the grant or by the cell's `Drop`: the grant orders every access,
//! so a plain (relaxed) store and load do. Set *before* the drop: a drop that
//! panicked leaves a future that is never dropped twice.
//!
//! `loom` checks the protocol: a model in this file polls, wakes, cancels, shuts
//! down and drops one such future from several threads, through the real
//! transitions, and loom's `UnsafeCell` fails the model if two accesses are not
//! ordered by them (`RUSTFLAGS="--cfg loom" cargo test --release --lib loom`).

use std::future::Future;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};

#[cfg(loom)]
use loom::cell::UnsafeCell;

/// std's `UnsafeCell` with loom's interface (`with_mut`), so that the same code
/// runs under the model checker, which tracks every access.
#[cfg(not(loom))]
struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    #[inline(always)]
    fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// The future of a task, in place. It has no flag of its own (the header keeps
/// `future_gone`): for a future of size 0, a flag here would cost 8 bytes of padding.
pub(crate) struct FutureCell<F> {
    future: UnsafeCell<MaybeUninit<F>>,
}

// SAFETY: the cell is shared between threads (wakers and the handle hold it), but
// only the holder of the grant drawn above touches the future, one thread at a
// time, each access ordered after the previous holder's by the state's
// acquire/release transitions; so sharing it is sending the future from one holder
// to the next, which `F: Send` allows.
unsafe impl<F: Send> Sync for FutureCell<F> {}

impl<F> FutureCell<F> {
    /// Holds `future`, not yet polled.
    pub(crate) fn new(future: F) -> FutureCell<F> {
        FutureCell {
            future: UnsafeCell::new(MaybeUninit::new(future)),
        }
    }

    /// Polls the future once, in place.
    ///
    /// # Safety
    ///
    /// The caller holds the grant (RUNNING, won by `start_poll` or
    /// `start_shutdown`) and the future is still there (`future_gone` unset).
    #[inline(always)]
    pub(crate) unsafe fn poll(&self, cx: &mut Context<'_>) -> Poll<F::Output>
    where
        F: Future,
    {
        self.future.with_mut(|future| {
            // SAFETY: the caller's grant makes this the only access to the future
            // now, and it was initialised by `new` and not dropped (the caller's
            // second promise). Pinned: the future lives inside the task's `Arc`
            // allocation, which never moves, and is never moved out of it, only
            // dropped in place; that is the promise `Pin` asks for.
            let future = unsafe { Pin::new_unchecked((*future).assume_init_mut()) };
            future.poll(cx)
        })
    }

    /// Drops the future in place. Afterwards it is gone: the caller has set
    /// `future_gone` before, so that nobody touches it again.
    ///
    /// # Safety
    ///
    /// As for [`poll`](FutureCell::poll): the caller holds the grant, or `&mut` of
    /// the cell, and the future is still there.
    pub(crate) unsafe fn drop_in_place(&self) {
        self.future.with_mut(|future| {
            // SAFETY: the caller's grant makes this the only access, and the
            // future is initialised; it is never read again (`future_gone`).
            unsafe { (*future).assume_init_drop() }
        })
    }
}

/// The model: one future, polled, woken, cancelled, shut down and dropped from
/// several threads through the real [`State`](super::super::state::State)
/// transitions. A `Probe` future writes to itself on every poll and on its drop, so
/// loom's `UnsafeCell` checks that each of those accesses is ordered after the last
/// (a missing grant, or a grant with too weak an ordering, fails the model).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::task::state::{AfterCancel, AfterPoll, AfterWake, Start, State};
    use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use loom::sync::{Arc, Mutex};
    use std::task::Waker;

    /// A future that writes on every poll and is ready at its `ready_at`th poll.
    struct Probe {
        polls: usize,
        ready_at: usize,
    }

    impl Future for Probe {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            self.polls += 1;
            if self.polls >= self.ready_at {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    impl Drop for Probe {
        fn drop(&mut self) {
            self.polls = usize::MAX; // a write: loom sees a racing drop
        }
    }

    /// The cell's parts that the protocol touches: the state, the future and the
    /// flag, as `Cell` has them; and a ready queue, by its number of copies of the
    /// task (a loom lock, as the runtime's queues synchronise a push with its pop).
    struct Task {
        state: State,
        future: FutureCell<Probe>,
        gone: AtomicBool,
        queue: Mutex<usize>,
        finished: AtomicUsize,
    }

    impl Task {
        fn new(ready_at: usize) -> Arc<Task> {
            Arc::new(Task {
                state: State::new_scheduled(),
                future: FutureCell::new(Probe { polls: 0, ready_at }),
                gone: AtomicBool::new(false),
                // Spawned: SCHEDULED, and in the queue.
                queue: Mutex::new(1),
                finished: AtomicUsize::new(0),
            })
        }

        fn push(&self) {
            let mut copies = self.queue.lock().unwrap();
            *copies += 1;
            assert!(*copies <= 1, "the task is queued twice");
        }

        /// A worker's turn: pops the task, if queued, and runs it (`Cell::run`).
        fn turn(&self) {
            let mut copies = self.queue.lock().unwrap();
            if *copies == 0 {
                return;
            }
            *copies -= 1;
            drop(copies);
            match self.state.start_poll() {
                Start::Skip => {}
                Start::Cancel => self.cancel_now(),
                Start::Poll => {
                    let mut cx = Context::from_waker(Waker::noop());
                    // SAFETY: RUNNING won by start_poll just above; the future is
                    // there (a task whose future is gone is DONE, or RUNNING for
                    // good, and start_poll skips both).
                    match unsafe { self.future.poll(&mut cx) } {
                        Poll::Ready(()) => self.drop_and_finish(),
                        Poll::Pending => {
                            if self.state.end_poll_pending() == AfterPoll::Requeue {
                                self.push();
                            }
                        }
                    }
                }
            }
        }

        /// `Cell::cancel_now`: the caller won RUNNING.
        fn cancel_now(&self) {
            if !self.gone.load(Ordering::Relaxed) {
                self.drop_and_finish();
            }
        }

        fn drop_and_finish(&self) {
            self.gone.store(true, Ordering::Relaxed);
            // SAFETY: the caller holds RUNNING and the future was there.
            unsafe { self.future.drop_in_place() };
            self.finished.fetch_add(1, Ordering::SeqCst);
            self.state.complete();
        }

        /// `Runnable::shut_down`.
        fn shut_down(&self) {
            if self.state.start_shutdown() == Start::Cancel {
                self.cancel_now();
            }
        }

        fn wake(&self) {
            if self.state.wake() == AfterWake::Push {
                self.push();
            }
        }

        fn cancel(&self) {
            if self.state.cancel() == AfterCancel::Push {
                self.push();
            }
        }
    }

    impl Drop for Task {
        /// `Cell`'s `Drop`: the last reference drops a future still there.
        fn drop(&mut self) {
            if !self.gone.load(Ordering::Relaxed) {
                // SAFETY: `&mut self`: nobody else holds the task.
                unsafe { self.future.drop_in_place() };
            }
        }
    }

    /// Two workers take turns at the queue while a third thread wakes the task:
    /// every poll is ordered after the last (loom's `UnsafeCell` checks it), and the
    /// future is dropped exactly once, here by the last reference.
    #[test]
    fn loom_two_workers_and_a_waker_never_touch_the_future_at_once() {
        loom::model(|| {
            let task = Task::new(usize::MAX);
            let worker = {
                let task = task.clone();
                loom::thread::spawn(move || task.turn())
            };
            let waker = {
                let task = task.clone();
                loom::thread::spawn(move || task.wake())
            };
            task.turn();
            worker.join().unwrap();
            waker.join().unwrap();
            task.turn();
            assert_eq!(task.finished.load(Ordering::SeqCst), 0);
        });
    }

    /// A cancel from another thread while the loop polls, then runtime shutdown,
    /// then the last reference: the future is dropped once, by whoever won RUNNING.
    #[test]
    fn loom_cancel_shutdown_and_drop_drop_the_future_once() {
        loom::model(|| {
            let task = Task::new(usize::MAX);
            let canceller = {
                let task = task.clone();
                loom::thread::spawn(move || task.cancel())
            };
            task.turn();
            canceller.join().unwrap();
            // Cancelled before, during or after that poll: this turn drops it.
            task.turn();
            task.shut_down();
            assert!(task.state.is_done());
            assert_eq!(task.finished.load(Ordering::SeqCst), 1);
        });
    }

    /// Shutdown on one thread and a late spawn's cancellation on another (the
    /// race of `Runtime::shut_down` with `Handle::spawn`'s `cancel_at_once`): one
    /// of them wins RUNNING and drops the future, the other does nothing.
    #[test]
    fn loom_two_shutdowns_race_and_one_drops_the_future() {
        loom::model(|| {
            let task = Task::new(usize::MAX);
            let other = {
                let task = task.clone();
                loom::thread::spawn(move || task.shut_down())
            };
            task.shut_down();
            other.join().unwrap();
            assert_eq!(task.finished.load(Ordering::SeqCst), 1);
        });
    }

    /// A task that finishes on one worker while the last other reference is
    /// dropped on another thread: the drop finds the future gone.
    #[test]
    fn loom_a_finished_future_is_not_dropped_again_by_the_last_reference() {
        loom::model(|| {
            let task = Task::new(1);
            let holder = task.clone();
            let worker = loom::thread::spawn(move || task.turn());
            drop(holder);
            worker.join().unwrap();
        });
    }
}
