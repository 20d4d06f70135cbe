//! Names to addresses without blocking the loop: a literal address is parsed on
//! the spot, a host name is resolved on the blocking pool.
//!
//! The C library's resolver (`getaddrinfo`) blocks: it may read `/etc/hosts`, ask a
//! DNS server and wait seconds for its answer. asyncio never calls it on the loop:
//! `open_connection(host, port)` → `loop.create_connection` → `loop.getaddrinfo`,
//! which runs `socket.getaddrinfo` in the default executor (`run_in_executor(None,
//! ...)`), after `_ipaddr_info` has checked whether `host` is already a literal
//! address (then no lookup at all). tokio does the same with `spawn_blocking`.
//!
//! ```text
//!   connect(addr)
//!     addr.lookup()                       on the loop, no system call
//!       "127.0.0.1:80", SocketAddr,  ──>  Ready([addresses])  ──> connect
//!       ("::1", 80)
//!       "example.com:80",            ──>  Name(host, port)
//!       ("localhost", 80)                   to_thread(getaddrinfo).await ──> connect
//!                                           (the loop runs other tasks meanwhile)
//! ```
//!
//! That is why [`ToSocketAddrs`] is this crate's trait, not std's: std's
//! `to_socket_addrs()` resolves a name at once, on the calling thread, and a generic
//! `impl std::net::ToSocketAddrs` cannot be asked "are you a literal?" first, nor be
//! sent to another thread (`&str` is neither `'static` nor owned). Ours turns each
//! of std's address forms into either addresses or an owned `(host, port)` for the
//! pool.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use super::NetError;

/// Something that names socket addresses: the same forms as
/// `std::net::ToSocketAddrs` (`SocketAddr`, `"127.0.0.1:80"`, `"example.com:80"`,
/// `("example.com", 80)`, `(IpAddr, u16)`, `&[SocketAddr]`, `String`...), but a
/// host name is resolved on the blocking pool by [`TcpStream::connect`], so that
/// the loop keeps running while the resolver waits (the [module doc](super)).
///
/// [`TcpStream::connect`]: super::TcpStream::connect
///
/// Sealed: implemented for std's address forms only.
pub trait ToSocketAddrs: sealed::Lookup {}

pub(super) mod sealed {
    //! The trait's method, out of the users' reach (the "sealed trait" pattern).

    /// What an address form asks for: nothing to resolve, or a name to look up.
    #[derive(Debug)]
    pub enum Resolve {
        /// Literal addresses: ready, no lookup.
        Ready(Vec<std::net::SocketAddr>),
        /// A host name and a port: `getaddrinfo` on the pool.
        Name(String, u16),
        /// Malformed text (no port, a bad one): `why`, at once, no lookup.
        Invalid {
            /// The text given.
            text: String,
            /// What is wrong with it.
            why: &'static str,
        },
    }

    /// Turns an address form into [`Resolve`] without any system call.
    pub trait Lookup {
        /// The addresses, the name to resolve, or what is wrong with the text.
        fn lookup(&self) -> Resolve;
    }
}
use sealed::{Lookup, Resolve};

/// Implements the trait for forms that are addresses already.
macro_rules! literal {
    ($($form:ty),*) => {$(
        impl Lookup for $form {
            fn lookup(&self) -> Resolve {
                Resolve::Ready(vec![SocketAddr::from(*self)])
            }
        }
        impl ToSocketAddrs for $form {}
    )*};
}
literal!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

impl Lookup for [SocketAddr] {
    fn lookup(&self) -> Resolve {
        Resolve::Ready(self.to_vec())
    }
}
impl ToSocketAddrs for [SocketAddr] {}

/// `(host, port)`: an IP address parses (std's order: v4, then v6), anything else
/// is a name.
fn host_port(host: &str, port: u16) -> Resolve {
    match host.parse::<IpAddr>() {
        Ok(ip) => Resolve::Ready(vec![SocketAddr::new(ip, port)]),
        Err(_) => Resolve::Name(host.to_owned(), port),
    }
}

impl Lookup for (&str, u16) {
    fn lookup(&self) -> Resolve {
        host_port(self.0, self.1)
    }
}
impl ToSocketAddrs for (&str, u16) {}

impl Lookup for (String, u16) {
    fn lookup(&self) -> Resolve {
        host_port(&self.0, self.1)
    }
}
impl ToSocketAddrs for (String, u16) {}

impl Lookup for str {
    /// `"1.2.3.4:80"`, `"[::1]:80"`: an address. `"host:80"`: a name. As std does,
    /// a text with no port, or a bad one, is `InvalidInput` at once (no lookup).
    fn lookup(&self) -> Resolve {
        if let Ok(addr) = self.parse::<SocketAddr>() {
            return Resolve::Ready(vec![addr]);
        }
        let malformed = |why| Resolve::Invalid {
            text: self.to_owned(),
            why,
        };
        let Some((host, port)) = self.rsplit_once(':') else {
            return malformed("invalid socket address: no port (write host:port)");
        };
        match port.parse::<u16>() {
            Ok(port) => Resolve::Name(host.to_owned(), port),
            Err(_) => malformed("invalid port value (0 to 65535)"),
        }
    }
}
impl ToSocketAddrs for str {}

impl Lookup for String {
    fn lookup(&self) -> Resolve {
        self.as_str().lookup()
    }
}
impl ToSocketAddrs for String {}

impl<T: ToSocketAddrs + ?Sized> Lookup for &T {
    fn lookup(&self) -> Resolve {
        (**self).lookup()
    }
}
impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}

/// The addresses `addr` names, each with the text an error should show: the
/// address, or `name (address)` when it came from a lookup.
pub(super) struct Resolved {
    pub(super) addrs: Vec<SocketAddr>,
    /// `Some("host:port")` if a name was looked up.
    pub(super) name: Option<String>,
}

impl Resolved {
    /// How an error about `addr` names it.
    pub(super) fn describe(&self, addr: SocketAddr) -> String {
        match &self.name {
            Some(name) => format!("{name} ({addr})"),
            None => addr.to_string(),
        }
    }
}

/// Resolves `addr` for `operation`: a name on the blocking pool (the loop runs on).
pub(super) async fn resolve_on_pool(
    addr: &(impl ToSocketAddrs + ?Sized),
    operation: &'static str,
) -> Result<Resolved, NetError> {
    match addr.lookup() {
        Resolve::Ready(addrs) => checked(Resolved { addrs, name: None }, operation),
        Resolve::Name(host, port) => {
            let name = format!("{host}:{port}");
            let looked_up = crate::blocking::to_thread(move || getaddrinfo(&host, port))
                .await
                // The job cannot panic; cancelled only if its pool shut down, and the
                // process-wide pool never does. Still, say so rather than unwrap.
                .unwrap_or_else(|error| Err(io::Error::other(error.to_string())));
            finish(looked_up, name, operation)
        }
        Resolve::Invalid { text, why } => Err(invalid(text, why, operation)),
    }
}

/// Resolves `addr` for `operation` on this thread: for the synchronous `bind`s, which
/// are given literal addresses in practice (`"127.0.0.1:0"`, `"0.0.0.0:8080"`); a name
/// there blocks the caller while it is looked up, as `socket.bind` does in Python.
pub(super) fn resolve_here(
    addr: &(impl ToSocketAddrs + ?Sized),
    operation: &'static str,
) -> Result<Resolved, NetError> {
    match addr.lookup() {
        Resolve::Ready(addrs) => checked(Resolved { addrs, name: None }, operation),
        Resolve::Name(host, port) => {
            let name = format!("{host}:{port}");
            finish(getaddrinfo(&host, port), name, operation)
        }
        Resolve::Invalid { text, why } => Err(invalid(text, why, operation)),
    }
}

/// The error of a malformed address text.
fn invalid(text: String, why: &'static str, operation: &'static str) -> NetError {
    let error = io::Error::new(io::ErrorKind::InvalidInput, why);
    NetError::new(error, operation, Some(format!("{text:?}")))
}

/// The resolver itself (std's: `getaddrinfo`), blocking.
fn getaddrinfo(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    std::net::ToSocketAddrs::to_socket_addrs(&(host, port)).map(Iterator::collect)
}

fn finish(
    looked_up: io::Result<Vec<SocketAddr>>,
    name: String,
    operation: &'static str,
) -> Result<Resolved, NetError> {
    match looked_up {
        Ok(addrs) => checked(
            Resolved {
                addrs,
                name: Some(name),
            },
            operation,
        ),
        // std's message ("failed to lookup address information: Name or service not
        // known") does not say which name: the error does.
        Err(error) => Err(NetError::new(error, operation, Some(name))),
    }
}

/// At least one address, or an error saying there is none.
fn checked(resolved: Resolved, operation: &'static str) -> Result<Resolved, NetError> {
    if resolved.addrs.is_empty() {
        let error = io::Error::new(io::ErrorKind::InvalidInput, "no address to use");
        return Err(NetError::new(error, operation, resolved.name));
    }
    Ok(resolved)
}
