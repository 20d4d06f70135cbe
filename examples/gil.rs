//! The GIL lesson: the same CPU-bound work on one thread, then split over two; then
//! as two async tasks, on the single-threaded loop and on the multi-threaded runtime.
//!
//! ```python
//! def work(n):                      # pure computation, no I/O
//!     ...
//! t0 = time.perf_counter(); work(N);                        print(time.perf_counter() - t0)
//! t1 = Thread(target=work, args=(N // 2,)); t2 = Thread(target=work, args=(N // 2,))
//! t0 = time.perf_counter(); t1.start(); t2.start(); t1.join(); t2.join()
//! print(time.perf_counter() - t0)   # about the same as one thread: the GIL
//! ```
//!
//! What to watch: in CPython the two threads take as long as one, because only the
//! thread holding the Global Interpreter Lock runs bytecode (the course: "un seul
//! thread peut posséder le GIL à un instant donné"). Rust has no GIL: the type
//! system forbids data races at compile time, so the two threads really run on two
//! cores and the work takes about half the time. Async tasks on the
//! single-threaded loop take turns on one thread, like asyncio: no speed-up (async
//! is for waiting, not for computing). On the multi-threaded runtime the same two
//! tasks run on two workers: the speed-up comes back.
//!
//! Run: `cargo run --release --example gil` (about 3 s; the durations are real CPU
//! time, whatever the clock; `-- --virtual` changes nothing here). On 2 cores it
//! prints something like:
//!
//! ```text
//! 2 cores; the work: 6000000 Collatz sequences
//! 1 thread                          0.98 s
//! 2 threads (Worker)                0.50 s  speed-up x1.96
//! 2 tasks, single-threaded loop     0.98 s  speed-up x1.00
//! 2 tasks, 2 worker threads         0.51 s  speed-up x1.92
//! CPython with the GIL would show x1.0 on the second line too.
//! ```
//!
//! On a busy machine the speed-ups are lower: other programs take the cores too. The
//! example prints the load average where the system gives it (`/proc/loadavg`, on
//! Linux), and when the machine is busy, what the speed-up needs: two threads run
//! twice as fast only on two cores that nothing else wants. With a load of 7 on 2
//! cores, no core is free, and two threads get little more CPU than one (x1.05 was
//! measured so): that is the machine, not the runtime.

use std::hint::black_box;
use std::time::{Duration, Instant};

use clearloop::clock::Clock;
use clearloop::threads::{Thread, Worker};
use clearloop::{Builder, spawn};

/// How many Collatz sequences the whole work walks (about 1 s on one core of a
/// 2020s laptop, in release).
const SEQUENCES: u64 = 6_000_000;

/// Pure computation: the total length of the Collatz sequences of `range`.
fn work(range: std::ops::Range<u64>) -> u64 {
    let mut steps = 0;
    for start in range {
        let mut n = black_box(start);
        while n > 1 {
            n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
            steps += 1;
        }
    }
    steps
}

/// Half of the work, as the course's `Worker(Thread)`.
struct Half {
    name: &'static str,
    range: std::ops::Range<u64>,
}

impl Worker for Half {
    fn name(&self) -> String {
        self.name.to_string()
    }
    fn run(&mut self) {
        black_box(work(self.range.clone()));
    }
}

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn report(what: &str, took: Duration, alone: Option<Duration>) {
    match alone {
        None => println!("{what:32} {:5.2} s", took.as_secs_f64()),
        Some(alone) => println!(
            "{what:32} {:5.2} s  speed-up x{:.2}",
            took.as_secs_f64(),
            alone.as_secs_f64() / took.as_secs_f64()
        ),
    }
}

/// The first number of `/proc/loadavg`: how many threads were running or waiting
/// for a core, averaged over the last minute. `None` where the system has no such
/// file (macOS, the BSDs without Linux's procfs).
fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// The load average, and what the speed-up needs: the two halves of the work run
/// at once only on two cores that nothing else wants. Free cores are the cores
/// minus the load, a one-minute average, so a rough guide: with fewer than one,
/// the machine is said to be busy. (One line,
/// with the words "load average": the CI drops it before comparing two runs of
/// the tour, as its figures change from run to run.)
pub fn load_note(load: f64, cores: usize) -> String {
    let free = (cores as f64 - load).max(0.0);
    let head = format!("load average {load:.1} on {cores} cores (/proc/loadavg)");
    if cores < 2 {
        return format!("{head}: on one core two threads take turns, no speed-up is possible");
    }
    if free >= 2.0 {
        return format!("{head}: about {free:.1} cores free, the 2 a speed-up of x2 needs");
    }
    if free >= 1.0 {
        return format!(
            "{head}: about {free:.1} cores free, of the 2 a speed-up of x2 needs: it may \
             come out a little lower"
        );
    }
    let free = if free < 0.1 {
        "none is free".to_string()
    } else {
        format!("about {free:.1} are free")
    };
    format!(
        "{head}: busy. A speed-up of x2 needs 2 free cores, and {free}: other programs \
         take the rest, so the speed-ups may come out lower (down to x1.0 with none free)"
    )
}

/// Runs the example; `clock` is given to the runtimes, but the durations printed
/// are real time: computing takes real time on any clock.
pub fn example(clock: Clock) {
    let half = SEQUENCES / 2;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{cores} cores; the work: {SEQUENCES} Collatz sequences");
    if let Some(load) = load_average() {
        println!("{}", load_note(load, cores));
    }

    let alone = timed(|| {
        black_box(work(1..SEQUENCES));
    });
    report("1 thread", alone, None);

    let two_threads = timed(|| {
        let t1 = Thread::new(Half {
            name: "T1",
            range: 1..half,
        });
        let t2 = Thread::new(Half {
            name: "T2",
            range: half..SEQUENCES,
        });
        t1.start().and_then(|()| t2.start()).unwrap();
        t1.join().and_then(|()| t2.join()).unwrap();
    });
    report("2 threads (Worker)", two_threads, Some(alone));

    for (what, runtime) in [
        (
            "2 tasks, single-threaded loop",
            Builder::new().clock(clock.clone()).build(),
        ),
        (
            "2 tasks, 2 worker threads",
            Builder::new()
                .clock(clock.clone())
                .worker_threads(2)
                .build(),
        ),
    ] {
        let took = timed(|| {
            runtime.block_on(async {
                let a = spawn(async move { work(1..half) });
                let b = spawn(async move { work(half..SEQUENCES) });
                black_box(a.await + b.await);
            })
        });
        report(what, took, Some(alone));
    }
    println!("CPython with the GIL would show x1.0 on the second line too.");
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
