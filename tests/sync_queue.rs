//! Queue, LifoQueue, PriorityQueue (asyncio.Queue and friends).

mod common;

use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::task::Poll;
use std::time::Duration;

use clearloop::sync::{GetNowaitError, PutNowaitError, Queue, TaskDoneError};
use clearloop::time::{now, sleep};
use common::{counting_waker, poll_once, virtual_runtime};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn queues_are_send_and_sync() {
    assert_send_sync::<Queue<String>>();
    assert_send_sync::<clearloop::sync::LifoQueue<String>>();
    assert_send_sync::<clearloop::sync::PriorityQueue<String>>();
    // Only `T: Send` is needed, as for std::sync::Mutex<T>.
    assert_send_sync::<Queue<std::cell::Cell<u8>>>();
}

#[test]
fn full_and_empty_errors() {
    let queue = Queue::new(1);
    assert!(queue.empty());
    assert_eq!(queue.get_nowait(), Err(GetNowaitError::Empty));
    queue.put_nowait(1).unwrap();
    assert!(queue.full());
    let full = queue.put_nowait(2).unwrap_err();
    assert_eq!(full, PutNowaitError::Full(2));
    assert!(full.to_string().contains("put()"), "{full}");
    assert_eq!(full.into_inner(), 2);
    assert_eq!(queue.qsize(), 1);
    assert!(GetNowaitError::Empty.to_string().contains("get()"));
    let unbounded = Queue::new(0);
    for i in 0..10_000 {
        unbounded.put_nowait(i).unwrap();
    }
    assert!(!unbounded.full(), "maxsize 0 means no limit");
}

#[test]
fn lifo_and_priority_orders() {
    let lifo = Queue::lifo(0);
    let prio = Queue::priority(0);
    for x in [3, 1, 2] {
        lifo.put_nowait(x).unwrap();
        prio.put_nowait((x, "job")).unwrap();
    }
    let lifo_order: Vec<_> = std::iter::from_fn(|| lifo.get_nowait().ok()).collect();
    let prio_order: Vec<_> = std::iter::from_fn(|| prio.get_nowait().ok().map(|p| p.0)).collect();
    assert_eq!(lifo_order, [2, 1, 3]);
    assert_eq!(prio_order, [1, 2, 3]);
}

#[test]
fn join_returns_after_every_task_done() {
    let rt = virtual_runtime();
    let (joined_at, processed) = rt.block_on(async {
        let queue = Arc::new(Queue::new(2));
        let processed = Arc::new(StdMutex::new(Vec::new()));
        let start = now();
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (queue, processed) = (queue.clone(), processed.clone());
                clearloop::spawn(async move {
                    loop {
                        let job: u64 = queue.get().await;
                        sleep(Duration::from_secs(job)).await;
                        processed.lock().unwrap().push(job);
                        queue.task_done().unwrap();
                    }
                })
            })
            .collect();
        for job in [1, 2, 1, 2] {
            queue.put(job).await; // waits when two are queued
        }
        queue.join().await;
        let joined_at = now() - start;
        for worker in workers {
            worker.cancel();
        }
        assert_eq!(queue.unfinished(), 0);
        (joined_at, processed.lock().unwrap().clone())
    });
    let mut sorted = processed.clone();
    sorted.sort();
    assert_eq!(sorted, [1, 1, 2, 2]);
    // Worker A takes 1 (0..1 s), then 1 (1..2 s), then 2 (2..4 s); worker B takes
    // the first 2 (0..2 s). The last task_done() comes at 4 s.
    assert_eq!(joined_at, Duration::from_secs(4));
}

#[test]
fn join_waits_for_task_done_not_for_get() {
    let queue = Queue::new(0);
    let (waker, counter) = counting_waker();
    assert!(poll_once(Box::pin(queue.join()).as_mut(), &waker).is_ready());
    queue.put_nowait("x").unwrap();
    let mut join = Box::pin(queue.join());
    assert!(poll_once(join.as_mut(), &waker).is_pending());
    queue.get_nowait().unwrap();
    assert!(
        poll_once(join.as_mut(), &waker).is_pending(),
        "taken, not done"
    );
    queue.task_done().unwrap();
    assert_eq!(counter.count(), 1);
    assert_eq!(poll_once(join.as_mut(), &waker), Poll::Ready(()));
    assert_eq!(queue.task_done(), Err(TaskDoneError));
    assert!(TaskDoneError.to_string().contains("more times"));
}

#[test]
fn getters_are_served_in_order_and_a_dropped_getter_passes_its_item_on() {
    let queue = Queue::new(0);
    let (waker, _) = counting_waker();
    let mut first = Box::pin(queue.get());
    let mut second = Box::pin(queue.get());
    assert!(poll_once(first.as_mut(), &waker).is_pending());
    assert!(poll_once(second.as_mut(), &waker).is_pending());
    queue.put_nowait("a").unwrap(); // promised to first
    assert_eq!(
        queue.get_nowait(),
        Err(GetNowaitError::Empty),
        "a newcomer cannot take it"
    );
    drop(first); // gives up: the promise goes to second
    assert_eq!(poll_once(second.as_mut(), &waker), Poll::Ready("a"));
    assert!(queue.empty());
}

#[test]
fn putters_wait_for_a_place_and_a_dropped_putter_passes_it_on() {
    let queue = Queue::new(1);
    let (waker, _) = counting_waker();
    queue.put_nowait(0).unwrap();
    let mut first = Box::pin(queue.put(1));
    let mut second = Box::pin(queue.put(2));
    assert!(poll_once(first.as_mut(), &waker).is_pending());
    assert!(poll_once(second.as_mut(), &waker).is_pending());
    assert_eq!(queue.get_nowait(), Ok(0)); // a place, promised to first
    assert!(queue.put_nowait(9).is_err(), "a newcomer cannot take it");
    drop(first); // gives up (its item 1 is dropped): the place goes to second
    assert!(poll_once(second.as_mut(), &waker).is_ready());
    assert_eq!(queue.get_nowait(), Ok(2));
    assert_eq!(queue.unfinished(), 2, "0 and 2 were put; 1 never was");
}
