//! One selector, several waiters: loops on several threads (and a multi-threaded
//! runtime) share the process's reactor. One loop at a time sits in `epoll_wait`;
//! the others park on the bench and are woken across threads, and nobody's
//! readiness is lost.

use std::time::Duration;

use clearloop::net::{TcpListener, TcpStream};
use clearloop::{Builder, Runtime, spawn};

/// 300 round trips on a fresh connection; a lost wake-up trips the watchdog.
async fn echo_rounds() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0; 8];
        while stream.read_exact(&mut buf).await.is_ok() {
            stream.write_all(&buf).await.unwrap();
        }
    });
    let mut client = TcpStream::connect(addr).await.unwrap();
    clearloop::timeout(Duration::from_secs(20), async {
        for round in 0..300u64 {
            client.write_all(&round.to_le_bytes()).await.unwrap();
            let mut back = [0; 8];
            client.read_exact(&mut back).await.unwrap();
            assert_eq!(u64::from_le_bytes(back), round);
        }
    })
    .await
    .expect("a readiness event was lost between the loops sharing the selector");
    drop(client);
    server.await;
}

#[test]
fn three_loops_and_two_workers_share_the_selector_without_losing_a_wake() {
    let threads: Vec<_> = (0..3)
        .map(|_| std::thread::spawn(|| Runtime::new().block_on(echo_rounds())))
        .collect();
    Builder::new()
        .worker_threads(2)
        .build()
        .block_on(echo_rounds());
    for thread in threads {
        thread.join().unwrap();
    }
    // And once every loop is gone, the fallback thread drives again.
    Builder::new()
        .worker_threads(2)
        .build()
        .block_on(echo_rounds());
}
