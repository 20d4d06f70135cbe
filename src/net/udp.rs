//! UDP: datagrams, each sent and received whole.

use std::future::poll_fn;
use std::net::SocketAddr;
#[cfg(unix)]
use std::os::fd::{AsFd, BorrowedFd};
#[cfg(windows)]
use std::os::windows::io::{AsSocket, BorrowedSocket};

use super::resolve::resolve_here;
use super::{NetError, ToSocketAddrs};
use crate::reactor::Registered;

/// A UDP socket (asyncio's `loop.create_datagram_endpoint`, or `loop.sock_recvfrom`
/// and `sock_sendto` on a datagram socket).
///
/// Each `recv` returns one datagram; a buffer too small for it keeps the start and
/// loses the rest, as with any UDP socket.
///
/// ```
/// use clearloop::net::UdpSocket;
///
/// clearloop::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0").unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
/// });
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    io: Registered<std::net::UdpSocket>,
    addr: SocketAddr,
}

impl UdpSocket {
    /// Binds to `addr` (the first of its addresses that works). Synchronous: give
    /// it an address; a host name here is resolved on the calling thread.
    ///
    /// # Errors
    ///
    /// Address in use and the like, naming the address.
    pub fn bind(addr: impl ToSocketAddrs) -> Result<UdpSocket, NetError> {
        let resolved = resolve_here(&addr, "bind")?;
        let mut last = None;
        for &one in &resolved.addrs {
            let named = |error| NetError::new(error, "bind", Some(resolved.describe(one)));
            match std::net::UdpSocket::bind(one) {
                Ok(socket) => {
                    socket.set_nonblocking(true).map_err(named)?;
                    let addr = socket.local_addr().map_err(named)?;
                    return Ok(UdpSocket {
                        io: Registered::new(socket).map_err(named)?,
                        addr,
                    });
                }
                Err(error) => last = Some(named(error)),
            }
        }
        Err(last.expect("resolve returns at least one address"))
    }

    /// Sets the default peer: [`send`](UdpSocket::send) goes there, and
    /// [`recv`](UdpSocket::recv) takes datagrams from there only. Nothing is sent:
    /// UDP has no handshake, so this returns at once (and, like `bind`, resolves a
    /// host name on the calling thread: give it an address).
    ///
    /// # Errors
    ///
    /// No route and the like, naming the address.
    pub fn connect(&self, addr: impl ToSocketAddrs) -> Result<(), NetError> {
        let resolved = resolve_here(&addr, "connect to")?;
        let mut last = None;
        for &one in &resolved.addrs {
            match self.io.get_ref().connect(one) {
                Ok(()) => return Ok(()),
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

    /// Sends one datagram to the connected peer; returns its length.
    ///
    /// # Errors
    ///
    /// Not connected; or the previous datagram was refused (`ECONNREFUSED`: nobody
    /// listens at the peer's port, which the OS learnt from an ICMP message).
    pub async fn send(&self, buf: &[u8]) -> Result<usize, NetError> {
        poll_fn(|cx| self.io.poll_write_with(cx, |socket| socket.send(buf)))
            .await
            .map_err(|error| NetError::new(error, "send from", Some(self.addr)))
    }

    /// Receives one datagram from the connected peer; returns its length.
    ///
    /// # Errors
    ///
    /// Not connected, or refused (see [`send`](UdpSocket::send)).
    pub async fn recv(&self, buf: &mut [u8]) -> Result<usize, NetError> {
        poll_fn(|cx| self.io.poll_read_with(cx, |socket| socket.recv(buf)))
            .await
            .map_err(|error| NetError::new(error, "recv on", Some(self.addr)))
    }

    /// Sends one datagram to `target`; returns its length.
    ///
    /// # Errors
    ///
    /// A datagram too large (`EMSGSIZE`), no route: naming the target.
    pub async fn send_to(&self, buf: &[u8], target: SocketAddr) -> Result<usize, NetError> {
        poll_fn(|cx| {
            self.io
                .poll_write_with(cx, |socket| socket.send_to(buf, target))
        })
        .await
        .map_err(|error| NetError::new(error, "send to", Some(target)))
    }

    /// Receives one datagram; returns its length and who sent it.
    ///
    /// # Errors
    ///
    /// The OS's, naming this socket's address.
    pub async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddr), NetError> {
        poll_fn(|cx| self.io.poll_read_with(cx, |socket| socket.recv_from(buf)))
            .await
            .map_err(|error| NetError::new(error, "recv_from on", Some(self.addr)))
    }

    /// The address it is bound to.
    ///
    /// # Errors
    ///
    /// None in practice: the address is read once, at bind.
    pub fn local_addr(&self) -> Result<SocketAddr, NetError> {
        Ok(self.addr)
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` before [`connect`](UdpSocket::connect).
    pub fn peer_addr(&self) -> Result<SocketAddr, NetError> {
        let peer = self.io.get_ref().peer_addr();
        peer.map_err(|error| NetError::new(error, "peer address of", Some(self.addr)))
    }
}

#[cfg(unix)]
impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

#[cfg(windows)]
impl AsSocket for UdpSocket {
    fn as_socket(&self) -> BorrowedSocket<'_> {
        self.io.get_ref().as_socket()
    }
}
