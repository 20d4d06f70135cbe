//! Slide "Déclaration d'un thread" / "Lancement d'un thread": two `Worker` threads.
//!
//! ```python
//! class Worker(Thread):
//!     def __init__(self, name):
//!         Thread.__init__(self, name=name)
//!
//!     def run(self):
//!         for i in range(5):
//!             print(f"{self.name} : Appel {i}, {time.strftime('%X')}")
//!             time.sleep(1)
//!
//! t1 = Worker("T1")
//! t2 = Worker("T2")
//! t1.start()
//! t2.start()
//! print("2 Threads démarrés")
//! ```
//!
//! What to watch: `start()` returns at once, so "2 Threads démarrés" is printed
//! while both workers are already running; then T1 and T2 print once a second each,
//! in an order that changes from run to run (the OS decides who wakes first). Each
//! thread makes five calls one second apart and sleeps after each: 5 seconds in all,
//! not the 10 that one thread doing both lists would take. Python waits for its
//! threads at exit; Rust's `main` does not, so the example joins them.
//!
//! Run: `cargo run --example threads`. Prints (the time of day in your time zone, as
//! Python's `time.strftime('%X')` does):
//!
//! ```text
//! T1 : Appel 0, 17:38:23
//! 2 Threads démarrés
//! T2 : Appel 0, 17:38:23
//! T2 : Appel 1, 17:38:24
//! T1 : Appel 1, 17:38:24
//! ...
//! T1 : Appel 4, 17:38:27
//! T2 : Appel 4, 17:38:27
//! ```
//!
//! With `-- --virtual` it is instant, and shows what a virtual clock cannot do for
//! threads: each `sleep` jumps the shared time forward by itself (no loop knows that
//! the other thread is waiting too), so the threads no longer share their seconds
//! and the times run to 10 seconds. The async examples do not have this problem: one
//! loop sees every sleeping task before it moves time.

use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::threads::{Thread, Worker};

/// The course's `Worker(Thread)`: a name and a `run()` body.
struct Appels {
    name: String,
    clock: Clock,
}

impl Worker for Appels {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn run(&mut self) {
        for i in 0..5 {
            println!(
                "{} : Appel {i}, {}",
                self.name,
                self.clock.zoned_now().strftime("%X")
            );
            // `time.sleep(1)`: this thread blocks; the other one goes on.
            self.clock.sleep(Duration::from_secs(1));
        }
    }
}

/// Runs the example on `clock`.
pub fn example(clock: Clock) {
    let worker = |name: &str| Appels {
        name: name.to_string(),
        clock: clock.clone(),
    };
    let t1 = Thread::new(worker("T1"));
    let t2 = Thread::new(worker("T2"));
    match t1.start().and_then(|()| t2.start()) {
        Ok(()) => println!("2 Threads démarrés"),
        Err(error) => println!("Error: unable to start threads ({error})"),
    }
    for thread in [&t1, &t2] {
        if let Err(error) = thread.join() {
            println!("{error}");
        }
    }
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
