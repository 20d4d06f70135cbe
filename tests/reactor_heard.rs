//! No readiness waits for somebody's patience: the loop that owns a socket hears it
//! itself, while its tasks stay ready on one thread, and on two workers whose
//! driver went to sleep before the first socket existed.
//!
//! Each test counts *who* woke the waiting task, or *how many polls* it took, never
//! real time: a timer-based hand-off (a thread that steps in after 10 ms) shows up
//! as thousands of polls, or as a wake from a thread that is not the runtime's.

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clearloop::net::TcpListener;
use clearloop::task::yield_now;
use clearloop::{Builder, Runtime, spawn};

mod common;

/// At most this many polls of a task that yields go by between the moment a
/// socket turns readable and the moment its task is woken: the loop looks at its
/// selector every 61 polls.
const POLLS_UNHEARD: usize = 2 * 61;

#[test]
fn a_task_that_stays_ready_does_not_keep_a_socket_unheard_on_one_thread() {
    Runtime::new().block_on(async {
        for round in 0..20 {
            let (mut ours, mut theirs) = common::stream_pair();
            let heard = Arc::new(AtomicBool::new(false));
            let reader = {
                let heard = heard.clone();
                spawn(async move {
                    let mut byte = [0; 1];
                    ours.read_exact(&mut byte).await.unwrap();
                    heard.store(true, Ordering::SeqCst);
                })
            };
            // The reader runs once, finds nothing and waits in the reactor.
            yield_now().await;
            // A task that never waits: the loop's ready queue never empties, so
            // step 4 (the wait on the selector) is never reached.
            let yielder = {
                let heard = heard.clone();
                spawn(async move {
                    let mut polls = 0;
                    while !heard.load(Ordering::SeqCst) {
                        polls += 1;
                        yield_now().await;
                    }
                    polls
                })
            };
            // Readable at once: a Unix socket pair delivers within the write.
            theirs.write_all(b"x").await.unwrap();
            let polls = yielder.await;
            reader.await;
            assert!(
                polls <= POLLS_UNHEARD,
                "round {round}: the readable socket went unheard for {polls} polls"
            );
        }
    });
}

#[test]
fn two_workers_hear_a_server_spawned_as_a_task_themselves() {
    const ROUNDS: usize = 50;
    const ACCEPTS: usize = 100;
    // Fresh runtimes: the fault showed in most, not all, of them.
    let mut noted_in_all = 0;
    for attempt in 0..5 {
        let runtime = Builder::new().worker_threads(2).build();
        // Both workers go to sleep first, before any socket exists: the first to
        // park drives the timers (there are none: it sleeps with no deadline). Not
        // a timing assertion: only a chance for the threads to reach their park.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let threads = common::WakingThreads::default();
        let (noted, noted_accepts) = (threads.clone(), threads.clone());
        runtime.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            // The server is a task: it binds on a worker, and hands each connection
            // to a detached task, as a first server does.
            let server = spawn(common::noting_wakers(
                async move {
                    loop {
                        let (mut stream, _) = listener.accept().await.unwrap();
                        let noted = noted.clone();
                        drop(spawn(common::noting_wakers(
                            async move {
                                let mut buf = [0; 64];
                                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                                    stream.write_all(&buf[..n]).await.unwrap();
                                }
                            },
                            noted,
                        )));
                    }
                },
                noted_accepts,
            ));
            // The client: another thread, blocking std sockets, one idle connection,
            // then connections opened and closed at once.
            let client = std::thread::spawn(move || {
                let mut stream = std::net::TcpStream::connect(addr).unwrap();
                stream.set_nodelay(true).unwrap();
                let mut back = [0; 64];
                for round in 0..ROUNDS {
                    let message = [round as u8; 64];
                    stream.write_all(&message).unwrap();
                    stream.read_exact(&mut back).unwrap();
                    assert_eq!(back, message);
                }
                drop(stream);
                for _ in 0..ACCEPTS {
                    drop(std::net::TcpStream::connect(addr).unwrap());
                }
            });
            clearloop::to_thread(move || client.join().unwrap())
                .await
                .unwrap();
            server.cancel();
        });
        let threads = threads.lock().unwrap();
        let others: Vec<_> = threads
            .iter()
            .filter(|name| !name.starts_with("clearloop-worker-"))
            .collect();
        assert!(
            others.is_empty(),
            "attempt {attempt}: readiness reached the server from other threads than \
             the workers, {} of {} times: {others:?}",
            others.len(),
            threads.len()
        );
        noted_in_all += threads.len();
    }
    // Not every read or accept waits (the client's next message or connection may
    // already be there when the task looks), but over five runtimes some must, or
    // the test saw nothing.
    assert!(noted_in_all >= 3, "{noted_in_all} wakes noted in all");
}

#[test]
fn the_io_thread_hears_nothing_of_a_runtime_on_the_real_clock() {
    // The process's I/O thread serves virtual clocks and sockets polled outside any
    // runtime; a runtime on the real clock hears its own.
    let before = clearloop::reactor::Reactor::shared().unwrap().woken();
    for workers in [None, Some(2)] {
        let mut builder = Builder::new();
        if let Some(n) = workers {
            builder = builder.worker_threads(n);
        }
        builder.build().block_on(async {
            let (mut a, mut b) = common::stream_pair();
            let echo = spawn(async move {
                let mut buf = [0; 8];
                while a.read_exact(&mut buf).await.is_ok() {
                    a.write_all(&buf).await.unwrap();
                }
            });
            for round in 0..100u64 {
                b.write_all(&round.to_le_bytes()).await.unwrap();
                let mut back = [0; 8];
                b.read_exact(&mut back).await.unwrap();
                assert_eq!(u64::from_le_bytes(back), round);
            }
            drop(b);
            echo.await;
        });
    }
    assert_eq!(
        clearloop::reactor::Reactor::shared().unwrap().woken(),
        before
    );
}

#[test]
fn debug_mode_waiting_to_report_an_idle_loop_still_hears_its_sockets() {
    // Debug mode reports a loop idle for 2 s with live tasks. While it waits to see
    // whether the idleness lasts, a client's message must be heard at once: the
    // client below gives each answer 1 s (it gets it in microseconds), where a loop
    // asleep for the report's 2 s would miss every one.
    let runtime = Builder::new().debug(true).build();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0; 8];
            while stream.read_exact(&mut buf).await.is_ok() {
                stream.write_all(&buf).await.unwrap();
            }
        });
        let client = std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(1)))
                .unwrap();
            for round in 0..20u64 {
                stream.write_all(&round.to_le_bytes()).unwrap();
                let mut back = [0; 8];
                stream
                    .read_exact(&mut back)
                    .unwrap_or_else(|error| panic!("round {round}: no answer: {error}"));
                assert_eq!(u64::from_le_bytes(back), round);
            }
        });
        clearloop::to_thread(move || client.join())
            .await
            .unwrap()
            .expect("the client thread failed (above)");
        server.cancel();
    });
}

#[test]
fn two_workers_busy_with_ten_connections_never_lose_a_wake() {
    // Ten clients in threads of their own ping-pong with a server of two workers:
    // the workers are busy, so they look at the selector between tasks while the
    // one that parks waits in it. A notification taken by such a look, meant for the
    // worker about to wait, once left work in a queue while every worker slept: a
    // client then waited for its echo for ever. Each read has a limit of real time
    // only to turn such a hang into a failure.
    const CONNECTIONS: usize = 10;
    const ROUNDS: u64 = 3_000;
    let runtime = Builder::new().worker_threads(2).build();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                drop(spawn(async move {
                    let mut buf = [0; 64];
                    while let Ok(n @ 1..) = stream.read(&mut buf).await {
                        if stream.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                }));
            }
        });
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|_| {
                std::thread::spawn(move || {
                    let mut stream = std::net::TcpStream::connect(addr).unwrap();
                    stream.set_nodelay(true).unwrap();
                    stream
                        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
                        .unwrap();
                    let mut back = [0; 8];
                    for round in 0..ROUNDS {
                        stream.write_all(&round.to_le_bytes()).unwrap();
                        stream.read_exact(&mut back).unwrap_or_else(|error| {
                            panic!("round {round}: the echo never came: {error}")
                        });
                        assert_eq!(u64::from_le_bytes(back), round);
                    }
                })
            })
            .collect();
        clearloop::to_thread(move || {
            clients
                .into_iter()
                .map(|client| client.join())
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .unwrap()
        .expect("a client failed (above)");
        server.cancel();
    });
}
