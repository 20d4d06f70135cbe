//! A semaphore that may never hold more permits than it started with:
//! `asyncio.BoundedSemaphore`.
//!
//! It wraps a [`Semaphore`] and checks each release and each request against its
//! bound, so the two mistakes a bound makes visible (one `release()` too many, a
//! request that could only wait forever) are errors at the call.

use std::fmt;

use super::{Acquire, Semaphore, SemaphorePermit, TooManyPermits, TryAcquireError};

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
    pub(super) total: usize,
    pub(super) released: usize,
    pub(super) bound: usize,
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
