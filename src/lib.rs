//! # clearloop: an async runtime written to be read
//!
//! clearloop builds, from scratch and in plain Rust, what Python's `asyncio` does
//! inside: an event loop that polls tasks, wakers that bring them back, a timer wheel
//! that knows when to wake the loop, task handles that hold a result or an exception,
//! and a clock that tests can stop. The tables below translate asyncio, `threading`,
//! `sched` and `schedule` into clearloop; `cargo run --release --example tour` runs
//! every example of the course.
//!
//! ## Reading order
//!
//! Each module teaches one idea and opens with its Python equivalent and a drawing.
//! The same order as the README's:
//!
//! 1. [`clock`]: real and virtual time, and how a thread waits.
//! 2. [`wheel`]: the hierarchical timer wheel, a pure data structure.
//! 3. [`task`]: the task handle; then its private modules `task::state` (the
//!    four-bit state machine) and `task::cell` (the task's one allocation), and
//!    [`task::coop`], the cooperative budget.
//! 4. [`time`]: `sleep`, `sleep_until`, `now`.
//! 5. [`runtime`]: the event loop, which ties the four together (then its private
//!    files: `runtime/scheduler.rs`, where woken tasks go, and `runtime/timers.rs`).
//! 6. Tasks together: [`children`], [`gather`](mod@gather), [`group`],
//!    [`timeout`](mod@timeout), [`future`] (asyncio's `Future`), [`interval`],
//!    [`debug`], [`panics`] (what happens when a task panics) and [`trace`] (a
//!    timeline of the loop's work).
//! 7. [`sync`]: locks, semaphores, events, conditions, queues (and the private
//!    `sync::waiters`, the FIFO queue they share).
//! 8. [`sched`], CPython's event scheduler on plain threads, then [`schedule`], the
//!    course's last slide: jobs "every Monday at 13:15", with time zones and a
//!    background thread (the private `schedule::timing`: when a job runs next).
//! 9. Threads: [`threads`] (the `Worker(Thread)` pattern, and why Rust has no GIL),
//!    [`blocking`] (`to_thread`) and [`workers`] (the multi-threaded runtime, with
//!    the private `workers::idle`, its parking protocol). The course opens with
//!    threads, but `blocking` and `workers` build on the runtime: read them last.
//! 10. Waiting on the world: [`reactor`] (the selector: asyncio's
//!     `selectors.DefaultSelector`), [`net`] (TCP, UDP and Unix sockets) and
//!     [`process`] (child processes), and [`signal`] (Ctrl-C).
//! 11. [`sim`]: deterministic simulation, a seed that picks which ready task runs
//!     next, to find a race by trying seeds and replay the one that fails.
//!
//! The private modules named above are course material too. This page does not show
//! them; `cargo doc --open --document-private-items` does, with everything else.
//!
//! ## asyncio → clearloop
//!
//! | asyncio                                   | clearloop                                              |
//! |-------------------------------------------|--------------------------------------------------------|
//! | `async def f(): ...`                      | `async fn f() { ... }`                                 |
//! | `asyncio.run(main())`                     | [`run`]`(main())`                                      |
//! | `asyncio.new_event_loop()`                | [`Runtime::new`], [`Builder`]                          |
//! | `loop.run_until_complete(f)`              | [`Runtime::block_on`]                                  |
//! | `asyncio.create_task(coro)`               | [`spawn`]`(future)` → [`Task`]                         |
//! | `await task`                              | `task.await` (re-raises a panic)                       |
//! | `task.done()`, `result()`, `exception()`  | [`Task::done`], [`Task::result`], [`Task::exception`]  |
//! | `task.cancel()`, `task.cancelled()`       | [`Task::cancel`], [`Task::cancelled`]                  |
//! | `task.get_name()`, `set_name()`           | [`Task::name`], [`Task::set_name`]                     |
//! | `task.cancel(msg)`                        | [`Task::cancel_with`]`(msg)`; [`TaskError::cancel_message`] |
//! | `asyncio.shield(task)`                    | [`task::shield`]`(task).await` (the task survives a cancelled awaiter) |
//! | `task.add_done_callback(fn)`              | [`Task::add_done_callback`]`(\|t\| ..)` → id; [`Task::remove_done_callback`]`(id)` |
//! | tasks sharing a plain variable            | [`spawn_local`] with `Rc<RefCell<_>>` (single-threaded loop) |
//! | (none: rerun and hope the order changes)  | [`sim::explore`]`(0..200, \|\| body())`: a seeded order per run; [`sim::replay`]`(seed, ..)` |
//! | `asyncio.get_running_loop()` (for a thread) | [`Handle::current`]`()`; [`Handle::try_current`] → `Option` |
//! | `InvalidStateError`, `CancelledError`     | [`TaskError`]                                          |
//! | `await asyncio.sleep(s)`                  | [`time::sleep`]`(duration).await`                      |
//! | `await asyncio.sleep(0)`                  | [`task::yield_now`]`().await`                          |
//! | `loop.time()`                             | [`time::now`]                                          |
//! | `loop.call_later` / `TimerHandle`         | a [`time::Sleep`] in the [`wheel::TimerWheel`]         |
//! | `BaseEventLoop._run_once`                 | one turn of [`Runtime::block_on`]'s loop               |
//! | `Task.__step`                             | one poll of a task by the loop                         |
//! | `loop.call_soon_threadsafe`               | `waker.wake()` from another thread                     |
//! | `run_coroutine_threadsafe(coro, loop)`    | [`Runtime::handle`] or [`Handle::current`], then [`Handle::spawn`] from any thread; `clearloop::run(task)` there for `.result()` |
//! | a fake `loop.time` in tests               | [`clock::Clock::virtual_clock`]                        |
//! | `await gather(a(), b())`                  | [`gather(futures)`](fn@gather)`.await`, [`gather!`]`(a(), b())` |
//! | `await gather(task1, task2)`              | [`gather_tasks(tasks)`](fn@gather_tasks)`.await`       |
//! | `gather(..., return_exceptions=True)`     | [`gather::Gather::return_exceptions`]                  |
//! | `asyncio.wait(tasks, return_when=...)`    | [`wait`]`(tasks, `[`ReturnWhen`]`::...)`               |
//! | `asyncio.wait(tasks, timeout=t)`          | [`wait`]`(tasks, ..)`[`.timeout(d)`](gather::WaitTasks::timeout) |
//! | `asyncio.as_completed(tasks)`             | [`as_completed`]                                       |
//! | `asyncio.wait_for(f, t)`, `timeout(t)`    | [`wait_for(f, d)`](fn@wait_for), [`timeout(d, f)`](fn@timeout) |
//! | `TimeoutError`                            | [`TimeoutError`]                                       |
//! | `async with TaskGroup() as tg:`           | [`task_group`]`(\|tg\| async move { .. }).await`; or [`TaskGroup`] + [`TaskGroup::wait`] |
//! | `ExceptionGroup`                          | [`ExceptionGroup`]                                     |
//! | `PYTHONASYNCIODEBUG=1`, `loop.set_debug`  | `CLEARLOOP_DEBUG=1`, [`Builder::debug`]                |
//! | `asyncio.all_tasks()`                     | [`trace::all_tasks`] (what each waits on: with tracing on) |
//! | `asyncio.current_task()`                  | [`trace::current_task`] (a `TaskId`; with tracing on)  |
//! | (tokio-console's task list)               | [`Runtime::dump`] → [`trace::Snapshot`]                |
//! | (none: a timeline of the loop's work)     | `CLEARLOOP_TRACE=1` or `svg:P,json:P,chrome:P`, [`Builder::trace`] |
//! | `selectors.DefaultSelector`, `select(timeout)` | [`reactor::Reactor`], [`reactor::Reactor::wait`]  |
//! | `await open_connection(host, port)`       | [`net::TcpStream::connect`]`(addr).await`              |
//! | `await start_server(cb, host, port)`      | [`net::TcpListener::bind`], `accept().await`, `spawn`  |
//! | `create_datagram_endpoint`                | [`net::UdpSocket`]                                     |
//! | `open_unix_connection`, `start_unix_server` | [`net::UnixStream`], [`net::UnixListener`]           |
//! | `create_subprocess_exec`, `proc.wait()`   | [`process::Command`], [`process::Child::wait`]         |
//! | `proc.communicate()`                      | [`process::Command::output`]                           |
//! | `loop.add_signal_handler(SIGINT, cb)`     | [`signal::ctrl_c`]`().await`                           |
//! | a task's exception, kept quietly on it    | [`panics::install_hook`]: one line, not Rust's panic report |
//! | `asyncio.Lock`, `async with lock:`        | [`sync::Mutex`], `let guard = mutex.lock().await;`     |
//! | `asyncio.Semaphore`, `BoundedSemaphore`   | [`sync::Semaphore`], [`sync::BoundedSemaphore`]        |
//! | a permit held by a task (`async with sem:` in it) | `Arc<Semaphore>` + [`acquire_owned`](sync::Semaphore::acquire_owned) → [`sync::OwnedSemaphorePermit`], moved into `spawn` |
//! | `asyncio.Event`, `asyncio.Condition`      | [`sync::Event`], [`sync::Condition`]                   |
//! | `asyncio.Queue`, `LifoQueue`, `PriorityQueue` | [`sync::Queue`] ([`lifo`](sync::Queue::lifo), [`priority`](sync::Queue::priority)) |
//! | `q.shutdown(immediate)`, `QueueShutDown` (3.13) | [`sync::Queue::shutdown`], [`shutdown_immediate`](sync::Queue::shutdown_immediate); [`checked_get`](sync::Queue::checked_get) → `Err(`[`sync::QueueShutDown`]`)` |
//! | `asyncio.Barrier(n)`, `await barrier.wait()` | [`sync::Barrier`], `barrier.wait().await` → arrival index |
//! | `loop.create_future()`, `fut.set_result(v)` | [`future::Promise::new`], [`set_result`](future::Promise::set_result) |
//! | `await fut`, `fut.set_exception(e)`, `fut.cancel()` | `promise.wait().await` → `Result`, [`set_exception`](future::Promise::set_exception), [`cancel`](future::Promise::cancel) |
//! | `while True: ...; await asyncio.sleep(p)` | [`interval::interval`]`(p)`, `ticks.tick().await`, [`interval::MissedTickPolicy`] |
//! | (none: an uncontended `Lock` never yields) | [`task::coop`]: a task yields after 128 ready awaits; [`Builder::cooperative_budget`] |
//!
//! ## threading → clearloop
//!
//! | `threading`, `concurrent.futures`         | clearloop                                              |
//! |-------------------------------------------|--------------------------------------------------------|
//! | `class Worker(Thread): def run(self)`     | `impl` [`threads::Worker`], [`threads::Thread::new`]   |
//! | `t.start()`, `t.join()`, `t.is_alive()`   | [`threads::Thread::start`], `join`, `is_alive`         |
//! | `await asyncio.to_thread(f)`              | [`to_thread`]`(f).await` → `Result<T, TaskError>`      |
//! | `loop.run_in_executor(None, f)`           | [`spawn_blocking`]`(f)`                                |
//! | `ThreadPoolExecutor(max_workers=n)`       | [`blocking::BlockingPool::new`]                        |
//! | (no asyncio equivalent: the GIL)          | [`Builder::worker_threads`]: tasks on n threads        |
//!
//! ## sched → clearloop
//!
//! | `sched` (CPython)                         | clearloop                                              |
//! |-------------------------------------------|--------------------------------------------------------|
//! | `sched.scheduler(timefunc, delayfunc)`    | [`sched::Scheduler::with_clock`]                       |
//! | `s.enter(delay, prio, action, argument)`  | [`sched::Scheduler::enter`], `enter_named`             |
//! | `s.enterabs(time, prio, action)`          | [`sched::Scheduler::enterabs`]                         |
//! | `s.cancel(event)`, `s.empty()`, `s.queue` | [`sched::Scheduler::cancel`], `empty`, `queue`         |
//! | `s.run(blocking)`                         | [`sched::Scheduler::run`]                              |
//! | a thread running `s.run()`                | [`sched::Scheduler::spawn_runner`]                     |
//! | a thread dying of an action's exception  | [`sched::Scheduler::on_action_panic`]: the runner reports it and goes on |
//!
//! ## schedule → clearloop
//!
//! | `schedule` (the library)                  | clearloop                                              |
//! |-------------------------------------------|--------------------------------------------------------|
//! | `schedule.every(10).minutes.do(job)`      | [`schedule::every`]`(10).minutes().do_(job)?` (`do` is a keyword) |
//! | `.day.at("10:30", "Europe/Paris")`        | `.day().at("10:30").in_zone("Europe/Paris")`           |
//! | `.monday`, `.to(m)`, `.until(t)`, `.tag(t)` | [`schedule::Every`]'s methods of the same names      |
//! | `return schedule.CancelJob`               | return [`schedule::CancelJob`]                         |
//! | `run_pending()`, `run_all()`, `idle_seconds()`, `next_run()` | [`schedule::run_pending`], [`schedule::run_all`], ... |
//! | `get_jobs(tag)`, `clear(tag)`, `cancel_job(job)` | [`schedule::get_jobs_tagged`], [`schedule::clear_tagged`], [`schedule::cancel_job`] |
//! | `schedule.Scheduler()`                    | [`schedule::Scheduler::new`], [`with_clock`](schedule::Scheduler::with_clock) |
//! | a thread looping on `run_pending()`       | [`schedule::Scheduler::run_in_background`]             |
//! | `while now() < end: run_pending(); sleep(1)` | [`schedule::Scheduler::run_until`]`(end)`          |
//! | `IntervalError`, `ScheduleValueError`     | [`schedule::ScheduleError`]                            |
//!
//! ## One example
//!
//! ```
//! use std::time::Duration;
//! use clearloop::{Builder, clock::Clock, spawn, time::{now, sleep}};
//!
//! async fn print_message_long() {
//!     sleep(Duration::from_secs(2)).await;
//!     println!("Bienvenue en Python");
//! }
//!
//! // On the virtual clock, two seconds pass in no time and measure exactly 2 s.
//! let runtime = Builder::new().clock(Clock::virtual_clock()).build();
//! let took = runtime.block_on(async {
//!     let start = now();
//!     let t1 = spawn(print_message_long());
//!     let t2 = spawn(print_message_long());
//!     t1.await;
//!     t2.await;
//!     now() - start
//! });
//! assert_eq!(took, Duration::from_secs(2)); // two tasks at once: 2 s, not 4
//! ```
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod blocking;
pub mod children;
pub mod clock;
pub mod debug;
pub mod future;
pub mod gather;
pub mod group;
mod id_hash;
pub mod interval;
pub mod net;
pub mod panics;
pub mod process;
mod random;
pub mod reactor;
pub mod runtime;
pub mod sched;
#[cfg(feature = "schedule")]
pub mod schedule;
pub mod signal;
pub mod sim;
pub mod sync;
pub mod task;
pub mod threads;
pub mod time;
pub mod timeout;
pub mod trace;
pub mod wheel;
pub mod workers;

/// [jiff](https://docs.rs/jiff), the date-time library that [`schedule`] and the
/// clock's time zones take and return ([`clock::Clock::virtual_in`],
/// [`schedule::Job::next_run`], [`schedule::Until`]), re-exported: a program can name
/// its types without adding jiff to its own `Cargo.toml`, and always in the version
/// clearloop was built with (two versions of jiff would be two different
/// `ZonedDateTime` types).
///
/// ```
/// use clearloop::clock::Clock;
/// use clearloop::jiff::civil::date;
///
/// let start = date(2026, 11, 23).at(9, 0, 0, 0).in_tz("Europe/Paris").unwrap();
/// let clock = Clock::virtual_in(&start);
/// assert_eq!(clock.zoned_now(), start);
/// ```
#[cfg(feature = "schedule")]
pub use jiff;

pub use blocking::{spawn_blocking, to_thread};
pub use gather::{ReturnWhen, as_completed, gather, gather_tasks, wait};
pub use group::{ExceptionGroup, GroupClosed, GroupHandle, GroupTask, TaskGroup, task_group};
pub use runtime::spawn_local;
pub use runtime::{Builder, Handle, Runtime, run, spawn};
pub use task::{Task, TaskError};
pub use timeout::{TimeoutError, timeout, wait_for};
