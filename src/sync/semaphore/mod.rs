//! A semaphore: a counter of permits, and a queue of tasks waiting for some.
//!
//! `acquire()` takes a permit, or waits until one is released; dropping the permit
//! gives it back. The course calls it "un verrou multiple": a [`Mutex`](super::Mutex)
//! is a semaphore of one permit, and clearloop builds it exactly that way.
//!
//! asyncio: `asyncio.Semaphore(value)` and `asyncio.BoundedSemaphore(value)`.
//! `async with sem:` becomes `let _permit = sem.acquire().await;` (released when
//! `_permit` goes out of scope, even by a panic). A permit that must move into a
//! spawned task, to bound how many tasks run at once, comes from
//! [`acquire_owned`](Semaphore::acquire_owned) on an `Arc<Semaphore>`: an
//! [`OwnedSemaphorePermit`] keeps the semaphore alive and gives its permit back when
//! the task drops it, whether the task returns, panics or is cancelled. The explicit form
//! `await sem.acquire()` ... `sem.release()` is `sem.acquire().await.forget()` ...
//! `sem.release()`. Differences: counts are `usize`, so the course's "a value below 0
//! raises ValueError" cannot happen; a count too large for a `usize` is a
//! [`PermitOverflow`] error, never a silent wrap; and there is
//! [`acquire_many`](Semaphore::acquire_many), which asyncio lacks.
//!
//! ```text
//!   Semaphore(3), five tasks:   A, B, C hold a permit; D then E wait.
//!
//!     available: 0     waiters: front [ D want 1 ][ E want 1 ] back
//!
//!   C drops its permit ──► the permit goes straight to D (hand-off):
//!
//!     available: 0     waiters: front [ E want 1 ] back        D woken
//!
//!   D, dropped before it ran again, hands it on to E. A try_acquire() by a
//!   newcomer in between finds available = 0: it cannot overtake D or E.
//! ```
//!
//! ## Fairness policy
//!
//! Strict first-come, first-served. A release serves waiters from the front for as
//! long as the front one's request fits; it stops at the first that does not fit,
//! *even if a later, smaller request would*. So `acquire_many(5)` at the front of the
//! queue holds back an `acquire()` behind it while only 3 permits are free. Why: the
//! alternative (let small requests pass) starves big ones for as long as small ones
//! keep coming. The cost: those 3 permits stay idle until the big request is served.
//! smol's `async-lock` and tokio's `Semaphore` choose the same.
//!
//! ## The head-of-line rule, and requests that can never be served
//!
//! The rule has a sharp edge: a request for more permits than will *ever* be free
//! blocks the queue for good. `acquire_many(5)` on a `Semaphore(3)` waits at the
//! front until somebody [adds](Semaphore::add_permits) two permits, and every
//! `acquire()` after it waits too, even with all three free. A `Semaphore` can grow,
//! so such a request may be legitimate; it is yours to make sure it gets served.
//! What clearloop refuses, because it can never be served:
//!
//! * on a [`BoundedSemaphore`] (which cannot grow), a request above its bound:
//!   [`BoundedSemaphore::acquire_many`] returns [`TooManyPermits`] at once;
//! * on any semaphore, a request above [`Semaphore::MAX_PERMITS`], the largest count
//!   a semaphore can hold: `try_acquire_many` returns an error that says so, and
//!   `acquire_many` panics at the call. Such an `n` is nearly always a subtraction
//!   that wrapped (`0usize.wrapping_sub(1)` is `usize::MAX`).
//!
//! ```
//! use clearloop::sync::Semaphore;
//!
//! let sem = Semaphore::new(2);
//! let permit = sem.try_acquire().unwrap();
//! assert_eq!(sem.available_permits(), 1);
//! permit.forget(); // asyncio: acquire() without a matching release()
//! assert_eq!(sem.available_permits(), 1);
//! sem.release(); // asyncio: sem.release()
//! assert_eq!(sem.available_permits(), 2);
//! ```
//!
//! ## The permit word: no lock when nobody waits
//!
//! Most acquires find a permit free, and most releases find nobody waiting. For
//! those, taking the internal lock (to look at a waiter list that is empty) would
//! be most of the cost. So the free permits live outside the lock, in one atomic
//! word, with one bit beside them that says whether anybody is queued:
//!
//! ```text
//!   word = free permits << 1 | QUEUED
//!
//!   try_acquire, acquire:  QUEUED clear, enough free?  compare-and-swap the count
//!                          down: done (one atomic instruction, no lock)
//!                          else lock, and queue (setting QUEUED)
//!   permit dropped:        add to the count (one atomic instruction); QUEUED was
//!                          set? lock, and serve the front waiters from the word
//!   queue emptied:         clear QUEUED (under the lock)
//! ```
//!
//! QUEUED is set and cleared only under the lock, and is set exactly while the
//! list of waiters is not empty. A newcomer that sees it does not take permits
//! (it would overtake the queue), so while it is set only the lock holder takes
//! from the count, and a release only adds to it. That is how the two halves
//! meet without a lost wake-up: a task about to queue sets QUEUED by a
//! compare-and-swap on the very word it found short of permits, so a release
//! either adds its permits before (the swap fails, the task looks again and takes
//! them) or sees QUEUED after, and comes for the lock, which the task holds until
//! it is in the list. `tests/loom_sync.rs` checks those races.
//!
//! tokio's semaphore (`batch_semaphore.rs`) keeps its permits in an atomic word
//! the same way; its release always takes the waiter list's lock, where ours
//! takes it only when QUEUED says somebody is there.
//!
//! The acquire future lives in `acquire.rs`, [`BoundedSemaphore`] in `bounded.rs`,
//! the errors in `error.rs`, and the name a primitive carries in a trace in `label.rs`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::waiters::{WaitList, WakeList};
use super::{AtomicUsize, StateLock, lock_state};
use crate::trace::ResourceKind;

mod acquire;
mod bounded;
mod error;
mod label;

use acquire::AcquireState;
pub use acquire::{Acquire, AcquireOwned};
pub use bounded::{BoundedSemaphore, OverRelease};
pub use error::{PermitOverflow, TooManyPermits, TryAcquireError};
pub(crate) use label::Label;

/// A counting semaphore with a FIFO queue of waiters (`asyncio.Semaphore`).
///
/// See the [module documentation](self) for the fairness policy.
pub struct Semaphore {
    /// The permit word: the free permits, shifted left by one, and the
    /// [`QUEUED`] bit. See "The permit word" in the [module documentation](self).
    word: AtomicUsize,
    /// The waiters and the total, behind the internal lock: only the slow paths
    /// (a task that must wait, a release that finds [`QUEUED`]) take it.
    state: StateLock<State>,
    /// What a trace calls it (`Semaphore-1`, or a `Mutex`'s `Lock-1`, or its
    /// [`with_name`](Semaphore::with_name)); made only when a trace records it.
    label: Label,
}

/// The bit of the permit word that says "tasks are queued": set and cleared only
/// under the internal lock, set exactly while the waiter list is not empty.
const QUEUED: usize = 1;
/// One permit, as the permit word counts it (the count sits above [`QUEUED`]).
const ONE: usize = 2;

/// What a semaphore knows behind its internal lock.
#[derive(Debug)]
struct State {
    /// Permits in existence: the free ones + those held by [`SemaphorePermit`]s +
    /// those handed to served waiters that have not run yet. Changes only with
    /// [`Semaphore::add_permits`] and [`SemaphorePermit::forget`]; the bound of a
    /// [`BoundedSemaphore`] applies to it.
    total: usize,
    /// Tasks waiting for permits, in arrival order.
    /// Invariant, whenever the lock is free and no release is on its way to it: if
    /// not empty, fewer permits are free than the front one wants (otherwise it
    /// would have been served).
    waiters: WaitList,
}

impl Semaphore {
    /// Takes `n` permits now if that is fair: nobody is queued and enough are free.
    /// The fast path: one compare-and-swap on the permit word, no lock.
    #[inline]
    fn try_take(&self, n: usize) -> bool {
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            // A newcomer must not overtake a queued waiter, even a big one.
            if word & QUEUED != 0 || word / ONE < n {
                return false;
            }
            // `Acquire` on success: what the last holder wrote before its release
            // (`AcqRel` in `give_back`) is visible to the new one (a `Mutex`'s data).
            match self.word.compare_exchange_weak(
                word,
                word - n * ONE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(now) => word = now,
            }
        }
    }

    /// Gives back `n` held permits (a permit dropped, or a served waiter dropped).
    /// The fast path: one atomic add; the lock only if tasks are queued.
    #[inline]
    fn give_back(&self, n: usize) {
        // Cannot overflow: held permits are counted in `total`, and free + held <=
        // total <= MAX_PERMITS, half of a `usize`: twice that, plus the bit, fits.
        let before = self.word.fetch_add(n * ONE, Ordering::AcqRel);
        if before & QUEUED != 0 {
            self.serve_queued();
        }
    }

    /// The slow half of [`give_back`](Self::give_back): tasks were queued when the
    /// permits came back, so serve them. The permits are in the word already: this
    /// release, and any other that raced it, is served here or by the release that
    /// holds the lock before us (each one that saw [`QUEUED`] comes here).
    #[cold]
    #[inline(never)]
    fn serve_queued(&self) {
        let mut state = lock_state(&self.state);
        let mut wake = WakeList::new();
        self.serve(&mut state, &mut wake);
        drop(state);
        wake.wake_all();
    }

    /// Hands free permits to the waiters at the front, in order, for as long as the
    /// front one's request fits: the fairness policy in one loop. Clears
    /// [`QUEUED`] when it empties the queue. Called with the internal lock held.
    ///
    /// One look at the word and one subtraction, however many it serves: while
    /// QUEUED is set, only the lock holder takes permits from the word (`try_take`
    /// refuses), and releases only add, so what we see free stays free until we
    /// take it.
    fn serve(&self, state: &mut State, wake: &mut WakeList) {
        let word = self.word.load(Ordering::Acquire);
        // QUEUED is set exactly while the list is not empty (both change under
        // the lock we hold): clear, nobody to serve (a release that raced the one
        // that emptied the queue).
        if word & QUEUED == 0 {
            return;
        }
        let mut free = word / ONE;
        let mut taken = 0;
        while let Some(want) = state.waiters.front_want() {
            if want > free {
                break; // FIFO: nobody behind it may overtake.
            }
            free -= want;
            taken += want;
            let served = state.waiters.serve_front(wake);
            debug_assert!(served);
        }
        // Nobody left: newcomers may take permits without the lock again. QUEUED
        // is set, so subtracting it clears it.
        let clear = if state.waiters.is_empty() { QUEUED } else { 0 };
        if taken > 0 || clear != 0 {
            self.word.fetch_sub(taken * ONE + clear, Ordering::AcqRel);
        }
    }

    /// [`give_back`](Self::give_back) with the internal lock already held (a served
    /// waiter cancelled): add the permits, and serve if anybody waits.
    fn give_back_locked(&self, state: &mut State, n: usize, wake: &mut WakeList) {
        let before = self.word.fetch_add(n * ONE, Ordering::AcqRel);
        if before & QUEUED != 0 {
            self.serve(state, wake);
        }
    }

    /// The slow half of an acquire: takes the lock, takes the permits if they are
    /// free now (a release came in since the fast path looked) and nobody is
    /// queued; else sets [`QUEUED`] and calls `register`, the lock still held, to
    /// push the waiter. Returns whether the permits were taken.
    ///
    /// Setting [`QUEUED`] under the lock, by a compare-and-swap on the word we
    /// looked at, is what makes the check and the registration one step for a
    /// release: a release that adds permits before it is seen here, or sees
    /// [`QUEUED`] and comes for the lock, which we hold until the waiter is in
    /// the list. No wake-up is lost.
    fn take_or_queue(&self, n: usize, register: impl FnOnce(&mut State)) -> bool {
        let mut state = lock_state(&self.state);
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            if word & QUEUED != 0 {
                break; // Others wait already: behind them.
            }
            let (next, took) = if word / ONE >= n {
                (word - n * ONE, true)
            } else {
                (word | QUEUED, false)
            };
            match self
                .word
                .compare_exchange_weak(word, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if took => return true,
                Ok(_) => break,
                Err(now) => word = now,
            }
        }
        register(&mut state);
        false
    }
}

impl Semaphore {
    /// The largest number of permits a semaphore can count: half of `usize`'s range,
    /// so that a request computed by a subtraction that wrapped (just below
    /// `usize::MAX`) is caught as an error instead of waiting forever.
    pub const MAX_PERMITS: usize = usize::MAX >> 1;

    /// A semaphore with `permits` permits (`asyncio.Semaphore(permits)`).
    ///
    /// A negative count, asyncio's `ValueError`, cannot be written: the type is
    /// `usize`.
    ///
    /// # Panics
    ///
    /// If `permits` is above [`Semaphore::MAX_PERMITS`].
    #[track_caller]
    pub fn new(permits: usize) -> Semaphore {
        assert!(
            permits <= Semaphore::MAX_PERMITS,
            "Semaphore::new({permits}): a semaphore counts at most Semaphore::MAX_PERMITS ({}) \
             permits; was the count computed by a subtraction that wrapped?",
            Semaphore::MAX_PERMITS
        );
        Semaphore {
            word: AtomicUsize::new(permits * ONE),
            state: StateLock::new(State {
                total: permits,
                waiters: WaitList::new(),
            }),
            label: Label::new(ResourceKind::Semaphore),
        }
    }

    /// This semaphore, named `name` in traces, `Runtime::dump` and deadlock reports
    /// (`Semaphore::new(3).with_name("db")`); unnamed, it is `Semaphore-1`, `-2`, ...
    pub fn with_name(mut self, name: impl Into<String>) -> Semaphore {
        self.label.name(name.into());
        self
    }

    /// A one-permit semaphore that traces call a lock (a `Mutex`'s).
    pub(crate) fn for_lock() -> Semaphore {
        let mut semaphore = Semaphore::new(1);
        semaphore.label = Label::new(ResourceKind::Lock);
        semaphore
    }

    /// Names it in traces (for `Mutex::with_name`).
    pub(crate) fn set_name(&mut self, name: String) {
        self.label.name(name);
    }

    /// Waits for one permit; it is given back when the returned permit is dropped.
    ///
    /// Cancel-safe: dropping the future while it waits leaves the queue as if it
    /// had never come; dropping it after it was handed the permit (but before it
    /// returned) passes the permit to the next waiter.
    #[inline]
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits at once, in one place in the queue.
    ///
    /// While it waits at the front, it holds back every request behind it, even
    /// smaller ones: see the fairness policy in the [module documentation](self).
    /// Asking for more permits than will ever exist waits forever, and holds back
    /// every later `acquire()`: the head-of-line rule.
    ///
    /// # Panics
    ///
    /// If `n` is above [`Semaphore::MAX_PERMITS`]: no semaphore can ever hold that
    /// many, so the call could only wait forever.
    #[inline]
    #[track_caller]
    pub fn acquire_many(&self, n: usize) -> Acquire<'_> {
        if n > Semaphore::MAX_PERMITS {
            panic!(
                "{}",
                TooManyPermits::never("Semaphore::acquire_many", n, Semaphore::MAX_PERMITS)
            );
        }
        Acquire {
            semaphore: self,
            want: n,
            state: AcquireState::Start,
        }
    }

    /// [`acquire`](Semaphore::acquire) on a shared semaphore, for a permit that a
    /// spawned task can own (tokio's `acquire_owned`): the future and the permit
    /// hold an `Arc` of the semaphore, so they are `'static`. Same queue, same
    /// fairness, same cancellation rules as `acquire`; the permit is given back when
    /// it is dropped, also when the task holding it panics or is cancelled.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use clearloop::{Builder, clock::Clock, spawn, sync::Semaphore, time::{now, sleep}};
    ///
    /// let runtime = Builder::new().clock(Clock::virtual_clock()).build();
    /// let took = runtime.block_on(async {
    ///     let start = now();
    ///     let limit = Arc::new(Semaphore::new(2)); // at most two downloads at once
    ///     let mut tasks = Vec::new();
    ///     for _ in 0..6 {
    ///         let permit = limit.clone().acquire_owned().await;
    ///         tasks.push(spawn(async move {
    ///             sleep(Duration::from_secs(1)).await; // a download
    ///             drop(permit); // the next task may start
    ///         }));
    ///     }
    ///     for task in tasks {
    ///         task.await;
    ///     }
    ///     now() - start
    /// });
    /// assert_eq!(took, Duration::from_secs(3)); // six 1-s tasks, two at a time
    /// ```
    pub fn acquire_owned(self: Arc<Self>) -> AcquireOwned {
        self.acquire_many_owned(1)
    }

    /// [`acquire_many`](Semaphore::acquire_many) for a permit a spawned task can
    /// own; see [`acquire_owned`](Semaphore::acquire_owned).
    ///
    /// # Panics
    ///
    /// If `n` is above [`Semaphore::MAX_PERMITS`], as `acquire_many`.
    #[track_caller]
    pub fn acquire_many_owned(self: Arc<Self>, n: usize) -> AcquireOwned {
        if n > Semaphore::MAX_PERMITS {
            panic!(
                "{}",
                TooManyPermits::never("Semaphore::acquire_many_owned", n, Semaphore::MAX_PERMITS)
            );
        }
        AcquireOwned {
            semaphore: Some(self),
            want: n,
            state: AcquireState::Start,
        }
    }

    /// [`try_acquire`](Semaphore::try_acquire) for a permit a spawned task can own.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError`] if the call would have had to wait.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// [`try_acquire_many`](Semaphore::try_acquire_many) for a permit a spawned task
    /// can own.
    ///
    /// # Errors
    ///
    /// As `try_acquire_many`.
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: usize,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        let count = self.try_acquire_many(n)?.into_count();
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            count,
        })
    }

    /// Takes one permit if one is free and nobody is queued before us.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError`] if the call would have had to wait.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody is queued before us.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError`] if the call would have had to wait, or if `n` is above
    /// [`Semaphore::MAX_PERMITS`] ([`TryAcquireError::can_never_succeed`]).
    pub fn try_acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        if n > Semaphore::MAX_PERMITS {
            return Err(TryAcquireError {
                wanted: n,
                never: Some(TooManyPermits::never(
                    "Semaphore::try_acquire_many",
                    n,
                    Semaphore::MAX_PERMITS,
                )),
            });
        }
        if self.try_take(n) {
            Ok(SemaphorePermit {
                semaphore: self,
                count: n,
            })
        } else {
            Err(TryAcquireError {
                wanted: n,
                never: None,
            })
        }
    }

    /// How many permits are free right now (asyncio's `sem._value`).
    pub fn available_permits(&self) -> usize {
        self.word.load(Ordering::Acquire) / ONE
    }

    /// Whether `acquire()` would have to wait (asyncio's `sem.locked()`): no permit
    /// is free, or other tasks are already queued.
    pub fn locked(&self) -> bool {
        let word = self.word.load(Ordering::Acquire);
        word / ONE == 0 || word & QUEUED != 0
    }

    /// How many tasks are waiting for permits.
    pub fn waiting(&self) -> usize {
        lock_state(&self.state).waiters.len()
    }

    /// Adds one permit: asyncio's `sem.release()`, the pair of an `acquire()` whose
    /// permit was [`forget`](SemaphorePermit::forget)-ed.
    ///
    /// # Panics
    ///
    /// If the count would go above [`Semaphore::MAX_PERMITS`]; see
    /// [`try_add_permits`](Self::try_add_permits).
    #[track_caller]
    pub fn release(&self) {
        if let Err(err) = self.try_add_permits(1) {
            panic!("Semaphore::release(): {err}");
        }
    }

    /// Adds `n` permits, serving waiters first.
    ///
    /// # Panics
    ///
    /// If the number of permits would go above [`Semaphore::MAX_PERMITS`], with the
    /// [`PermitOverflow`] message; [`try_add_permits`](Self::try_add_permits)
    /// returns the error instead.
    #[track_caller]
    pub fn add_permits(&self, n: usize) {
        if let Err(err) = self.try_add_permits(n) {
            panic!("Semaphore::add_permits({n}): {err}");
        }
    }

    /// Adds `n` permits, serving waiters first.
    ///
    /// # Errors
    ///
    /// [`PermitOverflow`] if the number of permits would go above
    /// [`Semaphore::MAX_PERMITS`]; nothing changes then.
    pub fn try_add_permits(&self, n: usize) -> Result<(), PermitOverflow> {
        self.add_permits_bounded(n, Semaphore::MAX_PERMITS)
            .map_err(|err| PermitOverflow {
                total: err.total,
                added: n,
            })
    }

    /// Adds `n` permits unless the total would exceed `bound` (or a `usize`).
    fn add_permits_bounded(&self, n: usize, bound: usize) -> Result<(), OverRelease> {
        let mut state = lock_state(&self.state);
        match state.total.checked_add(n) {
            Some(total) if total <= bound => state.total = total,
            _ => {
                return Err(OverRelease {
                    total: state.total,
                    released: n,
                    bound,
                });
            }
        }
        let mut wake = WakeList::new();
        self.give_back_locked(&mut state, n, &mut wake);
        drop(state);
        wake.wake_all();
        Ok(())
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available", &self.available_permits())
            .field("waiting", &self.waiting())
            .finish()
    }
}

/// Permits taken from a [`Semaphore`]; dropping it gives them back.
#[must_use = "the permit is given back as soon as it is dropped"]
#[derive(Debug)]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
    count: usize,
}

impl SemaphorePermit<'_> {
    /// How many permits this holds.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Keeps the permits taken for good: the semaphore counts `count()` fewer from
    /// now on, until [`Semaphore::release`] or [`Semaphore::add_permits`] puts them
    /// back. This is how asyncio's unpaired `await sem.acquire()` is written.
    pub fn forget(mut self) {
        let mut state = lock_state(&self.semaphore.state);
        state.total -= self.count;
        self.count = 0; // so that Drop gives nothing back
    }
}

impl SemaphorePermit<'_> {
    /// Takes the count out, leaving nothing for `Drop` to give back: the permits
    /// now belong to whoever called (an [`OwnedSemaphorePermit`] being made).
    fn into_count(mut self) -> usize {
        std::mem::take(&mut self.count)
    }
}

impl Drop for SemaphorePermit<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.count > 0 {
            self.semaphore.give_back(self.count);
        }
    }
}

/// Permits taken from an `Arc<Semaphore>` ([`Semaphore::acquire_owned`]); dropping
/// it gives them back. It keeps the semaphore alive, so it can move into a spawned
/// task and be dropped there: when the task returns, panics (the permit is dropped
/// while unwinding) or is cancelled (the permit is dropped with the task's future).
#[must_use = "the permit is given back as soon as it is dropped"]
#[derive(Debug)]
pub struct OwnedSemaphorePermit {
    semaphore: Arc<Semaphore>,
    count: usize,
}

impl OwnedSemaphorePermit {
    /// How many permits this holds.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The semaphore the permits came from.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.semaphore
    }

    /// Keeps the permits taken for good; see [`SemaphorePermit::forget`].
    pub fn forget(mut self) {
        let mut state = lock_state(&self.semaphore.state);
        state.total -= self.count;
        self.count = 0; // so that Drop gives nothing back
    }
}

impl Drop for OwnedSemaphorePermit {
    #[inline]
    fn drop(&mut self) {
        if self.count > 0 {
            self.semaphore.give_back(self.count);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Wake, Waker};

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    #[test]
    fn a_big_request_at_the_front_holds_back_small_ones() {
        let sem = Semaphore::new(3);
        let held = sem.try_acquire_many(3).unwrap();
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);

        let mut big = sem.acquire_many(2);
        let mut small = sem.acquire();
        assert!(Pin::new(&mut big).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut small).poll(&mut cx).is_pending());

        drop(held); // 3 free: big (2) is served, then small (1).
        assert!(Pin::new(&mut big).poll(&mut cx).is_ready());
        assert!(Pin::new(&mut small).poll(&mut cx).is_ready());
    }
}
