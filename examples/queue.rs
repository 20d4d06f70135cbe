//! `asyncio.Queue`: producers put jobs, workers take them, and `join()` waits until
//! every job is done. (The course shows queues only inside `sched`; this is the
//! pattern of the asyncio documentation's `Queue` example.)
//!
//! ```python
//! async def worker(name, queue):
//!     while True:
//!         job = await queue.get()
//!         await asyncio.sleep(job.duration)
//!         queue.task_done()
//!
//! queue = asyncio.Queue(maxsize=2)
//! workers = [asyncio.create_task(worker(f"worker-{i}", queue)) for i in range(3)]
//! await asyncio.gather(producer("A", queue), producer("B", queue))
//! await queue.join()           # every job put has been marked done
//! for w in workers:
//!     w.cancel()
//! ```
//!
//! Two producers each put four jobs into a queue that holds at most two, and three
//! workers take them. Watch: the producers wait whenever the queue is full (the
//! "waits" lines), a worker takes a job as soon as it is free, and `join()` returns
//! only after the last `task_done()`, not when the last job is *taken*. Then the
//! workers, blocked in `get()`, are cancelled: dropping a waiting `get()` leaves no
//! trace in the queue.
//!
//! Run: `cargo run --example queue` (add `-- --virtual` for the virtual clock).
//! On the virtual clock it prints the lines below, the same every run. On the real
//! clock the times read a millisecond or two late, and where two sleeps end at the
//! same instant (worker-1's and worker-2's at 0.300 s, worker-0's and worker-2's at
//! 0.400 s), which wakes first changes from run to run: so does the order of the
//! lines at that instant, and which worker takes which job. What does not change:
//! 8 jobs, and `join()` returning at 0.600 s (plus those milliseconds). The virtual
//! clock breaks such ties one way, always: the timer set first fires first.
//!
//! ```text
//! 0.000s  A puts A1
//! 0.000s  A puts A2
//! 0.000s  A waits: queue full
//! 0.000s  B waits: queue full
//! 0.000s  worker-0 takes A1 (200 ms)
//! 0.000s  worker-1 takes A2 (300 ms)
//! 0.000s  A puts A3
//! ...
//! 0.300s  B puts B4
//! 0.300s  all jobs put; join() waits for task_done()
//! 0.400s  worker-0 takes B4 (200 ms)
//! 0.600s  join() returned: 8 jobs done
//! 0.600s  workers cancelled; queue empty: true
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use clearloop::Builder;
use clearloop::clock::Clock;
use clearloop::sync::Queue;
use clearloop::time::{now, sleep};

/// A job: a name and how long it takes.
struct Job {
    name: String,
    duration: Duration,
}

fn at(start: Instant) -> String {
    format!("{:.3}s", (now() - start).as_secs_f64())
}

async fn producer(name: &'static str, queue: Arc<Queue<Job>>, start: Instant) {
    for i in 1..=4u64 {
        let job = Job {
            name: format!("{name}{i}"),
            duration: Duration::from_millis(100 * (1 + (i * 7 + name.len() as u64 * 3) % 3)),
        };
        let label = job.name.clone();
        if queue.full() {
            println!("{}  {name} waits: queue full", at(start));
        }
        queue.put(job).await;
        println!("{}  {name} puts {label}", at(start));
    }
}

async fn worker(name: String, queue: Arc<Queue<Job>>, start: Instant) {
    loop {
        let job = queue.get().await;
        println!(
            "{}  {name} takes {} ({} ms)",
            at(start),
            job.name,
            job.duration.as_millis()
        );
        sleep(job.duration).await;
        queue.task_done().expect("one task_done() per job taken");
    }
}

/// Runs the example on `clock`.
pub fn example(clock: Clock) {
    let runtime = Builder::new().clock(clock).build();
    runtime.block_on(async {
        let start = now();
        let queue = Arc::new(Queue::new(2));
        let workers: Vec<_> = (0..3)
            .map(|i| runtime.spawn(worker(format!("worker-{i}"), queue.clone(), start)))
            .collect();
        let a = runtime.spawn(producer("A", queue.clone(), start));
        let b = runtime.spawn(producer("B", queue.clone(), start));
        a.await;
        b.await;
        println!("{}  all jobs put; join() waits for task_done()", at(start));
        queue.join().await;
        println!("{}  join() returned: 8 jobs done", at(start));
        for worker in &workers {
            worker.cancel();
        }
        for worker in workers {
            let _ = worker.join().await; // Err(cancelled), as asyncio's CancelledError
        }
        println!(
            "{}  workers cancelled; queue empty: {}",
            at(start),
            queue.empty()
        );
    });
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
