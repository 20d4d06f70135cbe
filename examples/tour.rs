//! The tour: every example of the course, in the course's order, each under the
//! title of the slide it reproduces, with its output and how long it took.
//!
//! Run: `cargo run --release --example tour`. The threads and asyncio examples run
//! on the real clock, so their durations are measured as the course measures them
//! (about 25 seconds in all); `-- --virtual` runs every example on the virtual clock,
//! instantly, with exact durations.

use std::time::Instant;

use clearloop::clock::{Clock, format_timedelta};

#[path = "threads.rs"]
mod threads;

#[path = "to_thread.rs"]
mod to_thread;

#[path = "gil.rs"]
mod gil;

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

#[path = "timeout.rs"]
mod timeout;

#[path = "blocking_mistake.rs"]
mod blocking_mistake;

#[path = "lock.rs"]
mod lock;

#[path = "semaphore.rs"]
mod semaphore;

#[path = "queue.rs"]
mod queue;

#[path = "sched_addition.rs"]
mod sched_addition;

#[path = "sched_priorities.rs"]
mod sched_priorities;

#[path = "schedule_week.rs"]
mod schedule_week;

#[path = "schedule_background.rs"]
mod schedule_background;

/// How an example wants to be run in the tour.
enum Time {
    /// Real clock, unless the tour itself runs with `--virtual`.
    Real,
    /// Virtual clock always, so the tour stays short (`cargo run --example NAME`
    /// runs the example alone on the real clock).
    Virtual,
}

struct Stop {
    slide: &'static str,
    name: &'static str,
    time: Time,
    run: fn(Clock),
}

fn main() {
    let all_virtual = std::env::args().any(|arg| arg == "--virtual");
    let stops = [
        Stop {
            slide: "Déclaration et lancement d'un thread (Worker(Thread), start)",
            name: "threads",
            time: Time::Real,
            run: threads::example,
        },
        Stop {
            slide: "Le GIL (le même calcul sur 1 et 2 threads, puis en tâches)",
            name: "gil",
            time: Time::Real,
            run: gil::example,
        },
        Stop {
            slide: "Déléguer le travail bloquant à un thread (asyncio.to_thread)",
            name: "to_thread",
            time: Time::Real,
            run: to_thread::example,
        },
        Stop {
            slide: "Invocation d'une coroutine",
            name: "say_after",
            time: Time::Real,
            run: say_after::example,
        },
        Stop {
            slide: "Exécution simultanée (await, l'un après l'autre)",
            name: "await_sequential",
            time: Time::Real,
            run: await_sequential::example,
        },
        Stop {
            slide: "Les tâches asynchrones (create_task)",
            name: "create_task",
            time: Time::Real,
            run: create_task::example,
        },
        Stop {
            slide: "Exécution concurrente de tâches asynchrones (gather)",
            name: "gather",
            time: Time::Real,
            run: gather::example,
        },
        Stop {
            slide: "Les résultats (done, result)",
            name: "task_result",
            time: Time::Real,
            run: task_result::example,
        },
        Stop {
            slide: "Récupération des exceptions (return_exceptions)",
            name: "exceptions",
            time: Time::Real,
            run: exceptions::example,
        },
        Stop {
            slide: "asyncio.wait_for: un délai maximum",
            name: "timeout",
            time: Time::Real,
            run: timeout::example,
        },
        Stop {
            slide: "L'erreur classique: bloquer la boucle (mode debug)",
            name: "blocking_mistake",
            time: Time::Real,
            run: blocking_mistake::example,
        },
        Stop {
            slide: "Les verrous (async with lock / acquire, release)",
            name: "lock",
            time: Time::Real,
            run: lock::example,
        },
        Stop {
            slide: "Les sémaphores (trois à la fois)",
            name: "semaphore",
            time: Time::Real,
            run: semaphore::example,
        },
        Stop {
            slide: "Producteurs et consommateurs (asyncio.Queue, join)",
            name: "queue",
            time: Time::Real,
            run: queue::example,
        },
        Stop {
            slide: "Le module sched (enter, run)",
            name: "sched_addition",
            time: Time::Virtual,
            run: sched_addition::example,
        },
        Stop {
            slide: "Gestion de la file d'attente (priorités, cancel, threads)",
            name: "sched_priorities",
            time: Time::Virtual,
            run: sched_priorities::example,
        },
        Stop {
            slide: "Alternative : le module schedule (une semaine simulée)",
            name: "schedule_week",
            time: Time::Virtual,
            run: schedule_week::example,
        },
        Stop {
            slide: "Le module schedule dans un thread (run_in_background)",
            name: "schedule_background",
            time: Time::Virtual,
            run: schedule_background::example,
        },
    ];
    let total = Instant::now();
    for (number, stop) in stops.iter().enumerate() {
        let clock = match stop.time {
            Time::Real if !all_virtual => Clock::real(),
            _ => Clock::virtual_clock(),
        };
        let kind = if clock.is_virtual() {
            "virtual"
        } else {
            "real"
        };
        println!();
        println!(
            "== {}. {} ({}, {} clock) ==",
            number + 1,
            stop.slide,
            stop.name,
            kind
        );
        let (real_start, clock_start) = (Instant::now(), clock.now());
        (stop.run)(clock.clone());
        println!(
            "-- took {} on the {kind} clock ({} real)",
            format_timedelta(clock.now() - clock_start),
            format_timedelta(real_start.elapsed())
        );
    }
    println!();
    println!(
        "Tour finished in {} (real).",
        format_timedelta(total.elapsed())
    );
}
