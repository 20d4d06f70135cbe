//! [`Builder`]: how a runtime is made (which clock, one loop or n workers, debug
//! mode), asyncio's `new_event_loop()` plus `loop.set_debug()`.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::Runtime;
use super::scheduler::{Local, OwnIo, ReadyQueues, Remote, RuntimeCore};
use crate::clock::Clock;
use crate::debug::{DEFAULT_SLOW_POLL, Debug, Warning, WarningHook};
use crate::task::coop;
use crate::workers;

/// Builds a [`Runtime`]: which clock it runs on.
///
/// ```
/// use clearloop::{Builder, clock::Clock};
/// let runtime = Builder::new().clock(Clock::virtual_clock()).build();
/// let waited = runtime.block_on(async {
///     let start = clearloop::time::now();
///     clearloop::time::sleep(std::time::Duration::from_secs(2)).await;
///     clearloop::time::now() - start
/// });
/// assert_eq!(waited, std::time::Duration::from_secs(2)); // exact, and instant
/// ```
pub struct Builder {
    clock: Clock,
    /// `None`: the single-threaded loop; `Some(n)`: n worker threads.
    worker_threads: Option<usize>,
    debug: bool,
    slow_poll: Duration,
    hook: Option<WarningHook>,
    /// Ready polls a task may make before it yields; `None`: no budget.
    budget: Option<u32>,
    /// Tracing ([`crate::trace`]): `None` off; read from `CLEARLOOP_TRACE` by `build`.
    trace: Option<crate::trace::TraceConfig>,
    /// A simulation's seed ([`crate::sim`]); `None`: an ordinary runtime.
    seed: Option<crate::sim::Seed>,
}

impl Builder {
    /// A builder for a single-threaded runtime on the real clock. Debug mode is on
    /// when the environment variable `CLEARLOOP_DEBUG` is `1`.
    pub fn new() -> Builder {
        Builder {
            clock: Clock::real(),
            debug: crate::debug::enabled_by_env(),
            slow_poll: DEFAULT_SLOW_POLL,
            hook: None,
            worker_threads: None,
            budget: Some(coop::DEFAULT_BUDGET),
            trace: None,
            seed: None,
        }
    }

    /// Records a trace of the run ([`crate::trace`]): what each task did and when, on
    /// the runtime's clock. `config` lists where it goes when the runtime is dropped
    /// (the terminal timeline, JSON lines, Chrome's format, an SVG); an empty
    /// `TraceConfig::default()` only keeps it for [`Runtime::trace`] and
    /// [`Runtime::dump`]. Without this call, `CLEARLOOP_TRACE` decides (see
    /// [`TraceConfig::from_env`](crate::trace::TraceConfig::from_env)).
    pub fn trace(mut self, config: crate::trace::TraceConfig) -> Builder {
        self.trace = Some(config);
        self
    }

    /// Switches debug mode on or off (asyncio's `loop.set_debug`): slow polls and
    /// panics nobody retrieved are reported; see [`crate::debug`].
    pub fn debug(mut self, on: bool) -> Builder {
        self.debug = on;
        self
    }

    /// In debug mode, how long one poll may hold the loop before it is reported
    /// (asyncio's `slow_callback_duration`, 100 ms by default).
    pub fn slow_poll_threshold(mut self, threshold: Duration) -> Builder {
        self.slow_poll = threshold;
        self
    }

    /// Where debug-mode warnings go (standard error by default). Setting a hook
    /// does not switch debug mode on: call [`debug`](Builder::debug) too. A hook
    /// that panics is reported on standard error, and the runtime goes on.
    pub fn on_warning(mut self, hook: impl Fn(&Warning) + Send + Sync + 'static) -> Builder {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// How many ready resources (an uncontended lock, a due sleep, a finished task)
    /// a task may await in one poll before it yields to the loop once: the
    /// cooperative budget, 128 by default (tokio's). `None` switches it off, and a
    /// task that never waits then holds the loop as long as it likes, as in asyncio.
    /// See [`task::coop`](crate::task::coop) for why, and what it costs.
    ///
    /// # Panics
    ///
    /// On `Some(0)`: a task could then never get past its first resource.
    #[track_caller]
    pub fn cooperative_budget(mut self, polls: Option<u32>) -> Builder {
        assert!(
            polls != Some(0),
            "Builder::cooperative_budget(Some(0)): a task needs at least one poll per \
             turn; pass None to switch the budget off"
        );
        self.budget = polls;
        self
    }

    /// A simulation runtime ([`crate::sim`]): on the virtual clock, one thread, and
    /// `seed` chooses which ready task runs next (and the order of timers due at the
    /// same instant). One seed gives one run, event for event; [`Seed::Fifo`]
    /// (`crate::sim::Seed::Fifo`) gives the ordinary loop's order.
    ///
    /// ```
    /// use clearloop::Builder;
    /// let runtime = Builder::new().simulation(17).build();
    /// assert_eq!(runtime.block_on(async { 6 * 7 }), 42);
    /// ```
    ///
    /// A later [`clock`](Builder::clock) call replaces the virtual clock (the seed
    /// still chooses); [`worker_threads`](Builder::worker_threads) cannot be combined
    /// with it, and `build` says so.
    ///
    /// [`Seed::Fifo`]: crate::sim::Seed::Fifo
    pub fn simulation(mut self, seed: impl Into<crate::sim::Seed>) -> Builder {
        self.seed = Some(seed.into());
        self.clock = Clock::virtual_clock();
        self
    }

    /// The clock the runtime's timers use ([`Clock::virtual_clock`] for tests).
    pub fn clock(mut self, clock: Clock) -> Builder {
        self.clock = clock;
        self
    }

    /// Runs the tasks on `n` worker threads that steal work from each other, instead
    /// of the single-threaded loop (the default, asyncio's model). See
    /// [`workers`] for how they share the tasks.
    ///
    /// `block_on` then polls only its own future on the calling thread, and parks
    /// between polls; the workers run every spawned task, from the moment it is
    /// spawned.
    ///
    /// # Panics
    ///
    /// If `n` is 0: a runtime with no thread could never run a task.
    #[track_caller]
    pub fn worker_threads(mut self, n: usize) -> Builder {
        assert!(
            n > 0,
            "Builder::worker_threads(0): a runtime needs at least one worker thread"
        );
        self.worker_threads = Some(n);
        self
    }

    /// Builds the runtime. Its loop runs on the thread that calls `build` and later
    /// `block_on`: a `Runtime` stays on its thread (it is not `Send`), as an asyncio
    /// loop belongs to one thread. With [`worker_threads`](Builder::worker_threads),
    /// the worker threads start here.
    ///
    /// # Panics
    ///
    /// With both [`simulation`](Builder::simulation) and
    /// [`worker_threads`](Builder::worker_threads): a simulation chooses the order of
    /// one loop's tasks, and workers run in the order the operating system does.
    #[track_caller]
    pub fn build(self) -> Runtime {
        if let (Some(seed), Some(n)) = (self.seed, self.worker_threads) {
            panic!(
                "Builder::simulation ({seed}) with worker_threads({n}): a simulation runs \
                 one loop on one thread, whose order the seed decides; drop one of the two \
                 calls"
            );
        }
        let debug = self.debug.then(|| Debug {
            slow_poll: self.slow_poll,
            hook: self
                .hook
                .unwrap_or_else(|| Arc::new(crate::debug::print_warning)),
        });
        let budget = self.budget.unwrap_or(coop::UNLIMITED);
        let trace = crate::trace::live::recorder(self.trace, &self.clock);
        // The runtime's own reactor, made at its first wait on I/O.
        let io = OwnIo::default();
        let core = match self.worker_threads {
            None => {
                let ready = ReadyQueues::Loop(Remote::new(thread::current(), io.clone()));
                Arc::new(RuntimeCore::new(
                    ready, self.clock, debug, budget, trace, io,
                ))
            }
            Some(n) => {
                let (shared, locals) = workers::Shared::new(
                    n,
                    self.clock.is_auto_advance(),
                    #[cfg(any(unix, windows))]
                    io.clone(),
                );
                let shared = Arc::new(shared);
                let ready = ReadyQueues::Workers(shared.clone());
                let core = Arc::new(RuntimeCore::new(
                    ready, self.clock, debug, budget, trace, io,
                ));
                workers::start(&core, &shared, locals);
                core
            }
        };
        Runtime {
            core,
            local: match self.seed {
                Some(seed) => Local::simulated(seed),
                None => Local::new(),
            },
        }
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("clock", &self.clock)
            .field("debug", &self.debug)
            .field("slow_poll", &self.slow_poll)
            .field("worker_threads", &self.worker_threads)
            .field("cooperative_budget", &self.budget)
            .field("simulation", &self.seed)
            .finish()
    }
}
