//! Unix domain stream sockets: TCP's interface, a path instead of an address
//! (asyncio's `open_unix_connection(path)` and `start_unix_server(handler, path)`).

use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use rustix::net::{AddressFamily, SocketAddrUnix, SocketType};

use super::NetError;
use super::accept::{self, Pause};
use super::stream::{Conn, futures_io_via_conn};
use crate::reactor::Registered;

/// A Unix socket listening at a path (asyncio's `start_unix_server`).
///
/// The socket's file stays after the listener is dropped, as in Python: remove it
/// (`std::fs::remove_file`) before binding the same path again.
#[derive(Debug)]
pub struct UnixListener {
    io: Registered<std::os::unix::net::UnixListener>,
    path: PathBuf,
    /// Set when an accept ran out of descriptors (as `TcpListener`'s).
    pause: Pause,
}

impl UnixListener {
    /// Creates the socket file at `path` and listens.
    ///
    /// # Errors
    ///
    /// The path exists already (`AddrInUse`), its directory does not, permission
    /// denied: the OS's error, naming the path.
    pub fn bind(path: impl AsRef<Path>) -> Result<UnixListener, NetError> {
        let path = path.as_ref();
        let named = |error| NetError::new(error, "bind", Some(path.display()));
        let listener = std::os::unix::net::UnixListener::bind(path).map_err(named)?;
        listener.set_nonblocking(true).map_err(named)?;
        Ok(UnixListener {
            io: Registered::new(listener).map_err(named)?,
            path: path.to_owned(),
            pause: Pause::default(),
        })
    }

    /// Waits for a connection (one `accept4`: the socket comes non-blocking and
    /// close-on-exec).
    ///
    /// # Errors
    ///
    /// The OS's error (errno kept), naming the path. Out of file descriptors or
    /// memory: returned at once, and the next accept waits
    /// [`ACCEPT_RETRY_DELAY`](super::ACCEPT_RETRY_DELAY) first, as
    /// [`TcpListener::accept`](super::TcpListener::accept) does.
    pub async fn accept(&self) -> Result<UnixStream, NetError> {
        self.pause.wait().await;
        let stream = poll_fn(|cx| self.io.poll_read_with(cx, accept::unix))
            .await
            .map_err(|error| self.pause.after(error, self.path.display()))?;
        let peer = format!("a client of {}", self.path.display());
        UnixStream::new(stream, peer)
    }

    /// The path it listens at.
    pub fn local_path(&self) -> &Path {
        &self.path
    }
}

/// A Unix stream connection (asyncio's `open_unix_connection`). The same reads and
/// writes as [`TcpStream`](super::TcpStream), and the `futures-io` traits; no `split`
/// yet.
#[derive(Debug)]
pub struct UnixStream {
    inner: Conn<std::os::unix::net::UnixStream, String>,
}

impl UnixStream {
    fn new(stream: std::os::unix::net::UnixStream, peer: String) -> Result<UnixStream, NetError> {
        let io = Registered::new(stream)
            .map_err(|error| NetError::new(error, "register the connection to", Some(&peer)))?;
        Ok(UnixStream {
            inner: Conn::new(io, peer),
        })
    }

    /// Connects to the listener at `path`. A Unix connect does not wait for a
    /// handshake: it succeeds or fails at once.
    ///
    /// # Errors
    ///
    /// No such file, connection refused (nobody listens there any more), or the
    /// listener's queue is full (`WouldBlock`: try again later), naming the path.
    pub async fn connect(path: impl AsRef<Path>) -> Result<UnixStream, NetError> {
        let path = path.as_ref();
        let named = |error: io::Error| NetError::new(error, "connect to", Some(path.display()));
        let fd = super::sys::socket(AddressFamily::UNIX, SocketType::STREAM).map_err(named)?;
        let addr = SocketAddrUnix::new(path).map_err(|errno| named(errno.into()))?;
        rustix::net::connect(&fd, &addr).map_err(|errno| named(errno.into()))?;
        let stream = UnixStream::new(fd.into(), path.display().to_string())?;
        stream.inner.os("UnixStream::connect").touched_peer(); // the listener is readable now
        Ok(stream)
    }

    /// Two connected sockets (`socket.socketpair()`), for a test or two tasks.
    ///
    /// # Errors
    ///
    /// The OS's (out of file descriptors).
    pub fn pair() -> Result<(UnixStream, UnixStream), NetError> {
        let named = |error| NetError::new(error, "socketpair", None::<&str>);
        let (a, b) = std::os::unix::net::UnixStream::pair().map_err(named)?;
        a.set_nonblocking(true).map_err(named)?;
        b.set_nonblocking(true).map_err(named)?;
        Ok((
            UnixStream::new(a, "its pair".into())?,
            UnixStream::new(b, "its pair".into())?,
        ))
    }

    /// Reads what has arrived (0: the peer closed its side).
    ///
    /// # Errors
    ///
    /// Connection reset and the like, naming the peer.
    pub async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        poll_fn(|cx| self.inner.poll_read(cx, buf)).await
    }

    /// Reads exactly `buf.len()` bytes.
    ///
    /// # Errors
    ///
    /// `UnexpectedEof` if the stream ends first, and those of [`read`](Self::read).
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), NetError> {
        self.inner.read_exact(buf).await
    }

    /// Writes what the socket takes now, waiting if its buffer is full.
    ///
    /// # Errors
    ///
    /// Broken pipe (the peer is gone), naming it.
    pub async fn write(&mut self, buf: &[u8]) -> Result<usize, NetError> {
        poll_fn(|cx| self.inner.poll_write(cx, buf)).await
    }

    /// Writes all of `buf`.
    ///
    /// # Errors
    ///
    /// Those of [`write`](Self::write).
    pub async fn write_all(&mut self, buf: &[u8]) -> Result<(), NetError> {
        self.inner.write_all(buf).await
    }

    /// Closes one or both directions (`Shutdown::Write`: the peer reads the end of
    /// stream).
    ///
    /// # Errors
    ///
    /// When the socket is no longer connected.
    pub fn shutdown(&self, how: Shutdown) -> Result<(), NetError> {
        self.inner.shutdown(how)
    }

    /// Who is at the other end: the listener's path, `a client of PATH`, or
    /// `its pair`.
    pub fn peer(&self) -> &str {
        &self.inner.peer
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.os("UnixStream::as_fd").get_ref().as_fd()
    }
}

futures_io_via_conn!(read: UnixStream; write: UnixStream);
