//! Who waits on the selector: the seat, the bench, and the fallback thread.
//!
//! One reactor serves the whole process, and only one thread may sit in
//! `epoll_wait` at a time. That thread holds the *seat* (an atomic flag). A
//! single-threaded loop on the real clock takes the seat in its step 4 and waits
//! there until its next timer; a loop that finds the seat taken (another loop, or
//! the fallback thread, holds it) sits on the *bench*: it parks as before, and the
//! holder unparks the bench when it leaves the seat. The fallback thread,
//! `clearloop-reactor`, drives the selector only when no loop does:
//!
//! ```text
//!   no loop running (sockets used from worker threads or outside any runtime):
//!     fallback thread: take the seat, wait(None), dispatch, again
//!   a loop is running:
//!     loop step 4:  take the seat -> wait(next timer) -> leave the seat
//!     fallback:     every 10 ms, look: did anyone wait meanwhile? (the tick)
//!                   no, and the seat is free (the loops are all busy running
//!                   tasks): take it and wait(None) until a loop asks for it back
//!                   (it sees `fallback_in_wait` and calls notify())
//! ```
//!
//! smol's `async-io` does the same: a global reactor driven by whichever
//! `block_on` blocks, and an `async-io` thread that steps in when none does.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, OnceLock};
use std::thread::{self, Thread};
use std::time::Duration;

use super::Reactor;
use crate::panics::lock;

/// How long the fallback thread lets the selector go unwatched while a loop runs
/// before it steps in (smol's `async-io` thread backs off to the same order).
pub const FALLBACK_PATIENCE: Duration = Duration::from_millis(10);

/// Single-threaded loops on the real clock now inside `block_on`: while there is
/// one, the fallback thread only watches.
static LOOPS: AtomicUsize = AtomicUsize::new(0);

/// The fallback thread, to unpark when the last loop ends.
pub(super) static FALLBACK: OnceLock<Thread> = OnceLock::new();

/// The state behind the seat, one per reactor.
#[derive(Default)]
pub(super) struct Seat {
    /// Somebody sits in (or is about to enter) `epoll_wait`.
    taken: AtomicBool,
    /// Threads parked because the seat was taken; unparked when it frees.
    benched: Mutex<Vec<Thread>>,
    /// `benched.len()`, read without the lock by the thread leaving the seat.
    benched_count: AtomicUsize,
    /// The fallback thread is in (or about to enter) `wait(None)`: a loop that
    /// wants the seat asks for it with `notify()`.
    pub(super) fallback_in_wait: AtomicBool,
    /// Bumped by every `wait`: the fallback thread's "did anyone wait lately?".
    pub(super) ticks: AtomicU64,
}

/// A single-threaded loop on the real clock is running: while any is, the loops
/// drive the selector and the fallback thread only watches.
#[must_use = "the loop counts as running only while the guard lives"]
pub(crate) struct LoopRunning(());

impl LoopRunning {
    /// Counts the calling loop in.
    pub(crate) fn enter() -> LoopRunning {
        LOOPS.fetch_add(1, SeqCst);
        LoopRunning(())
    }
}

impl Drop for LoopRunning {
    fn drop(&mut self) {
        // The last loop is gone: the fallback thread drives from now on.
        if LOOPS.fetch_sub(1, SeqCst) == 1
            && let Some(fallback) = FALLBACK.get()
        {
            fallback.unpark();
        }
    }
}

/// What a loop's step 4 got when it asked for the seat.
#[must_use = "a loop that got the seat must wait on the selector and then leave it"]
pub(crate) enum SeatTaken {
    /// The caller holds the seat: wait, then [`Reactor::leave_seat`].
    Taken,
    /// Somebody else waits on the selector; the caller parked meanwhile (and its
    /// wake-ups come across threads).
    Parked,
}

impl Reactor {
    fn try_take_seat(&self) -> bool {
        self.seat
            .taken
            .compare_exchange(false, true, SeqCst, SeqCst)
            .is_ok()
    }

    /// A busy worker's look at the selector, without waiting (tokio's workers do the
    /// same every 61 tasks): if nobody sits in the seat, take it, collect what became
    /// ready (`epoll_wait` with a zero timeout), wake those tasks, and leave. Without
    /// it, while every worker runs tasks, readiness waits for a worker to park or for
    /// the fallback thread (10 ms).
    pub(crate) fn look_without_waiting(&self) {
        if self.seat.taken.load(SeqCst) || !self.try_take_seat() {
            return;
        }
        if let Err(error) = self.wait(Some(Duration::ZERO)) {
            eprintln!("clearloop: looking at the selector failed: {error}");
        }
        self.leave_seat();
    }

    /// Step 4 of a loop: takes the seat, or parks with `park` while somebody else
    /// holds it (asking the fallback thread to step down, if it is the holder).
    pub(crate) fn take_seat_or_park(&self, park: impl FnOnce()) -> SeatTaken {
        if self.try_take_seat() {
            return SeatTaken::Taken;
        }
        if self.seat.fallback_in_wait.load(SeqCst) {
            let _ = self.selector.notify();
        }
        // Bench first, then look again: a holder that leaves after our first
        // look sees the bench and unparks us, so the park below cannot miss it.
        let me = thread::current();
        {
            let mut benched = lock(&self.seat.benched);
            benched.push(me.clone());
            self.seat.benched_count.store(benched.len(), SeqCst);
        }
        let taken = self.try_take_seat();
        if !taken {
            park();
        }
        let mut benched = lock(&self.seat.benched);
        if let Some(at) = benched.iter().position(|t| t.id() == me.id()) {
            benched.swap_remove(at);
        }
        self.seat.benched_count.store(benched.len(), SeqCst);
        if taken {
            SeatTaken::Taken
        } else {
            SeatTaken::Parked
        }
    }

    /// Gives the seat back and unparks whoever waited for it.
    pub(crate) fn leave_seat(&self) {
        self.seat.taken.store(false, SeqCst);
        if self.seat.benched_count.load(SeqCst) > 0 {
            lock(&self.seat.benched).iter().for_each(Thread::unpark);
        }
    }

    /// The fallback thread's whole life (see the module doc). An error from the
    /// OS here is a bug (epoll_wait fails only on a bad descriptor or buffer): say
    /// it once per second at most, rather than spin silently.
    pub(super) fn drive_as_fallback(&self) {
        loop {
            if LOOPS.load(SeqCst) > 0 {
                let tick = self.seat.ticks.load(SeqCst);
                thread::park_timeout(FALLBACK_PATIENCE);
                let quiet = self.seat.ticks.load(SeqCst) == tick;
                if !quiet || LOOPS.load(SeqCst) == 0 || self.seat.taken.load(SeqCst) {
                    continue; // a loop waits, or waited lately: nothing to do
                }
            }
            // Announce before taking: a loop that fails to take the seat from us
            // then sees the flag, and notifies.
            self.seat.fallback_in_wait.store(true, SeqCst);
            if !self.try_take_seat() {
                self.seat.fallback_in_wait.store(false, SeqCst);
                thread::park_timeout(FALLBACK_PATIENCE);
                continue;
            }
            let result = self.wait(None);
            self.seat.fallback_in_wait.store(false, SeqCst);
            self.leave_seat();
            if let Err(error) = result {
                eprintln!("clearloop-reactor: waiting on the selector failed: {error}");
                thread::sleep(Duration::from_secs(1));
            }
        }
    }
}
