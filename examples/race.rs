//! The course's shared counter, with an `await` between the read and the write:
//! a lost update, found by trying seeds and replayed from one.
//!
//! ```python
//! counter = 0
//!
//! async def add(name, think):
//!     global counter
//!     await asyncio.sleep(think)      # the task does something else first
//!     read = counter
//!     await asyncio.sleep(0.001)      # a database round trip: other tasks run
//!     counter = read + 1              # ... and this write may erase theirs
//!
//! async def main():
//!     await asyncio.gather(add("A", 0.001), add("B", 0.002), add("C", 0.003))
//!     print("counter =", counter)     # 3, or 2, or 1
//! ```
//!
//! A reads at 1 ms and writes at 2 ms; B reads at 2 ms and writes at 3 ms; C reads
//! at 3 ms. At 2 ms, A's write and B's read are due at the same instant, and which
//! runs first is the loop's choice: if B reads first, it reads the old value and
//! its write erases A's increment. Same at 3 ms between B and C. asyncio promises
//! no order for two timers due together, so the program is wrong, even if one
//! machine always happens to pick the lucky order.
//!
//! A simulation runtime ([`clearloop::sim`]) lets a seed make each such choice.
//! `--seeds N` tries seeds 0..N and counts those that lose an increment; `--seed S`
//! replays one and draws its trace timeline (the same on every run); `--locked`
//! holds an async `Mutex` from the read to the write, and no seed loses anything.
//!
//! Run: `cargo run --release --example race -- --seeds 200`, then
//! `cargo run --release --example race -- --seed S` with a seed it names, and
//! `cargo run --release --example race -- --locked`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use clearloop::sim;
use clearloop::sync::Mutex;
use clearloop::time::{now, sleep};
use clearloop::{gather_tasks, spawn_local};

/// One run of the program: `Ok` when the counter ends at 3. With `tell`, each
/// read and write is printed as it happens.
async fn program(locked: bool, tell: bool) -> Result<(), String> {
    let counter = Rc::new(Cell::new(0));
    let lock = Rc::new(Mutex::new(()));
    let start = now();
    let say = move |what: String| {
        if tell {
            println!("t={}ms  {what}", (now() - start).as_millis());
        }
    };
    let add = |name: &'static str, think_ms: u64| {
        let (counter, lock) = (counter.clone(), lock.clone());
        let task = spawn_local(async move {
            sleep(Duration::from_millis(think_ms)).await;
            // With `--locked`, nobody else reads until this task has written.
            let _guard = if locked {
                Some(lock.lock().await)
            } else {
                None
            };
            let read = counter.get();
            say(format!("{name} reads {read}"));
            sleep(Duration::from_millis(1)).await; // the round trip
            counter.set(read + 1);
            say(format!("{name} writes {}", read + 1));
        });
        task.set_name(name);
        task
    };
    let tasks = vec![add("A", 1), add("B", 2), add("C", 3)];
    gather_tasks(tasks).await;
    match counter.get() {
        3 => Ok(()),
        n => Err(format!("counter = {n}: {} increment(s) lost", 3 - n)),
    }
}

/// Tries seeds `0..seeds` and prints what they found.
pub fn explore(seeds: u64, locked: bool) {
    let found = sim::explore(0..seeds, || program(locked, false));
    println!(
        "{} of {} seeds lose an increment{}",
        found.failures.len(),
        found.runs,
        if locked { " (with the lock)" } else { "" }
    );
    if let Some(first) = found.first() {
        println!("the first: seed {} ({})", first.seed, first.message);
        println!(
            "replay it: cargo run --release --example race -- --seed {}",
            first.seed
        );
    }
}

/// Runs seed `seed` again, telling each read and write, and draws its timeline.
pub fn replay(seed: u64, locked: bool) {
    let (result, timeline) = sim::replay(seed, || program(locked, true));
    match result {
        Ok(()) => println!("seed {seed}: counter = 3, nothing lost"),
        Err(lost) => println!("seed {seed}: {lost}"),
    }
    print!("{timeline}");
}

/// The tour's stop: 20 seeds, then the first that loses an update, replayed.
/// (A simulation always runs on its own virtual clock: `_clock` is not needed.)
pub fn example(_clock: clearloop::clock::Clock) {
    explore(20, false);
    let first = sim::explore(0..20, || program(false, false)).failures;
    if let Some(first) = first.first() {
        println!();
        replay(first.seed, false);
    }
    println!();
    explore(20, true);
}

#[allow(dead_code)]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let locked = args.iter().any(|a| a == "--locked");
    let value = |flag: &str| {
        let at = args.iter().position(|a| a == flag)?;
        let Some(number) = args.get(at + 1).and_then(|v| v.parse::<u64>().ok()) else {
            eprintln!("race: {flag} takes a number, as in `{flag} 200`");
            std::process::exit(2);
        };
        Some(number)
    };
    match value("--seed") {
        Some(seed) => replay(seed, locked),
        None => explore(value("--seeds").unwrap_or(200), locked),
    }
}
