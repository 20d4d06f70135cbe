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
    io: Datagram,
    addr: SocketAddr,
}

/// The operating system's socket, or a simulated one on a simulation runtime
/// ([`crate::sim::net`]).
#[derive(Debug)]
enum Datagram {
    Os(Registered<std::net::UdpSocket>),
    Sim(crate::sim::net::Datagrams),
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
        if let Some(world) = crate::runtime::current_network() {
            // A simulation runtime: a socket on its simulated network.
            let one = resolved.addrs[0];
            let socket = crate::sim::net::Datagrams::bind(world, one)
                .map_err(|error| NetError::new(error, "bind", Some(resolved.describe(one))))?;
            return Ok(UdpSocket {
                addr: socket.local_addr(),
                io: Datagram::Sim(socket),
            });
        }
        let mut last = None;
        for &one in &resolved.addrs {
            let named = |error| NetError::new(error, "bind", Some(resolved.describe(one)));
            match std::net::UdpSocket::bind(one) {
                Ok(socket) => {
                    socket.set_nonblocking(true).map_err(named)?;
                    let addr = socket.local_addr().map_err(named)?;
                    return Ok(UdpSocket {
                        io: Datagram::Os(Registered::new(socket).map_err(named)?),
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
        let io = match &self.io {
            Datagram::Os(io) => io,
            Datagram::Sim(socket) => {
                socket.connect(resolved.addrs[0]);
                return Ok(());
            }
        };
        let mut last = None;
        for &one in &resolved.addrs {
            match io.get_ref().connect(one) {
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
        match &self.io {
            Datagram::Os(io) => poll_fn(|cx| io.poll_write_with(cx, |socket| socket.send(buf)))
                .await
                .map_err(|error| NetError::new(error, "send from", Some(self.addr))),
            Datagram::Sim(socket) => match socket.peer() {
                Some(peer) => Ok(socket.send_to(buf, peer)),
                None => Err(not_connected(self.addr, "send from")),
            },
        }
    }

    /// Receives one datagram from the connected peer; returns its length.
    ///
    /// # Errors
    ///
    /// Not connected, or refused (see [`send`](UdpSocket::send)).
    pub async fn recv(&self, buf: &mut [u8]) -> Result<usize, NetError> {
        match &self.io {
            Datagram::Os(io) => poll_fn(|cx| io.poll_read_with(cx, |socket| socket.recv(buf)))
                .await
                .map_err(|error| NetError::new(error, "recv on", Some(self.addr))),
            Datagram::Sim(socket) if socket.peer().is_none() => {
                Err(not_connected(self.addr, "recv on"))
            }
            Datagram::Sim(socket) => Ok(socket.recv_from(buf).await.0),
        }
    }

    /// Sends one datagram to `target`; returns its length.
    ///
    /// # Errors
    ///
    /// A datagram too large (`EMSGSIZE`), no route: naming the target.
    pub async fn send_to(&self, buf: &[u8], target: SocketAddr) -> Result<usize, NetError> {
        let io = match &self.io {
            Datagram::Os(io) => io,
            Datagram::Sim(socket) => return Ok(socket.send_to(buf, target)),
        };
        poll_fn(|cx| io.poll_write_with(cx, |socket| socket.send_to(buf, target)))
            .await
            .map_err(|error| NetError::new(error, "send to", Some(target)))
    }

    /// Receives one datagram; returns its length and who sent it.
    ///
    /// # Errors
    ///
    /// The OS's, naming this socket's address.
    pub async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddr), NetError> {
        let io = match &self.io {
            Datagram::Os(io) => io,
            Datagram::Sim(socket) => return Ok(socket.recv_from(buf).await),
        };
        poll_fn(|cx| io.poll_read_with(cx, |socket| socket.recv_from(buf)))
            .await
            .map_err(|error| NetError::new(error, "recv_from on", Some(self.addr)))
    }

    /// The operating system's socket (panics on a simulated one, which has none).
    #[track_caller]
    fn os(&self, what: &str) -> &Registered<std::net::UdpSocket> {
        match &self.io {
            Datagram::Os(io) => io,
            Datagram::Sim(_) => panic!(
                "{what}: the UDP socket on {} is simulated (Builder::simulation): it has \
                 no descriptor of the operating system",
                self.addr
            ),
        }
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
        let peer = match &self.io {
            Datagram::Os(io) => io.get_ref().peer_addr(),
            Datagram::Sim(socket) => socket.peer().ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::NotConnected, "not connected")
            }),
        };
        peer.map_err(|error| NetError::new(error, "peer address of", Some(self.addr)))
    }
}

#[cfg(unix)]
impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.os("UdpSocket::as_fd").get_ref().as_fd()
    }
}

#[cfg(windows)]
impl AsSocket for UdpSocket {
    fn as_socket(&self) -> BorrowedSocket<'_> {
        self.os("UdpSocket::as_socket").get_ref().as_socket()
    }
}

/// `NotConnected`: `send` or `recv` before `connect`, as the OS says it.
fn not_connected(addr: SocketAddr, operation: &'static str) -> NetError {
    let error = std::io::Error::new(std::io::ErrorKind::NotConnected, "not connected");
    NetError::new(error, operation, Some(addr))
}
