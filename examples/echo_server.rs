//! An echo server and three clients on one thread (asyncio's `start_server` and
//! `open_connection`), on loopback only.
//!
//! ```python
//! async def handle(reader, writer):          # one task per connection
//!     while data := await reader.read(100):
//!         writer.write(data)
//!         await writer.drain()
//!     writer.close()
//!
//! async def client(name, words, first):
//!     reader, writer = await asyncio.open_connection('127.0.0.1', port)
//!     await asyncio.sleep(first)
//!     for i, word in enumerate(words):
//!         if i: await asyncio.sleep(0.3)
//!         writer.write(word.encode()); await writer.drain()
//!         echo = await reader.readexactly(len(word))
//! ```
//!
//! Watch the times in brackets (the runtime's clock, since the start): the three
//! clients talk to the server *at the same time*, their messages interleaved 0.1 s
//! apart, and the whole exchange of nine messages ends at 0.9 s, not at the sum of
//! the clients' times. One thread does it all: while a task waits on its socket, the
//! reactor watches the socket and the loop runs the others, as `create_task` showed
//! with two sleeps. The server starts, serves three connections and stops by itself,
//! or earlier on Ctrl-C (`signal::ctrl_c()`, raced against it with `wait`).
//!
//! Run: `cargo run --example echo_server` (add `-- --virtual` for the virtual clock:
//! the times are then exact, but each jump of time waits until the network has been
//! quiet for the reactor's grace, so it takes about 2 s of real time, not 0.9; or
//! `-- --sim` for the simulated network of `clearloop::sim::net`: the same program
//! and the same lines, with no socket, in a few milliseconds). Prints (times exact on the virtual clock, within a few ms on the real one):
//!
//! ```text
//! [0.000] server: listening on 127.0.0.1 (port chosen by the OS)
//! [0.000] server: 3 connections accepted
//! [0.100] alice  -> bonjour
//! [0.100] server: echo "bonjour" (7 bytes)
//! [0.100] alice  <- bonjour
//! [0.200] bob    -> hello
//! [0.200] server: echo "hello" (5 bytes)
//! [0.200] bob    <- hello
//! ...
//! [0.900] carol  <- ciao
//! [0.900] server: 3 clients served, 9 messages echoed; closed
//! ```

use std::time::{Duration, Instant};

use clearloop::clock::Clock;
use clearloop::net::{TcpListener, TcpStream};
use clearloop::time::{now, sleep};
use clearloop::{Builder, ReturnWhen, signal, spawn, wait};

/// The time since `start` on the runtime's clock, as `[s.mmm]`.
fn stamp(start: Instant) -> String {
    format!("[{:.3}]", (now() - start).as_secs_f64())
}

/// One connection: echo every message until the client closes; returns how many.
async fn handle(mut stream: TcpStream, start: Instant) -> usize {
    let mut buf = [0; 100];
    let mut echoed = 0;
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => return echoed, // the client closed: `reader.read()` gave b''
            Ok(n) => {
                let text = String::from_utf8_lossy(&buf[..n]);
                println!("{} server: echo {text:?} ({n} bytes)", stamp(start));
                if let Err(error) = stream.write_all(&buf[..n]).await {
                    println!("{} server: {error}", stamp(start));
                    return echoed;
                }
                echoed += 1;
            }
            Err(error) => {
                // One connection's error ends that connection only.
                println!("{} server: {error}", stamp(start));
                return echoed;
            }
        }
    }
}

/// One client: connects, waits `first`, then sends each word 0.3 s apart and reads
/// its echo.
async fn client(name: &str, port: u16, first: Duration, words: &[&str], start: Instant) {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("the server listens on loopback");
    sleep(first).await;
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            sleep(Duration::from_millis(300)).await;
        }
        println!("{} {name:<6} -> {word}", stamp(start));
        stream.write_all(word.as_bytes()).await.unwrap();
        let mut echo = vec![0; word.len()];
        stream.read_exact(&mut echo).await.unwrap();
        println!(
            "{} {name:<6} <- {}",
            stamp(start),
            String::from_utf8_lossy(&echo)
        );
    }
    // Dropping the stream closes it: the server's read returns 0.
}

/// The server and its three clients; returns how many messages were echoed.
async fn serve_and_talk(start: Instant) -> usize {
    let listener = TcpListener::bind("127.0.0.1:0").expect("loopback is there");
    let port = listener.local_addr().unwrap().port();
    println!(
        "{} server: listening on 127.0.0.1 (port chosen by the OS)",
        stamp(start)
    );
    let server = spawn(async move {
        // Accept the three clients, each served by a task of its own.
        let mut handlers = Vec::new();
        while handlers.len() < 3 {
            match listener.accept().await {
                Ok((stream, _peer)) => handlers.push(spawn(handle(stream, start))),
                // Out of file descriptors (EMFILE) and the like: the connection stays
                // queued, and the error says so at once; the listener's next accept
                // waits 1 s first (asyncio's `start_server` pauses the same), so this
                // loop does not spin while nothing can be accepted. A server would
                // close idle connections here.
                Err(error) => println!("{} server: {error}", stamp(start)),
            }
        }
        println!("{} server: 3 connections accepted", stamp(start));
        let mut echoed = 0;
        for handler in handlers {
            echoed += handler.await;
        }
        echoed
        // The listener drops here: the port is closed.
    });
    let ms = Duration::from_millis;
    let clients = [
        spawn(async move {
            client(
                "alice",
                port,
                ms(100),
                &["bonjour", "salut", "merci"],
                start,
            )
            .await
        }),
        spawn(async move { client("bob", port, ms(200), &["hello", "hi", "thanks"], start).await }),
        spawn(async move {
            client(
                "carol",
                port,
                ms(300),
                &["hola", "buongiorno", "ciao"],
                start,
            )
            .await
        }),
    ];
    for client in clients {
        client.await;
    }
    server.await
}

/// Runs the example on `clock`.
pub fn example(clock: Clock) {
    run(Builder::new().clock(clock), true);
}

/// Runs the example on the runtime `builder` makes; `ctrl_c`: Ctrl-C stops it.
fn run(builder: Builder, ctrl_c: bool) {
    let runtime = builder.build();
    runtime.block_on(async {
        let start = now();
        // Ctrl-C stops the server early (asyncio: `loop.add_signal_handler(SIGINT, ...)`);
        // SIGINT is caught from this call until the waiter is cancelled below. (Not
        // on the simulated network: a signal is the real world's.)
        let stop = ctrl_c.then(signal::ctrl_c);
        let ctrl_c = spawn(async move {
            if let Some(stop) = stop {
                match stop.await {
                    Ok(()) => return None,
                    // Ctrl-C could not be caught: said, and the server runs on.
                    Err(error) => println!("Ctrl-C cannot stop the server: {error}"),
                }
            }
            std::future::pending::<Option<usize>>().await
        });
        let work = spawn(async move { Some(serve_and_talk(start).await) });
        let (done, pending) = wait([work, ctrl_c], ReturnWhen::FirstCompleted).await;
        for task in pending {
            // Either the Ctrl-C waiter (SIGINT kills the process again) or the
            // server, whose sockets close as its tasks are dropped with the runtime.
            task.cancel();
        }
        match done.into_iter().next().expect("one task is done").await {
            Some(echoed) => println!(
                "{} server: 3 clients served, {echoed} messages echoed; closed",
                stamp(start)
            ),
            None => println!("{} Ctrl-C: server stopped", stamp(start)),
        }
    });
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    if std::env::args().any(|arg| arg == "--sim") {
        // The simulated network (clearloop::sim::net): the same program, no socket.
        run(Builder::new().simulation(clearloop::sim::Seed::Fifo), false);
    } else {
        example(Clock::from_args());
    }
}
