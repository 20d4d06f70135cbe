//! Event (asyncio.Event) and Condition (asyncio.Condition).

mod common;

use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::task::Poll;
use std::time::Duration;

use clearloop::sync::{Condition, Event, Mutex};
use clearloop::task::yield_now;
use clearloop::time::{now, sleep};
use common::{counting_waker, poll_once, virtual_runtime};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn event_and_condition_are_send_and_sync() {
    assert_send_sync::<Event>();
    assert_send_sync::<Condition>();
    assert_send_sync::<clearloop::sync::EventWait<'static>>();
}

#[test]
fn set_wakes_every_waiter() {
    let rt = virtual_runtime();
    let woke = Arc::new(StdMutex::new(Vec::new()));
    rt.block_on(async {
        let event = Arc::new(Event::new());
        let start = now();
        let tasks: Vec<_> = (0..5)
            .map(|i| {
                let (event, woke) = (event.clone(), woke.clone());
                clearloop::spawn(async move {
                    event.wait().await;
                    woke.lock().unwrap().push((i, now() - start));
                })
            })
            .collect();
        sleep(Duration::from_secs(1)).await;
        assert!(
            woke.lock().unwrap().is_empty(),
            "nobody passes before set()"
        );
        event.set();
        for task in tasks {
            task.await;
        }
        // Once set, wait() does not wait.
        event.wait().await;
    });
    let woke = woke.lock().unwrap();
    assert_eq!(woke.len(), 5);
    assert!(woke.iter().all(|&(_, at)| at == Duration::from_secs(1)));
}

#[test]
fn a_waiter_served_by_set_returns_even_if_clear_came_first() {
    let event = Event::new();
    let (waker, counter) = counting_waker();
    let mut wait = Box::pin(event.wait());
    assert!(poll_once(wait.as_mut(), &waker).is_pending());
    event.set();
    event.clear();
    assert_eq!(counter.count(), 1);
    assert_eq!(poll_once(wait.as_mut(), &waker), Poll::Ready(()));
    // A new wait() after clear() waits again.
    let mut again = Box::pin(event.wait());
    assert!(poll_once(again.as_mut(), &waker).is_pending());
}

#[test]
fn a_dropped_event_wait_leaves_no_trace() {
    let event = Event::new();
    let (waker, counter) = counting_waker();
    let mut wait = Box::pin(event.wait());
    assert!(poll_once(wait.as_mut(), &waker).is_pending());
    drop(wait);
    event.set();
    assert_eq!(counter.count(), 0, "a dropped waiter is not woken");
}

#[test]
fn notify_n_wakes_exactly_n_oldest_first() {
    let rt = virtual_runtime();
    let woke = Arc::new(StdMutex::new(Vec::new()));
    rt.block_on(async {
        let cond = Arc::new(Condition::new());
        let lock = Arc::new(Mutex::new(()));
        let tasks: Vec<_> = (0..5)
            .map(|i| {
                let (cond, lock, woke) = (cond.clone(), lock.clone(), woke.clone());
                clearloop::spawn(async move {
                    let guard = lock.lock().await;
                    let _guard = cond.wait(guard).await;
                    woke.lock().unwrap().push(i);
                })
            })
            .collect();
        for _ in 0..3 {
            yield_now().await;
        }
        assert_eq!(cond.waiting(), 5);
        assert_eq!(cond.notify(2), 2);
        sleep(Duration::from_secs(1)).await;
        assert_eq!(*woke.lock().unwrap(), [0, 1]);
        assert_eq!(cond.waiting(), 3);
        assert_eq!(cond.notify_all(), 3);
        for task in tasks {
            task.await;
        }
        assert_eq!(cond.notify(1), 0, "nobody left");
    });
    assert_eq!(*woke.lock().unwrap(), [0, 1, 2, 3, 4]);
}

#[test]
fn wait_for_rechecks_the_predicate_under_the_lock() {
    let rt = virtual_runtime();
    let got = rt.block_on(async {
        let cond = Arc::new(Condition::new());
        let items = Arc::new(Mutex::new(Vec::new()));
        let consumer = {
            let (cond, items) = (cond.clone(), items.clone());
            clearloop::spawn(async move {
                let guard = items.lock().await;
                let mut guard = cond.wait_for(guard, |v: &mut Vec<u32>| v.len() >= 3).await;
                std::mem::take(&mut *guard)
            })
        };
        for i in 0..3 {
            sleep(Duration::from_millis(10)).await;
            items.lock().await.push(i);
            cond.notify(1); // wakes the consumer each time; only the third satisfies it
        }
        consumer.await
    });
    assert_eq!(got, [0, 1, 2]);
}

#[test]
fn a_notified_waiter_that_is_dropped_passes_the_notification_on() {
    let cond = Condition::new();
    let lock = Mutex::new(());
    let (waker, _) = counting_waker();
    let mut first = Box::pin(cond.wait(lock.try_lock().unwrap()));
    assert!(poll_once(first.as_mut(), &waker).is_pending());
    let mut second = Box::pin(cond.wait(lock.try_lock().unwrap()));
    assert!(poll_once(second.as_mut(), &waker).is_pending());
    assert!(!lock.locked(), "wait() let go of the lock");

    assert_eq!(cond.notify(1), 1); // first is served...
    drop(first); // ...but gives up before it runs: second gets the notification
    assert_eq!(cond.waiting(), 0);
    assert!(poll_once(second.as_mut(), &waker).is_ready());
}

#[test]
fn a_waiter_dropped_while_waiting_for_the_lock_again_passes_the_notification_on() {
    let cond = Condition::new();
    let lock = Mutex::new(());
    let (waker, _) = counting_waker();
    let mut first = Box::pin(cond.wait(lock.try_lock().unwrap()));
    assert!(poll_once(first.as_mut(), &waker).is_pending());
    let mut second = Box::pin(cond.wait(lock.try_lock().unwrap()));
    assert!(poll_once(second.as_mut(), &waker).is_pending());

    let held = lock.try_lock().unwrap();
    cond.notify(1);
    // first was notified and now waits for the lock, which `held` has.
    assert!(poll_once(first.as_mut(), &waker).is_pending());
    assert_eq!(cond.waiting(), 1);
    drop(first); // cancelled while re-locking: second is notified in its place
    assert_eq!(cond.waiting(), 0);
    drop(held);
    assert!(poll_once(second.as_mut(), &waker).is_ready());
}

#[test]
fn the_futures_of_lock_wait_and_wait_for_are_send() {
    // Spawned tasks must be Send: a task awaiting these may move between threads.
    fn assert_send<T: Send>(_: &T) {}
    let lock = Mutex::new(0u32);
    let cond = Condition::new();
    assert_send(&lock.lock());
    assert_send(&cond.wait(lock.try_lock().unwrap()));
    assert_send(&cond.wait_for(lock.try_lock().unwrap(), |n| *n > 0));
}
