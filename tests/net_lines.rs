//! Line reads on clearloop's streams, asyncio's `readline()` / `readuntil()`: lines
//! that come in many small pieces from a client thread, a line over the limit, the
//! end of the stream in the middle of a line, the bytes after a line kept for
//! `read` and `read_exact` (and for the `ReadHalf` of a split), on one thread and on
//! two workers; and a Python asyncio client talking lines to a clearloop server.

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::net::{DEFAULT_LINE_LIMIT, LineError, TcpListener, TcpStream};
use clearloop::{Builder, Runtime, spawn};

mod common;

/// A connected pair on loopback: (client, server side).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap());
    let (client, accepted) = futures_util::future::join(client, listener.accept()).await;
    (client.unwrap(), accepted.unwrap().0)
}

/// The lines the client thread sends: 0 to 300 bytes long, some ending in `\r\n`.
fn lines() -> Vec<String> {
    (0..200)
        .map(|i| {
            let body: String = (0..(i * 37) % 301)
                .map(|j| char::from(b'a' + ((i + j) % 26) as u8))
                .collect();
            if i % 7 == 0 {
                format!("{body}\r\n")
            } else {
                format!("{body}\n")
            }
        })
        .collect()
}

/// A std client in another thread writes every line in pieces of 1 to 7 bytes,
/// pausing now and then so that the server's reads find lines cut anywhere, then 4
/// bytes that are not text; the server reads the lines with `read_line` and the 4
/// bytes with `read_exact`, and answers with the count.
fn lines_in_small_pieces(runtime: Runtime) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        let sent = lines().concat();
        let mut bytes = sent.as_bytes();
        let mut piece = 0;
        while !bytes.is_empty() {
            let n = (1 + piece % 7).min(bytes.len());
            stream.write_all(&bytes[..n]).unwrap();
            bytes = &bytes[n..];
            piece += 1;
            if piece % 25 == 0 {
                std::thread::sleep(Duration::from_micros(300));
            }
        }
        stream.write_all(&[0, 1, 2, 255]).unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    });
    let (received, tail) = runtime.block_on(async move {
        // The handler runs in a spawned task: on a worker thread, with two workers.
        let server = spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut received = Vec::new();
            let mut line = String::new();
            for _ in 0..200 {
                line.clear();
                let n = stream.read_line(&mut line).await.unwrap();
                assert_eq!(n, line.len());
                received.push(line.clone());
            }
            let mut tail = [0; 4];
            stream.read_exact(&mut tail).await.unwrap();
            line.clear();
            assert_eq!(stream.read_line(&mut line).await.unwrap(), 0, "the end");
            stream
                .write_all(format!("{} lines\n", received.len()).as_bytes())
                .await
                .unwrap();
            (received, tail)
        });
        server.await
    });
    assert_eq!(received, lines());
    assert_eq!(tail, [0, 1, 2, 255]);
    assert_eq!(client.join().unwrap(), "200 lines\n");
}

#[test]
fn lines_in_small_pieces_on_one_thread() {
    lines_in_small_pieces(Runtime::new());
}

#[test]
fn lines_in_small_pieces_on_two_workers() {
    lines_in_small_pieces(Builder::new().worker_threads(2).build());
}

/// One write holds a line, then bytes that are not lines: every read after the
/// line gets those bytes first, whichever read it is, and after `split` too.
fn bytes_after_a_line_are_kept(runtime: Runtime) {
    runtime.block_on(async {
        let (mut client, server) = pair().await;
        let mut payload = b"LENGTH 300\n".to_vec();
        payload.extend((0..300).map(|i| (i % 251) as u8));
        payload.extend_from_slice(b"trailer\nlast");
        client.write_all(&payload).await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let reader = spawn(async move {
            let mut server = server;
            let mut line = String::new();
            server.read_line(&mut line).await.unwrap();
            assert_eq!(line, "LENGTH 300\n");
            let length: usize = line["LENGTH ".len()..].trim().parse().unwrap();
            // read_exact: the first bytes come from the buffer the line read filled.
            let mut body = vec![0; length - 100];
            server.read_exact(&mut body).await.unwrap();
            // read: the buffer still has bytes, it answers from them.
            let mut more = [0; 100];
            let mut got = 0;
            while got < 100 {
                got += server.read(&mut more[got..]).await.unwrap();
            }
            body.extend_from_slice(&more);
            // split: the read half has the same buffer.
            let (mut half, _write) = server.split();
            let mut trailer = Vec::new();
            half.read_until(b"\n", &mut trailer).await.unwrap();
            let mut last = String::new();
            assert_eq!(half.read_line(&mut last).await.unwrap(), 4);
            assert_eq!(half.read_line(&mut last).await.unwrap(), 0);
            (body, trailer, last)
        });
        let (body, trailer, last) = reader.await;
        assert_eq!(body, (0..300).map(|i| (i % 251) as u8).collect::<Vec<_>>());
        assert_eq!(trailer, b"trailer\n");
        assert_eq!(last, "last", "the last line, without its newline");
    });
}

#[test]
fn bytes_after_a_line_are_kept_on_one_thread() {
    bytes_after_a_line_are_kept(Runtime::new());
}

#[test]
fn bytes_after_a_line_are_kept_on_two_workers() {
    bytes_after_a_line_are_kept(Builder::new().worker_threads(2).build());
}

/// A line over the limit, the newline already there (one write): `read_line` drops
/// the line through its newline and reads on; `read_until` keeps the bytes for
/// `read_exact`. Python's asyncio does the same (see the module doc of `lines.rs`).
fn a_line_over_the_limit(runtime: Runtime) {
    // A safety net, not a timing assertion: a lost byte makes a read wait forever.
    runtime
        .block_on(clearloop::timeout::timeout(
            Duration::from_secs(20),
            async {
                let (mut a, mut b) = common::stream_pair();
                assert_eq!(b.line_limit(), DEFAULT_LINE_LIMIT);
                assert_eq!(DEFAULT_LINE_LIMIT, 65536, "asyncio.streams._DEFAULT_LIMIT");
                b.set_line_limit(16);
                assert_eq!(b.line_limit(), 16);
                let long = "x".repeat(40);
                a.write_all(format!("exactly sixteen!\n{long}\nnext\n").as_bytes())
                    .await
                    .unwrap();
                let mut line = String::new();
                // The limit counts the line without its newline: 16 bytes pass.
                b.read_line(&mut line).await.unwrap();
                assert_eq!(line, "exactly sixteen!\n");
                line.clear();
                let Err(LineError::LimitOverrun(error)) = b.read_line(&mut line).await else {
                    panic!("a 40-byte line passed a limit of 16");
                };
                assert!(error.separator_found());
                assert_eq!(error.consumed(), 40);
                assert_eq!(error.limit(), 16);
                assert_eq!(error.dropped(), Some(41), "the line and its newline");
                // "from its pair" (Unix socket pair); the peer's address over TCP.
                assert!(error.to_string().starts_with("read_line from "), "{error}");
                assert!(error.to_string().contains(": 40 bytes"), "{error}");
                assert!(error.to_string().contains("set_line_limit"), "{error}");
                assert_eq!(line, "", "nothing appended");
                b.read_line(&mut line).await.unwrap();
                assert_eq!(line, "next\n", "the line after the long one");

                // read_until: the bytes stay; read_exact takes them.
                a.write_all(format!("{long}\n").as_bytes()).await.unwrap();
                let mut bytes = Vec::new();
                let error = b.read_until(b"\n", &mut bytes).await.unwrap_err();
                assert_eq!(error.kind(), ErrorKind::InvalidData);
                let LineError::LimitOverrun(error) = error else {
                    panic!("{error}")
                };
                assert_eq!(error.dropped(), None);
                assert!(error.to_string().contains("stay in the buffer"), "{error}");
                let mut kept = [0; 41];
                b.read_exact(&mut kept).await.unwrap();
                assert_eq!(&kept[..], format!("{long}\n").as_bytes());

                // No newline yet, 40 bytes: read_line gives up at once and drops them; the
                // rest of the line, when it comes, is read as a line (asyncio's readline
                // does exactly this).
                a.write_all(long.as_bytes()).await.unwrap();
                let Err(LineError::LimitOverrun(error)) = b.read_line(&mut line).await else {
                    panic!("40 bytes without a newline passed a limit of 16");
                };
                assert!(!error.separator_found());
                assert_eq!(error.consumed(), 40);
                assert_eq!(error.dropped(), Some(40));
                a.write_all(b"tail\nafter\n").await.unwrap();
                line.clear();
                b.read_line(&mut line).await.unwrap();
                assert_eq!(line, "tail\n");

                // As io::Error, through `?`: the kind, the message, and the error inside.
                let io_error = std::io::Error::from(LineError::LimitOverrun(error));
                assert_eq!(io_error.kind(), ErrorKind::InvalidData);
                let inner = io_error.get_ref().unwrap().downcast_ref::<LineError>();
                assert!(matches!(inner, Some(LineError::LimitOverrun(_))));
                line.clear();
                b.read_line(&mut line).await.unwrap();
                assert_eq!(line, "after\n");
            },
        ))
        .expect("a read waited for bytes that had come");
}

#[test]
fn a_line_over_the_limit_on_one_thread() {
    a_line_over_the_limit(Runtime::new());
}

#[test]
fn a_line_over_the_limit_on_two_workers() {
    a_line_over_the_limit(Builder::new().worker_threads(2).build());
}

/// A 100 KB line comes in pieces from a thread, no newline for a long while: the
/// default limit stops `read_line` after 64 KiB and a bit, not at the end of the line
/// (the buffer never holds the whole line).
#[test]
fn a_peer_that_never_sends_a_newline_is_stopped_at_the_default_limit() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        for _ in 0..100 {
            if stream.write_all(&[b'y'; 1000]).is_err() {
                return; // the server closed: fine
            }
        }
        let _ = stream.write_all(b"\n");
    });
    clearloop::run(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut line = String::new();
        let Err(LineError::LimitOverrun(error)) = stream.read_line(&mut line).await else {
            panic!("a 100 KB line passed the default limit");
        };
        assert_eq!(error.limit(), 65536);
        assert!(error.consumed() > 65536);
        assert!(
            error.consumed() <= 2 * 65536,
            "read far past the limit: {}",
            error.consumed()
        );
    });
    client.join().unwrap();
}

/// The stream ends in the middle of a line: `read_line` returns the piece (then 0),
/// `read_until` returns `Incomplete` with the bytes (asyncio's `.partial`).
fn end_of_stream_in_a_line(runtime: Runtime) {
    runtime.block_on(async {
        let (mut a, mut b) = pair().await;
        a.write_all(b"whole\npart").await.unwrap();
        a.shutdown(Shutdown::Write).unwrap();
        let mut line = String::new();
        assert_eq!(b.read_line(&mut line).await.unwrap(), 6);
        assert_eq!(b.read_line(&mut line).await.unwrap(), 4);
        assert_eq!(line, "whole\npart");
        assert_eq!(b.read_line(&mut line).await.unwrap(), 0);
        assert_eq!(b.read_line(&mut line).await.unwrap(), 0, "and again");

        let (mut a, mut b) = pair().await;
        a.write_all(b"one\r\ntwo\r").await.unwrap();
        drop(a);
        let mut bytes = Vec::new();
        assert_eq!(b.read_until(b"\r\n", &mut bytes).await.unwrap(), 5);
        let error = b.read_until(b"\r\n", &mut bytes).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::UnexpectedEof);
        let message = error.to_string();
        let LineError::Incomplete(error) = error else {
            panic!("{error}")
        };
        assert_eq!(error.partial(), b"two\r", "half a separator is partial too");
        assert!(
            message.starts_with("read_until from 127.0.0.1:") && message.contains("b\"\\r\\n\""),
            "{message}"
        );
        assert_eq!(bytes, b"one\r\n", "nothing appended on error");
        // At the end, nothing left: Incomplete with no bytes (asyncio's b'').
        let Err(LineError::Incomplete(error)) = b.read_until(b"\r\n", &mut bytes).await else {
            panic!("read_until at the end of the stream")
        };
        assert_eq!(error.into_partial(), b"");
    });
}

#[test]
fn end_of_stream_in_a_line_on_one_thread() {
    end_of_stream_in_a_line(Runtime::new());
}

#[test]
fn end_of_stream_in_a_line_on_two_workers() {
    end_of_stream_in_a_line(Builder::new().worker_threads(2).build());
}

#[test]
fn a_line_that_is_not_utf8_is_an_error_that_keeps_its_bytes() {
    clearloop::run(async {
        let (mut a, mut b) = common::stream_pair();
        a.write_all(b"caf\xe9\nok\n").await.unwrap();
        let mut line = String::new();
        let Err(LineError::NotUtf8(error)) = b.read_line(&mut line).await else {
            panic!("Latin-1 read as UTF-8")
        };
        assert_eq!(error.as_bytes(), b"caf\xe9\n");
        assert_eq!(error.utf8_error().valid_up_to(), 3);
        b.read_line(&mut line).await.unwrap();
        assert_eq!(line, "ok\n", "the next line reads on");
    });
}

/// A stream that reads no line has no buffer; the first line read makes it.
#[test]
fn a_stream_that_reads_no_line_has_no_buffer() {
    clearloop::run(async {
        let (mut a, mut b) = common::stream_pair();
        a.write_all(b"plain\nline\n").await.unwrap();
        let mut buf = [0; 6];
        b.read_exact(&mut buf).await.unwrap();
        assert!(
            format!("{b:?}").contains("lines: OnceLock(<uninit>)"),
            "{b:?}"
        );
        let mut line = String::new();
        b.read_line(&mut line).await.unwrap();
        assert_eq!(line, "line\n");
        assert!(format!("{b:?}").contains("Lines { limit: 65536"), "{b:?}");
    });
}

/// A `read_line` cut short (a timeout) loses nothing: the next one gets the line.
#[test]
fn a_cancelled_read_line_loses_no_bytes() {
    let runtime = Builder::new().clock(Clock::virtual_clock()).build();
    runtime.block_on(async {
        let (mut a, mut b) = common::stream_pair();
        a.write_all(b"half a li").await.unwrap();
        let mut line = String::new();
        let cut = clearloop::timeout::timeout(Duration::from_secs(1), b.read_line(&mut line));
        assert!(cut.await.is_err(), "no newline yet: timed out");
        assert_eq!(line, "");
        a.write_all(b"ne\n").await.unwrap();
        b.read_line(&mut line).await.unwrap();
        assert_eq!(line, "half a line\n");
    });
}

#[test]
#[should_panic(expected = "read_until(b\"\", ..): the separator is empty")]
fn an_empty_separator_is_refused() {
    clearloop::run(async {
        let (_a, mut b) = common::stream_pair();
        let _ = b.read_until(b"", &mut Vec::new()).await;
    });
}

#[test]
#[should_panic(expected = "set_line_limit(0)")]
fn a_zero_limit_is_refused() {
    let (_a, mut b) = common::stream_pair();
    b.set_line_limit(0);
}

/// Python's asyncio as the client: it writes lines cut in odd places and reads the
/// answers with `readline()` and `readuntil()`; the clearloop server reads with
/// `read_line`, answers each line upper-cased, then a `\r\n`-ended summary.
#[test]
fn a_python_asyncio_client_talks_lines_to_a_clearloop_server() {
    let python = std::process::Command::new("python3")
        .arg("--version")
        .output();
    if !matches!(&python, Ok(output) if output.status.success()) {
        println!("note: no python3 here; the asyncio client test is skipped");
        return;
    }
    const CLIENT: &str = r#"
import asyncio, sys
async def main(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for piece in [b"hel", b"lo\nwor", b"ld\n\n", b"caf\xc3", b"\xa9\nx" + b"y" * 5000, b"z\nbye\n"]:
        writer.write(piece)
        await writer.drain()
        await asyncio.sleep(0.005)
    answers = [await reader.readline() for _ in range(5)]
    summary = await reader.readuntil(b"\r\n")
    end = await reader.readline()
    writer.close()
    await writer.wait_closed()
    for answer in answers:
        print(answer[:12], len(answer))
    print(summary, end)
asyncio.run(main(int(sys.argv[1])))
"#;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let child = std::process::Command::new("python3")
        .args(["-c", CLIENT, &port])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let received = clearloop::run(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut received = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            stream.read_line(&mut line).await.unwrap();
            received.push(line.clone());
            if line == "bye\n" {
                break;
            }
            stream
                .write_all(line.to_uppercase().as_bytes())
                .await
                .unwrap();
        }
        let summary = format!("{} lines\r\n", received.len());
        stream.write_all(summary.as_bytes()).await.unwrap();
        received
    });
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "python3 failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let y = "y".repeat(5000);
    assert_eq!(
        received,
        [
            "hello\n",
            "world\n",
            "\n",
            "café\n",
            &format!("x{y}z\n"),
            "bye\n"
        ]
    );
    assert_eq!(
        stdout,
        "b'HELLO\\n' 6\nb'WORLD\\n' 6\nb'\\n' 1\nb'CAF\\xc3\\x89\\n' 6\nb'XYYYYYYYYYYY' 5003\n\
         b'6 lines\\r\\n' b''\n"
    );
}
