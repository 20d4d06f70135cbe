//! Accepting a connection: one system call per connection.
//!
//! **One call.** `accept4(fd, &addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC)` returns
//! the new socket already non-blocking and close-on-exec (a child process does not
//! inherit it). std's `accept` passes `SOCK_CLOEXEC` only, so its socket then needs
//! an `ioctl(FIONBIO)` to become non-blocking: a second system call for every
//! connection. tokio (through mio) passes both flags; asyncio calls
//! `conn.setblocking(False)` after `sock.accept()`, the two-call way.

use std::io;
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;

use rustix::net::SocketFlags;

/// The new socket is non-blocking and is not inherited across `exec`.
const FLAGS: SocketFlags = SocketFlags::NONBLOCK.union(SocketFlags::CLOEXEC);

/// One `accept4` on a TCP listener: the connection and its peer's address.
pub(super) fn tcp(
    listener: &std::net::TcpListener,
) -> io::Result<(std::net::TcpStream, SocketAddr)> {
    let (fd, peer) = rustix::net::acceptfrom_with(listener, FLAGS)?;
    let peer = peer
        .and_then(|peer| SocketAddr::try_from(peer).ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "accept gave no IP address"))?;
    Ok((fd.into(), peer))
}

/// One `accept4` on a Unix listener (a client's address is unnamed: not asked).
pub(super) fn unix(listener: &std::os::unix::net::UnixListener) -> io::Result<UnixStream> {
    Ok(rustix::net::accept_with(listener, FLAGS)?.into())
}
