//! TCP: a listener that accepts, a stream that reads and writes, and its two halves.

use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
#[cfg(unix)]
use std::os::fd::{AsFd, BorrowedFd};
#[cfg(windows)]
use std::os::windows::io::{AsSocket, BorrowedSocket};
use std::sync::Arc;

use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketType};

use super::accept::{self, Pause};
use super::resolve::{resolve_here, resolve_on_pool};
use super::stream::{Conn, Io, futures_io_via_conn};
use super::{NetError, ToSocketAddrs};
use crate::reactor::Registered;

/// How many connections the kernel queues for `accept` (see `from_std`).
const BACKLOG: i32 = 1024;

/// A TCP socket listening for connections (the server side of asyncio's
/// `start_server`, or `loop.sock_accept` on a listening socket).
///
/// ```
/// use clearloop::net::TcpListener;
///
/// let listener = TcpListener::bind("127.0.0.1:0").unwrap(); // port 0: the OS picks
/// assert!(listener.local_addr().unwrap().port() > 0);
/// // Binding the same address again: an error naming the cause and the address.
/// let again = TcpListener::bind(listener.local_addr().unwrap()).unwrap_err();
/// assert_eq!(again.kind(), std::io::ErrorKind::AddrInUse);
/// # #[cfg(target_os = "linux")]
/// assert_eq!(again.raw_os_error(), Some(98)); // EADDRINUSE (10048 on Windows)
/// assert!(again.to_string().starts_with("bind 127.0.0.1:"));
/// ```
#[derive(Debug)]
pub struct TcpListener {
    io: Listening,
    addr: SocketAddr,
    /// Set when an accept ran out of descriptors ([`accept`](TcpListener::accept)).
    pause: Pause,
}

/// What a listener listens with: the operating system's socket, or a simulated
/// listener on a simulation runtime ([`crate::sim::net`]).
#[derive(Debug)]
enum Listening {
    Os(Registered<std::net::TcpListener>),
    Sim(crate::sim::net::Listener),
}

impl TcpListener {
    /// Binds to `addr` and listens (the first of its addresses that works).
    ///
    /// Synchronous, as `socket.bind` is: give it an address (`"127.0.0.1:0"`,
    /// `"0.0.0.0:8080"`); a host name here is resolved on the calling thread.
    ///
    /// # Errors
    ///
    /// Address in use, permission denied, no such address: the OS's error (errno and
    /// kind kept), with the address in its message.
    pub fn bind(addr: impl ToSocketAddrs) -> Result<TcpListener, NetError> {
        let resolved = resolve_here(&addr, "bind")?;
        if let Some(world) = crate::runtime::current_network() {
            // A simulation runtime: a listener on its simulated network.
            let one = resolved.addrs[0];
            let listener = crate::sim::net::Listener::bind(world, one)
                .map_err(|error| NetError::new(error, "bind", Some(resolved.describe(one))))?;
            return Ok(TcpListener {
                addr: listener.local_addr(),
                io: Listening::Sim(listener),
                pause: Pause::default(),
            });
        }
        let mut last = None;
        for &one in &resolved.addrs {
            // Windows takes its backlog at `listen` only, and std listens with
            // 128 (see `sys::bind_listener`); elsewhere `from_std` listens again.
            #[cfg(unix)]
            let bound = std::net::TcpListener::bind(one);
            #[cfg(windows)]
            let bound = super::sys::bind_listener(one, BACKLOG);
            match bound {
                Ok(listener) => return TcpListener::from_std(listener),
                Err(error) => {
                    last = Some(NetError::new(error, "bind", Some(resolved.describe(one))))
                }
            }
        }
        Err(last.expect("resolve returns at least one address"))
    }

    /// Wraps a listener bound by other means; makes it non-blocking.
    ///
    /// # Errors
    ///
    /// When it cannot be made non-blocking or registered.
    pub fn from_std(listener: std::net::TcpListener) -> Result<TcpListener, NetError> {
        let addr = listener
            .local_addr()
            .map_err(|error| NetError::new(error, "local address of", None::<&str>))?;
        let named = |error: io::Error| NetError::new(error, "listen on", Some(addr));
        // std listens with a backlog of 128: a burst of more connections than that
        // (a thousand clients starting at once) would see SYNs dropped and retried a
        // second later. Listening again only changes the backlog (Linux); 1024 is
        // tokio's figure (asyncio's `start_server`: 100), capped by `somaxconn`.
        super::sys::listen(&listener, BACKLOG).map_err(named)?;
        listener.set_nonblocking(true).map_err(named)?;
        Ok(TcpListener {
            io: Listening::Os(Registered::new(listener).map_err(named)?),
            addr,
            pause: Pause::default(),
        })
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// One system call per connection: `accept4` makes the new socket non-blocking
    /// and close-on-exec (see the [module doc](super)).
    ///
    /// # Errors
    ///
    /// The OS's error (errno kept), naming the listener's address. Out of file
    /// descriptors or memory (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`): the
    /// connection stays queued, the error is returned at once, and the *next* accept
    /// on this listener first waits [`ACCEPT_RETRY_DELAY`](super::ACCEPT_RETRY_DELAY)
    /// (1 s, asyncio's pause in `start_server`), so a loop that logs the error and
    /// accepts again does not spin while no descriptor is free:
    ///
    /// ```no_run
    /// # async fn serve(_stream: clearloop::net::TcpStream) {}
    /// # clearloop::run(async {
    /// # let listener = clearloop::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// loop {
    ///     match listener.accept().await {
    ///         Ok((stream, _peer)) => drop(clearloop::spawn(serve(stream))), // detached
    ///         // EMFILE: said here, and the next accept waits 1 s (close idle ones now).
    ///         Err(error) => eprintln!("{error}"),
    ///     }
    /// }
    /// # });
    /// ```
    pub async fn accept(&self) -> Result<(TcpStream, SocketAddr), NetError> {
        let io = match &self.io {
            Listening::Os(io) => io,
            Listening::Sim(listener) => {
                let (end, peer) = listener.accept().await;
                return Ok((TcpStream::from_simulated(end), peer));
            }
        };
        self.pause.wait().await;
        let (stream, peer) = poll_fn(|cx| io.poll_read_with(cx, accept::tcp))
            .await
            .map_err(|error| self.pause.after(error, self.addr))?;
        Ok((TcpStream::from_accepted(stream, peer)?, peer))
    }

    /// The operating system's socket (panics on a simulated listener, which has
    /// none).
    #[track_caller]
    #[cfg_attr(not(any(unix, windows)), allow(dead_code))]
    fn os(&self, what: &str) -> &Registered<std::net::TcpListener> {
        match &self.io {
            Listening::Os(io) => io,
            Listening::Sim(_) => panic!(
                "{what}: the listener on {} is simulated (Builder::simulation): it has no \
                 descriptor of the operating system",
                self.addr
            ),
        }
    }

    /// The address it listens on (with the port the OS chose, after a bind to port 0).
    ///
    /// # Errors
    ///
    /// None in practice: the address is read once, at bind.
    pub fn local_addr(&self) -> Result<SocketAddr, NetError> {
        Ok(self.addr)
    }
}

#[cfg(unix)]
impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.os("TcpListener::as_fd").get_ref().as_fd()
    }
}

#[cfg(windows)]
impl AsSocket for TcpListener {
    fn as_socket(&self) -> BorrowedSocket<'_> {
        self.os("TcpListener::as_socket").get_ref().as_socket()
    }
}

/// A TCP connection (asyncio's `(reader, writer)` pair in one value).
///
/// `read`, `write` and friends take `&mut self`: one task uses a stream. To read in
/// one task and write in another, [`split`](TcpStream::split) it. Lines are read as
/// asyncio's `StreamReader.readline()` reads them, with `read_line` and `read_until`.
/// It also implements the `futures-io` traits `AsyncRead` and `AsyncWrite`, so the
/// `futures` crate's `copy` and `BufReader` work on it.
#[derive(Debug)]
pub struct TcpStream {
    inner: Arc<Conn<std::net::TcpStream, SocketAddr>>,
}

impl TcpStream {
    /// Opens a connection to `addr` (asyncio's `open_connection`, `loop.sock_connect`):
    /// the first of its addresses that accepts.
    ///
    /// A host name (`"example.com:80"`, `("localhost", 8080)`) is resolved on the
    /// blocking pool, as asyncio's `loop.getaddrinfo` runs in its executor: the loop
    /// runs other tasks meanwhile. A literal address (`"127.0.0.1:80"`, a
    /// `SocketAddr`) is parsed on the spot, no thread involved.
    ///
    /// The socket is made non-blocking *before* it connects, so the handshake is
    /// awaited in the reactor (the socket turns writable when it ends; `SO_ERROR` then
    /// says how), not blocked on.
    ///
    /// # Errors
    ///
    /// Connection refused, unreachable, timed out: the OS's error (errno and kind
    /// kept), with the address (`connect to localhost:9 (127.0.0.1:9): Connection
    /// refused (os error 111)`). A name that does not resolve: the resolver's error,
    /// naming the host.
    pub async fn connect(addr: impl ToSocketAddrs) -> Result<TcpStream, NetError> {
        let resolved = resolve_on_pool(&addr, "connect to").await?;
        let world = crate::runtime::current_network();
        let mut last = None;
        for &one in &resolved.addrs {
            let connected = match &world {
                None => TcpStream::connect_one(one).await,
                // A simulation runtime: a connection on its simulated network.
                Some(world) => {
                    let local = crate::sim::net::local_host_for(one);
                    crate::sim::net::End::connect(world.clone(), local, one)
                        .await
                        .map(TcpStream::from_simulated)
                }
            };
            match connected {
                Ok(stream) => return Ok(stream),
                Err(error) => {
                    last = Some(NetError::new(
                        error,
                        "connect to",
                        Some(resolved.describe(one)),
                    ));
                }
            }
        }
        Err(last.expect("resolve returns at least one address"))
    }

    async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
        let family = match addr {
            SocketAddr::V4(_) => AddressFamily::INET,
            SocketAddr::V6(_) => AddressFamily::INET6,
        };
        let fd = super::sys::socket(family, SocketType::STREAM)?;
        match rustix::net::connect(&fd, &addr) {
            // Loopback may connect at once; else the handshake goes on without us
            // (Windows says WSAEWOULDBLOCK where Unix says EINPROGRESS).
            Ok(()) | Err(Errno::INPROGRESS) => {}
            #[cfg(windows)]
            Err(Errno::WOULDBLOCK) => {}
            Err(errno) => return Err(errno.into()),
        }
        let io = Registered::new(std::net::TcpStream::from(fd))?;
        // The handshake made the listener readable: a task may accept.
        io.touched_peer();
        // Writable means the handshake ended: connected, or failed with an error to
        // collect. Not connected and no error: not over yet, wait (`WouldBlock`).
        let peer = io
            .write_with(|stream| {
                if let Some(error) = stream.take_error()? {
                    return Err(error);
                }
                stream.peer_addr().map_err(|error| match error.kind() {
                    io::ErrorKind::NotConnected => io::ErrorKind::WouldBlock.into(),
                    _ => error,
                })
            })
            .await?;
        let inner = Arc::new(Conn::new(io, peer));
        Ok(TcpStream { inner })
    }

    /// A stream on a simulated connection ([`crate::sim::net`]).
    pub(crate) fn from_simulated(end: crate::sim::net::End) -> TcpStream {
        let peer = end.peer_addr();
        TcpStream {
            inner: Arc::new(Conn::with(Io::Sim(end), peer)),
        }
    }

    /// A stream `accept4` made non-blocking already.
    /// Wraps a stream connected by other means (std's, a socket pair made by a test)
    /// and makes it non-blocking (tokio's `TcpStream::from_std`).
    ///
    /// # Errors
    ///
    /// When its peer's address cannot be read (it is not connected), or it cannot be
    /// made non-blocking.
    pub fn from_std(stream: std::net::TcpStream) -> Result<TcpStream, NetError> {
        let peer = stream
            .peer_addr()
            .map_err(|error| NetError::new(error, "peer address of", None::<&str>))?;
        stream
            .set_nonblocking(true)
            .map_err(|error| NetError::new(error, "set non-blocking", Some(peer)))?;
        TcpStream::from_accepted(stream, peer)
    }

    fn from_accepted(stream: std::net::TcpStream, peer: SocketAddr) -> Result<TcpStream, NetError> {
        let io = Registered::new(stream)
            .map_err(|error| NetError::new(error, "register the connection of", Some(peer)))?;
        Ok(TcpStream {
            inner: Arc::new(Conn::new(io, peer)),
        })
    }

    /// Reads what has arrived, at most `buf.len()` bytes; waits if nothing has. 0
    /// means the peer closed its side (end of stream), as `reader.read()` returns
    /// `b''`; reading again returns 0 again.
    ///
    /// # Errors
    ///
    /// Connection reset by peer, and the like, naming the peer's address.
    pub async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        poll_fn(|cx| self.inner.poll_read(cx, buf)).await
    }

    /// Reads exactly `buf.len()` bytes (asyncio's `readexactly`).
    ///
    /// # Errors
    ///
    /// `UnexpectedEof` (saying how many bytes came) if the stream ends first, and the
    /// errors of [`read`](TcpStream::read).
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), NetError> {
        self.inner.read_exact(buf).await
    }

    /// Writes what the socket's buffer takes now, at least one byte; waits if it is
    /// full. Returns how many bytes were written.
    ///
    /// # Errors
    ///
    /// Broken pipe or connection reset (the peer is gone), naming its address.
    pub async fn write(&mut self, buf: &[u8]) -> Result<usize, NetError> {
        poll_fn(|cx| self.inner.poll_write(cx, buf)).await
    }

    /// Writes all of `buf`, waiting whenever the socket's buffer is full (asyncio's
    /// `writer.write(buf)` then `await writer.drain()`).
    ///
    /// # Errors
    ///
    /// Those of [`write`](TcpStream::write).
    pub async fn write_all(&mut self, buf: &[u8]) -> Result<(), NetError> {
        self.inner.write_all(buf).await
    }

    /// Nothing to do: a `TcpStream` keeps no write buffer of its own (every write goes
    /// to the kernel). Here so code written for buffered writers reads the same.
    ///
    /// # Errors
    ///
    /// Never.
    pub async fn flush(&mut self) -> Result<(), NetError> {
        Ok(())
    }

    /// Closes one or both directions: `Shutdown::Write` sends the end of stream (the
    /// peer's read returns 0) and can still read the answer (a half-close, asyncio's
    /// `write_eof()`).
    ///
    /// # Errors
    ///
    /// When the socket is no longer connected.
    pub fn shutdown(&self, how: Shutdown) -> Result<(), NetError> {
        self.inner.shutdown(how)
    }

    /// The peer's address.
    ///
    /// # Errors
    ///
    /// None in practice: the address is read once, when the connection is made.
    pub fn peer_addr(&self) -> Result<SocketAddr, NetError> {
        Ok(self.inner.peer)
    }

    /// This end's address.
    ///
    /// # Errors
    ///
    /// The OS's, if the socket is in a bad state.
    pub fn local_addr(&self) -> Result<SocketAddr, NetError> {
        let local = match &self.inner.io {
            Io::Os(io) => io.get_ref().local_addr(),
            Io::Sim(end) => Ok(end.local_addr()),
        };
        local.map_err(|error| {
            NetError::new(
                error,
                "local address of the connection to",
                Some(self.inner.peer),
            )
        })
    }

    /// Sends small writes at once instead of batching them (disables Nagle's
    /// algorithm: `TCP_NODELAY`).
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn set_nodelay(&self, nodelay: bool) -> Result<(), NetError> {
        let set = match &self.inner.io {
            Io::Os(io) => io.get_ref().set_nodelay(nodelay),
            Io::Sim(_) => Ok(()), // a simulated segment never waits for more bytes
        };
        set.map_err(|error| {
            NetError::new(
                error,
                "set TCP_NODELAY on the connection to",
                Some(self.inner.peer),
            )
        })
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn nodelay(&self) -> Result<bool, NetError> {
        let get = match &self.inner.io {
            Io::Os(io) => io.get_ref().nodelay(),
            Io::Sim(_) => Ok(true),
        };
        get.map_err(|error| {
            NetError::new(
                error,
                "read TCP_NODELAY of the connection to",
                Some(self.inner.peer),
            )
        })
    }

    /// Splits the stream into a reading half and a writing half that two tasks can
    /// own (asyncio's `open_connection` returns them apart from the start). The
    /// socket closes when both are dropped.
    pub fn split(self) -> (ReadHalf, WriteHalf) {
        (
            ReadHalf {
                inner: self.inner.clone(),
            },
            WriteHalf { inner: self.inner },
        )
    }
}

#[cfg(unix)]
impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.os("TcpStream::as_fd").get_ref().as_fd()
    }
}

#[cfg(windows)]
impl AsSocket for TcpStream {
    fn as_socket(&self) -> BorrowedSocket<'_> {
        self.inner.os("TcpStream::as_socket").get_ref().as_socket()
    }
}

/// The reading half of a [`TcpStream`] (asyncio's `StreamReader`).
#[derive(Debug)]
pub struct ReadHalf {
    inner: Arc<Conn<std::net::TcpStream, SocketAddr>>,
}

/// The writing half of a [`TcpStream`] (asyncio's `StreamWriter`).
#[derive(Debug)]
pub struct WriteHalf {
    inner: Arc<Conn<std::net::TcpStream, SocketAddr>>,
}

impl ReadHalf {
    /// [`TcpStream::read`].
    ///
    /// # Errors
    ///
    /// Those of [`TcpStream::read`].
    pub async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        poll_fn(|cx| self.inner.poll_read(cx, buf)).await
    }

    /// [`TcpStream::read_exact`].
    ///
    /// # Errors
    ///
    /// Those of [`TcpStream::read_exact`].
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), NetError> {
        self.inner.read_exact(buf).await
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.inner.peer
    }
}

impl WriteHalf {
    /// [`TcpStream::write`].
    ///
    /// # Errors
    ///
    /// Those of [`TcpStream::write`].
    pub async fn write(&mut self, buf: &[u8]) -> Result<usize, NetError> {
        poll_fn(|cx| self.inner.poll_write(cx, buf)).await
    }

    /// [`TcpStream::write_all`].
    ///
    /// # Errors
    ///
    /// Those of [`TcpStream::write`].
    pub async fn write_all(&mut self, buf: &[u8]) -> Result<(), NetError> {
        self.inner.write_all(buf).await
    }

    /// [`TcpStream::shutdown`]: `Shutdown::Write` ends the stream for the peer.
    ///
    /// # Errors
    ///
    /// Those of [`TcpStream::shutdown`].
    pub fn shutdown(&self, how: Shutdown) -> Result<(), NetError> {
        self.inner.shutdown(how)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.inner.peer
    }
}

// The `futures-io` traits (`AsyncRead`, `AsyncWrite`), so the `futures` crate's io
// utilities work on these streams: each call goes to `Conn` (`stream.rs`).
futures_io_via_conn!(read: TcpStream, ReadHalf; write: TcpStream, WriteHalf);
