//! [`Handle`]: spawning onto a runtime from any thread (asyncio's
//! `run_coroutine_threadsafe`).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::scheduler::{RuntimeCore, spawn_on};
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
    /// Spawns `future` on the runtime (see [`Runtime::spawn`](crate::Runtime::spawn)).
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
