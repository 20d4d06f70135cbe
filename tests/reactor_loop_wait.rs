//! The loop's step 4 waits on its own selector. A socket's readiness wakes its task
//! on the loop's own thread (no hand-off from another thread), and a wake from
//! another thread interrupts that wait.

use std::thread;

use clearloop::net::{TcpListener, TcpStream};
use clearloop::{Runtime, spawn};

mod common;

/// At least this many of the server's reads waited in the reactor (all but the
/// first few, whose data may already be there).
const ROUNDS_WOKEN: usize = 150;

#[test]
fn readiness_wakes_tasks_on_the_loops_own_thread_and_other_threads_interrupt_the_wait() {
    let loop_thread = thread::current().name().unwrap_or("?").to_string();
    let threads = common::WakingThreads::default();
    let noted = threads.clone();
    Runtime::new().block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        const ROUNDS: usize = 200;
        // The server echoes; every read waits in the reactor (the client writes
        // only after the server's task went to sleep on its read).
        let echo = spawn(common::noting_wakers(
            async move {
                let mut buf = [0; 8];
                for _ in 0..ROUNDS {
                    server.read_exact(&mut buf).await.unwrap();
                    server.write_all(&buf).await.unwrap();
                }
            },
            noted,
        ));
        for round in 0..ROUNDS as u64 {
            client.write_all(&round.to_le_bytes()).await.unwrap();
            let mut back = [0; 8];
            client.read_exact(&mut back).await.unwrap();
            assert_eq!(u64::from_le_bytes(back), round);
        }
        echo.await;

        // Wakes from other threads while the loop sits in the selector: the main
        // future (its own waker) and a spawned task (the remote queue). A lost
        // wake would hang; the watchdog turns that into a failure.
        for round in 0..100 {
            let for_main = clearloop::future::Promise::new();
            let for_task = clearloop::future::Promise::new();
            let waiting = for_task.clone();
            let task = spawn(async move { waiting.wait().await.unwrap() });
            let (main_side, task_side) = (for_main.clone(), for_task.clone());
            let setter = thread::spawn(move || {
                task_side.set_result(round).unwrap();
                main_side.set_result(round).unwrap();
            });
            let got = clearloop::timeout(std::time::Duration::from_secs(10), async {
                (for_main.wait().await.unwrap(), task.await)
            })
            .await
            .expect("a wake from another thread was lost while the loop waited");
            assert_eq!(got, (round, round));
            setter.join().unwrap();
        }
    });
    let threads = threads.lock().unwrap();
    let here = threads.iter().filter(|name| **name == loop_thread).count();
    // Every one of them: nobody else waits on this loop's selector.
    assert!(
        threads.len() >= ROUNDS_WOKEN && here == threads.len(),
        "{here} of {} wakes came on the loop's thread: {threads:?}",
        threads.len()
    );
}
