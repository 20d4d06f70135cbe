//! The async Mutex (asyncio.Lock): FIFO order, guards, cancellation before and
//! after the lock was handed over. Modelled on CPython's `test_locks.py`.

mod common;

use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::time::Duration;

use clearloop::sync::{Mutex, MutexGuard};
use clearloop::time::sleep;
use common::{counting_waker, poll_once, virtual_runtime};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn mutex_and_guard_are_send_and_sync() {
    assert_send_sync::<Mutex<Vec<u8>>>();
    assert_send_sync::<MutexGuard<'static, Vec<u8>>>();
    // Send even for a T that is Send but not Sync, as std::sync::Mutex.
    assert_send_sync::<Mutex<std::cell::Cell<u8>>>();
}

#[test]
fn waiters_get_the_lock_in_the_order_they_asked() {
    let rt = virtual_runtime();
    let order = Arc::new(StdMutex::new(Vec::new()));
    rt.block_on(async {
        let lock = Arc::new(Mutex::new(()));
        let held = lock.lock().await;
        let mut tasks = Vec::new();
        for i in 0..5 {
            let (lock, order) = (lock.clone(), order.clone());
            tasks.push(clearloop::spawn(async move {
                let _guard = lock.lock().await;
                order.lock().unwrap().push(i);
                sleep(Duration::from_millis(10)).await; // hold it across an await
            }));
            clearloop::task::yield_now().await; // let task i queue up before i + 1
        }
        assert_eq!(lock.waiting(), 5);
        drop(held);
        for task in tasks {
            task.await;
        }
        assert!(!lock.locked());
    });
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
}

#[test]
fn both_forms_of_the_course_update_shared_state() {
    let rt = virtual_runtime();
    let total = rt.block_on(async {
        let counter = Arc::new(Mutex::new(0u64));
        let mut tasks = Vec::new();
        for i in 0..10 {
            let counter = counter.clone();
            tasks.push(clearloop::spawn(async move {
                if i % 2 == 0 {
                    // async with lock:
                    let mut n = counter.lock().await;
                    let seen = *n;
                    sleep(Duration::from_millis(1)).await; // a race without the lock
                    *n = seen + 1;
                } else {
                    // await lock.acquire(); try: ... finally: lock.release()
                    let mut n = counter.lock().await;
                    let seen = *n;
                    sleep(Duration::from_millis(1)).await;
                    *n = seen + 1;
                    n.unlock();
                }
            }));
        }
        for task in tasks {
            task.await;
        }
        *counter.lock().await
    });
    assert_eq!(total, 10, "every increment must survive");
}

#[test]
fn a_panic_while_holding_the_guard_releases_the_lock() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let lock = Arc::new(Mutex::new(1));
        let task = {
            let lock = lock.clone();
            clearloop::spawn(async move {
                let _guard = lock.lock().await;
                panic!("boom while holding the lock");
            })
        };
        let error = task.join().await.unwrap_err();
        assert!(error.is_panic());
        assert!(!lock.locked(), "the guard was dropped during unwinding");
        assert_eq!(*lock.lock().await, 1);
    });
}

#[test]
fn a_waiter_cancelled_before_being_served_leaves_no_trace() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let lock = Arc::new(Mutex::new(()));
        let held = lock.lock().await;
        let waiter = {
            let lock = lock.clone();
            clearloop::spawn(async move {
                let _guard = lock.lock().await;
            })
        };
        clearloop::task::yield_now().await;
        assert_eq!(lock.waiting(), 1);
        waiter.cancel();
        let error = waiter.join().await.unwrap_err();
        assert!(error.is_cancelled());
        assert_eq!(lock.waiting(), 0);
        drop(held);
        assert!(!lock.locked(), "nobody was left to hand the lock to");
    });
}

#[test]
fn a_waiter_cancelled_after_being_served_hands_the_lock_on() {
    let lock = Mutex::new(());
    let (waker, counter) = counting_waker();
    let held = lock.try_lock().unwrap();
    let mut first = Box::pin(lock.lock());
    let mut second = Box::pin(lock.lock());
    assert!(poll_once(first.as_mut(), &waker).is_pending());
    assert!(poll_once(second.as_mut(), &waker).is_pending());

    drop(held); // the lock goes to `first`, which is woken but has not run yet
    assert_eq!(counter.count(), 1);
    assert!(lock.locked(), "handed over, not released");
    assert!(lock.try_lock().is_err(), "a newcomer cannot overtake");

    drop(first); // cancelled after being served: hands it to `second`
    assert_eq!(counter.count(), 2);
    let guard = match poll_once(second.as_mut(), &waker) {
        std::task::Poll::Ready(guard) => guard,
        std::task::Poll::Pending => panic!("second should own the lock now"),
    };
    drop(guard);
    assert!(!lock.locked());
    assert!(lock.try_lock().is_ok());
}

#[test]
fn try_lock_fails_while_others_wait_and_says_why() {
    let lock = Mutex::new(5);
    let (waker, _) = counting_waker();
    let held = lock.try_lock().unwrap();
    let mut waiter = Box::pin(lock.lock());
    assert!(poll_once(waiter.as_mut(), &waker).is_pending());
    let error = lock.try_lock().unwrap_err();
    assert!(error.to_string().contains("lock()"), "{error}");
    assert_eq!(format!("{lock:?}"), "Mutex { data: <locked> }");
    drop(held);
    drop(waiter);
    assert_eq!(format!("{lock:?}"), "Mutex { data: 5 }");
}

#[test]
fn get_mut_and_into_inner_need_no_lock() {
    let mut lock = Mutex::new(vec![1]);
    lock.get_mut().push(2);
    assert_eq!(lock.into_inner(), [1, 2]);
}
