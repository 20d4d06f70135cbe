//! The workloads that `benches/runtime.rs` (current-thread runtimes),
//! `benches/threads.rs` (two workers) and the `compare` report all run, once per
//! runtime: same code, only `spawn` and `yield_now` differ.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

pub const SPAWNS: usize = 10_000;
pub const YIELD_TASKS: usize = 200;
pub const YIELDS: usize = 1_000;
pub const PING_PONGS: usize = 10_000;
pub const CHAIN: usize = 1_000;

/// Spawns `SPAWNS` tasks that finish at once, awaits them all.
pub async fn clearloop_spawn_many() -> usize {
    let tasks: Vec<_> = (0..SPAWNS)
        .map(|i| clearloop::spawn(async move { i }))
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await;
    }
    sum
}

pub async fn tokio_spawn_many() -> usize {
    let tasks: Vec<_> = (0..SPAWNS)
        .map(|i| tokio::spawn(async move { i }))
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await.unwrap();
    }
    sum
}

/// `YIELD_TASKS` tasks, each yielding `YIELDS` times.
pub async fn clearloop_yield_many() {
    let tasks: Vec<_> = (0..YIELD_TASKS)
        .map(|_| {
            clearloop::spawn(async {
                for _ in 0..YIELDS {
                    clearloop::task::yield_now().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await;
    }
}

pub async fn tokio_yield_many() {
    let tasks: Vec<_> = (0..YIELD_TASKS)
        .map(|_| {
            tokio::spawn(async {
                for _ in 0..YIELDS {
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

/// Two players take turns: each waits for its turn, passes the baton, wakes the
/// other. Only wakers, no channel: the same code runs on both runtimes.
struct Baton {
    turn: AtomicUsize,
    waiting: Mutex<[Option<Waker>; 2]>,
}

struct MyTurn<'a> {
    baton: &'a Baton,
    player: usize,
    round: usize,
}

impl Future for MyTurn<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let wanted = self.round * 2 + self.player;
        if self.baton.turn.load(Ordering::Acquire) == wanted {
            return Poll::Ready(());
        }
        self.baton.waiting.lock().unwrap()[self.player] = Some(cx.waker().clone());
        if self.baton.turn.load(Ordering::Acquire) == wanted {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

async fn play(baton: Arc<Baton>, player: usize) {
    for round in 0..PING_PONGS {
        MyTurn {
            baton: &baton,
            player,
            round,
        }
        .await;
        baton.turn.fetch_add(1, Ordering::AcqRel);
        let other = baton.waiting.lock().unwrap()[1 - player].take();
        if let Some(waker) = other {
            waker.wake();
        }
    }
}

fn new_baton() -> Arc<Baton> {
    Arc::new(Baton {
        turn: AtomicUsize::new(0),
        waiting: Mutex::new([None, None]),
    })
}

/// Two tasks pass a baton `PING_PONGS` times each.
pub async fn clearloop_ping_pong() {
    let baton = new_baton();
    let a = clearloop::spawn(play(baton.clone(), 0));
    let b = clearloop::spawn(play(baton, 1));
    a.await;
    b.await;
}

pub async fn tokio_ping_pong() {
    let baton = new_baton();
    let a = tokio::spawn(play(baton.clone(), 0));
    let b = tokio::spawn(play(baton, 1));
    a.await.unwrap();
    b.await.unwrap();
}

/// Each task spawns the next and awaits it, `left` deep.
pub fn clearloop_chain(left: usize) -> Pin<Box<dyn Future<Output = usize> + Send>> {
    Box::pin(async move {
        if left == 0 {
            0
        } else {
            clearloop::spawn(clearloop_chain(left - 1)).await + 1
        }
    })
}

pub fn tokio_chain(left: usize) -> Pin<Box<dyn Future<Output = usize> + Send>> {
    Box::pin(async move {
        if left == 0 {
            0
        } else {
            tokio::spawn(tokio_chain(left - 1)).await.unwrap() + 1
        }
    })
}
