//! The run loop: take the head of the queue when it is due, call it outside the
//! lock, or sleep until it will be due. CPython's `sched.scheduler.run`.
//!
//! Each pass decides under the lock ([`Step`]) and acts without it, so an action may
//! enter or cancel events in the scheduler that runs it.
//!
//! ```text
//!   next_step (locked) --due--------> Run(entry) --call it, caught--> next_step
//!                      --not due----> Sleep(deadline) --park-------> next_step
//!                      --run(false)-> Return(delay)
//! ```

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::event::StatePage;
use super::queue::{Entry, Head, Sleeper, nanos_of};
use super::{Event, EventState, RunError, Scheduler, runner};

/// When `run_until` returns.
pub(crate) enum Until<'a> {
    /// `run(false)`: when the head of the queue is not due yet.
    NothingDue,
    /// `run(true)`: when the queue is empty.
    Empty,
    /// A [`Runner`](super::Runner): only when its stop flag is set; an empty queue is waited on,
    /// and an action's panic is reported, not returned.
    Stopped(&'a runner::Flags),
}

/// What the run loop does next, decided under the lock and done without it.
#[must_use]
enum Step {
    /// Call this event's action (already out of the queue, state `Running`); it
    /// had this slot.
    Run(Entry, usize),
    /// Park until this deadline (`None`: until unparked), then look again.
    Sleep(Option<Instant>),
    /// Return from `run` with this delay until the next event.
    Return(Option<Duration>),
}

impl Scheduler {
    /// The run loop shared by `run` and `Runner`.
    pub(crate) fn run_until(&self, until: Until<'_>) -> Result<Option<Duration>, RunError> {
        // The last time read from the clock, on the scale of the queue's keys. An
        // event due by then is due now: the clock is read again only when the head
        // is not, which saves a clock read per event on a queue of due events.
        let mut seen = 0;
        // The state page of the last event taken out (see `event.rs`): the queue
        // hands it over here, and a run of events of one page costs one reference.
        let mut page = None;
        loop {
            match self.next_step(&until, &mut seen, &mut page) {
                Step::Run(entry, slot) => {
                    let page = page.as_ref().expect("next_step keeps the page it runs");
                    let ran = match self.shared.trace.get() {
                        None => run_action(entry, slot, page),
                        Some(trace) => traced_action(trace, entry, slot, page),
                    };
                    let Err((event, payload)) = ran else {
                        continue;
                    };
                    if let Until::Stopped(runner) = until {
                        // A runner has nobody to return the error to: report it,
                        // and go on with the rest of the queue.
                        runner.count_panic();
                        self.report_runner_panic(event, &*payload);
                    } else {
                        crate::panics::kept(
                            format_args!("the action of {event}"),
                            &*payload,
                            "returned by run() as a RunError",
                        );
                        return Err(RunError::new(event, crate::panics::message(&*payload)));
                    }
                }
                Step::Sleep(deadline) => self.shared.clock.park_until(deadline),
                Step::Return(delay) => return Ok(delay),
            }
        }
    }

    /// What a runner does with an action's panic: the user's hook, or one line on
    /// standard error.
    fn report_runner_panic(&self, event: Event, payload: &(dyn std::any::Any + Send)) {
        let hook = crate::panics::lock(&self.shared.on_action_panic).clone();
        let Some(hook) = hook else {
            let what = format!("the action of {event}");
            crate::panics::report(what, payload, "the runner goes on with the next event");
            return;
        };
        let error = RunError::new(event, crate::panics::message(payload));
        if let Err(hook_panic) = crate::panics::catch(|| hook(&error)) {
            crate::panics::report(
                "the sched runner's on_action_panic hook",
                &*hook_panic,
                "the runner goes on with the next event",
            );
        }
    }

    /// One look at the queue, under the lock: take the head if it is due, or decide to
    /// sleep or to return.
    fn next_step(
        &self,
        until: &Until<'_>,
        seen: &mut u64,
        page: &mut Option<Arc<StatePage>>,
    ) -> Step {
        let mut queue = self.lock();
        // Back from a sleep (or never slept): we are not a sleeper any more.
        if !queue.sleepers.is_empty() {
            let me = thread::current().id();
            queue.sleepers.retain(|s| s.thread.id() != me);
        }
        if let Until::Stopped(runner) = until
            && runner.stop_requested()
        {
            return Step::Return(None);
        }
        let mut head = queue.pop_due(*seen, page);
        let mut now = None;
        if let Head::Later(_) = head {
            let read = self.shared.clock.now();
            *seen = nanos_of(self.shared.start, read);
            now = Some(read);
            head = queue.pop_due(*seen, page);
        }
        let deadline = match head {
            Head::Due(entry, slot) => return Step::Run(entry, slot),
            Head::Later(time) => Some(time),
            Head::Empty => None,
        };
        match (until, deadline) {
            (Until::NothingDue, deadline) => {
                let now = now.unwrap_or_else(|| self.shared.clock.now());
                Step::Return(deadline.map(|d| d.saturating_duration_since(now)))
            }
            (Until::Empty, None) => Step::Return(None),
            (_, deadline) => {
                // Register before unlocking: an `enter` that comes between the unlock
                // and the park finds us here, and its unpark is kept as a token.
                queue.sleepers.push(Sleeper {
                    thread: thread::current(),
                    deadline,
                });
                Step::Sleep(deadline)
            }
        }
    }
}

/// [`run_action`], recorded as a `sched_run` event: when it began, how long it ran.
#[cold]
#[inline(never)]
fn traced_action(
    trace: &crate::trace::Recorder,
    entry: Entry,
    slot: usize,
    page: &Arc<StatePage>,
) -> Result<(), (Event, crate::panics::Payload)> {
    let name = entry.name.text().into_owned();
    let start = trace.now();
    let ran = run_action(entry, slot, page);
    let took = trace.now().saturating_sub(start);
    trace.record_at(start, crate::trace::EventKind::SchedRun { name, took });
    ran
}

/// Calls one action, taken from `slot`, and writes its end state into `page`. This
/// is the only place where actions are called, and no lock is held here.
fn run_action(
    entry: Entry,
    slot: usize,
    page: &Arc<StatePage>,
) -> Result<(), (Event, crate::panics::Payload)> {
    let Entry {
        time,
        sequence,
        priority,
        name,
        action,
        ..
    } = entry;
    // The action is consumed and borrows nothing of ours, so a panic cannot leave the
    // scheduler half-changed. What the action shares with other code may be, just as
    // after an exception in Python: that is the action's business.
    match crate::panics::catch(action) {
        Ok(()) => {
            page.set(sequence, EventState::Done);
            Ok(())
        }
        Err(payload) => {
            page.set(sequence, EventState::Panicked);
            let event = Event::new(time, priority, sequence, slot, name, Arc::clone(page));
            Err((event, payload))
        }
    }
}
