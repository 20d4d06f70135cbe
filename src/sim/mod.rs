//! Deterministic simulation: one seed decides the order the loop runs its tasks in,
//! so a race is found by trying seeds, and a failing seed is replayed exactly.
//!
//! The course shows a counter that loses an update when a task awaits between its
//! read and its write. Whether the update is lost depends on which ready task the
//! loop runs next, and an ordinary loop always answers the same way (first ready,
//! first run: asyncio's `_ready` deque, and ours). A program can pass its tests for
//! years on that one order and fail on another the day a socket answers faster.
//!
//! A **simulation runtime** ([`Builder::simulation`]) asks a seeded random
//! generator instead, each time it takes a task from its ready queue:
//!
//! ```text
//!   ready queue:  [ A  B  C ]           the ordinary loop: always the front (A)
//!                   0  1  2
//!   seed 17 ──> SplitMix64 ──> below(3) = 2 ──> run C, the queue is [ A  B ]
//!                              below(2) = 0 ──> run A, ...
//!
//!   same seed  ==> same numbers ==> same order ==> same run, event for event
//! ```
//!
//! Everything else is already deterministic on the virtual clock: time moves only
//! when every task waits, by exactly the next timer's delay. So one `u64` names a
//! whole run, and [`explore`] tries many: the seeds that fail are the interleavings
//! that break the program, and [`replay`] runs one of them again, with its trace
//! timeline, as many times as the bug takes to understand. Timers due at the same
//! instant (which asyncio leaves in no promised order) wake their tasks in an order
//! the seed shuffles too, though the pick above already decides who runs first.
//!
//! [`Seed::Fifo`] turns the choice off: the runtime then behaves exactly as
//! `Builder::new().clock(Clock::virtual_clock())`, so every program and test that
//! runs on the virtual clock runs unchanged on a simulation.
//!
//! ```
//! use std::cell::Cell;
//! use std::rc::Rc;
//! use clearloop::{sim, spawn_local, task::yield_now};
//!
//! // Two tasks add 1 to a counter with an `await` between the read and the write.
//! let found = sim::explore(0..50, || async {
//!     let counter = Rc::new(Cell::new(0));
//!     let add = |counter: Rc<Cell<i32>>| async move {
//!         let read = counter.get();
//!         yield_now().await; // the loop may run the other task here
//!         counter.set(read + 1);
//!     };
//!     let a = spawn_local(add(counter.clone()));
//!     let b = spawn_local(add(counter.clone()));
//!     a.await;
//!     b.await;
//!     match counter.get() {
//!         2 => Ok(()),
//!         n => Err(format!("counter = {n}, an increment was lost")),
//!     }
//! });
//! // Some orders lose the update, some do not; each seed always answers the same.
//! assert!(!found.failures.is_empty() && found.failures.len() < 50);
//! let again = sim::explore(0..50, || async { Ok(()) });
//! assert!(again.failures.is_empty());
//! ```
//!
//! ## What it covers, and what it does not
//!
//! | tool | what it makes deterministic | what it explores |
//! |---|---|---|
//! | this module | one loop's task order, its timers (virtual clock), a simulated network ([`net`]) | random orders and losses, seed by seed |
//! | [loom](https://docs.rs/loom) | threads and atomics (our `cfg(loom)` models) | every interleaving, exhaustively, of small models |
//! | turmoil, madsim | tokio programs: tasks, time, and a simulated network | seeds, as here |
//! | FoundationDB, TigerBeetle's VOPR | a whole distributed database | seeds, for days |
//!
//! Not covered: real threads (the blocking pool, `to_thread`, worker runtimes, whose
//! parallelism is the operating system's choice: loom's job), `sched` and `schedule`
//! background threads, and real sockets and child processes, whose timing is the
//! world's: the simulated network of [`net`] stands in for sockets, with the same
//! methods as [`crate::net`]'s, its latency, bandwidth, losses and partitions on the
//! virtual clock, and the seed drawing the losses. A simulation runs on one thread
//! only, so [`Builder::simulation`] cannot be combined with worker threads.
//!
//! asyncio has nothing of the kind; its closest tool is running a test many times
//! and hoping the scheduler varies, which on one thread it does not.
//!
//! [`Builder::simulation`]: crate::Builder::simulation

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::random::SplitMix64;

pub mod net;

/// What decides the order a simulation runtime runs its ready tasks in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seed {
    /// First ready, first run: the ordinary loop's order, no randomness.
    Fifo,
    /// A seeded random order: the same number gives the same run.
    Number(u64),
}

impl From<u64> for Seed {
    fn from(seed: u64) -> Seed {
        Seed::Number(seed)
    }
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seed::Fifo => f.write_str("FIFO"),
            Seed::Number(seed) => write!(f, "seed {seed}"),
        }
    }
}

/// The loop's chooser: which ready task runs next, and in which order timers due
/// together wake. Lives in the loop's thread-local part (`Local`), so a plain
/// `RefCell` serves.
#[derive(Debug)]
pub(crate) struct Chooser(RefCell<SplitMix64>);

impl Chooser {
    /// The chooser of `seed`; `None` for [`Seed::Fifo`], which chooses nothing.
    pub(crate) fn new(seed: Seed) -> Option<Chooser> {
        match seed {
            Seed::Fifo => None,
            Seed::Number(n) => Some(Chooser(RefCell::new(SplitMix64::new(n)))),
        }
    }

    /// An index into a ready queue of `len` (> 0) tasks.
    pub(crate) fn pick(&self, len: usize) -> usize {
        self.0.borrow_mut().below(len)
    }

    /// Shuffles `items` (Fisher–Yates): the order same-instant timers wake in.
    pub(crate) fn shuffle<T>(&self, items: &mut [T]) {
        let mut rng = self.0.borrow_mut();
        for last in (1..items.len()).rev() {
            let other = rng.below(last + 1);
            items.swap(last, other);
        }
    }
}

/// A seed whose run failed, and what it said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The seed: [`replay`] it, or build `Builder::new().simulation(seed)`.
    pub seed: u64,
    /// The body's `Err`, or its panic's message.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {}: {} (replay it with clearloop::sim::replay({}, ...) or \
             Builder::new().simulation({}))",
            self.seed, self.message, self.seed, self.seed
        )
    }
}

/// What [`explore`] found: how many seeds ran, and every one that failed, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exploration {
    /// Seeds run.
    pub runs: u64,
    /// The seeds whose run returned `Err` or panicked.
    pub failures: Vec<Failure>,
}

impl Exploration {
    /// The first seed that failed, if any.
    pub fn first(&self) -> Option<&Failure> {
        self.failures.first()
    }
}

impl fmt::Display for Exploration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {} seeds failed", self.failures.len(), self.runs)?;
        if let Some(first) = self.first() {
            write!(f, "; the first: {first}")?;
        }
        Ok(())
    }
}

/// Runs `body` once under each seed of `seeds`, each time on a fresh simulation
/// runtime, and lists the seeds whose run returned `Err` or panicked.
///
/// `body` makes the future to run (it is called once per seed, so each run starts
/// from scratch); the future may use `spawn_local` and `Rc`, as on any loop. A
/// panic is caught and counted as a failure (the panic hook still prints it).
pub fn explore<F, Fut>(seeds: Range<u64>, body: F) -> Exploration
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let mut found = Exploration::default();
    for seed in seeds {
        found.runs += 1;
        if let Err(message) = run_seed(Seed::Number(seed), None, &body) {
            found.failures.push(Failure { seed, message });
        }
    }
    found
}

/// Like [`explore`], but panics at the first failing seed, with the seed, how to
/// replay it and the trace timeline of its run: the form a test takes.
///
/// ```should_panic
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use clearloop::{sim, spawn_local, task::yield_now};
///
/// sim::check(0..100, || async {
///     let counter = Rc::new(Cell::new(0));
///     let add = |c: Rc<Cell<i32>>| async move {
///         let read = c.get();
///         yield_now().await;
///         c.set(read + 1);
///     };
///     let (a, b) = (spawn_local(add(counter.clone())), spawn_local(add(counter.clone())));
///     a.await;
///     b.await;
///     if counter.get() == 2 { Ok(()) } else { Err("an increment was lost".into()) }
/// });
/// ```
#[track_caller]
pub fn check<F, Fut>(seeds: Range<u64>, body: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    for seed in seeds {
        if let Err(message) = run_seed(Seed::Number(seed), None, &body) {
            let (_, timeline) = replay(seed, &body);
            panic!(
                "{}\nthe trace of seed {seed}'s run:\n{timeline}",
                Failure { seed, message }
            );
        }
    }
}

/// Runs `body` under `seed` once more, traced: its result, and the terminal
/// timeline of the run (the same text on every replay of one seed).
pub fn replay<F, Fut>(seed: u64, body: F) -> (Result<(), String>, String)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let timeline = RefCell::new(String::new());
    let result = run_seed(Seed::Number(seed), Some(&timeline), &body);
    (result, timeline.into_inner())
}

/// One run of `body` on a fresh simulation runtime; when `timeline` is given, the
/// run is traced and its drawing put there.
fn run_seed<F, Fut>(seed: Seed, timeline: Option<&RefCell<String>>, body: &F) -> Result<(), String>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let mut builder = crate::Builder::new().simulation(seed);
    if timeline.is_some() {
        // Kept in memory only: drawn below, not written anywhere at the end.
        builder = builder.trace(crate::trace::TraceConfig::default());
    }
    let runtime = builder.build();
    let result = catch_unwind(AssertUnwindSafe(|| runtime.block_on(body())))
        .unwrap_or_else(|payload| Err(format!("panicked: {}", crate::panics::message(&*payload))));
    if let (Some(timeline), Some(trace)) = (timeline, runtime.trace()) {
        let drawn =
            crate::trace::render_terminal(&trace.timeline(), crate::trace::Charset::from_env());
        *timeline.borrow_mut() = drawn;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_chooses_nothing_and_a_number_always_the_same_way() {
        assert!(Chooser::new(Seed::Fifo).is_none());
        let picks = |seed| {
            let chooser = Chooser::new(Seed::Number(seed)).unwrap();
            (0..20).map(|_| chooser.pick(5)).collect::<Vec<_>>()
        };
        assert_eq!(picks(3), picks(3));
        assert_ne!(picks(3), picks(4));
        assert!(picks(3).iter().all(|&i| i < 5));
    }

    #[test]
    fn a_shuffle_keeps_every_item_and_depends_on_the_seed() {
        let shuffled = |seed| {
            let mut items: Vec<u32> = (0..10).collect();
            Chooser::new(Seed::Number(seed))
                .unwrap()
                .shuffle(&mut items);
            items
        };
        let mut sorted = shuffled(1);
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        assert_eq!(shuffled(1), shuffled(1));
        assert_ne!(shuffled(1), shuffled(2));
    }
}
