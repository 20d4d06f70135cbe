//! `sched`: a queue of timed calls and a loop that sleeps until the next one.
//!
//! ## The idea
//!
//! A scheduler keeps calls to make later in a priority queue ordered by the time they
//! are due. [`run`](Scheduler::run) looks at the head of the queue: if it is due it
//! takes it out and calls it, otherwise it sleeps until it will be due, and starts
//! again. That is all of CPython's `sched` module, and all of this one.
//!
//! ## The Python equivalent: `sched.scheduler`, and where we differ
//!
//! | CPython `sched`                             | clearloop                                              |
//! |---------------------------------------------|--------------------------------------------------------|
//! | `sched.scheduler()`                         | [`Scheduler::new()`] (real monotonic clock)            |
//! | `sched.scheduler(timefunc, delayfunc)`      | [`Scheduler::with_clock(clock)`](Scheduler::with_clock): the pair becomes one [`Clock`] |
//! | `timefunc()`                                | [`Scheduler::now()`] ([`Clock::now`])                  |
//! | `delayfunc(seconds)`                        | [`Clock::park_until`], which another thread can cut short |
//! | `s.enter(delay, priority, action, argument)` | [`enter(delay, priority, closure)`](Scheduler::enter), or [`enter_named(delay, priority, "name", argument, f)`](Scheduler::enter_named) |
//! | `s.enterabs(time, priority, action, argument)` | [`enterabs`](Scheduler::enterabs), [`enterabs_named`](Scheduler::enterabs_named) (the course slide spells it `eventabs`) |
//! | `kwargs={...}`                              | none: capture the values in the closure                |
//! | `s.cancel(event)` raising `ValueError`      | [`cancel(&event)`](Scheduler::cancel) returning [`CancelError`] |
//! | `s.empty()`                                 | [`empty()`](Scheduler::empty)                          |
//! | `s.run(blocking=True)`                      | [`run(true)`](Scheduler::run)                          |
//! | `s.run(blocking=False)` → delay or `None`   | [`run(false)`](Scheduler::run) → `Ok(Some(delay))` or `Ok(None)` |
//! | an action's exception escapes `run()`       | `run` returns `Err(`[`RunError`]`)`                    |
//! | `s.queue` (read-only property)              | [`queue()`](Scheduler::queue), a `Vec<Event>` snapshot in run order |
//! | `Event.time`, `.priority`, `.sequence`      | [`Event::time`], [`Event::priority`], [`Event::sequence`] |
//! | `Event.action`, `.argument`                 | [`Event::action`] and [`Event::argument`], as text     |
//! | `threading.Thread(target=s.run)`            | [`spawn_runner()`](Scheduler::spawn_runner) → [`Runner`] with `stop`/`join` |
//! | the thread dies of an action's exception    | the runner reports it ([`on_action_panic`](Scheduler::on_action_panic)) and goes on |
//!
//! Where clearloop differs, on purpose:
//!
//! * **An earlier event wakes the runner.** CPython's `run` computes the delay to the
//!   head of the queue and calls `delayfunc(delay)`, which sleeps the whole delay: an
//!   event entered meanwhile by another thread for an earlier time runs late, when the
//!   sleep ends. Here the sleeping thread is registered in the queue, and
//!   [`enter`](Scheduler::enter) unparks it when the new event is due before the time
//!   it sleeps until; it looks at the queue again and sleeps until the new head.
//! * **Cancel costs O(1)** (and a rebuild now and then, see "The queue"), not a scan
//!   of the list plus a re-heapify (O(n)).
//! * **A panicking action** does not unwind through `run`: `run` catches it and
//!   returns a [`RunError`] naming the event and the message. The queue is intact and
//!   the next `run` carries on, as CPython promises after an exception.
//! * **A [`Runner`] survives a panicking action.** A Python thread running `s.run()`
//!   dies with the first exception, and the events after it never run. A runner
//!   reports the panic (to [`on_action_panic`](Scheduler::on_action_panic)'s hook,
//!   or one line on standard error, naming the event) and runs the rest.
//! * **Actions are named without cost.** CPython shows `action=<function addition at
//!   0x7f...>`. Here a function shows as `addition`, a closure as `closure in main`
//!   (the function that wrote it), and [`enter_named`](Scheduler::enter_named) gives
//!   any name; the name is worked out from the closure's type only when the event is
//!   displayed, so `enter` does not pay for it.
//! * **No `delayfunc(0)` after each action.** CPython sleeps 0 s after every call so
//!   that other threads get the GIL; our lock is released between events and std
//!   threads are preemptive, so there is nothing to hand over.
//!
//! ## The queue
//!
//! The keys `(time, priority, sequence)` of the pending events are kept in two
//! sorted structures, and the entries (action, name, time) in a slab beside them:
//!
//! ```text
//!   run (VecDeque): keys entered in order       heap (BinaryHeap): the others
//!   front                              back       top
//!   ┌────────────┬─────────────┬────────────┐    ┌────────────┐
//!   │ (3 s,1,#0) │ (3 s,1,#1)✗ │ (8 s,1,#3) │    │ (2 s,0,#2) │  #2 came after #1
//!   │   slot 0   │   slot 1    │   slot 3   │    │   slot 2   │  but is earlier
//!   └────────────┴─────────────┴────────────┘    └────────────┘
//!   next to run: the smaller of run's front and heap's top → #2, then #0
//!
//!   entries (slab): [0: #0 action, name, page 0] [1: free → 4] [2: #2 …] [3: #3 …]
//!   pages (slab):   [0: states of #0..#63, 3 pending]   (see "The handle" below)
//!   cancel(#1): empty slot 1 at once (the action is dropped); its key stays, ✗
//!               dead, and is thrown away when it reaches the front
//!   sleepers: [runner thread, until 2 s]   enter(1 s) → earlier than 2 s, unpark
//! ```
//!
//! * **enter** takes a free slot, then appends the key to the run when it sorts
//!   after the run's last key (a zero delay, a later time: most events), or pushes
//!   it on the heap otherwise. Appending costs O(1), the heap O(log n).
//! * **run** compares the run's front with the heap's top and takes the smaller.
//!   A key is *live* when its slot still holds the entry of the same sequence;
//!   a dead key (a cancelled event's) is dropped on the way.
//! * **cancel** finds the entry through the slot its [`Event`] records and takes it
//!   out (O(1)): the action, and what it captured, is dropped at once, as before.
//!   Only the 32-byte key waits; when dead keys outnumber live ones, both halves
//!   are rebuilt without them, so cancelled events cannot pile up.
//!   CPython's `cancel` does `list.remove` and `heapq.heapify`: O(n) each time.
//!   asyncio marks a cancelled timer handle and skips it when it pops, as we do.
//!
//! ## The handle
//!
//! CPython's `Event` is a plain named tuple, and `cancel(event)` looks it up in the
//! queue. Ours is a plain value too (64 bytes: time, priority, sequence, slot, the
//! action's name), with one addition a tuple cannot have: a live
//! [`state()`](Event::state). That state is one byte, and 64 consecutive events
//! share one allocation for their bytes, a *page*; the handle holds a reference to
//! its page, the queue one per page (in a second slab, until the last pending event
//! of the page is gone), an entry only the page's index. So entering and running
//! an event allocates nothing, and touches one reference count: the handle's.
//!
//! Why not a plain value with nothing shared, as CPython's? The state must outlive
//! the queue's entry (to say `Done` or `Cancelled` afterwards) and go with the last
//! handle, and only the handles know when that is: a scheduler answering
//! `state(event)` would have to remember every cancelled event forever. `event.rs`
//! draws the page and follows its references.
//!
//! ## What an event costs
//!
//! Measured with callgrind on 100,000 zero-delay events entered then run
//! (`examples/sched_enter_run.rs`), in instructions per event:
//!
//! | the queue, the handle                                            | instructions |
//! |------------------------------------------------------------------|-------------:|
//! | a `BTreeMap` (the first version; 550 of it in the tree)           | 1,500        |
//! | a binary heap alone (CPython's choice: each pop sifts all 17 levels) | 1,470     |
//! | the sorted run in front of the heap                              | 1,056        |
//! | + the free list inside the slab, no sleeper list built when nobody sleeps, the clock read by `run` only when the head is not due | 916 |
//! | an `Event` without an `Arc` of its own: state bytes by pages of 64 | 672        |
//! | the queue's entries holding a page index, not a reference         | 719          |
//!
//! The last line costs 47 more instructions than the one above it, and is about 9%
//! *faster* (101 ns against 111 ns per event, best of 10, the two binaries taking
//! turns): the reference it saves is an atomic add when the event is entered and an
//! atomic subtraction when it runs, each a locked instruction of some twenty
//! cycles. Against the `Arc` per event (916), the time per event went from 124 to
//! 128 ns to 101 to 103 ns, measured the same way.
//!
//! Against CPython's `sched` with a no-op `delayfunc`, the benchmark report
//! (`cargo run --release -p clearloop-bench --bin compare -- --only python`), run
//! with the two versions taking turns on a 2-core VM whose load average was 2 to 5,
//! gave 10.5× to 27.2× less time for the `Arc` per event (median 15.8×, 9 runs) and
//! 11.6× to 21.2× for pages (median 17.5×, 6 runs); best run against best run
//! (CPython: 233 ms), 16.3× and 20.5×. Most of that spread is the machine's.
//!
//! What is left per event: reading the clock in `enter` (a fifth of the time on
//! that VM; CPython's `enter` reads it too), the lock taken twice, the handle's
//! reference count, the boxing and the call. The order, `queue()`, `empty()` and
//! `cancel`'s answers have not changed since the tree:
//! `tests/sched_queue.rs` checks them on events entered in and out of order and
//! on a thousand cancels.
//!
//! ## An example
//!
//! On a virtual clock, time jumps to each deadline, so this runs instantly:
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use std::time::Duration;
//! use clearloop::clock::Clock;
//! use clearloop::sched::Scheduler;
//!
//! let s = Scheduler::with_clock(Clock::virtual_clock());
//! let log = Arc::new(Mutex::new(Vec::new()));
//! for (delay, priority, name) in [(2, 1, "late"), (1, 2, "second"), (1, 1, "first")] {
//!     let log = log.clone();
//!     s.enter(Duration::from_secs(delay), priority, move || log.lock().unwrap().push(name));
//! }
//! s.run(true).unwrap();
//! assert_eq!(*log.lock().unwrap(), ["first", "second", "late"]);
//! assert_eq!(s.elapsed(), Duration::from_secs(2));
//! ```
//!
//! The queue's key and entries live in `queue.rs` (its slabs in `slab.rs`), the loop
//! that runs them in `run_loop.rs`, an [`Event`] and its state page in `event.rs`, a
//! [`Runner`] thread in `runner.rs`.

mod error;
mod event;
mod runner;
mod slab;

pub use error::{CancelError, RunError};
pub use event::{Event, EventState};
pub use runner::Runner;

mod queue;
mod run_loop;

use queue::{Key, Queue};
pub(crate) use run_loop::Until;

use std::any::type_name;
use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use event::{ActionName, GivenName};

/// Gives each scheduler a number, so that `cancel` can recognise a stranger's event.
static NEXT_SCHEDULER_ID: AtomicU64 = AtomicU64::new(0);

/// A call waiting in the queue. Boxed because every closure has its own type.
type Action = Box<dyn FnOnce() + Send + 'static>;

/// What [`Scheduler::on_action_panic`] keeps.
type PanicHook = Arc<dyn Fn(&RunError) + Send + Sync>;

/// A thread-safe event scheduler (CPython's `sched.scheduler`).
///
/// `Scheduler` is a handle: cloning it is cheap (an `Arc`) and every clone works on
/// the same queue, so you can give one to each thread that enters events.
#[derive(Clone)]
pub struct Scheduler {
    shared: Arc<Shared>,
}

struct Shared {
    id: u64,
    clock: Clock,
    /// Where runners report an action's panic; `None`: one line on stderr.
    on_action_panic: Mutex<Option<PanicHook>>,
    /// When the scheduler was created; events display their time relative to it.
    start: Instant,
    queue: Mutex<Queue>,
    /// Where each action's run is recorded ([`Scheduler::trace_into`]), if anywhere.
    trace: std::sync::OnceLock<Arc<crate::trace::Recorder>>,
}

impl Scheduler {
    /// A scheduler on the real monotonic clock (CPython's `sched.scheduler()`).
    pub fn new() -> Scheduler {
        Scheduler::with_clock(Clock::real())
    }

    /// A scheduler on `clock`: real, or virtual to make time pass instantly in tests
    /// and examples. CPython's two functions `timefunc` and `delayfunc` become this one
    /// value, which reads the time and knows how to wait for it.
    pub fn with_clock(clock: Clock) -> Scheduler {
        let start = clock.now();
        let id = NEXT_SCHEDULER_ID.fetch_add(1, Ordering::Relaxed);
        Scheduler {
            shared: Arc::new(Shared {
                id,
                clock,
                on_action_panic: Mutex::new(None),
                start,
                queue: Mutex::new(Queue::new(id, start)),
                trace: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Records each action this scheduler runs (its name, when, how long) into
    /// `recorder`, as a `sched_run` event ([`crate::trace`]): the timeline draws them
    /// on rows of their own. Give it a recorder on the scheduler's clock. The first
    /// recorder given stays; later calls return `false` and change nothing.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use clearloop::{clock::Clock, sched::Scheduler, trace::{EventKind, Recorder}};
    ///
    /// let clock = Clock::virtual_clock();
    /// let s = Scheduler::with_clock(clock.clone());
    /// let trace = Arc::new(Recorder::new(clock));
    /// assert!(s.trace_into(trace.clone()));
    /// s.enter_named(Duration::from_secs(3), 1, "addition", (10, 20), |(a, b)| { let _ = a + b; });
    /// s.run(true).unwrap();
    /// let run = &trace.events()[0];
    /// assert_eq!(run.at, Duration::from_secs(3));
    /// assert!(matches!(&run.kind, EventKind::SchedRun { name, .. } if name == "addition"));
    /// ```
    pub fn trace_into(&self, recorder: Arc<crate::trace::Recorder>) -> bool {
        self.shared.trace.set(recorder).is_ok()
    }

    /// The clock this scheduler reads and waits on.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// The current time on the scheduler's clock (CPython's `timefunc()`).
    pub fn now(&self) -> Instant {
        self.shared.clock.now()
    }

    /// Time elapsed on the scheduler's clock since it was created: the scale on
    /// which an [`Event`] displays its `time`.
    pub fn elapsed(&self) -> Duration {
        self.now().saturating_duration_since(self.shared.start)
    }

    /// Schedules `action` to run `delay` from now, with `priority` deciding among
    /// events due at the same time (lower first). Returns the [`Event`], to cancel it.
    ///
    /// CPython's `argument=(10, 20)` becomes values the closure captures:
    /// `s.enter(delay, 1, move || addition(10, 20))`.
    ///
    /// How the event shows its `action`: a function passed as it is
    /// (`s.enter(delay, 1, tick)`) shows its name, `tick`; a closure shows as
    /// `closure in main`, after the function that wrote it. To give a closure a
    /// name, use [`enter_named`](Scheduler::enter_named), with `()` when there is no
    /// argument to show:
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use clearloop::{clock::Clock, sched::Scheduler};
    /// fn tick() {}
    /// let s = Scheduler::with_clock(Clock::virtual_clock());
    /// let second = Duration::from_secs(1);
    /// assert_eq!(s.enter(second, 1, tick).action(), "tick");
    /// // "closure in main" (a doctest's `main` has a longer name on some targets).
    /// assert!(s.enter(second, 1, || tick()).action().starts_with("closure in "));
    /// assert_eq!(s.enter_named(second, 1, "tock", (), |()| tick()).action(), "tock");
    /// ```
    ///
    /// # Panics
    ///
    /// If `now + delay` does not fit in an [`Instant`] (a delay of centuries).
    #[track_caller]
    pub fn enter<F>(&self, delay: Duration, priority: i32, action: F) -> Event
    where
        F: FnOnce() + Send + 'static,
    {
        let time = self.deadline_in(delay, "clearloop::sched::Scheduler::enter()");
        self.enterabs(time, priority, action)
    }

    /// Schedules `action` at the absolute time `time` (CPython's `enterabs`). A time
    /// already past is due at once.
    pub fn enterabs<F>(&self, time: Instant, priority: i32, action: F) -> Event
    where
        F: FnOnce() + Send + 'static,
    {
        // The closure's name is read from its type only when someone displays the
        // event: searching the type name here cost a quarter of `enter`.
        let name = ActionName::TypeOf(type_name::<F>);
        self.insert(time, priority, name, Box::new(action))
    }

    /// Like [`enter`](Scheduler::enter), with a name and an argument to show, as
    /// CPython's `enter(delay, priority, addition, argument=(10, 20))`:
    /// `argument` is handed to `action` when it runs, and its `Debug` text is what
    /// the event displays.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use clearloop::{clock::Clock, sched::Scheduler};
    /// let s = Scheduler::with_clock(Clock::virtual_clock());
    /// let event = s.enter_named(Duration::from_secs(3), 1, "addition", (10, 20), |(a, b)| {
    ///     assert_eq!(a + b, 30);
    /// });
    /// assert_eq!(
    ///     event.to_string(),
    ///     "Event(time=3.000, priority=1, sequence=0, action=addition, argument=(10, 20))"
    /// );
    /// ```
    ///
    /// # Panics
    ///
    /// If `now + delay` does not fit in an [`Instant`].
    #[track_caller]
    pub fn enter_named<A, F>(
        &self,
        delay: Duration,
        priority: i32,
        name: impl Into<Cow<'static, str>>,
        argument: A,
        action: F,
    ) -> Event
    where
        A: fmt::Debug + Send + 'static,
        F: FnOnce(A) + Send + 'static,
    {
        let time = self.deadline_in(delay, "clearloop::sched::Scheduler::enter_named()");
        self.enterabs_named(time, priority, name, argument, action)
    }

    /// Like [`enterabs`](Scheduler::enterabs), with a name and an argument to show;
    /// see [`enter_named`](Scheduler::enter_named).
    pub fn enterabs_named<A, F>(
        &self,
        time: Instant,
        priority: i32,
        name: impl Into<Cow<'static, str>>,
        argument: A,
        action: F,
    ) -> Event
    where
        A: fmt::Debug + Send + 'static,
        F: FnOnce(A) + Send + 'static,
    {
        let name = ActionName::Given(Arc::new(GivenName {
            name: name.into(),
            argument: format!("{argument:?}").into_boxed_str(),
        }));
        let call = move || action(argument);
        self.insert(time, priority, name, Box::new(call))
    }

    /// `now + delay`; panics naming `what`, at the caller's line, if it does not fit.
    #[track_caller]
    fn deadline_in(&self, delay: Duration, what: &str) -> Instant {
        match self.now().checked_add(delay) {
            Some(deadline) => deadline,
            None => panic!(
                "{what}: now + delay ({delay:?}) does not fit in an Instant; use a shorter delay"
            ),
        }
    }

    fn insert(&self, time: Instant, priority: i32, name: ActionName, action: Action) -> Event {
        let (event, to_wake) = {
            let mut queue = self.lock();
            let sequence = queue.next_sequence;
            queue.next_sequence += 1;
            let key = Key::new(self.shared.start, time, priority, sequence);
            // The queue keeps the name; the handle gets a copy (a function pointer, or
            // an `Arc` for `enter_named`) and one reference to the page of its state.
            let (slot, page) = queue.push(key, time, name.clone(), action);
            let event = Event::new(time, priority, sequence, slot, name, Arc::clone(page));
            // Usually nobody sleeps: do not even build the list then.
            let to_wake = (!queue.sleepers.is_empty()).then(|| queue.sleepers_to_wake_for(time));
            (event, to_wake)
        };
        // Wake outside the lock, so the woken thread does not block on it at once.
        if let Some(to_wake) = to_wake {
            for thread in to_wake {
                thread.unpark();
            }
        }
        event
    }

    /// Removes a pending event from the queue; its action will never run (and is
    /// dropped here, with whatever it captured).
    ///
    /// # Errors
    ///
    /// [`CancelError::AlreadyRun`] if the event has left the queue to run,
    /// [`CancelError::AlreadyCancelled`] if it was cancelled before, and
    /// [`CancelError::OtherScheduler`] if another scheduler returned it. CPython
    /// raises `ValueError` in all three cases.
    pub fn cancel(&self, event: &Event) -> Result<(), CancelError> {
        if event.scheduler_id() != self.shared.id {
            return Err(CancelError::OtherScheduler(event.clone()));
        }
        let (removed, to_wake) = {
            let mut queue = self.lock();
            // CPython's `cancel` looks the tuple up in its list; here the slot the event
            // recorded holds it (the same sequence), or it is not pending: O(1).
            let Some((entry, was_first)) = queue.remove(event.sequence(), event.slot()) else {
                drop(queue);
                // Not in the queue, so not pending (the invariant on the queue's keys).
                return Err(match event.state() {
                    EventState::Cancelled => CancelError::AlreadyCancelled(event.clone()),
                    _ => CancelError::AlreadyRun(event.clone()),
                });
            };
            // A runner sleeping until this event would wake for nothing; wake it now
            // so that it re-arms for the new head, or returns if the queue is empty.
            let to_wake = if was_first {
                queue.timed_sleepers()
            } else {
                Vec::new()
            };
            (entry, to_wake)
        };
        for thread in to_wake {
            thread.unpark();
        }
        // The closure, and what it captured, is dropped here, outside the lock: a
        // captured value's `Drop` may itself use this scheduler.
        drop(removed);
        Ok(())
    }

    /// Whether no event is pending (CPython's `empty()`).
    pub fn empty(&self) -> bool {
        self.lock().len() == 0
    }

    /// The pending events in the order they will run (CPython's `queue` property).
    ///
    /// It is a snapshot: later `enter`, `cancel` or `run` calls do not change the
    /// returned `Vec`, though each event's [`state`](Event::state) stays live.
    pub fn queue(&self) -> Vec<Event> {
        self.lock().events_in_order()
    }

    /// Whether a thread is parked inside [`run`](Scheduler::run) or a [`Runner`],
    /// waiting for the next event (or for any event, on an empty queue).
    pub fn is_sleeping(&self) -> bool {
        !self.lock().sleepers.is_empty()
    }

    /// The earliest deadline a thread parked in `run` sleeps until, if any. Watch it
    /// move to an earlier time when another thread enters an earlier event.
    pub fn sleeping_until(&self) -> Option<Instant> {
        self.lock().sleepers.iter().filter_map(|s| s.deadline).min()
    }

    /// Runs events as they fall due.
    ///
    /// * `run(true)` sleeps until the head of the queue is due, runs it, and goes on
    ///   until the queue is empty; it returns `Ok(None)`. While it sleeps, other
    ///   threads may enter or cancel events, and an event due earlier than the one it
    ///   waits for wakes it up.
    /// * `run(false)` runs the events already due and returns at once, with the delay
    ///   until the next event (`Ok(Some(delay))`), or `Ok(None)` if the queue is empty.
    ///
    /// Actions run on the calling thread, without the scheduler's lock held, so an
    /// action may enter or cancel events, even in this scheduler.
    ///
    /// # Errors
    ///
    /// If an action panics, `run` catches the panic and returns a [`RunError`] with the
    /// event and the panic message right away. The rest of the queue is untouched:
    /// call `run` again to carry on. (The panic hook still prints the usual
    /// "thread '…' panicked" line to stderr.)
    pub fn run(&self, blocking: bool) -> Result<Option<Duration>, RunError> {
        self.run_until(if blocking {
            Until::Empty
        } else {
            Until::NothingDue
        })
    }

    /// Starts a [`Runner`]: a std thread named `clearloop-sched` that runs this
    /// scheduler until [`stop`](Runner::stop)ped, waiting for new events when the
    /// queue is empty. Any thread may keep entering events meanwhile.
    ///
    /// # Panics
    ///
    /// If the operating system cannot start a thread, as [`std::thread::spawn`].
    pub fn spawn_runner(&self) -> Runner {
        Runner::spawn(self.clone())
    }

    /// Sets where a [`Runner`] reports an action that panicked: `hook` receives the
    /// [`RunError`] (the event and the panic message), on the runner's thread, and
    /// the runner goes on with the next event. Without a hook, the runner prints one
    /// line on standard error:
    ///
    /// ```text
    /// clearloop: the action of Event(time=1.000, priority=1, sequence=0, action=closure in main, argument=()) panicked: boom; the runner goes on with the next event
    /// ```
    ///
    /// [`run`](Scheduler::run) does not call the hook: it returns the error to you.
    /// A hook that panics is reported on standard error, and the runner goes on.
    /// Setting a hook again replaces the previous one.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// use clearloop::{clock::Clock, sched::Scheduler};
    ///
    /// let s = Scheduler::with_clock(Clock::virtual_clock());
    /// let failures = Arc::new(Mutex::new(Vec::new()));
    /// let seen = failures.clone();
    /// s.on_action_panic(move |error| seen.lock().unwrap().push(error.message().to_owned()));
    /// s.enter_named(Duration::from_secs(1), 1, "bad", (), |()| panic!("boom"));
    /// let runner = s.spawn_runner();
    /// while !s.empty() || !s.is_sleeping() {
    ///     std::thread::yield_now();
    /// }
    /// runner.stop();
    /// assert_eq!(runner.join(), 1, "one action panicked");
    /// assert_eq!(*failures.lock().unwrap(), ["boom"]);
    /// ```
    pub fn on_action_panic(&self, hook: impl Fn(&RunError) + Send + Sync + 'static) {
        *crate::panics::lock(&self.shared.on_action_panic) = Some(Arc::new(hook));
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Actions never run under this lock, so a poisoned lock only means one of our
        // own short critical sections panicked; its data is still consistent.
        self.shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for Scheduler {
    /// A scheduler on the real clock, as [`Scheduler::new`].
    fn default() -> Scheduler {
        Scheduler::new()
    }
}

impl fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let queue = self.lock();
        f.debug_struct("Scheduler")
            .field("id", &self.shared.id)
            .field("clock", &self.shared.clock)
            .field("pending", &queue.len())
            .field("sleepers", &queue.sleepers.len())
            .finish()
    }
}
