//! A semaphore: a counter of permits, and a queue of tasks waiting for some.
//!
//! `acquire()` takes a permit, or waits until one is released; dropping the permit
//! gives it back. The course calls it "un verrou multiple": a [`Mutex`](super::Mutex)
//! is a semaphore of one permit, and clearloop builds it exactly that way.
//!
//! asyncio: `asyncio.Semaphore(value)` and `asyncio.BoundedSemaphore(value)`.
//! `async with sem:` becomes `let _permit = sem.acquire().await;` (released when
//! `_permit` goes out of scope, even by a panic). The explicit form
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

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::waiters::{Removed, WaitList, WaiterId, WakeList};
use super::{StateLock, lock_state};
use crate::trace::{self, EventKind, Resource, ResourceKind};

/// A counting semaphore with a FIFO queue of waiters (`asyncio.Semaphore`).
///
/// See the [module documentation](self) for the fairness policy.
pub struct Semaphore {
    state: StateLock<State>,
    /// What a trace calls it (`Semaphore-1`, or a `Mutex`'s `Lock-1`, or its
    /// [`with_name`](Semaphore::with_name)); made only when a trace records it.
    label: Label,
}

/// A primitive's kind and name, for the trace ([`crate::trace`]).
#[derive(Debug)]
pub(crate) struct Label {
    kind: ResourceKind,
    /// Given by `with_name`, or numbered at the first event a trace records.
    name: OnceLock<Box<str>>,
}

impl Label {
    /// An unnamed primitive of `kind`.
    pub(crate) fn new(kind: ResourceKind) -> Label {
        Label {
            kind,
            name: OnceLock::new(),
        }
    }

    /// Names it (a second name replaces the first).
    pub(crate) fn name(&mut self, name: String) {
        self.name = OnceLock::from(name.into_boxed_str());
    }

    /// The resource, as a trace records it; an unnamed one gets the next number of
    /// its kind (`Lock-1`, `Semaphore-2`), in the order they first appear.
    pub(crate) fn resource(&self) -> Resource {
        static NEXT: [AtomicUsize; 5] = [const { AtomicUsize::new(1) }; 5];
        let name = self.name.get_or_init(|| {
            let (word, index) = match self.kind {
                ResourceKind::Lock => ("Lock", 0),
                ResourceKind::Semaphore => ("Semaphore", 1),
                ResourceKind::Event => ("Event", 2),
                ResourceKind::Condition => ("Condition", 3),
                ResourceKind::Queue => ("Queue", 4),
            };
            let n = NEXT[index].fetch_add(1, Ordering::Relaxed);
            format!("{word}-{n}").into_boxed_str()
        });
        Resource::new(self.kind, &**name)
    }

    /// Records that the task polled here waits on this primitive (`granted`: got it).
    #[cold]
    pub(crate) fn record(&self, granted: bool) {
        trace::record_current(|task, _| {
            let resource = self.resource();
            if granted {
                EventKind::Granted { task, resource }
            } else {
                EventKind::Waiting { task, resource }
            }
        });
    }
}

/// What a semaphore knows, behind its internal lock.
#[derive(Debug)]
struct State {
    /// Permits that nobody holds and nobody has been handed.
    /// Invariant: if `waiters` is not empty, `available < waiters.front_want()`
    /// (otherwise the front waiter would have been served).
    available: usize,
    /// Permits in existence: `available` + those held by [`SemaphorePermit`]s +
    /// those handed to served waiters that have not run yet. Changes only with
    /// [`Semaphore::add_permits`] and [`SemaphorePermit::forget`]; the bound of a
    /// [`BoundedSemaphore`] applies to it.
    total: usize,
    /// Tasks waiting for permits, in arrival order.
    waiters: WaitList,
}

impl State {
    /// Hands free permits to the waiters at the front, in order, for as long as the
    /// front one's request fits: the fairness policy in one loop.
    fn serve(&mut self, wake: &mut WakeList) {
        while let Some(want) = self.waiters.front_want() {
            if want > self.available {
                break; // FIFO: nobody behind it may overtake.
            }
            self.available -= want;
            let served = self.waiters.serve_front(wake);
            debug_assert!(served);
        }
    }

    /// Gives back `n` permits that were held, and serves whoever can be served.
    fn give_back(&mut self, n: usize) -> WakeList {
        // Cannot overflow: held permits are counted in `total`, and available + held
        // <= total <= usize::MAX.
        self.available += n;
        let mut wake = WakeList::new();
        self.serve(&mut wake);
        wake
    }

    /// Takes `n` permits now if that is fair: nobody is queued and enough are free.
    fn try_take(&mut self, n: usize) -> bool {
        // A newcomer must not overtake a queued waiter, even a big one.
        if self.waiters.is_empty() && self.available >= n {
            self.available -= n;
            true
        } else {
            false
        }
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
            state: StateLock::new(State {
                available: permits,
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
        if lock_state(&self.state).try_take(n) {
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
        lock_state(&self.state).available
    }

    /// Whether `acquire()` would have to wait (asyncio's `sem.locked()`): no permit
    /// is free, or other tasks are already queued.
    pub fn locked(&self) -> bool {
        let state = lock_state(&self.state);
        state.available == 0 || !state.waiters.is_empty()
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
        let wake = state.give_back(n);
        drop(state);
        wake.wake_all();
        Ok(())
    }

    /// Gives back `n` held permits (a permit dropped, or a served waiter dropped).
    fn give_back(&self, n: usize) {
        let wake = lock_state(&self.state).give_back(n);
        wake.wake_all();
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock_state(&self.state);
        f.debug_struct("Semaphore")
            .field("available", &state.available)
            .field("waiting", &state.waiters.len())
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

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        if self.count > 0 {
            self.semaphore.give_back(self.count);
        }
    }
}

/// The future returned by [`Semaphore::acquire`] and [`Semaphore::acquire_many`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Acquire<'a> {
    semaphore: &'a Semaphore,
    want: usize,
    state: AcquireState,
}

/// Where an [`Acquire`] stands.
#[derive(Debug)]
enum AcquireState {
    /// Not polled yet: it has not looked at the semaphore.
    Start,
    /// In the waiter queue under this id (or already served, if the id is gone).
    Waiting(WaiterId),
    /// Returned its permit; polling again is a bug.
    Done,
}

impl<'a> Future for Acquire<'a> {
    type Output = SemaphorePermit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        // Out of budget: yield before looking. A permit already handed to us stays
        // ours (served in the wait list), and the next poll takes it.
        std::task::ready!(crate::task::coop::poll_budget(cx));
        let semaphore = self.semaphore;
        let mut state = lock_state(&semaphore.state);
        let served = match self.state {
            AcquireState::Start => {
                if state.try_take(self.want) {
                    true
                } else {
                    // Register under the same lock we checked under: a release
                    // cannot slip in between, so no wake-up is lost.
                    let id = state.waiters.push(self.want, Some(cx.waker()));
                    self.state = AcquireState::Waiting(id);
                    if trace::enabled() {
                        semaphore.label.record(false);
                    }
                    false
                }
            }
            // Served means the permits were already taken off `available` for us.
            AcquireState::Waiting(id) => state.waiters.poll(id, cx.waker()).is_ready(),
            AcquireState::Done => panic!(
                "a semaphore's acquire() future was polled after it returned its permit; \
                 await it once"
            ),
        };
        drop(state);
        if !served {
            return Poll::Pending;
        }
        if trace::enabled() && matches!(self.state, AcquireState::Waiting(_)) {
            semaphore.label.record(true);
        }
        self.state = AcquireState::Done;
        Poll::Ready(SemaphorePermit {
            semaphore,
            count: self.want,
        })
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let AcquireState::Waiting(id) = self.state else {
            return; // never queued, or already returned its permit
        };
        let mut state = lock_state(&self.semaphore.state);
        let wake = match state.waiters.remove(id) {
            // Leaving can unblock the waiters behind: if we were a big request at
            // the front, a smaller one behind may fit in what is free now.
            Removed::WasWaiting => {
                let mut wake = WakeList::new();
                state.serve(&mut wake);
                wake
            }
            // The permits were handed to us, but nobody will use them: hand on.
            Removed::WasServed => state.give_back(self.want),
        };
        drop(state);
        wake.wake_all();
    }
}

/// [`Semaphore::try_acquire`] found it would have to wait, or that the request can
/// never be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryAcquireError {
    wanted: usize,
    /// `Some` when no wait would ever be enough.
    never: Option<TooManyPermits>,
}

impl TryAcquireError {
    /// Whether waiting would never help: more permits were asked for than the
    /// semaphore can ever hold.
    pub fn can_never_succeed(&self) -> bool {
        self.never.is_some()
    }
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(never) = &self.never {
            return never.fmt(f);
        }
        write!(
            f,
            "cannot take {} permit(s) now: too few are free, or other tasks are queued first; \
             `.await` acquire() to wait for them",
            self.wanted
        )
    }
}

impl std::error::Error for TryAcquireError {}

/// A request for more permits than a semaphore will ever hold: waiting for them would
/// last forever and hold back every request behind it (the head-of-line rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooManyPermits {
    /// The function called, for the message.
    call: &'static str,
    wanted: usize,
    most: usize,
}

impl TooManyPermits {
    fn never(call: &'static str, wanted: usize, most: usize) -> TooManyPermits {
        TooManyPermits { call, wanted, most }
    }

    /// How many permits were asked for.
    pub fn wanted(&self) -> usize {
        self.wanted
    }

    /// The most the semaphore will ever hold.
    pub fn most(&self) -> usize {
        self.most
    }
}

impl fmt::Display for TooManyPermits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let TooManyPermits { call, wanted, most } = self;
        let hint = if call.starts_with("BoundedSemaphore") {
            "ask for at most its bound, or use a Semaphore and add_permits()"
        } else {
            "Semaphore::MAX_PERMITS is the limit; was n computed by a subtraction that wrapped?"
        };
        write!(
            f,
            "{call}({wanted}): this semaphore will never hold more than {most} permit(s), so \
             the request could only wait forever (and hold back every acquire() behind it); \
             {hint}"
        )
    }
}

impl std::error::Error for TooManyPermits {}

/// Adding permits would make a count above [`Semaphore::MAX_PERMITS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermitOverflow {
    total: usize,
    added: usize,
}

impl fmt::Display for PermitOverflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot add {} permit(s) to a semaphore that counts {}: the total would exceed \
             Semaphore::MAX_PERMITS ({})",
            self.added,
            self.total,
            Semaphore::MAX_PERMITS
        )
    }
}

impl std::error::Error for PermitOverflow {}

/// A semaphore that refuses to hold more permits than it started with
/// (`asyncio.BoundedSemaphore`).
///
/// Releasing a permit that was never taken is almost always a bug (a `release()` in
/// two code paths); asyncio raises `ValueError`, clearloop returns [`OverRelease`].
///
/// ```
/// use clearloop::sync::BoundedSemaphore;
///
/// let sem = BoundedSemaphore::new(1);
/// sem.try_acquire().unwrap().forget(); // await sem.acquire()
/// sem.release().unwrap(); // sem.release()
/// let err = sem.release().unwrap_err(); // one release too many
/// assert!(err.to_string().starts_with("BoundedSemaphore released too many times"));
/// ```
#[derive(Debug)]
pub struct BoundedSemaphore {
    semaphore: Semaphore,
    bound: usize,
}

impl BoundedSemaphore {
    /// A semaphore with `permits` permits that will never hold more.
    ///
    /// # Panics
    ///
    /// If `permits` is above [`Semaphore::MAX_PERMITS`].
    #[track_caller]
    pub fn new(permits: usize) -> BoundedSemaphore {
        assert!(
            permits <= Semaphore::MAX_PERMITS,
            "BoundedSemaphore::new({permits}): a semaphore counts at most \
             Semaphore::MAX_PERMITS ({}) permits",
            Semaphore::MAX_PERMITS
        );
        BoundedSemaphore {
            semaphore: Semaphore::new(permits),
            bound: permits,
        }
    }

    /// Waits for one permit; see [`Semaphore::acquire`].
    pub fn acquire(&self) -> Acquire<'_> {
        self.semaphore.acquire()
    }

    /// Waits for `n` permits; see [`Semaphore::acquire_many`].
    ///
    /// ```
    /// use clearloop::sync::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(3);
    /// let error = sem.acquire_many(5).unwrap_err(); // at once, not after a wait
    /// assert!(error.to_string().contains("never hold more than 3 permit(s)"));
    /// ```
    ///
    /// # Errors
    ///
    /// [`TooManyPermits`] at once if `n` is above the [bound](Self::bound): a
    /// bounded semaphore never holds more, so the request could only wait forever,
    /// holding back every `acquire()` behind it.
    pub fn acquire_many(&self, n: usize) -> Result<Acquire<'_>, TooManyPermits> {
        if n > self.bound {
            return Err(TooManyPermits::never(
                "BoundedSemaphore::acquire_many",
                n,
                self.bound,
            ));
        }
        Ok(self.semaphore.acquire_many(n))
    }

    /// Takes `n` permits if that needs no waiting; see [`Semaphore::try_acquire_many`].
    ///
    /// # Errors
    ///
    /// [`TryAcquireError`] if the call would have had to wait, or at once if `n` is
    /// above the [bound](Self::bound) ([`TryAcquireError::can_never_succeed`]).
    pub fn try_acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        if n > self.bound {
            return Err(TryAcquireError {
                wanted: n,
                never: Some(TooManyPermits::never(
                    "BoundedSemaphore::try_acquire_many",
                    n,
                    self.bound,
                )),
            });
        }
        self.semaphore.try_acquire_many(n)
    }

    /// Takes one permit if that needs no waiting; see [`Semaphore::try_acquire`].
    ///
    /// # Errors
    ///
    /// [`TryAcquireError`] if the call would have had to wait.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.semaphore.try_acquire()
    }

    /// How many permits are free right now.
    pub fn available_permits(&self) -> usize {
        self.semaphore.available_permits()
    }

    /// Whether `acquire()` would have to wait.
    pub fn locked(&self) -> bool {
        self.semaphore.locked()
    }

    /// The count it started with and may never exceed.
    pub fn bound(&self) -> usize {
        self.bound
    }

    /// Puts back one permit that was [`forget`](SemaphorePermit::forget)-ed.
    ///
    /// # Errors
    ///
    /// [`OverRelease`] if that would make more permits than the semaphore started
    /// with; nothing changes then.
    pub fn release(&self) -> Result<(), OverRelease> {
        self.semaphore.add_permits_bounded(1, self.bound)
    }
}

/// A [`BoundedSemaphore`] was released more times than it was acquired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverRelease {
    total: usize,
    released: usize,
    bound: usize,
}

impl fmt::Display for OverRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BoundedSemaphore released too many times: it counts {} permit(s), was created with \
             {}, and releasing {} more would exceed that (is release() called on two paths for \
             one acquire()?)",
            self.total, self.bound, self.released
        )
    }
}

impl std::error::Error for OverRelease {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::{Wake, Waker};

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
