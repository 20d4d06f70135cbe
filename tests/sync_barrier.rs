//! `Barrier` (asyncio.Barrier) on the virtual clock: three parties over two rounds,
//! arrival indices, abort, reset, and a waiter that gives up.

use std::sync::Arc;
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::sync::{Barrier, BrokenBarrierError};
use clearloop::time::{now, sleep};
use clearloop::{Builder, spawn};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn three_parties_over_two_rounds() {
    let runtime = Builder::new().clock(Clock::virtual_clock()).build();
    let mut log = runtime.block_on(async {
        let start = now();
        let barrier = Arc::new(Barrier::new(3));
        // Party p arrives after p+1 s in round 1, and after 3-p s in round 2.
        let parties: Vec<_> = (0..3u64)
            .map(|p| {
                let barrier = barrier.clone();
                spawn(async move {
                    let mut seen = Vec::new();
                    for (round, delay) in [(1, p + 1), (2, 3 - p)] {
                        sleep(secs(delay)).await;
                        let index = barrier.wait().await.unwrap();
                        seen.push((round, p, index, (now() - start).as_secs()));
                    }
                    seen
                })
            })
            .collect();
        sleep(Duration::from_millis(2500)).await;
        assert_eq!(barrier.n_waiting(), 2, "parties 0 and 1 wait for party 2");
        let mut log = Vec::new();
        for party in parties {
            log.extend(party.await);
        }
        assert_eq!(barrier.n_waiting(), 0);
        assert_eq!(barrier.parties(), 3);
        log
    });
    log.sort();
    // (round, party, arrival index, released at): round 1 at t = 3 s, in arrival
    // order 0, 1, 2; round 2 arrives in the other order and ends at 3 + 3 = 6 s.
    assert_eq!(
        log,
        [
            (1, 0, 0, 3),
            (1, 1, 1, 3),
            (1, 2, 2, 3),
            (2, 0, 2, 6),
            (2, 1, 1, 6),
            (2, 2, 0, 6),
        ]
    );
}

#[test]
fn abort_breaks_the_waiters_and_later_waits_until_reset() {
    let runtime = Builder::new().clock(Clock::virtual_clock()).build();
    runtime.block_on(async {
        let barrier = Arc::new(Barrier::new(3));
        let waiter = {
            let barrier = barrier.clone();
            spawn(async move { barrier.wait().await })
        };
        sleep(secs(1)).await;
        assert_eq!(barrier.n_waiting(), 1);
        barrier.abort();
        assert!(barrier.broken());
        assert_eq!(waiter.await, Err(BrokenBarrierError));
        assert_eq!(
            barrier.wait().await,
            Err(BrokenBarrierError),
            "broken at arrival"
        );
        assert!(
            BrokenBarrierError.to_string().contains("call reset()"),
            "{BrokenBarrierError}"
        );
        barrier.reset();
        assert!(!barrier.broken());
        // Usable again: a full round.
        let a = spawn({
            let b = barrier.clone();
            async move { b.wait().await }
        });
        let c = spawn({
            let b = barrier.clone();
            async move { b.wait().await }
        });
        // This task arrives first (the spawned ones have not run yet): index 0.
        assert_eq!(barrier.wait().await, Ok(0));
        assert_eq!((a.await, c.await), (Ok(1), Ok(2)));
    });
}

#[test]
fn reset_breaks_the_current_round_only() {
    let runtime = Builder::new().clock(Clock::virtual_clock()).build();
    runtime.block_on(async {
        let barrier = Arc::new(Barrier::new(2));
        let waiter = {
            let barrier = barrier.clone();
            spawn(async move { barrier.wait().await })
        };
        sleep(secs(1)).await;
        barrier.reset();
        assert_eq!(waiter.await, Err(BrokenBarrierError));
        assert!(!barrier.broken(), "reset leaves the barrier usable");
        let other = {
            let barrier = barrier.clone();
            spawn(async move { barrier.wait().await })
        };
        assert_eq!(barrier.wait().await, Ok(0));
        assert_eq!(other.await, Ok(1));
    });
}

#[test]
fn a_waiter_that_gives_up_leaves_the_round() {
    let runtime = Builder::new().clock(Clock::virtual_clock()).build();
    runtime.block_on(async {
        let barrier = Barrier::new(2);
        let gave_up = clearloop::timeout(secs(1), barrier.wait()).await;
        assert!(gave_up.is_err());
        assert_eq!(barrier.n_waiting(), 0, "the round needs two arrivals again");
        let barrier = Arc::new(barrier);
        let other = {
            let barrier = barrier.clone();
            spawn(async move { barrier.wait().await })
        };
        assert_eq!(barrier.wait().await, Ok(0));
        assert_eq!(other.await, Ok(1));
    });
}

#[test]
#[should_panic(expected = "Barrier::new(0): a barrier needs at least one party")]
fn zero_parties_is_refused() {
    let _ = Barrier::new(0);
}
