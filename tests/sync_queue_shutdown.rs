//! `Queue::shutdown` and `shutdown_immediate`: asyncio 3.13's `q.shutdown(immediate)`.
//!
//! CPython's rules (`Lib/asyncio/queues.py`, 3.13): after `shutdown()`, `put` raises
//! `QueueShutDown` at once; `get` returns the items left, then raises; every waiting
//! putter and getter is woken. With `immediate=True` the items are dropped (each
//! counted as `task_done`) and `get` raises at once.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use clearloop::sync::{GetNowaitError, PutNowaitError, Queue, QueueShutDown};
use clearloop::time::{now, sleep};
use clearloop::{Builder, spawn};
use common::{DropFlag, counting_waker, finishes_within, poll_once, virtual_runtime};

#[test]
fn gets_drain_the_items_left_then_fail_and_puts_fail_at_once() {
    let queue = Queue::new(0);
    for item in [1, 2, 3] {
        queue.put_nowait(item).unwrap();
    }
    assert!(!queue.is_shut_down());
    queue.shutdown();
    assert!(queue.is_shut_down());
    assert_eq!(queue.put_nowait(4), Err(PutNowaitError::ShutDown(4)));
    let (waker, _) = counting_waker();
    let refused = poll_once(Box::pin(queue.checked_put(5)).as_mut(), &waker);
    assert_eq!(
        refused,
        Poll::Ready(Err(QueueShutDown(5))),
        "at once, item back"
    );
    assert_eq!(queue.get_nowait(), Ok(1));
    assert_eq!(
        poll_once(Box::pin(queue.checked_get()).as_mut(), &waker),
        Poll::Ready(Ok(2))
    );
    assert_eq!(queue.get_nowait(), Ok(3));
    assert_eq!(queue.get_nowait(), Err(GetNowaitError::ShutDown));
    assert_eq!(
        poll_once(Box::pin(queue.checked_get()).as_mut(), &waker),
        Poll::Ready(Err(QueueShutDown(())))
    );
    // Only the three items put before the shutdown were ever counted.
    assert_eq!(queue.unfinished(), 3);
    queue.shutdown(); // again: nothing changes
    assert_eq!(queue.get_nowait(), Err(GetNowaitError::ShutDown));
}

#[test]
fn every_waiting_getter_is_woken_with_the_error() {
    let queue = Queue::<u32>::new(0);
    let (waker, woken) = counting_waker();
    let mut getters: Vec<_> = (0..3).map(|_| Box::pin(queue.checked_get())).collect();
    for getter in &mut getters {
        assert!(poll_once(getter.as_mut(), &waker).is_pending());
    }
    queue.shutdown();
    assert_eq!(woken.count(), 3, "every getter is woken, none left waiting");
    for getter in &mut getters {
        assert_eq!(
            poll_once(getter.as_mut(), &waker),
            Poll::Ready(Err(QueueShutDown(())))
        );
    }
}

#[test]
fn every_waiting_putter_is_woken_with_its_item_back() {
    let queue = Queue::new(1);
    queue.put_nowait(0).unwrap();
    let (waker, woken) = counting_waker();
    let mut first = Box::pin(queue.checked_put(1));
    let mut second = Box::pin(queue.checked_put(2));
    let mut third = Box::pin(queue.checked_put(3));
    for putter in [&mut first, &mut second, &mut third] {
        assert!(poll_once(putter.as_mut(), &waker).is_pending());
    }
    // A place frees: it is promised to the first putter, which has not run yet.
    assert_eq!(queue.get_nowait(), Ok(0));
    assert_eq!(woken.count(), 1);
    queue.shutdown();
    assert_eq!(woken.count(), 3, "the two still waiting are woken too");
    // The promised place is taken back: no put succeeds after a shutdown.
    assert_eq!(
        poll_once(first.as_mut(), &waker),
        Poll::Ready(Err(QueueShutDown(1)))
    );
    assert_eq!(
        poll_once(second.as_mut(), &waker),
        Poll::Ready(Err(QueueShutDown(2)))
    );
    drop(third); // gives up instead of looking: leaves no trace
    assert_eq!(queue.get_nowait(), Err(GetNowaitError::ShutDown));
    assert_eq!(queue.unfinished(), 1, "only 0 was ever put");
}

#[test]
fn a_getter_promised_an_item_keeps_it_after_shutdown_but_not_after_shutdown_immediate() {
    for immediate in [false, true] {
        let queue = Queue::new(0);
        let (waker, _) = counting_waker();
        let mut promised = Box::pin(queue.checked_get());
        let mut waiting = Box::pin(queue.checked_get());
        assert!(poll_once(promised.as_mut(), &waker).is_pending());
        assert!(poll_once(waiting.as_mut(), &waker).is_pending());
        queue.put_nowait("a").unwrap(); // promised to the first getter
        if immediate {
            queue.shutdown_immediate();
            assert_eq!(
                poll_once(promised.as_mut(), &waker),
                Poll::Ready(Err(QueueShutDown(()))),
                "the item was dropped: the promise is void"
            );
            assert_eq!(queue.unfinished(), 0, "the dropped item counts as done");
        } else {
            queue.shutdown();
            assert_eq!(poll_once(promised.as_mut(), &waker), Poll::Ready(Ok("a")));
            assert_eq!(queue.unfinished(), 1);
        }
        assert_eq!(
            poll_once(waiting.as_mut(), &waker),
            Poll::Ready(Err(QueueShutDown(())))
        );
    }
}

#[test]
fn a_promised_getter_that_gives_up_after_shutdown_passes_its_item_on() {
    let queue = Queue::new(0);
    let (waker, _) = counting_waker();
    let mut promised = Box::pin(queue.checked_get());
    let mut waiting = Box::pin(queue.checked_get());
    assert!(poll_once(promised.as_mut(), &waker).is_pending());
    assert!(poll_once(waiting.as_mut(), &waker).is_pending());
    queue.put_nowait("a").unwrap();
    queue.shutdown();
    drop(promised); // cancelled before it took "a": the next getter gets it
    assert_eq!(poll_once(waiting.as_mut(), &waker), Poll::Ready(Ok("a")));
    assert_eq!(queue.get_nowait(), Err(GetNowaitError::ShutDown));
}

#[test]
fn shutdown_immediate_drops_the_items_counts_them_done_and_ends_join() {
    let queue = Queue::new(0);
    let flags: Vec<_> = (0..3).map(|_| Arc::new(AtomicBool::new(false))).collect();
    for flag in &flags {
        queue.put_nowait(DropFlag(flag.clone())).unwrap();
    }
    let (waker, woken) = counting_waker();
    let taken = queue.get_nowait().unwrap(); // taken, not yet done
    let mut join = Box::pin(queue.join());
    assert!(poll_once(join.as_mut(), &waker).is_pending());
    queue.shutdown_immediate();
    assert!(flags[1].load(Ordering::SeqCst) && flags[2].load(Ordering::SeqCst));
    assert!(!flags[0].load(Ordering::SeqCst), "the item taken is ours");
    assert_eq!(
        queue.unfinished(),
        1,
        "two dropped, counted done; one taken"
    );
    assert!(poll_once(join.as_mut(), &waker).is_pending());
    assert_eq!(
        queue.get_nowait().map(|_| ()),
        Err(GetNowaitError::ShutDown)
    );
    drop(taken);
    queue.task_done().unwrap();
    assert_eq!(woken.count(), 1);
    assert_eq!(poll_once(join.as_mut(), &waker), Poll::Ready(()));
}

#[test]
fn shutdown_immediate_after_shutdown_drops_what_is_left() {
    let queue = Queue::new(0);
    queue.put_nowait(1).unwrap();
    queue.put_nowait(2).unwrap();
    queue.shutdown();
    assert_eq!(queue.get_nowait(), Ok(1));
    queue.shutdown_immediate();
    assert_eq!(queue.get_nowait(), Err(GetNowaitError::ShutDown));
    assert_eq!(
        queue.unfinished(),
        1,
        "1 was taken; 2 was dropped and counted done"
    );
}

#[test]
fn get_and_put_panic_on_a_shut_down_queue_naming_the_line() {
    let queue = Queue::<u8>::new(0);
    queue.shutdown();
    let (waker, _) = counting_waker();
    let line = line!() + 1;
    let mut get = Box::pin(queue.get());
    let panic = catch_unwind(AssertUnwindSafe(|| poll_once(get.as_mut(), &waker))).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains(&format!("sync_queue_shutdown.rs:{line}")),
        "{message}"
    );
    assert!(message.contains("QueueShutDown") && message.contains("checked_get()"));
    let mut put = Box::pin(queue.put(7));
    let panic = catch_unwind(AssertUnwindSafe(|| poll_once(put.as_mut(), &waker))).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("Queue::put() at"), "{message}");
    assert!(message.contains("checked_put()"), "{message}");
}

/// One producer, three consumers on one thread: the producer's `shutdown()` ends
/// every consumer's loop once the items are drained, with no sentinel.
#[test]
fn consumers_end_their_loops_on_shutdown_on_one_thread() {
    let rt = virtual_runtime();
    let (sums, ended_at) = rt.block_on(async {
        let queue = Arc::new(Queue::new(2));
        let start = now();
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let queue = queue.clone();
                spawn(async move {
                    let mut sum = 0;
                    while let Ok(item) = queue.checked_get().await {
                        sleep(Duration::from_secs(1)).await;
                        sum += item;
                    }
                    sum
                })
            })
            .collect();
        for item in 1..=10u64 {
            queue.put(item).await;
        }
        queue.shutdown();
        assert!(queue.checked_put(11).await.is_err());
        let mut sums = Vec::new();
        for consumer in consumers {
            sums.push(consumer.await);
        }
        (sums, now() - start)
    });
    assert_eq!(
        sums.iter().sum::<u64>(),
        55,
        "every item taken once: {sums:?}"
    );
    // Ten one-second items on three consumers: 4 rounds.
    assert_eq!(ended_at, Duration::from_secs(4));
}

/// A producer on a full queue and consumers on an empty one, on two worker threads:
/// a shutdown from a third thread wakes them all. Repeated, so that the shutdown
/// lands at many points of the waiters' registration.
#[test]
fn waiters_on_other_threads_are_all_woken_by_a_shutdown() {
    finishes_within(Duration::from_secs(60), || {
        let rt = Builder::new().worker_threads(2).build();
        for round in 0..200 {
            let outcome = rt.block_on(async {
                let full = Arc::new(Queue::new(1));
                full.put_nowait(0u32).unwrap();
                let empty = Arc::new(Queue::<u32>::new(0));
                let refused = Arc::new(AtomicUsize::new(0));
                let mut tasks = Vec::new();
                for _ in 0..3 {
                    let (full, empty, refused) = (full.clone(), empty.clone(), refused.clone());
                    tasks.push(spawn(async move {
                        if full.checked_put(1).await.is_err() {
                            refused.fetch_add(1, Ordering::SeqCst);
                        }
                        if empty.checked_get().await.is_err() {
                            refused.fetch_add(1, Ordering::SeqCst);
                        }
                    }));
                }
                let shutter = {
                    let (full, empty) = (full.clone(), empty.clone());
                    std::thread::spawn(move || {
                        full.shutdown();
                        empty.shutdown();
                    })
                };
                for task in tasks {
                    task.await;
                }
                shutter.join().unwrap();
                refused.load(Ordering::SeqCst)
            });
            assert_eq!(outcome, 6, "round {round}: every put and get was refused");
        }
    });
}

/// Consumers on two worker threads drain what was put before the shutdown, and
/// stop: no item lost, none taken twice.
#[test]
fn consumers_on_two_threads_drain_then_stop() {
    finishes_within(Duration::from_secs(60), || {
        let rt = Builder::new().worker_threads(2).build();
        let total = rt.block_on(async {
            let queue = Arc::new(Queue::new(8));
            let sum = Arc::new(AtomicUsize::new(0));
            let consumers: Vec<_> = (0..4)
                .map(|_| {
                    let (queue, sum) = (queue.clone(), sum.clone());
                    spawn(async move {
                        while let Ok(item) = queue.checked_get().await {
                            sum.fetch_add(item, Ordering::SeqCst);
                        }
                    })
                })
                .collect();
            for item in 1..=1_000 {
                queue.put(item).await;
            }
            queue.shutdown();
            for consumer in consumers {
                consumer.await;
            }
            sum.load(Ordering::SeqCst)
        });
        assert_eq!(total, 1_000 * 1_001 / 2);
    });
}
