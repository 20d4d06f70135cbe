//! An async mutex: a lock that a task holds across `.await`s, with the data inside.
//!
//! `lock().await` waits its turn and returns a [`MutexGuard`]; the guard gives access
//! to the data and releases the lock when it is dropped: at the end of the scope,
//! by an explicit `drop(guard)`, or while a panic unwinds.
//!
//! asyncio: `asyncio.Lock`. Its two forms from the course ("Les verrous") read:
//!
//! ```text
//!   async with lock:                 {   let mut data = mutex.lock().await;
//!       ...access shared state...        ...access *data...
//!                                    }   // guard dropped: released
//!
//!   await lock.acquire()             let mut data = mutex.lock().await;
//!   try:                             ...access *data...
//!       ...access shared state...    drop(data);   // or data.unlock()
//!   finally:                         // a panic in between drops `data` too,
//!       lock.release()               // like `finally`
//! ```
//!
//! Differences, the Rust habits: the data lives *inside* the mutex (`Mutex<T>`), so
//! it cannot be touched without the lock; `Mutex<()>` is a bare `asyncio.Lock`.
//! Releasing a lock you do not hold, asyncio's `RuntimeError('Lock is not
//! acquired.')`, cannot be written: only a guard releases, and only once.
//!
//! ## A task that panics while it holds the lock: released, not poisoned
//!
//! `std::sync::Mutex` is *poisoned* when a thread panics while holding it: every
//! later `lock()` returns an error, to warn that the data may be half-updated. This
//! mutex makes the other choice, the one of asyncio's `Lock` (an exception inside
//! `async with lock:` releases the lock, and nothing remembers it) and of tokio's
//! `Mutex`: the guard is dropped while the panic unwinds, the lock is released, and
//! the next task to lock it sees the data **exactly as the panicking task left it**,
//! half-updated if it panicked half-way. The panic itself is not lost: it is stored
//! on the task (`task.join().await` returns it) and reported. Why not poison: a
//! poisoned async lock would stop every task that shares it because of one, and the
//! data is usually one the program can check (or rebuild) itself. If an update must
//! be all-or-nothing, compute the new value first and write it in one assignment.
//!
//! ```
//! use std::sync::Arc;
//! use clearloop::sync::Mutex;
//!
//! // A transfer between two accounts, (from, to), that panics half-way.
//! let accounts = Arc::new(Mutex::new((100, 0)));
//! let (error, seen) = clearloop::run({
//!     let accounts = accounts.clone();
//!     async move {
//!         let transfer = clearloop::spawn({
//!             let accounts = accounts.clone();
//!             async move {
//!                 let mut guard = accounts.lock().await;
//!                 guard.0 -= 30; // first half done...
//!                 if guard.0 < 100 {
//!                     panic!("network down"); // ...the second never happens
//!                 }
//!                 guard.1 += 30;
//!             }
//!         });
//!         let error = transfer.join().await.unwrap_err();
//!         // Not poisoned: the lock is free, and the value is half-updated.
//!         let seen = *accounts.lock().await;
//!         (error, seen)
//!     }
//! });
//! assert_eq!(error.panic_message(), Some("network down"));
//! assert_eq!(seen, (70, 0)); // 30 left one account and reached no other
//! ```
//!
//! Inside, a mutex is a [`Semaphore`] of one permit plus the data: waiting, FIFO
//! order, the hand-off on release and cancellation all come from there.
//!
//! ```text
//!                 lock() / try_lock()
//!     unlocked ───────────────────────────► locked by one guard
//!        ▲                                  │            ▲
//!        │ guard dropped,                   │ lock()     │ guard dropped, waiters:
//!        │ nobody waiting                   ▼ waits      │ the front one now owns it
//!        └───────────────────────────── [ w1 | w2 | w3 ] ┘ (it was never unlocked)
//! ```
//!
//! When *not* to use it: see "Which kind of lock should you use?" in the
//! [module overview](super).
//!
//! ```
//! use std::sync::Arc;
//! use clearloop::sync::Mutex;
//!
//! let total = clearloop::run(async {
//!     let counter = Arc::new(Mutex::new(0));
//!     let tasks: Vec<_> = (0..3)
//!         .map(|_| {
//!             let counter = counter.clone();
//!             clearloop::spawn(async move {
//!                 let mut n = counter.lock().await; // async with lock:
//!                 let seen = *n;
//!                 clearloop::task::yield_now().await; // the others run, and wait
//!                 *n = seen + 1;
//!             })
//!         })
//!         .collect();
//!     for task in tasks {
//!         task.await;
//!     }
//!     *counter.lock().await
//! });
//! assert_eq!(total, 3);
//! ```
//!
//! `try_lock`, `locked` and the explicit `unlock`, without a runtime:
//!
//! ```
//! use clearloop::sync::Mutex;
//!
//! let mutex = Mutex::new(vec![1, 2]);
//! let mut guard = mutex.try_lock().unwrap();
//! guard.push(3);
//! assert!(mutex.locked());
//! assert!(mutex.try_lock().is_err()); // one guard at a time
//! guard.unlock(); // asyncio: lock.release()
//! assert_eq!(*mutex.try_lock().unwrap(), [1, 2, 3]);
//! ```

use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};

use super::semaphore::{Semaphore, SemaphorePermit};

/// An async mutual-exclusion lock around a `T` (`asyncio.Lock`, with the data inside).
pub struct Mutex<T> {
    /// One permit: the right to touch `value`. Held by exactly one [`MutexGuard`]
    /// while locked.
    semaphore: Semaphore,
    value: UnsafeCell<T>,
}

// SAFETY: `Mutex<T>` hands out `&mut T` to one guard at a time, on whatever thread
// holds the guard, which is exactly what `std::sync::Mutex` promises: sharing the mutex
// between threads only requires that `T` may be *sent* to another thread. The
// semaphore field is `Sync` by itself.
unsafe impl<T: Send> Sync for Mutex<T> {}

/// Access to the data of a locked [`Mutex`]; dropping it unlocks.
///
/// Unlike `std::sync::MutexGuard`, it is `Send` (if `T` is): a task holding it may
/// move to another thread at an `.await`.
#[must_use = "the mutex is unlocked as soon as the guard is dropped"]
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
    /// The mutex's only permit, given back when the guard drops.
    _permit: SemaphorePermit<'a>,
}

// SAFETY: sharing `&MutexGuard` between threads shares only `&T` (through `Deref`),
// which is safe exactly when `T: Sync`. Without this impl the compiler would derive
// `Sync` from `&Mutex<T>` (that is, from `T: Send`), which would be unsound for a `T`
// like `Cell<u32>`; std's `MutexGuard` states the same bound.
unsafe impl<T: Sync> Sync for MutexGuard<'_, T> {}

/// [`Mutex::try_lock`] found the mutex locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryLockError(());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the mutex is locked (or other tasks are queued for it); `.await` lock() to wait",
        )
    }
}

impl std::error::Error for TryLockError {}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            semaphore: Semaphore::for_lock(),
            value: UnsafeCell::new(value),
        }
    }

    /// This mutex, named `name` in traces, `Runtime::dump` and deadlock reports
    /// (`Mutex::new(0).with_name("db")`); unnamed, it is `Lock-1`, `Lock-2`, ...
    pub fn with_name(mut self, name: impl Into<String>) -> Mutex<T> {
        self.semaphore.set_name(name.into());
        self
    }

    /// Waits until the lock is ours (first come, first served) and returns the guard
    /// (asyncio's `async with lock` / `await lock.acquire()`).
    ///
    /// Cancel-safe: dropping the future while it waits removes it from the queue;
    /// if the lock had already been handed to it, it goes to the next waiter.
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        let permit = self.semaphore.acquire().await;
        MutexGuard {
            mutex: self,
            _permit: permit,
        }
    }

    /// Locks now if the mutex is free and nobody is queued for it.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if it would have to wait.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.semaphore.try_acquire() {
            Ok(permit) => Ok(MutexGuard {
                mutex: self,
                _permit: permit,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Whether a guard exists right now (asyncio's `lock.locked()`).
    pub fn locked(&self) -> bool {
        self.semaphore.available_permits() == 0
    }

    /// How many tasks are waiting for the lock.
    pub fn waiting(&self) -> usize {
        self.semaphore.waiting()
    }

    /// The data, without locking: `&mut self` proves nobody else can hold a guard.
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// Consumes the mutex and returns the data.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<'a, T> MutexGuard<'a, T> {
    /// The mutex this guard locks ([`Condition::wait`](super::Condition::wait) uses
    /// it to lock again). An associated function, so it cannot hide a method of `T`.
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.mutex
    }

    /// Unlocks: the explicit `lock.release()`. The same as `drop(guard)`.
    pub fn unlock(self) {}
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex's only permit, so no other guard exists
        // and nobody else reads or writes `value` until it is dropped; the returned
        // reference borrows the guard, so it cannot outlive it.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only live reference
        // obtained through the guard.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
