//! Local tasks: futures that are not `Send`, kept on the loop's own thread
//! ([`spawn_local`](crate::runtime::spawn_local)).
//!
//! asyncio shares state between tasks with plain objects: the course's counter is a
//! global `int` every task increments. Translated to Rust that is an
//! `Rc<RefCell<i32>>`, and [`spawn`](crate::spawn) refuses it: `Rc` is not `Send`.
//!
//! **Why `spawn` asks for `Send`.** A task's future lives in its cell, behind an
//! `Arc` that wakers share with every thread ([`Waker`](std::task::Waker) is
//! `Send + Sync`). On a multi-threaded runtime the future is polled by whichever
//! worker pops it, so it really moves between threads; and even on the
//! single-threaded loop, the last `Arc` of a cell may be let go by another thread (a
//! waker dropped there), which would drop the future on that thread. The compiler
//! cannot tell the two runtimes apart in `spawn`'s signature, so it asks for `Send`
//! everywhere.
//!
//! **How a local task avoids it, without `unsafe`.** The future does not go into the
//! cell. It goes into a slab owned by the loop (`LocalTasks`, in the loop's
//! thread-only `Local`), and the cell gets a stand-in, [`LocalSlot`]: the slab key
//! and the runtime it belongs to, which is `Send`. Wakers, the ready queue and the
//! handle see an ordinary task. When the loop polls the stand-in, it finds the real
//! future in its own thread's slab, polls it, and puts it back:
//!
//! ```text
//!   any thread                         the loop's thread only
//!   Waker ──> Arc<Cell<LocalSlot>> ──poll──> Local.local_tasks[key]
//!              (Send: a key, a pointer)        Pin<Box<dyn Future>>   (not Send)
//! ```
//!
//! A waker on another thread sends the task through the loop's channel, as for any
//! task, so the future is only ever touched by the loop's thread. Dropping the
//! runtime drops the slab's futures there too (on the thread that owns the runtime),
//! and the tasks' handles report a cancellation. The output must still be `Send`:
//! the handle may be awaited from anywhere (tokio's `spawn_local` has the same rule
//! for its `JoinHandle` to be `Send`; here it is simply required).

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

thread_local! {
    /// The slab of the loop running on this thread, with its runtime's address (a
    /// stand-in finds its future only on its own runtime's thread).
    static SLAB: RefCell<Option<(usize, Rc<LocalTasks>)>> = const { RefCell::new(None) };
}

/// Makes `tasks` the slab of the loop that runs on this thread (the runtime at
/// address `core`) until the guard is dropped. The runtime's `enter` calls it.
pub(crate) fn enter(core: usize, tasks: Rc<LocalTasks>) -> SlabEntered {
    SLAB.with(|slab| *slab.borrow_mut() = Some((core, tasks)));
    SlabEntered(())
}

/// The slab stays this thread's while it lives.
#[must_use = "the slab is this thread's only while the guard lives"]
pub(crate) struct SlabEntered(());

impl Drop for SlabEntered {
    fn drop(&mut self) {
        let _gone = SLAB.try_with(|slab| slab.borrow_mut().take());
    }
}

/// Calls `f` with the slab of the runtime at address `core`, if this thread runs
/// its loop now.
fn with_local<R>(core: usize, f: impl FnOnce(&LocalTasks) -> R) -> Option<R> {
    let tasks = SLAB
        .try_with(|slab| {
            let slab = slab.borrow();
            let (running, tasks) = slab.as_ref()?;
            (*running == core).then(|| tasks.clone())
        })
        .ok()
        .flatten()?;
    // The thread-local's borrow is over: `f` may drop a future that spawns.
    Some(f(&tasks))
}

/// A local task's future, its output boxed so that one slab holds every type.
type LocalFuture = Pin<Box<dyn Future<Output = Box<dyn Any + Send>>>>;

/// The loop's slab of local futures. A key stays reserved from `insert` to `remove`;
/// while its future is being polled, the slot is empty.
#[derive(Default)]
pub(crate) struct LocalTasks {
    slots: RefCell<Vec<Option<LocalFuture>>>,
    free: RefCell<Vec<usize>>,
}

impl LocalTasks {
    /// Stores `future`; its key.
    fn insert(&self, future: LocalFuture) -> usize {
        let mut slots = self.slots.borrow_mut();
        match self.free.borrow_mut().pop() {
            Some(key) => {
                slots[key] = Some(future);
                key
            }
            None => {
                slots.push(Some(future));
                slots.len() - 1
            }
        }
    }

    /// Takes the future out to poll it (the borrow must not last across the poll:
    /// the future may spawn another local task).
    fn take(&self, key: usize) -> Option<LocalFuture> {
        self.slots.borrow_mut().get_mut(key).and_then(Option::take)
    }

    /// Puts a polled future back.
    fn put_back(&self, key: usize, future: LocalFuture) {
        if let Some(slot) = self.slots.borrow_mut().get_mut(key) {
            *slot = Some(future);
        }
    }

    /// Frees `key`; its future, for the caller to drop outside the borrow.
    fn remove(&self, key: usize) -> Option<LocalFuture> {
        let future = self.slots.borrow_mut().get_mut(key)?.take();
        self.free.borrow_mut().push(key);
        future
    }

    /// Every future left (runtime shutdown), for the caller to drop one by one.
    pub(crate) fn take_all(&self) -> Vec<LocalFuture> {
        self.free.borrow_mut().clear();
        self.slots.take().into_iter().flatten().collect()
    }
}

/// The `Send` stand-in a local task's cell holds: where its real future is.
pub(crate) struct LocalSlot<T> {
    key: usize,
    /// The runtime whose loop owns the slab, compared by address only.
    core: usize,
    _output: PhantomData<fn() -> T>,
}

impl<T: Send + 'static> LocalSlot<T> {
    /// Moves `future` into the loop's slab (`local` is the running loop's, of the
    /// runtime at address `core`).
    pub(crate) fn new<F>(local: &LocalTasks, core: usize, future: F) -> LocalSlot<T>
    where
        F: Future<Output = T> + 'static,
    {
        let boxed: LocalFuture =
            Box::pin(async move { Box::new(future.await) as Box<dyn Any + Send> });
        LocalSlot {
            key: local.insert(boxed),
            core,
            _output: PhantomData,
        }
    }
}

/// Puts the future back into the slab when the poll ends, even by a panic: it is
/// then dropped by the task's cancellation, under the runtime's `catch`, and not
/// while the panic unwinds (a panicking `Drop` there would abort).
struct PutBack {
    key: usize,
    core: usize,
    future: Option<LocalFuture>,
}

impl Drop for PutBack {
    fn drop(&mut self) {
        if let Some(future) = self.future.take() {
            let key = self.key;
            // Off the loop (impossible: only the loop polls it) the future drops here.
            let _ = with_local(self.core, move |local| local.put_back(key, future));
        }
    }
}

impl<T: Send + 'static> Future for LocalSlot<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let (key, core) = (self.key, self.core);
        let Some(future) = with_local(core, |local| local.take(key)).flatten() else {
            panic!("a local task (spawn_local) was polled away from its loop's thread");
        };
        let mut guard = PutBack {
            key,
            core,
            future: Some(future),
        };
        let polled = guard.future.as_mut().map(|future| future.as_mut().poll(cx));
        match polled {
            Some(Poll::Ready(output)) => {
                guard.future = None; // finished: nothing to put back
                match output.downcast::<T>() {
                    Ok(output) => Poll::Ready(*output),
                    Err(_) => unreachable!("the slab stored this slot's own future"),
                }
            }
            _ => Poll::Pending,
        }
    }
}

impl<T> Drop for LocalSlot<T> {
    fn drop(&mut self) {
        let key = self.key;
        // Without the loop (the runtime is being dropped), `Runtime::shut_down`
        // drops the slab's futures itself.
        let future = with_local(self.core, |local| local.remove(key)).flatten();
        drop(future); // outside the slab's borrow: its `Drop` may spawn
    }
}
