//! What can go wrong when taking or adding permits, each error saying how to fix it.
//!
//! Python raises `ValueError` for a bad count and has no `try_acquire` (the closest is
//! `sem.locked()` before `acquire()`); clearloop returns these values instead.

use std::fmt;

use super::Semaphore;

/// [`Semaphore::try_acquire`] found it would have to wait, or that the request can
/// never be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryAcquireError {
    pub(super) wanted: usize,
    /// `Some` when no wait would ever be enough.
    pub(super) never: Option<TooManyPermits>,
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
    pub(super) wanted: usize,
    most: usize,
}

impl TooManyPermits {
    pub(super) fn never(call: &'static str, wanted: usize, most: usize) -> TooManyPermits {
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
    pub(super) total: usize,
    pub(super) added: usize,
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
