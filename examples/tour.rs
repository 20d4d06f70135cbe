//! The tour: every example of the course, in the course's order, each under the
//! title of the slide it reproduces, with its output and how long it took.
//!
//! Run: `cargo run --release --example tour`. The threads and asyncio examples run
//! on the real clock, so their durations are measured as the course measures them:
//! about 50 seconds in all, the waits of the examples plus about 3 s of computing
//! for the GIL stop (its figure depends on the machine and on what else runs). The
//! tour says so when it starts, numbers its stops `k/N`, and prints before each
//! stop how long it lasts.
//!
//! `-- --virtual` runs every stop on the virtual clock: waits are instant and
//! durations exact. Six stops use real threads, real work, real sockets or real
//! processes, which a virtual clock cannot make instant or exact; the tour names
//! them at the start, and each says why when it runs: `threads` (two real threads
//! sleeping, always on the real clock: 5 s), `gil` (about 3 s of computing on any
//! clock), `blocking_mistake` (it blocks the loop for a real second, always on the
//! real clock), `echo_server` and `fetch_many` (exact times, but each jump of
//! virtual time waits for the network to be quiet) and `subprocess` (real
//! processes, real time). `to_thread` is exact on the virtual clock too: time does
//! not jump while a pool job that a task awaits is in flight (see
//! `clearloop::clock`).
//!
//! The stops that compare tasks (`await_sequential`, `create_task`, `gather`,
//! `blocking_mistake`, `semaphore`) end with their timeline, drawn from the loop's
//! trace; `-- --svg DIR` also writes each one as `DIR/NAME.svg`.
//!
//! The examples that panic on purpose use [`clearloop::panics::install_hook`], and
//! so does the tour: each caught panic prints one line naming the task or job that
//! failed, never Rust's raw `thread '...' panicked at` report. Before each stop
//! that prints such a line, or a warning (`blocking_mistake`'s), the tour says in
//! one line, `on purpose: ...`, that the lines to come are the lesson, not a
//! failure.
//!
//! `sched_enter_run` is a measurement, not a slide of the course: what one `sched`
//! event costs, a few milliseconds of real computing, always on the real clock.

use std::time::{Duration, Instant};

use clearloop::clock::{Clock, format_timedelta};

#[path = "threads.rs"]
mod threads;

#[path = "to_thread.rs"]
mod to_thread;

#[path = "gil.rs"]
pub mod gil;

#[path = "say_after.rs"]
mod say_after;

#[path = "await_sequential.rs"]
mod await_sequential;

#[path = "create_task.rs"]
mod create_task;

#[path = "gather.rs"]
mod gather;

#[path = "task_result.rs"]
mod task_result;

#[path = "exceptions.rs"]
mod exceptions;

#[path = "cancel_propagation.rs"]
mod cancel_propagation;
#[path = "echo_server.rs"]
mod echo_server;
#[path = "fetch_many.rs"]
mod fetch_many;
#[path = "shared_state.rs"]
mod shared_state;
#[path = "subprocess.rs"]
mod subprocess;
#[path = "task_group_scope.rs"]
mod task_group_scope;
#[path = "timeout.rs"]
mod timeout;

#[path = "blocking_mistake.rs"]
mod blocking_mistake;

#[path = "starvation.rs"]
mod starvation;

#[path = "lock.rs"]
mod lock;

#[path = "race.rs"]
mod race;

#[path = "semaphore.rs"]
mod semaphore;

#[path = "queue.rs"]
mod queue;

#[path = "sched_addition.rs"]
mod sched_addition;

#[path = "sched_priorities.rs"]
mod sched_priorities;

#[path = "sched_enter_run.rs"]
mod sched_enter_run;

#[path = "schedule_week.rs"]
mod schedule_week;

#[path = "schedule_background.rs"]
mod schedule_background;

/// How a stop runs, and what `--virtual` does to it.
pub enum Time {
    /// Its waits are on the loop's clock: the real clock, or with `--virtual` the
    /// virtual one, where it runs instantly and measures exactly `lasts`.
    Loop {
        /// How long it lasts on the real clock (and exactly, on the virtual one).
        lasts: Duration,
    },
    /// Real threads or real work: `--virtual` cannot make it both instant and exact.
    RealWork {
        /// About how long it lasts on the real clock.
        lasts: Duration,
        /// Why `--virtual` does not help, printed under the stop's title.
        why: &'static str,
    },
    /// Always on the real clock, even with `--virtual`: the lesson is real time lost.
    AlwaysReal {
        /// About how long it lasts.
        lasts: Duration,
        /// Why, printed under the stop's title with `--virtual`.
        why: &'static str,
    },
    /// Always on a virtual clock, so the tour stays short: a simulated week, or
    /// `sched`'s seconds (`cargo run --example NAME` runs it alone on the real clock).
    Simulated {
        /// What time it simulates, printed under the stop's title.
        what: &'static str,
    },
    /// A measurement of real computing, a few milliseconds long: always on the real
    /// clock (the figure is a real cost), and too short to count in the tour's time.
    Measure {
        /// What it measures, printed under the stop's title.
        what: &'static str,
    },
}

/// One stop of the tour: an example, under the title of its slide.
pub struct Stop {
    /// The title of the course's slide.
    pub slide: &'static str,
    /// The example's file name: `cargo run --example NAME` runs it alone.
    pub name: &'static str,
    /// Its clock, and how long it lasts.
    pub time: Time,
    /// The example itself.
    pub run: fn(Clock),
    /// What the stop prints on purpose that reads like a crash (a caught panic's
    /// line, a warning): said in one line before it runs, so that a newcomer knows
    /// the lines to come are the lesson, not a failure.
    pub on_purpose: Option<&'static str>,
}

impl Stop {
    /// About how long the stop lasts on the real clock (`Simulated`, `Measure`: no
    /// time worth counting).
    pub fn lasts(&self) -> Duration {
        match self.time {
            Time::Loop { lasts }
            | Time::RealWork { lasts, .. }
            | Time::AlwaysReal { lasts, .. } => lasts,
            Time::Simulated { .. } | Time::Measure { .. } => Duration::ZERO,
        }
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// The stops, in the course's order.
pub fn stops() -> Vec<Stop> {
    vec![
        Stop {
            slide: "Déclaration et lancement d'un thread (Worker(Thread), start)",
            name: "threads",
            time: Time::AlwaysReal {
                lasts: secs(5.0),
                why: "not instant: two real threads each sleep for real; on a virtual \
                      clock each thread's sleep would move the shared time by itself \
                      (T1 and T2 would no longer share their seconds), so it always \
                      runs on the real clock",
            },
            run: threads::example,
            on_purpose: None,
        },
        Stop {
            slide: "Le GIL (le même calcul sur 1 et 2 threads, puis en tâches)",
            name: "gil",
            time: Time::RealWork {
                lasts: secs(3.0),
                why: "not instant: the work is real computing, about 3 s on any clock \
                      (more on a busy machine)",
            },
            run: gil::example,
            on_purpose: None,
        },
        Stop {
            slide: "Déléguer le travail bloquant à un thread (asyncio.to_thread)",
            name: "to_thread",
            time: Time::Loop { lasts: secs(1.0) },
            run: to_thread::example,
            on_purpose: None,
        },
        Stop {
            slide: "Invocation d'une coroutine",
            name: "say_after",
            time: Time::Loop { lasts: secs(1.0) },
            run: say_after::example,
            on_purpose: None,
        },
        Stop {
            slide: "Exécution simultanée (await, l'un après l'autre)",
            name: "await_sequential",
            time: Time::Loop { lasts: secs(4.0) },
            run: await_sequential::example,
            on_purpose: None,
        },
        Stop {
            slide: "Les tâches asynchrones (create_task)",
            name: "create_task",
            time: Time::Loop { lasts: secs(2.0) },
            run: create_task::example,
            on_purpose: None,
        },
        Stop {
            slide: "Exécution concurrente de tâches asynchrones (gather)",
            name: "gather",
            time: Time::Loop { lasts: secs(2.0) },
            run: gather::example,
            on_purpose: None,
        },
        Stop {
            slide: "Les résultats (done, result)",
            name: "task_result",
            time: Time::Loop { lasts: secs(2.0) },
            run: task_result::example,
            on_purpose: None,
        },
        Stop {
            slide: "Récupération des exceptions (return_exceptions)",
            name: "exceptions",
            time: Time::Loop { lasts: secs(2.0) },
            run: exceptions::example,
            on_purpose: Some(
                "one task panics: the `task 'Task-2' panicked at ...` line below is the \
                 lesson, not a failure (gather returns the panic as a value)",
            ),
        },
        Stop {
            slide: "asyncio.wait_for: un délai maximum",
            name: "timeout",
            time: Time::Loop { lasts: secs(2.5) },
            run: timeout::example,
            on_purpose: None,
        },
        Stop {
            slide: "asyncio.TaskGroup : un enfant échoue, le corps s'arrête",
            name: "task_group_scope",
            time: Time::Loop { lasts: secs(1.0) },
            run: task_group_scope::example,
            on_purpose: Some(
                "two children panic: the two `task ... panicked at ...` lines below \
                 are the lesson, not a failure (the group stops the body and reports both)",
            ),
        },
        Stop {
            slide: "Annuler une tâche qui en attend une autre (cancel, shield)",
            name: "cancel_propagation",
            time: Time::Loop { lasts: secs(8.0) },
            run: cancel_propagation::example,
            on_purpose: None,
        },
        Stop {
            slide: "Variables partagées entre tâches (Rc<RefCell<_>>, spawn_local)",
            name: "shared_state",
            time: Time::Loop { lasts: secs(4.5) },
            run: shared_state::example,
            on_purpose: None,
        },
        Stop {
            slide: "L'erreur classique: bloquer la boucle (mode debug)",
            name: "blocking_mistake",
            time: Time::AlwaysReal {
                lasts: secs(1.0),
                why: "not instant: it blocks the loop's thread for a real second, \
                      which is the lesson, so it always runs on the real clock",
            },
            run: blocking_mistake::example,
            on_purpose: Some(
                "the `clearloop debug: Executing <Task bad> took 1.000 seconds` warning below \
                 is the lesson, not a failure: debug mode catches the task that blocks the loop",
            ),
        },
        Stop {
            slide: "Une tâche qui ne rend jamais la main (le budget coopératif)",
            name: "starvation",
            time: Time::Simulated {
                what: "10,000 lock operations of 1 µs each, on a manual clock the hog \
                       moves itself",
            },
            run: starvation::example,
            on_purpose: None,
        },
        Stop {
            slide: "Les verrous (async with lock / acquire, release)",
            name: "lock",
            time: Time::Loop { lasts: secs(0.9) },
            run: lock::example,
            on_purpose: None,
        },
        Stop {
            slide: "Les verrous : la mise à jour perdue, trouvée par graine (simulation)",
            name: "race",
            time: Time::Simulated {
                what: "the lost update of the lock slide, under 20 seeds: each seed one \
                       order of the ready tasks, replayed exactly",
            },
            run: race::example,
            on_purpose: None,
        },
        Stop {
            slide: "Les sémaphores (trois à la fois)",
            name: "semaphore",
            time: Time::Loop { lasts: secs(4.0) },
            run: semaphore::example,
            on_purpose: None,
        },
        Stop {
            slide: "Producteurs et consommateurs (asyncio.Queue, join)",
            name: "queue",
            time: Time::Loop { lasts: secs(0.6) },
            run: queue::example,
            on_purpose: None,
        },
        Stop {
            slide: "Un serveur qui sert plusieurs clients à la fois (start_server, open_connection)",
            name: "echo_server",
            time: Time::RealWork {
                lasts: secs(0.9),
                why: "exact times, but not instant: real sockets, and before each jump of \
                      virtual time the loop waits until the network has been quiet for \
                      0.25 s of real time (about 2.3 s in all)",
            },
            run: echo_server::example,
            on_purpose: None,
        },
        Stop {
            slide: "Dix serveurs à la fois (gather, wait_for)",
            name: "fetch_many",
            time: Time::RealWork {
                lasts: secs(0.55),
                why: "exact times, but not instant: each jump of virtual time waits for \
                      0.25 s of network quiet (about 1.6 s in all)",
            },
            run: fetch_many::example,
            on_purpose: None,
        },
        Stop {
            slide: "Des sous-processus, l'un après l'autre puis ensemble",
            name: "subprocess",
            time: Time::AlwaysReal {
                lasts: secs(4.0),
                why: "real processes run in real time: waiting for a child holds virtual \
                      time still, so the durations are real ones",
            },
            run: subprocess::example,
            on_purpose: None,
        },
        Stop {
            slide: "Le module sched (enter, run)",
            name: "sched_addition",
            time: Time::Simulated {
                what: "sched's 3 seconds",
            },
            run: sched_addition::example,
            on_purpose: None,
        },
        Stop {
            slide: "Gestion de la file d'attente (priorités, cancel, threads)",
            name: "sched_priorities",
            time: Time::Simulated {
                what: "sched's 1.75 seconds, with a producer thread",
            },
            run: sched_priorities::example,
            on_purpose: None,
        },
        Stop {
            slide: "Ce que coûte un événement sched (enter, run)",
            name: "sched_enter_run",
            time: Time::Measure {
                what: "100,000 zero-delay events entered, then run; the time per event \
                       depends on the machine and its load",
            },
            run: sched_enter_run::example,
            on_purpose: None,
        },
        Stop {
            slide: "Alternative : le module schedule (une semaine simulée)",
            name: "schedule_week",
            time: Time::Simulated {
                what: "a week in Paris, from Monday 09:00 to the next Monday 09:00",
            },
            run: schedule_week::example,
            on_purpose: None,
        },
        Stop {
            slide: "Le module schedule dans un thread (run_in_background)",
            name: "schedule_background",
            time: Time::Simulated {
                what: "5 seconds of a background thread, on a clock of its own moved \
                       half a second at a time",
            },
            run: schedule_background::example,
            on_purpose: Some(
                "one of the jobs, `flaky()`, panics every 3 s: its `job flaky() \
                 ... panicked at ...` line below is the lesson, not a failure (the \
                 scheduler reports the panic and runs the job again)",
            ),
        },
    ]
}

/// Seconds to a tenth, without a trailing ".0": "31 s", "2.5 s".
pub fn about(duration: Duration) -> String {
    let tenths = format!("{:.1}", duration.as_secs_f64());
    format!("{} s", tenths.strip_suffix(".0").unwrap_or(&tenths))
}

/// What the tour says before its first stop: how many stops, how long, and which
/// stops `--virtual` cannot make instant or exact.
pub fn announce(stops: &[Stop], all_virtual: bool) -> String {
    let real: Duration = stops.iter().map(Stop::lasts).sum();
    let slow: Vec<&Stop> = stops
        .iter()
        .filter(|stop| matches!(stop.time, Time::RealWork { .. } | Time::AlwaysReal { .. }))
        .collect();
    let real_work: Vec<&str> = slow.iter().map(|stop| stop.name).collect();
    // With --virtual, only the slow stops take time, and about a second for the rest.
    let virtual_total: Duration =
        slow.iter().map(|stop| stop.lasts()).sum::<Duration>() + Duration::from_secs(1);
    let mut text = format!(
        "The clearloop tour: {} stops, the course's examples in its order.\n",
        stops.len()
    );
    if all_virtual {
        text += &format!(
            "On the virtual clock: every wait is instant and every duration exact, \
             except in the stops with real threads or real work ({}), which say why \
             when they run. About {} in all; about {} on the real clock \
             (without --virtual).",
            real_work.join(", "),
            about(virtual_total),
            about(real)
        );
    } else {
        text += &format!(
            "About {} on the real clock (more on a busy machine, where the gil stop \
             computes longer): the waits are real, as in the course. \
             `cargo run --release --example tour -- --virtual` runs it in about {}: \
             instantly, with exact durations, except the stops with real threads or \
             real work ({}).",
            about(real),
            about(virtual_total),
            real_work.join(", ")
        );
    }
    text
}

/// `--svg DIR`: the stops that draw their timeline also write `DIR/NAME.svg`.
fn svg_dir() {
    let args: Vec<String> = std::env::args().collect();
    let Some(at) = args.iter().position(|arg| arg == "--svg") else {
        return;
    };
    let Some(dir) = args.get(at + 1) else {
        eprintln!("tour: --svg needs a directory: `cargo run --example tour -- --svg DIR`");
        std::process::exit(2);
    };
    if let Err(error) = std::fs::create_dir_all(dir) {
        eprintln!("tour: cannot create {dir}: {error}");
        std::process::exit(2);
    }
    clearloop::trace::write_svgs_to(Some(dir.into()));
}

fn main() {
    // One line per caught panic (a task's, a job's), never a raw panic report:
    // several stops panic on purpose.
    clearloop::panics::install_hook();
    let all_virtual = std::env::args().any(|arg| arg == "--virtual");
    svg_dir();
    let stops = stops();
    println!("{}", announce(&stops, all_virtual));
    if cfg!(debug_assertions) {
        // `cargo run --example tour` without `--release`: the timers do not care,
        // the gil stop's computing does.
        println!(
            "This is a debug build: the gil stop computes several times slower than \
             said above. `cargo run --release --example tour` gives the figures."
        );
    }
    let total = Instant::now();
    let mut left: Duration = stops.iter().map(Stop::lasts).sum();
    for (number, stop) in stops.iter().enumerate() {
        let clock = match stop.time {
            Time::Simulated { .. } => Clock::virtual_clock(),
            Time::AlwaysReal { .. } | Time::Measure { .. } => Clock::real(),
            _ if all_virtual => Clock::virtual_clock(),
            _ => Clock::real(),
        };
        let kind = if clock.is_virtual() {
            "virtual"
        } else {
            "real"
        };
        println!();
        println!("== {}/{} {} ==", number + 1, stops.len(), stop.slide);
        if let Time::Simulated { what } = stop.time {
            println!("   {}, on a virtual clock: {what}", stop.name);
        } else if let Time::Measure { what } = stop.time {
            println!("   {}, measuring real time: {what}", stop.name);
        } else if all_virtual || stop.lasts().is_zero() {
            println!("   {}, on the {kind} clock", stop.name);
        } else {
            println!(
                "   {}, on the {kind} clock: about {} ({} left in the tour)",
                stop.name,
                about(stop.lasts()),
                about(left)
            );
        }
        if let (true, Time::RealWork { why, .. } | Time::AlwaysReal { why, .. }) =
            (all_virtual, &stop.time)
        {
            println!("   with --virtual: {why}");
        }
        if let Some(on_purpose) = stop.on_purpose {
            println!("   on purpose: {on_purpose}");
        }
        left = left.saturating_sub(stop.lasts());
        let (real_start, clock_start) = (Instant::now(), clock.now());
        (stop.run)(clock.clone());
        let real = format_timedelta(real_start.elapsed());
        let on_the_clock = clock.now() - clock_start;
        if clock.is_virtual() && !on_the_clock.is_zero() {
            let on_the_clock = format_timedelta(on_the_clock);
            println!("-- took {on_the_clock} on the virtual clock, in {real} of real time");
        } else {
            // The real clock; or a stop whose time is real work, or on a clock of its own.
            println!("-- took {real} of real time");
        }
    }
    println!();
    println!(
        "Tour finished: {} stops in {} (real).",
        stops.len(),
        format_timedelta(total.elapsed())
    );
}
