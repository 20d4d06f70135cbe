//! Loom models of the workers' parking protocol (`src/workers/idle.rs`): a task
//! pushed while a worker goes to sleep is never left behind.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test --release --test loom_threads`
//!
//! Each model runs the real [`Idle`] (under `--cfg loom` its lock and atomics are
//! loom's) with a loom-aware stand-in for the queues: a counter of tasks waiting. A
//! worker follows the runtime's steps (take a task; else register, look again, park,
//! unregister); a pusher follows `Shared::push` (push, then notify). A lost wake-up
//! leaves a worker parked with a task waiting: loom then reports a deadlock (every
//! thread blocked), so the model fails.
#![cfg(loom)]

use clearloop::workers::Idle;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

/// std's park token, rebuilt from a loom `Mutex` and `Condvar`: `unpark` leaves a
/// token, `park` waits for one and consumes it. (loom's own `thread::park` marks a
/// thread runnable even while it waits for a lock, which makes loom itself panic
/// with "expected to be able to acquire lock".)
#[derive(Default)]
struct Parker {
    token: Mutex<bool>,
    cv: Condvar,
}

impl Parker {
    fn park(&self) {
        let mut token = self.token.lock().unwrap();
        while !*token {
            token = self.cv.wait(token).unwrap();
        }
        *token = false;
    }

    fn unpark(&self) {
        *self.token.lock().unwrap() = true;
        self.cv.notify_one();
    }
}

/// The runtime's queues, reduced to what the protocol looks at.
struct Model {
    idle: Idle,
    /// Tasks pushed and not taken yet (the injector and every local queue). An
    /// atomic, not a lock: crossbeam's queues are lock-free, and a lock here would
    /// order the threads more than the real queues do.
    waiting: AtomicUsize,
    /// Tasks taken so far; the workers stop when all were.
    taken: AtomicUsize,
    total: usize,
    done: AtomicBool,
    parkers: Vec<Parker>,
}

impl Model {
    fn new(workers: usize, total: usize) -> Arc<Model> {
        Arc::new(Model {
            idle: Idle::new(workers),
            waiting: AtomicUsize::new(0),
            taken: AtomicUsize::new(0),
            total,
            done: AtomicBool::new(false),
            parkers: (0..workers).map(|_| Parker::default()).collect(),
        })
    }

    fn unpark(&self, index: usize) {
        self.parkers[index].unpark();
    }

    fn has_work(&self) -> bool {
        self.waiting.load(Ordering::Acquire) > 0
    }

    /// `Shared::push`: the task is in a queue, then somebody is told.
    fn push(&self) {
        self.waiting.fetch_add(1, Ordering::Release);
        if let Some(index) = self.idle.notify() {
            self.unpark(index);
        }
    }

    fn take(&self) -> bool {
        self.waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |waiting| {
                waiting.checked_sub(1)
            })
            .is_ok()
    }

    /// `Worker::run` and `Worker::park`, without the timers.
    fn worker(&self, index: usize) {
        let mut searching = false;
        loop {
            if self.done.load(Ordering::Acquire) {
                return;
            }
            if self.take() {
                if searching {
                    searching = false;
                    if self.idle.found_work()
                        && self.has_work()
                        && let Some(next) = self.idle.notify()
                    {
                        self.unpark(next);
                    }
                }
                if self.taken.fetch_add(1, Ordering::AcqRel) + 1 == self.total {
                    // The last task: stop everybody (the runtime's shutdown).
                    self.done.store(true, Ordering::Release);
                    for parker in &self.parkers {
                        parker.unpark();
                    }
                }
                continue;
            }
            self.idle.register(index, searching);
            // Register, then look again: the step a lost wake-up would skip.
            if self.has_work() || self.done.load(Ordering::Acquire) {
                searching = self.idle.unregister(index);
                continue;
            }
            self.parkers[index].park();
            searching = self.idle.unregister(index);
        }
    }
}

/// `bound`: how many preemptions loom tries per execution (the cost grows fast).
fn run(workers: usize, pushers: usize, per_pusher: usize, bound: usize) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(bound);
    builder.check(move || {
        let model = Model::new(workers, pushers * per_pusher);
        let mut threads = Vec::new();
        for index in 0..workers {
            let model = model.clone();
            threads.push(thread::spawn(move || model.worker(index)));
        }
        for _ in 0..pushers {
            let model = model.clone();
            threads.push(thread::spawn(move || {
                for _ in 0..per_pusher {
                    model.push();
                }
            }));
        }
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(model.taken.load(Ordering::Acquire), pushers * per_pusher);
    });
}

/// One worker going to sleep while one thread pushes a task: park/unpark.
#[test]
fn loom_a_push_during_parking_wakes_the_worker() {
    run(1, 1, 1, 3);
}

/// Two tasks pushed from outside (the injector hand-off) to two workers that park:
/// while one searches, the second push wakes nobody, and still nothing is lost.
#[test]
fn loom_injector_hand_off_to_two_workers() {
    run(2, 1, 2, 2);
}

/// Two pushers at once, two workers (one preemption per execution: with two,
/// this model alone takes minutes).
#[test]
fn loom_two_pushers_two_workers() {
    run(2, 2, 1, 1);
}
