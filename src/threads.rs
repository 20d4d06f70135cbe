//! Worker threads: the course's `class Worker(Thread)`, and what the GIL does that
//! Rust does not.
//!
//! A thread is a second flow of execution inside the same process: it shares the
//! process's memory and runs at the same time as the first one. The course declares
//! one by subclassing `threading.Thread`, writing `run()`, and calling `start()`;
//! here a type implements [`Worker`] (its `name()` and its `run()` body) and
//! [`Thread::new`] wraps it into the object you `start()`, ask `is_alive()` and
//! `join()`, exactly as in Python.
//!
//! | `threading` (CPython)                     | clearloop                                   |
//! |-------------------------------------------|---------------------------------------------|
//! | `class Worker(Thread): def run(self)`     | `impl Worker for MyWorker { fn run(&mut self) }` |
//! | `Thread.__init__(self, name=name)`        | [`Worker::name`]                            |
//! | `t.start()`                               | [`Thread::start`]                           |
//! | `t.start()` again: `RuntimeError`         | [`ThreadError::AlreadyStarted`]             |
//! | `t.join()`                                | [`Thread::join`]                            |
//! | an exception in `run()`: `excepthook`     | [`ThreadError::Panicked`], from `join()`    |
//! | `t.is_alive()`, `t.name`                  | [`Thread::is_alive`], [`Thread::name`]      |
//!
//! ```text
//!            Thread::new(worker)        start()             run() returns
//!   worker ----------------------> NEW ----------> ALIVE --------------------> FINISHED
//!                                   |   start()      |  run() panics               |
//!                                   |   again: Err   +------------> FINISHED       | join(): Ok(())
//!                                   |   AlreadyStarted              (panicked)     |
//!                                   +-- join(): Err(NotStarted)     join(): Err(Panicked)
//! ```
//!
//! Each `Thread` is a real OS thread built with [`std::thread::Builder`], which gives
//! it the worker's name: `top -H`, `ps -L` and a debugger show "T1" and "T2".
//!
//! ## The GIL, and why Rust has none
//!
//! CPython keeps one lock over the whole interpreter, the *Global Interpreter Lock*:
//! a thread must hold it to run bytecode, so two Python threads never compute at the
//! same instant, even on two cores. The reason is reference counting: every object
//! counts its references, and two threads updating a count at once would corrupt
//! it; one big lock is cheaper than a lock per object.
//!
//! Rust settles the same question at compile time instead. A value that two threads
//! may touch must be `Sync` (an `Arc` counts its references with atomic
//! instructions; an `Rc`, which does not, cannot cross threads at all: the compiler
//! refuses). With no data race possible, no global lock is needed, and two threads
//! doing CPU work on two cores finish in half the time: `cargo run --release
//! --example gil` measures it.
//!
//! ## An example
//!
//! ```
//! use clearloop::threads::{Thread, ThreadError, Worker};
//!
//! struct Counter { name: String, count: u32 }
//!
//! impl Worker for Counter {
//!     fn name(&self) -> String { self.name.clone() }
//!     fn run(&mut self) {
//!         for _ in 0..3 { self.count += 1; }
//!         assert_eq!(std::thread::current().name(), Some("T1")); // the OS thread's name
//!     }
//! }
//!
//! let t1 = Thread::new(Counter { name: "T1".into(), count: 0 });
//! t1.start().unwrap();
//! assert!(matches!(t1.start(), Err(ThreadError::AlreadyStarted { .. })));
//! t1.join().unwrap();
//! assert!(!t1.is_alive());
//! ```

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::thread::JoinHandle;

use crate::panics::lock;
use crate::panics::message as panic_message;

/// The body of a thread: the course's `Thread` subclass (its name and its `run()`).
///
/// Implement it on your own type, then wrap a value in [`Thread::new`] to start it.
pub trait Worker: Send + 'static {
    /// The thread's name (`Thread.__init__(self, name=name)`): the OS thread carries
    /// it. Names longer than 15 bytes are cut by Linux in `ps`, not in Rust.
    fn name(&self) -> String;

    /// What the thread does (`Thread.run`). It runs once, on the new thread; when it
    /// returns, the thread ends.
    fn run(&mut self);
}

/// A thread built from a [`Worker`]: start it once, then join it (Python's
/// `threading.Thread` object).
pub struct Thread {
    name: String,
    stage: Mutex<Stage>,
}

/// Where a `Thread` is in its life.
enum Stage {
    /// Built, not started: the worker waits here.
    New(Box<dyn Worker>),
    /// Started: the OS thread runs (or ran) the worker.
    Started(JoinHandle<Result<(), String>>),
    /// Joined: the outcome is kept, so a second `join()` answers the same.
    Joined(Result<(), String>),
}

/// What can go wrong with a [`Thread`]: the misuses Python reports with a
/// `RuntimeError`, and a panic in `run()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreadError {
    /// `start()` was called a second time.
    AlreadyStarted {
        /// The thread's name.
        thread: String,
    },
    /// `join()` was called before `start()`.
    NotStarted {
        /// The thread's name.
        thread: String,
    },
    /// `run()` panicked; `join()` reports it instead of losing it.
    Panicked {
        /// The thread's name.
        thread: String,
        /// The panic message.
        message: String,
    },
    /// The operating system refused to create the thread.
    Spawn {
        /// The thread's name.
        thread: String,
        /// The OS error.
        message: String,
    },
}

impl fmt::Display for ThreadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThreadError::AlreadyStarted { thread } => write!(
                f,
                "thread '{thread}': threads can only be started once; \
                 build a new Thread to run the worker again"
            ),
            ThreadError::NotStarted { thread } => write!(
                f,
                "thread '{thread}': cannot join thread before it is started; call start() first"
            ),
            ThreadError::Panicked { thread, message } => {
                write!(f, "thread '{thread}' panicked in run(): {message}")
            }
            ThreadError::Spawn { thread, message } => {
                write!(f, "thread '{thread}' could not be started: {message}")
            }
        }
    }
}

impl std::error::Error for ThreadError {}

impl Thread {
    /// Wraps `worker` into a thread that is not started yet (`Worker("T1")`).
    pub fn new(worker: impl Worker) -> Thread {
        Thread {
            name: worker.name(),
            stage: Mutex::new(Stage::New(Box::new(worker))),
        }
    }

    /// The thread's name (`Thread.name`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Starts the OS thread, which calls the worker's `run()` (`Thread.start`).
    ///
    /// # Errors
    ///
    /// [`ThreadError::AlreadyStarted`] the second time, as Python raises
    /// `RuntimeError("threads can only be started once")`;
    /// [`ThreadError::Spawn`] if the OS cannot create a thread.
    pub fn start(&self) -> Result<(), ThreadError> {
        let mut stage = lock(&self.stage);
        let Stage::New(_) = &*stage else {
            return Err(ThreadError::AlreadyStarted {
                thread: self.name.clone(),
            });
        };
        // Take the worker out; a failed spawn puts nothing back (the worker was moved
        // into the closure), so it reports the error and counts as started.
        let Stage::New(mut worker) = std::mem::replace(&mut *stage, Stage::Joined(Ok(()))) else {
            unreachable!("checked just above");
        };
        let spawned = std::thread::Builder::new()
            .name(self.name.clone())
            .spawn(move || {
                // Catch the panic here, so that `join()` gets the message as text
                // (the default hook has already printed it, like Python's excepthook).
                catch_unwind(AssertUnwindSafe(|| worker.run()))
                    .map_err(|payload| panic_message(payload.as_ref()))
            });
        match spawned {
            Ok(handle) => {
                *stage = Stage::Started(handle);
                Ok(())
            }
            Err(error) => {
                let error = ThreadError::Spawn {
                    thread: self.name.clone(),
                    message: error.to_string(),
                };
                *stage = Stage::Joined(Err(error.to_string()));
                Err(error)
            }
        }
    }

    /// Whether the thread was started and its `run()` has not returned yet
    /// (`Thread.is_alive`).
    pub fn is_alive(&self) -> bool {
        match &*lock(&self.stage) {
            Stage::Started(handle) => !handle.is_finished(),
            Stage::New(_) | Stage::Joined(_) => false,
        }
    }

    /// Waits for the thread to finish (`Thread.join`). Joining again answers the same.
    ///
    /// # Errors
    ///
    /// [`ThreadError::Panicked`] with the panic message if `run()` panicked
    /// (Python prints the traceback and `join()` returns; here the caller decides);
    /// [`ThreadError::NotStarted`] before `start()`.
    pub fn join(&self) -> Result<(), ThreadError> {
        let mut stage = lock(&self.stage);
        let outcome = match std::mem::replace(&mut *stage, Stage::Joined(Ok(()))) {
            Stage::New(worker) => {
                *stage = Stage::New(worker);
                return Err(ThreadError::NotStarted {
                    thread: self.name.clone(),
                });
            }
            // Holding the lock while we wait is fine: the thread itself never takes it.
            Stage::Started(handle) => handle
                .join()
                .unwrap_or_else(|payload| Err(panic_message(payload.as_ref()))),
            Stage::Joined(outcome) => outcome,
        };
        *stage = Stage::Joined(outcome.clone());
        outcome.map_err(|message| ThreadError::Panicked {
            thread: self.name.clone(),
            message,
        })
    }
}

impl fmt::Debug for Thread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match &*lock(&self.stage) {
            Stage::New(_) => "initial",
            Stage::Started(handle) if !handle.is_finished() => "started",
            Stage::Started(_) | Stage::Joined(_) => "stopped",
        };
        // Python's repr: <Worker(T1, started 1402...)>
        write!(f, "<Thread({}, {stage})>", self.name)
    }
}
