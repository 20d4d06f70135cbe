//! The system calls of `net` that differ between systems: making a socket, and
//! accepting one, both already non-blocking and close-on-exec (not inherited by a
//! child process); and the `listen` that sets the backlog.
//!
//! Linux (and the BSDs) take the two flags in the call itself (`socket(...,
//! SOCK_NONBLOCK | SOCK_CLOEXEC)`, `accept4`): one system call. macOS has neither
//! flag, so there the socket is made first and set up after, with `fcntl(F_SETFD,
//! FD_CLOEXEC)` and `ioctl(FIONBIO)`: three calls, as Python's `socket` module makes
//! (`sock.setblocking(False)` after `accept`). The window between the calls only
//! matters to a program that forks meanwhile: there the child could inherit the new
//! socket, which is why the flags exist.
//!
//! Windows: a socket is made with `WSASocketW(..., WSA_FLAG_NO_HANDLE_INHERIT)`, so
//! that a child process does not inherit it (std's `Command` starts children with
//! handle inheritance on), then set non-blocking (`ioctlsocket(FIONBIO)`); an
//! accepted one comes from std's `accept`, which sets it non-inheritable, and is set
//! non-blocking after. Python's `socket` module does the same two calls.

use std::io;
#[cfg(unix)]
use std::net::SocketAddr;

use rustix::fd::OwnedFd;
#[cfg(unix)]
use rustix::net::SocketAddrAny;
use rustix::net::{AddressFamily, SocketType};

#[cfg(all(unix, not(target_vendor = "apple")))]
use rustix::net::SocketFlags;

/// The new socket is non-blocking and is not inherited across `exec`.
#[cfg(all(unix, not(target_vendor = "apple")))]
const FLAGS: SocketFlags = SocketFlags::NONBLOCK.union(SocketFlags::CLOEXEC);

/// A new socket, non-blocking and close-on-exec.
#[cfg(unix)]
pub(super) fn socket(family: AddressFamily, kind: SocketType) -> io::Result<OwnedFd> {
    #[cfg(not(target_vendor = "apple"))]
    return Ok(rustix::net::socket_with(family, kind, FLAGS, None)?);
    #[cfg(target_vendor = "apple")]
    return set_up(rustix::net::socket(family, kind, None)?);
}

/// One accepted connection, non-blocking and close-on-exec, and its peer's address.
#[cfg(unix)]
pub(super) fn accept(
    listener: impl std::os::fd::AsFd,
) -> io::Result<(OwnedFd, Option<SocketAddrAny>)> {
    #[cfg(not(target_vendor = "apple"))]
    return Ok(rustix::net::acceptfrom_with(listener, FLAGS)?);
    #[cfg(target_vendor = "apple")]
    {
        let (fd, peer) = rustix::net::acceptfrom(listener)?;
        Ok((set_up(fd)?, peer))
    }
}

/// Close-on-exec and non-blocking, after the fact (macOS).
#[cfg(target_vendor = "apple")]
fn set_up(fd: OwnedFd) -> io::Result<OwnedFd> {
    rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC)?;
    rustix::io::ioctl_fionbio(&fd, true)?;
    Ok(fd)
}

/// The IP address in `peer`, if it is one.
#[cfg(unix)]
pub(super) fn ip_peer(peer: Option<SocketAddrAny>) -> Option<SocketAddr> {
    peer.and_then(|peer| SocketAddr::try_from(peer).ok())
}

/// Listens again on a listener std made, with a larger backlog (`TcpListener::from_std`).
#[cfg(unix)]
pub(super) fn listen(listener: &std::net::TcpListener, backlog: i32) -> io::Result<()> {
    Ok(rustix::net::listen(listener, backlog)?)
}

/// Nothing on Windows: `listen` on a socket that listens already "will return
/// success without changing the value for the backlog parameter" (Microsoft's
/// documentation of `listen`, Remarks), so std's backlog stays. A listener made by
/// [`bind_listener`] has the large one from the start.
#[cfg(windows)]
pub(super) fn listen(_listener: &std::net::TcpListener, _backlog: i32) -> io::Result<()> {
    Ok(())
}

/// A TCP listener on `addr` whose queue holds `backlog` connections (Windows).
///
/// std's `TcpListener::bind` listens with a backlog of 128, and Windows cannot
/// enlarge it afterwards (see [`listen`]): a burst of more clients than that
/// (`tests/net_tcp.rs`, a thousand at once) is refused (`listen`: "the client will
/// receive an error with an indication of WSAECONNREFUSED") or, under Wine, whose
/// sockets are Linux's, has its SYNs dropped and retried 1, 3, 7, 15, 31, 63 s
/// later. So the listener is made here: a socket that children do not inherit,
/// `bind`, then `listen(SOMAXCONN_HINT(backlog))`, Microsoft's way to ask for a
/// backlog above `SOMAXCONN`'s "reasonable value" (the hint is `-backlog`; the
/// provider keeps it within 200..65535). std does not set `SO_REUSEADDR` on
/// Windows (it would let another socket take a port in use), and neither does this.
#[cfg(windows)]
pub(super) fn bind_listener(
    addr: std::net::SocketAddr,
    backlog: i32,
) -> io::Result<std::net::TcpListener> {
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let socket = socket(family, SocketType::STREAM)?;
    rustix::net::bind(&socket, &addr)?;
    rustix::net::listen(&socket, -backlog)?; // SOMAXCONN_HINT(backlog)
    // The socket is non-blocking already (`socket`); `from_std` sets it so again.
    Ok(std::net::TcpListener::from(socket))
}

/// A new socket, non-blocking and not inherited by child processes (Windows).
#[cfg(windows)]
pub(super) fn socket(family: AddressFamily, kind: SocketType) -> io::Result<OwnedFd> {
    use std::os::windows::io::{FromRawSocket, RawSocket};
    use std::sync::OnceLock;
    use windows_sys::Win32::Networking::WinSock;

    // Winsock must be started once per process before a socket is made; std does it
    // in its own socket calls, which this one is not.
    static STARTED: OnceLock<Result<(), i32>> = OnceLock::new();
    let started = STARTED.get_or_init(|| {
        rustix::net::wsa_startup()
            .map(drop)
            .map_err(|errno| errno.raw_os_error())
    });
    if let Err(code) = started {
        return Err(io::Error::from_raw_os_error(*code));
    }
    let flags = WinSock::WSA_FLAG_OVERLAPPED | WinSock::WSA_FLAG_NO_HANDLE_INHERIT;
    let (family, kind) = (i32::from(family.as_raw()), kind.as_raw() as i32);
    // SAFETY: plain values and a null protocol-info pointer, which `WSASocketW`
    // documents as "use the first matching transport".
    let raw = unsafe { WinSock::WSASocketW(family, kind, 0, std::ptr::null(), 0, flags) };
    if raw == WinSock::INVALID_SOCKET {
        // SAFETY: no argument; reads this thread's last Winsock error.
        return Err(io::Error::from_raw_os_error(unsafe {
            WinSock::WSAGetLastError()
        }));
    }
    // SAFETY: `raw` is a socket just made and owned by nobody else.
    let socket = unsafe { OwnedFd::from_raw_socket(raw as RawSocket) };
    rustix::io::ioctl_fionbio(&socket, true)?;
    Ok(socket)
}

/// One accepted connection, non-blocking and not inheritable, and its peer's
/// address (Windows: std's `accept`, then `FIONBIO`).
#[cfg(windows)]
pub(super) fn accept_tcp(
    listener: &std::net::TcpListener,
) -> io::Result<(std::net::TcpStream, std::net::SocketAddr)> {
    let (stream, peer) = listener.accept()?;
    stream.set_nonblocking(true)?;
    Ok((stream, peer))
}
