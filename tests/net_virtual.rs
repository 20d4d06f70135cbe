//! The reactor and time: a wait in the selector is interrupted from another thread,
//! a task waiting on a socket is woken by a write from another thread, and on the
//! virtual clock a read about to complete is not overtaken by a timeout (the
//! `clock` module's "in flight" rule), while a read that never completes still
//! times out, at exactly its virtual deadline.

use std::io::Write;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::net::{TcpListener, TcpStream};
use clearloop::reactor::Reactor;
use clearloop::time::now;
use clearloop::{Builder, timeout};

#[test]
fn notify_from_another_thread_interrupts_a_wait() {
    let reactor = std::sync::Arc::new(Reactor::new().unwrap());
    let (done, finished) = mpsc::channel();
    let waiter = {
        let reactor = reactor.clone();
        thread::spawn(move || {
            let woken = reactor.wait(None).unwrap(); // no timeout: only notify ends it
            done.send(woken).unwrap();
        })
    };
    reactor.notify().unwrap();
    // A real-time limit only so that a broken notify fails the test instead of
    // hanging it; the wait itself has none.
    let woken = finished
        .recv_timeout(Duration::from_secs(30))
        .expect("notify did not interrupt the wait");
    assert_eq!(woken, 0, "no source was ready: nothing to wake");
    waiter.join().unwrap();
    // A notify with nobody waiting makes the next wait return at once.
    reactor.notify().unwrap();
    assert_eq!(reactor.wait(None).unwrap(), 0);
    assert_eq!(reactor.registered(), 0);
}

/// Notifies racing with the waiter's own clearing of the eventfd, thousands of times:
/// every wait must still end. (The selector once lowered its "notified" flag before
/// emptying the eventfd; a notify that fell between the two was emptied unseen, the
/// flag stayed up, every later notify skipped its write, and a wait hung for good.)
#[test]
fn notifies_racing_with_the_wait_never_get_lost() {
    const WAITS: usize = 20_000;
    let reactor = std::sync::Arc::new(Reactor::new().unwrap());
    let waits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (done, finished) = mpsc::channel();
    let waiter = {
        let (reactor, waits) = (reactor.clone(), waits.clone());
        thread::spawn(move || {
            for _ in 0..WAITS {
                reactor.wait(None).unwrap(); // only a notify ends it
                waits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            done.send(()).unwrap();
        })
    };
    let notifier = {
        let (reactor, waits) = (reactor.clone(), waits.clone());
        thread::spawn(move || {
            while waits.load(std::sync::atomic::Ordering::SeqCst) < WAITS {
                reactor.notify().unwrap();
                std::hint::spin_loop();
            }
        })
    };
    // A real-time limit only so that a lost notify fails the test instead of
    // hanging it.
    finished
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| {
            panic!(
                "a wait was never interrupted after {} of {WAITS}",
                waits.load(std::sync::atomic::Ordering::SeqCst)
            )
        });
    waiter.join().unwrap();
    notifier.join().unwrap();
}

/// A listener, and a std thread that connects to it and writes `message` after
/// `delay` of real time (then keeps the connection open until the test ends).
fn late_writer(message: &'static [u8], delay: Duration) -> (TcpListener, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let writer = thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        thread::sleep(delay);
        stream.write_all(message).unwrap();
        // Wait for the reader to close first, so our close is not a reset.
        let _ = std::io::Read::read(&mut stream, &mut [0; 1]);
    });
    (listener, writer)
}

#[test]
fn a_write_from_another_thread_wakes_the_waiting_task() {
    let (listener, writer) = late_writer(b"from a thread", Duration::from_millis(10));
    let got = clearloop::run(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0; 13];
        stream.read_exact(&mut buf).await.unwrap();
        buf
    });
    assert_eq!(&got, b"from a thread");
    writer.join().unwrap();
}

#[test]
fn on_the_virtual_clock_a_read_about_to_complete_beats_its_timeout() {
    // The data comes 50 ms of *real* time after the read starts; virtual time must
    // not jump to the 1 s deadline meanwhile.
    let (listener, writer) = late_writer(b"late", Duration::from_millis(50));
    let runtime = Builder::new().clock(Clock::virtual_clock()).build();
    let (got, waited) = runtime.block_on(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let start = now();
        let mut buf = [0; 4];
        let got = timeout(Duration::from_secs(1), stream.read_exact(&mut buf)).await;
        (got.map(|read| read.map(|()| buf)), now() - start)
    });
    assert_eq!(got.expect("timed out").unwrap(), *b"late");
    assert_eq!(
        waited,
        Duration::ZERO,
        "virtual time moved during a read in flight"
    );
    writer.join().unwrap();
}

#[test]
fn on_the_virtual_clock_a_read_that_never_completes_still_times_out_exactly() {
    let runtime = Builder::new().clock(Clock::virtual_clock()).build();
    let (result, waited) = runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let _server = listener.accept().await.unwrap(); // open, and silent
        let start = now();
        let mut buf = [0; 4];
        // The read holds virtual time for the reactor's grace, then the world is
        // taken to be quiet and time jumps to the deadline.
        let result = timeout(Duration::from_secs(1), client.read(&mut buf)).await;
        (result.map(|_| ()), now() - start)
    });
    assert!(result.is_err(), "nothing was sent: the read must time out");
    assert_eq!(waited, Duration::from_secs(1));
}

#[test]
fn the_virtual_clock_rule_holds_on_two_workers_too() {
    let (listener, writer) = late_writer(b"late", Duration::from_millis(50));
    let runtime = Builder::new()
        .clock(Clock::virtual_clock())
        .worker_threads(2)
        .build();
    let got = runtime.block_on(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0; 4];
        timeout(Duration::from_secs(1), stream.read_exact(&mut buf))
            .await
            .map(|read| read.map(|()| buf))
    });
    assert_eq!(got.expect("timed out").unwrap(), *b"late");
    writer.join().unwrap();
}

#[test]
fn on_the_virtual_clock_an_answer_written_after_a_sleep_arrives_at_its_instant() {
    // The client's read waits far longer (in real time) than the grace; the server
    // task answers after a virtual sleep. The write itself is activity: time must not
    // jump to the client's deadline, 1 ms later, before the answer is delivered.
    let runtime = Builder::new().clock(Clock::virtual_clock()).build();
    let arrivals = runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let start = now();
        let answering = clearloop::spawn(async move {
            for round in 1..=5u64 {
                clearloop::time::sleep(Duration::from_secs(1)).await;
                server.write_all(&[round as u8]).await.unwrap();
            }
        });
        let mut arrivals = Vec::new();
        for _ in 0..5 {
            let mut byte = [0; 1];
            let deadline = Duration::from_millis(1001);
            timeout(deadline, client.read_exact(&mut byte))
                .await
                .expect("the answer lost the race against a timer 1 ms later")
                .unwrap();
            arrivals.push((byte[0], now() - start));
        }
        answering.await;
        arrivals
    });
    let expected: Vec<(u8, Duration)> = (1..=5)
        .map(|round| (round, Duration::from_secs(u64::from(round))))
        .collect();
    assert_eq!(arrivals, expected);
}
