//! [`Event`]: what `enter` hands back, and the life of one scheduled call.
//!
//! CPython's `sched.Event` is a named tuple `(time, priority, sequence, action,
//! argument, kwargs)`: a plain value, which `cancel(event)` looks for in the queue.
//! Ours is a plain value too, with the same fields for reading, except that the
//! action itself stays inside the queue (a closure runs once, so nobody else may
//! hold it) and what you see is its *name*. One thing a named tuple cannot do, ours
//! does: `event.state()` says where the event is in its life, wherever you ask.
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
//!
//! ## Why the handle is what it is
//!
//! The state is the only part of an event that changes: the queue and the run loop
//! write it, and every copy of the event (the one `enter` returned, its clones,
//! those in a [`queue`](super::Scheduler::queue) snapshot or in an error) must read
//! the same byte. Everything else
//! (time, priority, sequence, the action's name) is fixed at `enter` and is copied
//! into the handle. So the shared part is one byte per event, and 64 consecutive
//! events of a scheduler share one allocation, a `StatePage`, the byte of
//! sequence `s` at index `s % 64`, beside what those events have in common:
//!
//! ```text
//!   Event #130: a plain value, 64 bytes       StatePage of #128..#191: one Arc
//!   ┌──────────────────────────────────┐      ┌───────────────────────────────┐
//!   │ time, priority, sequence 130     │      │ scheduler id, its start time  │
//!   │ slot in the queue's slab         │      ├───┬───┬───┬───┬─────┬────────┤
//!   │ action's name                    │      │ D │ D │ P │ P │ ... │ (64)   │
//!   │ states ──────────────────────────┼───┐  └───┴───┴─▲─┴───┴─────┴────────┘
//!   └──────────────────────────────────┘   └──────────┘ index 130 % 64 = 2
//! ```
//!
//! `cancel(&event)` checks the page's scheduler id, then looks in the slab at the
//! event's slot: it holds the entry of the same sequence, or the event is not
//! pending (and its state byte says what became of it).
//!
//! Who holds a page: each handle (one reference each: cloning an `Event` counts
//! one up), the queue (one reference per page, while the page is the one new
//! events get or one of its events is pending; an entry only records the page's
//! index), and the run loop (the page of the event it runs, kept while the next
//! events come from the same page). So entering and running an event touch one
//! reference count, the handle's, and one allocation serves 64 events.
//!
//! Before, each event was an `Arc` of its own: one allocation and one release per
//! event, about 300 of the 916 instructions that `enter` and `run` cost per event
//! (`examples/sched_enter_run.rs`). A page lives as long as one handle of its 64
//! events does: about 100 bytes kept by a forgotten handle, where it used to keep
//! the handle's own allocation.
//!
//! Why not a plain value with no shared part at all, as CPython's? The state has
//! to live somewhere that outlives the queue's entry (to say `Done` or `Cancelled`
//! afterwards) and dies with the last handle. The scheduler cannot be that place:
//! it cannot know when the last handle of an event is gone, so it would have to
//! remember every cancelled event forever. Without `state()`, `cancel` could not
//! tell "already cancelled" from "already ran", which CPython's `ValueError` does
//! not tell either, and which our [`CancelError`](super::CancelError) does.
//!
//! The name of a closure is a function pointer (`type_name::<F>`), read only when
//! the event is displayed. A name and argument given to
//! [`enter_named`](super::Scheduler::enter_named) are text, kept once in an `Arc`
//! that the copies share; that path formats its argument anyway.

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

/// How many events share a [`StatePage`].
pub(super) const PAGE_LEN: u64 = 64;

/// The states of [`PAGE_LEN`] consecutive events of one scheduler, as bytes: the
/// event of sequence `s` owns `states[s % PAGE_LEN]`, and nobody else writes it.
/// A fresh page reads `Pending` (0) everywhere, which is where each event starts.
///
/// The page also carries what all its events have in common, so that it need not be
/// copied into each handle: the scheduler they belong to and its creation time.
pub(super) struct StatePage {
    /// Which scheduler issued these events, so `cancel` can refuse a stranger's.
    scheduler: u64,
    /// When that scheduler was created: an event displays its time relative to it.
    start: Instant,
    states: [AtomicU8; PAGE_LEN as usize],
}

impl StatePage {
    pub(super) fn scheduler(&self) -> u64 {
        self.scheduler
    }

    pub(super) fn start(&self) -> Instant {
        self.start
    }

    pub(super) fn new(scheduler: u64, start: Instant) -> Arc<StatePage> {
        Arc::new(StatePage {
            scheduler,
            start,
            states: std::array::from_fn(|_| AtomicU8::new(EventState::Pending as u8)),
        })
    }

    /// The state byte of the event numbered `sequence`, which must be on this page.
    fn byte(&self, sequence: u64) -> &AtomicU8 {
        &self.states[(sequence % PAGE_LEN) as usize]
    }

    /// Writes the state of the event numbered `sequence`: under the scheduler's lock
    /// for the arrows out of `Pending`, by the thread that ran it for the others.
    pub(super) fn set(&self, sequence: u64, state: EventState) {
        self.byte(sequence).store(state as u8, Ordering::Release);
    }
}

/// A scheduled call, as returned by [`enter`](super::Scheduler::enter) and its
/// siblings: keep it to [`cancel`](super::Scheduler::cancel) the call later.
///
/// Events run in the order of `(time, priority, sequence)`: earliest time first,
/// then the lowest priority number, then the order they were entered in.
///
/// Cloning an `Event` is cheap (its fields, and one reference count); every clone
/// reports the same [`state`](Event::state). "The handle" in the [`sched`](super)
/// module doc says why it is a plain value with a shared byte for its state.
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
    time: Instant,
    sequence: u64,
    priority: i32,
    /// Where its entry waits in the queue's slab, so `cancel` finds it at once:
    /// the slot holds this event (the same sequence), or it is not pending.
    slot: usize,
    /// The name shown as `action=`, and the argument shown as `argument=`.
    action: ActionName,
    /// The page holding this event's state byte, at `sequence % PAGE_LEN`, and
    /// its scheduler's identity.
    states: Arc<StatePage>,
}

/// How an event's action is named.
#[derive(Clone)]
pub(super) enum ActionName {
    /// `std::any::type_name::<F>` of the closure or function `enter` was given, with
    /// no argument to show (`()`). Kept as the function and called only when someone
    /// displays the event: searching the type name on every `enter` cost a quarter
    /// of its time (about 700 of 2,800 instructions per event), for a name that is
    /// rarely read.
    TypeOf(fn() -> &'static str),
    /// The name and the argument's `Debug` text given to `enter_named`, shared by
    /// the copies of the event.
    Given(Arc<GivenName>),
}

impl ActionName {
    /// The name as an event shows it.
    pub(super) fn text(&self) -> Cow<'_, str> {
        match self {
            ActionName::Given(given) => Cow::Borrowed(&given.name),
            ActionName::TypeOf(type_name) => readable_name(type_name()),
        }
    }
}

/// What `enter_named` was told to show.
pub(super) struct GivenName {
    pub(super) name: Cow<'static, str>,
    pub(super) argument: Box<str>,
}

impl Event {
    pub(super) fn new(
        time: Instant,
        priority: i32,
        sequence: u64,
        slot: usize,
        action: ActionName,
        states: Arc<StatePage>,
    ) -> Event {
        Event {
            time,
            sequence,
            priority,
            slot,
            action,
            states,
        }
    }

    /// When the event is due (CPython's `Event.time`).
    pub fn time(&self) -> Instant {
        self.time
    }

    /// Its time in seconds since the scheduler was created, as `Display` shows it
    /// (zero for a time before that).
    pub fn since_start(&self) -> Duration {
        self.time.saturating_duration_since(self.states.start)
    }

    /// Its priority: among events due at the same time, lower numbers run first.
    pub fn priority(&self) -> i32 {
        self.priority
    }

    /// Its sequence number: 0 for the first event entered in its scheduler, then 1,
    /// 2… It breaks ties between equal times and priorities: first entered, first run.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// The action's name: the one given to `enter_named`; for a function, its name
    /// (`addition`); for a closure, `closure in` the function that wrote it
    /// (`closure in main`). CPython shows `<function <lambda> at 0x...>`.
    pub fn action(&self) -> Cow<'_, str> {
        self.action.text()
    }

    /// The argument as text (its `Debug` form), `()` for a plain closure.
    pub fn argument(&self) -> &str {
        match &self.action {
            ActionName::Given(given) => &given.argument,
            ActionName::TypeOf(_) => "()",
        }
    }

    /// Where the event is in its life right now.
    pub fn state(&self) -> EventState {
        EventState::from_u8(self.states.byte(self.sequence).load(Ordering::Acquire))
    }

    /// Whether the event still waits in its queue (and so may be cancelled).
    pub fn is_pending(&self) -> bool {
        self.state() == EventState::Pending
    }

    pub(super) fn scheduler_id(&self) -> u64 {
        self.states.scheduler
    }

    pub(super) fn slot(&self) -> usize {
        self.slot
    }
}

impl PartialEq for Event {
    fn eq(&self, other: &Event) -> bool {
        self.scheduler_id() == other.scheduler_id() && self.sequence == other.sequence
    }
}

impl Eq for Event {}

impl std::hash::Hash for Event {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.scheduler_id(), self.sequence).hash(state);
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Event(time={:.3}, priority={}, sequence={}, action={}, argument={})",
            self.since_start().as_secs_f64(),
            self.priority,
            self.sequence,
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
    use super::{Event, readable_name};

    #[test]
    fn an_event_is_a_small_plain_value() {
        // What the module doc draws: no allocation of its own, and small enough that
        // the queue's slab (an `Event` and a boxed action per slot) stays compact.
        assert!(size_of::<Event>() <= 64, "{}", size_of::<Event>());
        assert!(size_of::<super::super::queue::Entry>() <= 72);
    }

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
