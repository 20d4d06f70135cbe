//! Local tasks (`spawn_local`, issue 12 item 5) and `Handle::current` (item 6), on
//! the virtual clock.

mod common;
use common::virtual_runtime;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::future::Promise;
use clearloop::time::{now, sleep};
use clearloop::{Builder, Handle, spawn, spawn_local, to_thread};

#[test]
fn local_tasks_share_an_rc_refcell_counter() {
    virtual_runtime().block_on(async {
        let start = now();
        let counter = Rc::new(RefCell::new(0));
        let tasks: Vec<_> = (1..=3)
            .map(|i| {
                let counter = counter.clone();
                spawn_local(async move {
                    sleep(Duration::from_secs(i)).await;
                    *counter.borrow_mut() += 1;
                    (now() - start).as_secs()
                })
            })
            .collect();
        let mut finished_at = Vec::new();
        for task in tasks {
            finished_at.push(task.await);
        }
        assert_eq!(finished_at, vec![1, 2, 3]);
        assert_eq!(*counter.borrow(), 3);
        assert_eq!(
            Rc::strong_count(&counter),
            1,
            "the tasks' futures were dropped"
        );
    });
}

#[test]
fn a_local_task_can_spawn_local_tasks_and_be_cancelled() {
    virtual_runtime().block_on(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let inner_log = log.clone();
        let outer = spawn_local(async move {
            let log = inner_log.clone();
            spawn_local(async move {
                sleep(Duration::from_secs(5)).await;
                log.borrow_mut().push("inner done");
            })
            .await;
        });
        sleep(Duration::from_secs(1)).await;
        outer.cancel();
        assert!(outer.join().await.unwrap_err().is_cancelled());
        sleep(Duration::from_secs(10)).await;
        assert!(
            log.borrow().is_empty(),
            "the awaited local task was cancelled too"
        );
        assert_eq!(Rc::strong_count(&log), 1);
    });
}

#[test]
fn dropping_the_runtime_cancels_local_tasks() {
    let runtime = virtual_runtime();
    let shared = Rc::new(RefCell::new(0));
    let task = runtime.block_on({
        let shared = shared.clone();
        async move {
            // Handed out of block_on unawaited (detached), to look at after the drop.
            let task = spawn_local(async move {
                sleep(Duration::from_secs(100)).await;
                *shared.borrow_mut() += 1;
            });
            Some(task)
        }
    });
    let task = task.unwrap();
    assert_eq!(Rc::strong_count(&shared), 2, "the local task holds its Rc");
    drop(runtime);
    assert_eq!(
        Rc::strong_count(&shared),
        1,
        "its future was dropped with the runtime"
    );
    assert!(task.cancelled());
    assert_eq!(*shared.borrow(), 0);
}

#[test]
fn a_local_task_woken_from_another_thread_still_runs() {
    virtual_runtime().block_on(async {
        let promise = Promise::new();
        let setter = promise.clone();
        let here = Rc::new(RefCell::new(None));
        let seen = here.clone();
        let task = spawn_local(async move {
            let value = promise.wait().await.unwrap();
            *seen.borrow_mut() = Some(value);
        });
        // The local task runs first and waits: the wake-up comes from the thread.
        clearloop::task::yield_now().await;
        assert_eq!(promise_waiting(&setter), 1);
        std::thread::spawn(move || setter.set_result(7).unwrap())
            .join()
            .unwrap();
        task.await;
        assert_eq!(*here.borrow(), Some(7));
    });
}

#[test]
#[should_panic(expected = "spawn_local() was called outside a clearloop runtime")]
fn spawn_local_outside_a_runtime_says_so() {
    drop(spawn_local(async {}));
}

#[test]
fn spawn_local_on_a_worker_runtime_says_what_to_do() {
    let runtime = Builder::new()
        .clock(Clock::virtual_clock())
        .worker_threads(2)
        .build();
    let task = runtime.spawn(async {
        drop(spawn_local(async {}));
    });
    let error = runtime.block_on(task.join()).unwrap_err();
    let message = error.panic_message().unwrap();
    assert!(
        message.contains("spawn_local() was called on a multi-threaded runtime"),
        "{message}"
    );
    assert!(message.contains("Arc<Mutex<_>>"), "{message}");
}

#[test]
fn handle_current_lets_a_thread_spawn_onto_the_loop_and_block_on_the_result() {
    virtual_runtime().block_on(async {
        let ran_on_loop = Arc::new(AtomicBool::new(false));
        let flag = ran_on_loop.clone();
        let handle = Handle::current();
        let loop_thread = std::thread::current().id();
        let answer = std::thread::spawn(move || {
            assert!(Handle::try_current().is_none(), "a new thread runs no loop");
            let task = handle.spawn(async move {
                flag.store(std::thread::current().id() == loop_thread, Ordering::SeqCst);
                6 * 7
            });
            // asyncio: run_coroutine_threadsafe(coro, loop).result()
            clearloop::run(task)
        });
        // Let the loop run while the thread waits for its task.
        let answer = to_thread(move || answer.join().unwrap()).await.unwrap();
        assert_eq!(answer, 42);
        assert!(
            ran_on_loop.load(Ordering::SeqCst),
            "the task ran on the loop's thread"
        );
    });
}

#[test]
#[should_panic(expected = "Handle::current() was called outside a clearloop runtime")]
fn handle_current_outside_a_runtime_panics_with_a_clear_message() {
    let _ = Handle::current();
}

#[test]
fn handle_try_current_inside_a_task_and_outside() {
    assert!(Handle::try_current().is_none());
    virtual_runtime().block_on(async {
        let task = spawn(async { Handle::try_current().is_some() });
        assert!(task.await);
    });
}

fn promise_waiting(promise: &Promise<i32>) -> usize {
    promise.waiting()
}
