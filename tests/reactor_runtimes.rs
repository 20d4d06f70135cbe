//! Several runtimes, each with its own selector: loops on several threads and a
//! multi-threaded runtime at once, a socket made outside any runtime and used by two
//! in turn, and a socket shared by two runtimes when one of them shuts down. No
//! readiness is lost on the way.

use std::sync::Arc;
use std::time::Duration;

use clearloop::net::{TcpListener, TcpStream, UdpSocket};
use clearloop::task::yield_now;
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
fn three_loops_and_two_workers_at_once_each_hear_their_own_sockets() {
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
}

#[test]
fn a_listener_made_before_any_runtime_serves_two_runtimes_in_turn() {
    // Bound outside any runtime: it joins a reactor at its first wait, and moves to
    // the second runtime's when a task of it waits (the first one is gone by then).
    let listener = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    let addr = listener.local_addr().unwrap();
    for workers in [None, Some(2)] {
        let mut builder = Builder::new();
        if let Some(n) = workers {
            builder = builder.worker_threads(n);
        }
        let listener = listener.clone();
        builder.build().block_on(async move {
            let client = std::thread::spawn(move || {
                let mut stream = std::net::TcpStream::connect(addr).unwrap();
                std::io::Write::write_all(&mut stream, b"hi").unwrap();
            });
            let accepted = clearloop::timeout(Duration::from_secs(20), listener.accept()).await;
            let (mut stream, _) = accepted.expect("the accept was never woken").unwrap();
            let mut buf = [0; 2];
            stream.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"hi");
            client.join().unwrap();
        });
    }
}

#[test]
fn a_runtime_that_shuts_down_hands_back_the_sockets_others_wait_on() {
    let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
    let addr = socket.local_addr().unwrap();
    Runtime::new().block_on(async {
        // Ours waits first: the socket's home is this runtime's reactor.
        let ours = {
            let socket = socket.clone();
            spawn(async move {
                let mut buf = [0; 8];
                socket.recv_from(&mut buf).await.map(|(n, _)| n)
            })
        };
        yield_now().await;
        // A task of another runtime waits on it too (the home moves there), and
        // that runtime shuts down with its task still waiting.
        let theirs = socket.clone();
        std::thread::spawn(move || {
            let runtime = Runtime::new();
            runtime.block_on(async move {
                let waiting = spawn(async move {
                    let mut buf = [0; 8];
                    theirs.recv_from(&mut buf).await.map(|(n, _)| n)
                });
                yield_now().await;
                assert!(
                    !waiting.done(),
                    "the other runtime's task waits on the socket"
                );
            });
        })
        .join()
        .unwrap();
        // The datagram comes after: our task must hear it, though the reactor it
        // waited in last is gone with its runtime.
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        sender.send_to(b"datagram", addr).unwrap();
        let got = clearloop::timeout(Duration::from_secs(20), ours)
            .await
            .expect("our task waits in the reactor of a runtime that is gone");
        assert_eq!(got.unwrap(), 8);
    });
}
