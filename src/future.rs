//! asyncio's `Future`, the one-shot value slot: [`Promise`].
//!
//! A `Promise<T>` starts empty; somebody sets it once, with a value
//! ([`set_result`](Promise::set_result)) or an error
//! ([`set_exception`](Promise::set_exception)), or cancels it; and any number of tasks
//! await it ([`wait`](Promise::wait)) and all get the outcome. Setting it works from
//! any task or any thread (a callback, a blocking thread): it wakes every waiter.
//!
//! Python: `fut = loop.create_future()`, `fut.set_result(v)`, `fut.set_exception(e)`,
//! `await fut`, `fut.done()`, `fut.cancel()`, `fut.cancelled()`, `fut.result()`.
//!
//! ## Why not call it `Future`
//!
//! In Rust, [`std::future::Future`] is the *trait* of everything that can be awaited:
//! every `async` block is one, and `.await` needs one. asyncio's `Future` is a much
//! narrower thing: a slot that someone else fills. Giving both the same name would
//! make every `use` ambiguous and every error message confusing, so clearloop uses
//! the name JavaScript and C++ (`std::promise`) give to the same idea: a *promise* of
//! a value that will be set later. Awaiting it goes through [`Promise::wait`], which
//! returns a real [`std::future::Future`].
//!
//! ## Errors are values: `set_exception` takes an error, `wait` returns it
//!
//! Python's `await fut` raises the exception set on it. Here the outcome is a
//! `Result`: `wait().await` returns `Ok(value)`, or `Err(`[`PromiseError`]`)`, which
//! is either the error given to `set_exception` (any `std::error::Error`, or a plain
//! string, kept as an [`Exception`] that every waiter shares and that
//! `downcast_ref` turns back into your type) or
//! the cancellation. A panic would have been closer to Python's `raise`, but it would
//! kill each awaiting task unless caught, and would not say in the types that the
//! slot may hold an error. Since many tasks receive the same value, `wait()` clones
//! it: `T: Clone` (use `Promise<Arc<T>>` for a value that is not).
//!
//! ```text
//!                set_result(v) / set_exception(e)
//!    PENDING ─────────────────────────────────────► DONE (value or error)
//!       │  every waiter is woken; later sets: Err(InvalidStateError)
//!       │
//!       └─────────── cancel() ─────────────────────► CANCELLED
//!                    (cancel() on a DONE promise: returns false, changes nothing)
//! ```
//!
//! ```
//! use clearloop::future::Promise;
//!
//! let answer = clearloop::run(async {
//!     let promise = Promise::new(); // loop.create_future()
//!     let setter = promise.clone();
//!     std::thread::spawn(move || setter.set_result(42).unwrap()); // from a thread
//!     promise.wait().await // await fut
//! });
//! assert_eq!(answer.unwrap(), 42);
//! ```

use std::error::Error;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use crate::panics::lock;
use crate::sync::waiters::{WaitList, WaiterId, WakeList};

/// The error set on a [`Promise`] by [`set_exception`](Promise::set_exception),
/// shared by every waiter.
pub type Exception = Arc<dyn Error + Send + Sync + 'static>;

/// A one-shot slot that tasks await (asyncio's `Future`); cloning gives another
/// handle to the same slot. See the [module documentation](self).
pub struct Promise<T> {
    inner: Arc<Mutex<State<T>>>,
}

/// What a promise holds. Who may touch it: any handle, under the mutex.
struct State<T> {
    /// `None` while pending; set once, never changed after.
    outcome: Option<Result<T, PromiseError>>,
    /// Tasks in [`PromiseWait`], woken all at once when the outcome is set.
    waiters: WaitList,
}

/// Why awaiting a [`Promise`] gave no value.
#[derive(Clone)]
pub enum PromiseError {
    /// [`set_exception`](Promise::set_exception) was called (`await fut` raises it).
    Exception(Exception),
    /// [`cancel`](Promise::cancel) was called (asyncio's `CancelledError`).
    Cancelled,
    /// [`result`](Promise::result) was asked before the promise was done
    /// (asyncio's `InvalidStateError('Result is not set.')`).
    NotDone,
}

/// The promise was already done: it is set only once (asyncio's
/// `InvalidStateError`). The value or error given is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidStateError {
    /// The function called.
    call: &'static str,
}

impl<T> Promise<T> {
    /// An empty promise (`loop.create_future()`). No runtime needed.
    pub fn new() -> Promise<T> {
        Promise {
            inner: Arc::new(Mutex::new(State {
                outcome: None,
                waiters: WaitList::new(),
            })),
        }
    }

    /// Sets the value and wakes every waiter (`fut.set_result(value)`).
    ///
    /// # Errors
    ///
    /// [`InvalidStateError`] if the promise is already done (set or cancelled).
    pub fn set_result(&self, value: T) -> Result<(), InvalidStateError> {
        self.complete(Ok(value), "set_result")
    }

    /// Sets an error and wakes every waiter (`fut.set_exception(exc)`): each gets
    /// `Err(PromiseError::Exception(..))`. Takes any error type, or a string.
    ///
    /// # Errors
    ///
    /// [`InvalidStateError`] if the promise is already done (set or cancelled).
    pub fn set_exception(
        &self,
        error: impl Into<Box<dyn Error + Send + Sync + 'static>>,
    ) -> Result<(), InvalidStateError> {
        let error: Exception = Arc::from(error.into());
        self.complete(Err(PromiseError::Exception(error)), "set_exception")
    }

    /// Cancels the promise (`fut.cancel()`): every waiter gets
    /// `Err(PromiseError::Cancelled)`. Returns `false` if it was already done.
    pub fn cancel(&self) -> bool {
        self.complete(Err(PromiseError::Cancelled), "cancel")
            .is_ok()
    }

    /// Whether it is done: set, failed or cancelled (`fut.done()`).
    pub fn done(&self) -> bool {
        lock(&self.inner).outcome.is_some()
    }

    /// Whether it was cancelled (`fut.cancelled()`).
    pub fn cancelled(&self) -> bool {
        matches!(
            lock(&self.inner).outcome,
            Some(Err(PromiseError::Cancelled))
        )
    }

    /// How many tasks are waiting on it.
    pub fn waiting(&self) -> usize {
        lock(&self.inner).waiters.len()
    }

    fn complete(
        &self,
        outcome: Result<T, PromiseError>,
        call: &'static str,
    ) -> Result<(), InvalidStateError> {
        let mut wake = WakeList::new();
        {
            let mut state = lock(&self.inner);
            if state.outcome.is_some() {
                return Err(InvalidStateError { call });
            }
            state.outcome = Some(outcome);
            state.waiters.serve_all(&mut wake);
        }
        // Wake outside the lock: a woken waiter on another thread takes it at once.
        wake.wake_all();
        Ok(())
    }
}

impl<T: Clone> Promise<T> {
    /// Waits until the promise is done and returns its outcome (`await fut`).
    /// Any number of tasks may wait; each gets a clone of the value.
    ///
    /// Cancel-safe: dropping the future only removes this waiter.
    pub fn wait(&self) -> PromiseWait<T> {
        PromiseWait {
            inner: self.inner.clone(),
            id: None,
        }
    }

    /// The outcome now, without waiting (`fut.result()`): `Err(PromiseError::NotDone)`
    /// while pending.
    ///
    /// # Errors
    ///
    /// The error set, the cancellation, or [`PromiseError::NotDone`].
    pub fn result(&self) -> Result<T, PromiseError> {
        lock(&self.inner)
            .outcome
            .clone()
            .unwrap_or(Err(PromiseError::NotDone))
    }
}

impl<T> Default for Promise<T> {
    fn default() -> Promise<T> {
        Promise::new()
    }
}

impl<T> Clone for Promise<T> {
    fn clone(&self) -> Promise<T> {
        Promise {
            inner: self.inner.clone(),
        }
    }
}

impl<T> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.inner);
        let stage = match &state.outcome {
            None => "pending",
            Some(Ok(_)) => "done",
            Some(Err(PromiseError::Cancelled)) => "cancelled",
            Some(Err(_)) => "failed",
        };
        f.debug_struct("Promise")
            .field("state", &stage)
            .field("waiting", &state.waiters.len())
            .finish()
    }
}

/// The future returned by [`Promise::wait`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct PromiseWait<T> {
    inner: Arc<Mutex<State<T>>>,
    /// Our place in the waiter list, once we had to wait.
    id: Option<WaiterId>,
}

impl<T: Clone> std::future::Future for PromiseWait<T> {
    type Output = Result<T, PromiseError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut state = lock(&this.inner);
        if let Some(outcome) = &state.outcome {
            let outcome = outcome.clone();
            // Served (the list no longer holds us) or never queued: nothing to undo.
            this.id = None;
            return Poll::Ready(outcome);
        }
        // Register under the lock we checked under: a set cannot slip in between.
        match this.id {
            Some(id) => {
                let _ = state.waiters.poll(id, cx.waker());
            }
            None => this.id = Some(state.waiters.push(1, Some(cx.waker()))),
        }
        Poll::Pending
    }
}

impl<T> Drop for PromiseWait<T> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            // Still queued: leave. Already served: nothing was handed to us.
            let _ = lock(&self.inner).waiters.remove(id);
        }
    }
}

impl<T> fmt::Debug for PromiseWait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromiseWait")
            .field("queued", &self.id.is_some())
            .finish()
    }
}

impl fmt::Debug for PromiseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PromiseError::Exception(error) => f.debug_tuple("Exception").field(error).finish(),
            PromiseError::Cancelled => f.write_str("Cancelled"),
            PromiseError::NotDone => f.write_str("NotDone"),
        }
    }
}

impl fmt::Display for PromiseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PromiseError::Exception(error) => write!(f, "the promise failed: {error}"),
            PromiseError::Cancelled => f.write_str("the promise was cancelled"),
            PromiseError::NotDone => f.write_str(
                "the promise is not done yet: result() does not wait; `.await` wait() instead",
            ),
        }
    }
}

impl Error for PromiseError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            PromiseError::Exception(error) => Some(error.as_ref()),
            _ => None,
        }
    }
}

impl fmt::Display for InvalidStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Promise::{}(): the promise is already done (set, failed or cancelled); \
             a promise is set only once",
            self.call
        )
    }
}

impl Error for InvalidStateError {}
