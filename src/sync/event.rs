//! An event: a flag that tasks wait on until somebody sets it.
//!
//! `wait().await` returns at once if the flag is set, else waits until `set()`;
//! `set()` wakes *every* waiter, and later `wait()`s do not wait at all until
//! `clear()` lowers the flag again.
//!
//! asyncio: `asyncio.Event` (`set`, `clear`, `is_set`, `wait`). As there, a waiter
//! released by `set()` returns even if `clear()` runs before it gets to run: being
//! served is what counts, not the flag at the moment it looks.
//!
//! ```text
//!    flag: false    waiters: [ w1 | w2 | w3 ]
//!         set() ──► flag: true, every waiter served at once, all three woken
//!         wait() ─► returns at once while the flag is true
//!       clear() ──► flag: false; the next wait() queues again
//! ```
//!
//! ```
//! use clearloop::sync::Event;
//!
//! let event = Event::new();
//! assert!(!event.is_set());
//! event.set();
//! assert!(event.is_set());
//! event.clear();
//! assert!(!event.is_set());
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::waiters::{WaitList, WaiterId, WakeList};
use super::{StateLock, lock_state};

/// A flag tasks can wait on (`asyncio.Event`).
#[derive(Debug)]
pub struct Event {
    state: StateLock<State>,
    /// Its name in traces (`Event-1`, or [`with_name`](Event::with_name)).
    label: super::semaphore::Label,
}

#[derive(Debug)]
struct State {
    /// The flag. Invariant: while it is true, `waiters` is empty.
    set: bool,
    /// Tasks waiting for the flag.
    waiters: WaitList,
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

impl Event {
    /// An event whose flag is not set.
    pub fn new() -> Event {
        Event {
            state: StateLock::new(State {
                set: false,
                waiters: WaitList::new(),
            }),
            label: super::semaphore::Label::new(crate::trace::ResourceKind::Event),
        }
    }

    /// This event, named `name` in traces, `Runtime::dump` and deadlock reports;
    /// unnamed, it is `Event-1`, `Event-2`, ...
    pub fn with_name(mut self, name: impl Into<String>) -> Event {
        self.label.name(name.into());
        self
    }

    /// Sets the flag and wakes every waiter.
    pub fn set(&self) {
        let mut state = lock_state(&self.state);
        state.set = true;
        let mut wake = WakeList::new();
        state.waiters.serve_all(&mut wake);
        drop(state);
        wake.wake_all();
    }

    /// Lowers the flag: later `wait()`s wait for the next `set()`.
    pub fn clear(&self) {
        lock_state(&self.state).set = false;
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        lock_state(&self.state).set
    }

    /// Waits until the flag is set. Cancel-safe: a dropped `wait()` leaves no trace.
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            id: None,
        }
    }
}

/// The future returned by [`Event::wait`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct EventWait<'a> {
    event: &'a Event,
    /// Our place in the queue, once we have one.
    id: Option<WaiterId>,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Out of budget: yield first; whatever was handed to us stays ours until the next poll.
        std::task::ready!(crate::task::coop::poll_budget(cx));
        let event = self.event;
        let mut state = lock_state(&event.state);
        match self.id {
            Some(id) => {
                let poll = state.waiters.poll(id, cx.waker());
                if poll.is_pending() {
                    event.label.waiting();
                } else {
                    self.id = None;
                    if crate::trace::enabled() {
                        event.label.record(true);
                    }
                }
                poll
            }
            None if state.set => Poll::Ready(()),
            None => {
                self.id = Some(state.waiters.push(1, Some(cx.waker())));
                event.label.waiting();
                if crate::trace::enabled() {
                    event.label.record(false);
                }
                Poll::Pending
            }
        }
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            // Served or not, there is nothing to hand on: set() serves everybody.
            let _ = lock_state(&self.event.state).waiters.remove(id);
        }
    }
}
