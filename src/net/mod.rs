//! TCP, UDP and Unix sockets that wait in the reactor instead of blocking the thread.
//!
//! asyncio gives two layers: streams (`asyncio.open_connection(host, port)` →
//! `(reader, writer)`, `asyncio.start_server(handler, host, port)`) and the loop's
//! socket calls (`loop.sock_accept`, `sock_recv`, `sock_sendall`, `sock_connect`).
//! clearloop's types sit between the two, like tokio's: a [`TcpListener`] accepts,
//! a [`TcpStream`] reads and writes with `.await`, and [`TcpStream::split`] gives
//! the reader and the writer to two tasks, as `open_connection` returns two objects.
//!
//! | asyncio                                        | clearloop                                   |
//! |------------------------------------------------|---------------------------------------------|
//! | `await open_connection(host, port)`            | [`TcpStream::connect`]`(addr).await`        |
//! | `await start_server(handler, host, port)`      | [`TcpListener::bind`], then `accept().await` in a loop, `spawn(handler)` |
//! | `await reader.read(n)`, `readexactly(n)`       | [`TcpStream::read`], [`TcpStream::read_exact`] |
//! | `await reader.readline()`                      | [`TcpStream::read_line`]`(&mut line).await` (the bytes after the line stay buffered for the next read) |
//! | `await reader.readuntil(separator)`            | [`TcpStream::read_until`]`(separator, &mut buf).await` |
//! | `open_connection(..., limit=n)` (64 KiB)       | [`TcpStream::set_line_limit`]`(n)` ([`DEFAULT_LINE_LIMIT`], 64 KiB) |
//! | `LimitOverrunError`, `IncompleteReadError`     | [`LineError::LimitOverrun`], [`LineError::Incomplete`] |
//! | `writer.write(b)`, `await writer.drain()`      | [`TcpStream::write_all`]`(b).await`         |
//! | `writer.write_eof()`                           | [`TcpStream::shutdown`]`(Shutdown::Write)`  |
//! | `writer.get_extra_info('peername')`            | [`TcpStream::peer_addr`]                    |
//! | `await loop.sock_recv(sock, n)`                | [`Registered::read_with`](crate::reactor::Registered::read_with) |
//! | `loop.create_datagram_endpoint(...)`           | [`UdpSocket::bind`], `send_to`, `recv_from` |
//! | `await open_unix_connection(path)`             | [`UnixStream::connect`]`(path).await`       |
//! | `await start_unix_server(handler, path)`       | [`UnixListener::bind`]`(path)`, then `accept().await` |
//! | `async for line in reader` (a `StreamReader`)  | `while stream.read_line(&mut line).await? > 0 { ...; line.clear() }` (it appends), or `futures::io::BufReader::new(stream).lines()` (the `futures-io` traits) |
//!
//! Every socket is non-blocking and registered with the [reactor](crate::reactor)
//! while it lives: an operation is tried at once, and only when the OS says "would
//! block" does the task wait for readiness. Dropping a socket deregisters and closes
//! it, and dropping a pending `read`, `accept` or `connect` (a cancelled task, a
//! timeout) leaves nothing behind but a stale waker, dropped at the next event.
//!
//! ## Errors: the OS's errno and kind, and the address
//!
//! Every fallible call returns a [`NetError`] (Python's `OSError`: `errno`,
//! `strerror`, and the address). Its [`raw_os_error`](NetError::raw_os_error) and
//! [`kind`](NetError::kind) are the OS error's, as std gives them, and its message
//! says what was being done, to whom: `connect to 127.0.0.1:9: Connection refused
//! (os error 111)`, `bind 127.0.0.1:8080: Address already in use (os error 98)`,
//! `read from 127.0.0.1:40312: Connection reset by peer (os error 104)`,
//! `connect to no-such-host.invalid:80: failed to lookup address information: ...`;
//! [`address`](NetError::address) gives the address alone. (An `io::Error` cannot
//! carry both an errno and a message: std and tokio keep the errno and drop the
//! address; `error.rs` tells the story.) `?` turns a `NetError` into an `io::Error`
//! with the same kind and message, and [`NetError::of`] finds the errno and the
//! address in it again. A read at the end of the stream is not an error: it returns
//! 0, as in Python (`b''`). An error on one connection is that connection's: the
//! loop and the other connections go on.
//!
//! ## Host names are resolved on the blocking pool
//!
//! [`TcpStream::connect`]`("example.com:80")` runs the resolver (`getaddrinfo`,
//! which may wait seconds for a DNS server) on the [blocking pool](crate::blocking),
//! as asyncio's `loop.getaddrinfo` runs in its executor: the loop runs other tasks
//! meanwhile. A literal address (`"127.0.0.1:80"`, `("::1", 80)`, a `SocketAddr`) is
//! parsed on the spot, no thread involved. That is why `connect` takes this module's
//! [`ToSocketAddrs`], which accepts std's address forms (`resolve.rs` explains).
//! The `bind`s are synchronous, like `socket.bind`: give them addresses.
//!
//! ## Accept: one system call, and a pause when descriptors run out
//!
//! `accept` is one `accept4(SOCK_NONBLOCK | SOCK_CLOEXEC)`: the new socket comes
//! non-blocking and close-on-exec, with no `ioctl` after it (tokio's way; std's
//! accept needs one more call). When the process runs out of file descriptors
//! (`EMFILE`, or `ENFILE`, `ENOBUFS`, `ENOMEM`), the error is returned, errno kept,
//! and the listener's next accept waits [`ACCEPT_RETRY_DELAY`] (1 s) before it tries
//! again, as asyncio's `start_server` pauses (`selector_events.py`,
//! `_accept_connection`): an accept loop that logs the error and goes on turns once
//! a second instead of spinning on a connection it cannot take (`accept.rs`).
//!
//! Loopback only in the examples and tests (`127.0.0.1`, `::1`).
//!
//! ## Windows
//!
//! The same API, on IOCP (the [reactor](crate::reactor)'s Windows selector). Unix-domain
//! sockets ([`UnixListener`], [`UnixStream`]) are Unix-only, as asyncio's
//! `start_unix_server` and `open_unix_connection` are. A new socket is made
//! non-inheritable and non-blocking (`sys.rs`); a failed connect is seen as on Unix,
//! the socket reported writable and `SO_ERROR` read.
//!
//! ```
//! use clearloop::net::{TcpListener, TcpStream};
//!
//! let echoed = clearloop::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let server = clearloop::spawn(async move {
//!         let (mut stream, _peer) = listener.accept().await.unwrap();
//!         let mut buf = [0; 64];
//!         let n = stream.read(&mut buf).await.unwrap();
//!         stream.write_all(&buf[..n]).await.unwrap();
//!     });
//!     let mut client = TcpStream::connect(addr).await.unwrap();
//!     client.write_all(b"hello").await.unwrap();
//!     let mut reply = [0; 5];
//!     client.read_exact(&mut reply).await.unwrap();
//!     server.await;
//!     reply
//! });
//! assert_eq!(&echoed, b"hello");
//! ```

#![cfg(any(unix, windows))]

mod accept;
mod error;
mod lines;
mod resolve;
mod stream;
mod sys;
mod tcp;
mod udp;
#[cfg(unix)]
mod unix;

pub use accept::ACCEPT_RETRY_DELAY;
pub use error::NetError;
pub use lines::{
    DEFAULT_LINE_LIMIT, IncompleteReadError, LimitOverrunError, LineError, NotUtf8Error,
};
pub use resolve::ToSocketAddrs;
pub use tcp::{ReadHalf, TcpListener, TcpStream, WriteHalf};
pub use udp::UdpSocket;
#[cfg(unix)]
pub use unix::{UnixListener, UnixStream};
