//! [`Handle`]: spawning onto a runtime from any thread (asyncio's
//! `run_coroutine_threadsafe`).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::scheduler::{RuntimeCore, current_scheduler, spawn_on};
use crate::task::Task;

/// Spawns tasks on a runtime from any thread (asyncio's
/// `asyncio.run_coroutine_threadsafe(coro, loop)`; tokio's `Handle`).
///
/// A [`Runtime`](crate::Runtime) stays on the thread that built it; its handle is
/// `Send`, `Sync` and cheap to clone. A task spawned from another thread reaches a
/// single-threaded loop through its cross-thread channel, and a multi-threaded
/// runtime through its injector. After the runtime shut down, a spawned task is
/// cancelled at once.
///
/// ```
/// let runtime = clearloop::Builder::new().worker_threads(2).build();
/// let handle = runtime.handle();
/// let task = std::thread::spawn(move || handle.spawn(async { 6 * 7 }))
///     .join()
///     .unwrap();
/// assert_eq!(runtime.block_on(task), 42);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(super) core: Arc<RuntimeCore>,
}

impl Handle {
    /// The handle of the runtime running on this thread: inside a task, or inside
    /// `block_on` (tokio's `Handle::current`). Move it into a thread you start, and
    /// that thread can spawn onto the loop and wait for the result (asyncio's
    /// `asyncio.get_running_loop()`, then `run_coroutine_threadsafe(coro, loop)`
    /// from the thread).
    ///
    /// ```
    /// use clearloop::{Handle, run, to_thread};
    ///
    /// let answer = run(async {
    ///     let handle = Handle::current();
    ///     // A thread that spawns onto our loop and blocks until the task is done.
    ///     to_thread(move || clearloop::run(handle.spawn(async { 6 * 7 })))
    ///         .await
    ///         .unwrap()
    /// });
    /// assert_eq!(answer, 42);
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a running runtime (a thread you started has none: take the handle
    /// before starting it). [`Handle::try_current`] returns `None` instead.
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Some(handle) => handle,
            None => panic!(
                "Handle::current() was called outside a clearloop runtime; call it \
                 inside a task or block_on, and move the Handle into the thread you start \
                 (a thread started from a task does not run the loop)"
            ),
        }
    }

    /// The handle of the runtime running on this thread, or `None` outside one
    /// (asyncio's `_get_running_loop()`, which returns `None`; `get_running_loop()`
    /// raises, as [`Handle::current`] panics).
    pub fn try_current() -> Option<Handle> {
        current_scheduler("Handle::try_current()")
            .ok()
            .map(|core| Handle { core })
    }

    /// Spawns `future` on the runtime (see [`Runtime::spawn`](crate::Runtime::spawn)).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_on(&self.core, future)
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("closed", &self.core.closed.load(Ordering::Relaxed))
            .finish()
    }
}
