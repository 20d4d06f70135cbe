//! The two system calls of `net` that differ between Unix systems: making a socket,
//! and accepting one, both already non-blocking and close-on-exec.
//!
//! Linux (and the BSDs) take the two flags in the call itself (`socket(...,
//! SOCK_NONBLOCK | SOCK_CLOEXEC)`, `accept4`): one system call. macOS has neither
//! flag, so there the socket is made first and set up after, with `fcntl(F_SETFD,
//! FD_CLOEXEC)` and `ioctl(FIONBIO)`: three calls, as Python's `socket` module makes
//! (`sock.setblocking(False)` after `accept`). The window between the calls only
//! matters to a program that forks meanwhile: there the child could inherit the new
//! socket, which is why the flags exist.

use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;

use rustix::net::{AddressFamily, SocketAddrAny, SocketType};

#[cfg(not(target_vendor = "apple"))]
use rustix::net::SocketFlags;

/// The new socket is non-blocking and is not inherited across `exec`.
#[cfg(not(target_vendor = "apple"))]
const FLAGS: SocketFlags = SocketFlags::NONBLOCK.union(SocketFlags::CLOEXEC);

/// A new socket, non-blocking and close-on-exec.
pub(super) fn socket(family: AddressFamily, kind: SocketType) -> io::Result<OwnedFd> {
    #[cfg(not(target_vendor = "apple"))]
    return Ok(rustix::net::socket_with(family, kind, FLAGS, None)?);
    #[cfg(target_vendor = "apple")]
    return set_up(rustix::net::socket(family, kind, None)?);
}

/// One accepted connection, non-blocking and close-on-exec, and its peer's address.
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
pub(super) fn ip_peer(peer: Option<SocketAddrAny>) -> Option<SocketAddr> {
    peer.and_then(|peer| SocketAddr::try_from(peer).ok())
}
