//! [`Event`]: what `enter` hands back, and the life of one scheduled call.
//!
//! CPython's `sched.Event` is a named tuple `(time, priority, sequence, action,
//! argument, kwargs)`. Ours keeps the same fields for reading, except that the
//! action itself stays inside the queue (a closure runs once, so nobody else may hold
//! it) and what you see is its *name*. An `Event` is a cheap handle (an `Arc`): the
//! copy `enter` returns, the copies in a [`queue`](super::Scheduler::queue) snapshot
//! and the entry in the queue all share one state, so `event.state()` tells the truth
//! wherever you ask.
//!
//! ```text
//!                 run() pops it            action returns
//!   Pending ─────────────────────► Running ─────────────────► Done
//!      │                              │
//!      │ cancel()                     │ action panics
//!      ▼                              ▼
//!   Cancelled                      Panicked
//! ```
//!
//! Only `Pending` may be cancelled. The two arrows out of `Pending` are taken under
//! the scheduler's lock, together with the removal from the queue, so "in the queue"
//! and "`Pending`" are the same fact. The arrows out of `Running` are taken by the
//! thread that ran the action, after it returned, without the lock.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// Where an event is in its life.
///
/// ```text
///                 run() pops it            action returns
///   Pending ─────────────────────► Running ─────────────────► Done
///      │                              │
///      │ cancel()                     │ action panics
///      ▼                              ▼
///   Cancelled                      Panicked
/// ```
///
/// The arrows out of `Pending` are taken under the scheduler's lock, with the removal
/// from the queue: an event is in the queue exactly when it is `Pending`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventState {
    /// In the queue, waiting for its time. The only state [`cancel`] accepts.
    ///
    /// [`cancel`]: super::Scheduler::cancel
    Pending,
    /// Taken out of the queue by `run`; its action is being called right now.
    Running,
    /// Its action returned.
    Done,
    /// Its action panicked; `run` reported it as a [`RunError`](super::RunError).
    Panicked,
    /// Removed by [`cancel`](super::Scheduler::cancel) before it ran; it never will.
    Cancelled,
}

impl EventState {
    fn from_u8(value: u8) -> EventState {
        match value {
            0 => EventState::Pending,
            1 => EventState::Running,
            2 => EventState::Done,
            3 => EventState::Panicked,
            _ => EventState::Cancelled,
        }
    }
}

/// A scheduled call, as returned by [`enter`](super::Scheduler::enter) and its
/// siblings: keep it to [`cancel`](super::Scheduler::cancel) the call later.
///
/// Events run in the order of `(time, priority, sequence)`: earliest time first,
/// then the lowest priority number, then the order they were entered in.
///
/// Two `Event` values are equal when they are the same scheduled call (same scheduler,
/// same sequence number), not when their fields happen to match: CPython once
/// compared only `(time, priority)` and `cancel` removed the wrong one of two twin
/// events (bpo-19270).
///
/// Its [`Display`](fmt::Display) mirrors CPython's `repr`:
///
/// ```text
/// Event(time=3.000, priority=1, sequence=0, action=addition, argument=(10, 20))
/// ```
///
/// where `time` is in seconds since the scheduler was created: a Rust [`Instant`]
/// has no printable value, just as the origin of `time.monotonic()` is unspecified.
#[derive(Clone)]
pub struct Event {
    inner: Arc<EventInner>,
}

struct EventInner {
    time: Instant,
    /// `time` minus the scheduler's creation time, for display only (0 if earlier).
    since_start: Duration,
    priority: i32,
    sequence: u64,
    /// Which scheduler issued this event, so `cancel` can refuse a stranger's.
    scheduler: u64,
    /// Where its entry waits in the queue's slab, so `cancel` finds it at once.
    slot: usize,
    /// The name shown as `action=`: given by `enter_named`, else the closure's type.
    action: ActionName,
    /// The `Debug` text of the argument given to `enter_named`; `None` shows `()`.
    argument: Option<Box<str>>,
    /// An [`EventState`] as a byte, so that handles on other threads can read it.
    state: AtomicU8,
}

/// How an event's action is named.
pub(super) enum ActionName {
    /// The name given to `enter_named`.
    Given(Cow<'static, str>),
    /// `std::any::type_name::<F>` of the closure or function `enter` was given.
    /// Kept as the function and called only when someone displays the event:
    /// searching the type name on every `enter` cost a quarter of its time (about
    /// 700 of 2,800 instructions per event), for a name that is rarely read.
    TypeOf(fn() -> &'static str),
}

/// What an `Event` is built from; gathered in one struct to keep `Event::new` short.
pub(super) struct EventFields {
    pub(super) time: Instant,
    pub(super) since_start: Duration,
    pub(super) priority: i32,
    pub(super) sequence: u64,
    pub(super) scheduler: u64,
    pub(super) slot: usize,
    pub(super) action: ActionName,
    pub(super) argument: Option<Box<str>>,
}

impl Event {
    pub(super) fn new(fields: EventFields) -> Event {
        Event {
            inner: Arc::new(EventInner {
                time: fields.time,
                since_start: fields.since_start,
                priority: fields.priority,
                sequence: fields.sequence,
                scheduler: fields.scheduler,
                slot: fields.slot,
                action: fields.action,
                argument: fields.argument,
                state: AtomicU8::new(EventState::Pending as u8),
            }),
        }
    }

    /// When the event is due (CPython's `Event.time`).
    pub fn time(&self) -> Instant {
        self.inner.time
    }

    /// Its time in seconds since the scheduler was created, as `Display` shows it.
    pub fn since_start(&self) -> Duration {
        self.inner.since_start
    }

    /// Its priority: among events due at the same time, lower numbers run first.
    pub fn priority(&self) -> i32 {
        self.inner.priority
    }

    /// Its sequence number: 0 for the first event entered in its scheduler, then 1,
    /// 2… It breaks ties between equal times and priorities: first entered, first run.
    pub fn sequence(&self) -> u64 {
        self.inner.sequence
    }

    /// The action's name: the one given to `enter_named`; for a function, its name
    /// (`addition`); for a closure, `closure in` the function that wrote it
    /// (`closure in main`). CPython shows `<function <lambda> at 0x...>`.
    pub fn action(&self) -> Cow<'_, str> {
        match &self.inner.action {
            ActionName::Given(name) => Cow::Borrowed(name),
            ActionName::TypeOf(type_name) => readable_name(type_name()),
        }
    }

    /// The argument as text (its `Debug` form), `()` for a plain closure.
    pub fn argument(&self) -> &str {
        self.inner.argument.as_deref().unwrap_or("()")
    }

    /// Where the event is in its life right now.
    pub fn state(&self) -> EventState {
        EventState::from_u8(self.inner.state.load(Ordering::Acquire))
    }

    /// Whether the event still waits in its queue (and so may be cancelled).
    pub fn is_pending(&self) -> bool {
        self.state() == EventState::Pending
    }

    pub(super) fn set_state(&self, state: EventState) {
        self.inner.state.store(state as u8, Ordering::Release);
    }

    pub(super) fn scheduler_id(&self) -> u64 {
        self.inner.scheduler
    }

    pub(super) fn slot(&self) -> usize {
        self.inner.slot
    }
}

impl PartialEq for Event {
    fn eq(&self, other: &Event) -> bool {
        self.inner.scheduler == other.inner.scheduler && self.inner.sequence == other.inner.sequence
    }
}

impl Eq for Event {}

impl std::hash::Hash for Event {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.inner.scheduler, self.inner.sequence).hash(state);
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Event(time={:.3}, priority={}, sequence={}, action={}, argument={})",
            self.inner.since_start.as_secs_f64(),
            self.inner.priority,
            self.inner.sequence,
            self.action(),
            self.argument(),
        )
    }
}

impl fmt::Debug for Event {
    /// The `Display` form followed by the state, so `{:?}` in a test failure says it all.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self} [{:?}]", self.state())
    }
}

/// The readable end of a Rust type name, as an event shows its action:
///
/// | `std::any::type_name`                      | shown as               |
/// |--------------------------------------------|------------------------|
/// | `my_app::jobs::addition`                   | `addition`             |
/// | `my_app::main::{{closure}}`                | `closure in main`      |
/// | `my_app::main::{{closure}}::{{closure}}`   | `closure in main`      |
/// | `my_app::run<u8>::{{closure}}`             | `closure in run<u8>`   |
fn readable_name(full: &'static str) -> Cow<'static, str> {
    const CLOSURE: &str = "::{{closure}}";
    let mut enclosing = full;
    while let Some(outer) = enclosing.strip_suffix(CLOSURE) {
        enclosing = outer;
    }
    let short = last_segment(enclosing);
    if enclosing.len() == full.len() {
        Cow::Borrowed(short)
    } else {
        Cow::Owned(format!("closure in {short}"))
    }
}

/// `a::b::c<d::e>` -> `c<d::e>`: the last `::` segment, looked for before the
/// generic arguments (which contain `::` too), which stay whole.
fn last_segment(path: &'static str) -> &'static str {
    let base_end = path.find('<').unwrap_or(path.len());
    match path[..base_end].rfind("::") {
        Some(at) => &path[at + 2..],
        None => path,
    }
}

#[cfg(test)]
mod tests {
    use super::readable_name;

    #[test]
    fn actions_are_named_by_their_readable_end() {
        for (full, shown) in [
            ("tour::sched_addition::addition", "addition"),
            (
                "tour::sched_addition::example::{{closure}}",
                "closure in example",
            ),
            ("main::{{closure}}::{{closure}}", "closure in main"),
            ("addition", "addition"),
            ("a::run<c::d>::{{closure}}", "closure in run<c::d>"),
            ("a::b<c::d>", "b<c::d>"),
        ] {
            assert_eq!(readable_name(full), shown, "{full}");
        }
    }
}
