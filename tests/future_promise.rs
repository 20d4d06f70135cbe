//! `Promise`, asyncio's `Future`: set once from a task or a thread, awaited by many,
//! with an error or a cancellation, on the virtual clock.

use std::sync::Arc;
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::future::{Promise, PromiseError};
use clearloop::time::{now, sleep};
use clearloop::{Builder, Runtime, spawn};

fn virtual_runtime() -> Runtime {
    Builder::new().clock(Clock::virtual_clock()).build()
}

#[test]
fn set_from_another_thread_wakes_every_waiter() {
    for runtime in [
        virtual_runtime(),
        Builder::new()
            .clock(Clock::virtual_clock())
            .worker_threads(2)
            .build(),
    ] {
        let results = runtime.block_on(async {
            let promise: Promise<String> = Promise::new();
            let waiters: Vec<_> = (0..3)
                .map(|_| {
                    let promise = promise.clone();
                    spawn(async move { promise.wait().await })
                })
                .collect();
            // Let the three tasks register before the thread sets the value.
            clearloop::task::yield_now().await;
            let setter = promise.clone();
            let thread = std::thread::spawn(move || setter.set_result("hello".to_string()));
            let mut results = Vec::new();
            for waiter in waiters {
                results.push(waiter.await.unwrap());
            }
            thread.join().unwrap().unwrap();
            assert!(promise.done());
            assert_eq!(promise.result().unwrap(), "hello");
            results
        });
        assert_eq!(results, ["hello", "hello", "hello"]);
    }
}

#[test]
fn waiters_resume_when_the_value_is_set_at_a_virtual_time() {
    let runtime = virtual_runtime();
    let woken_at = runtime.block_on(async {
        let start = now();
        let promise = Promise::new();
        let waiter = {
            let promise = promise.clone();
            spawn(async move {
                let value = promise.wait().await.unwrap();
                (value, now() - start)
            })
        };
        sleep(Duration::from_secs(2)).await;
        assert_eq!(promise.waiting(), 1);
        promise.set_result(7u8).unwrap();
        waiter.await
    });
    assert_eq!(woken_at, (7, Duration::from_secs(2)));
}

#[derive(Debug)]
struct DiskFull;
impl std::fmt::Display for DiskFull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("disk full")
    }
}
impl std::error::Error for DiskFull {}

#[test]
fn an_exception_reaches_every_waiter_and_keeps_its_type() {
    let runtime = virtual_runtime();
    let promise: Promise<u32> = Promise::new();
    let errors = runtime.block_on({
        let promise = promise.clone();
        async move {
            let a = spawn({
                let p = promise.clone();
                async move { p.wait().await }
            });
            let b = spawn({
                let p = promise.clone();
                async move { p.wait().await }
            });
            sleep(Duration::from_millis(5)).await;
            promise.set_exception(DiskFull).unwrap();
            [a.await.unwrap_err(), b.await.unwrap_err()]
        }
    });
    for error in errors {
        let PromiseError::Exception(exception) = &error else {
            panic!("expected the exception, got {error:?}");
        };
        assert!(exception.downcast_ref::<DiskFull>().is_some());
        assert_eq!(error.to_string(), "the promise failed: disk full");
    }
    // Set once: a second set is an error that names the call.
    let again = promise.set_result(1).unwrap_err();
    assert_eq!(
        again.to_string(),
        "Promise::set_result(): the promise is already done (set, failed or cancelled); \
         a promise is set only once"
    );
    assert!(
        !promise.cancel(),
        "cancel() on a done promise changes nothing"
    );
    assert!(!promise.cancelled());
    // A plain string is an exception too.
    let p: Promise<()> = Promise::new();
    p.set_exception("no route").unwrap();
    assert_eq!(
        p.result().unwrap_err().to_string(),
        "the promise failed: no route"
    );
}

#[test]
fn cancel_reaches_the_waiters_and_result_does_not_wait() {
    let runtime = virtual_runtime();
    let outcome = runtime.block_on(async {
        let promise: Promise<Arc<Vec<u8>>> = Promise::new();
        assert!(matches!(promise.result(), Err(PromiseError::NotDone)));
        let waiter = {
            let p = promise.clone();
            spawn(async move { p.wait().await })
        };
        sleep(Duration::from_secs(1)).await;
        assert!(promise.cancel());
        assert!(promise.cancelled() && promise.done());
        assert!(promise.set_result(Arc::new(vec![])).is_err());
        waiter.await
    });
    assert!(matches!(outcome, Err(PromiseError::Cancelled)));
}

#[test]
fn a_dropped_waiter_leaves_the_list() {
    let runtime = virtual_runtime();
    runtime.block_on(async {
        let promise: Promise<u8> = Promise::new();
        let gave_up = clearloop::timeout(Duration::from_secs(1), promise.wait()).await;
        assert!(gave_up.is_err());
        assert_eq!(promise.waiting(), 0);
        promise.set_result(3).unwrap();
        assert_eq!(
            promise.wait().await.unwrap(),
            3,
            "done: wait() returns at once"
        );
    });
}
