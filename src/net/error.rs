//! [`NetError`]: the OS's error, what was being done, and to which address.
//!
//! `std::io::Error` holds either an OS error (an errno: `raw_os_error()` returns it,
//! `kind()` is derived from it) or a custom error with a message, never both: wrap
//! the errno in a message that names the address (`io::Error::new(kind, msg)`) and
//! `raw_os_error()` returns `None` from then on. std and tokio therefore return the
//! bare OS error (`Connection refused (os error 111)`, no address); crates that add
//! the address to the message (`fs-err`, `walkdir`) lose the errno, which a test
//! like `e.raw_os_error() == Some(EEXIST)` then silently never matches.
//!
//! Python does not have to choose: its `OSError` carries `errno`, `strerror` and
//! `filename`, and asyncio raises `OSError(errno, f"Connect call failed {address}")`.
//! [`NetError`] is that `OSError` for Rust: one value with the errno and kind as std
//! gives them, the operation and the address, and a message made of all three:
//!
//! ```text
//!   NetError ──> operation  "connect to"
//!            ──> address    "127.0.0.1:9"        (a host:port, a Unix path, a peer)
//!            ──> cause      io::Error::Os(111)   raw_os_error() == Some(111)
//!                                                kind() == ConnectionRefused
//!   Display:  "connect to 127.0.0.1:9: Connection refused (os error 111)"
//!   source(): the cause
//!
//!   `?` into an io::Error:  io::Error::new(kind, NetError)  (the message stays;
//!                           NetError::of(&io_error) finds the errno and address)
//! ```

use std::fmt;
use std::io;

/// The error of a socket operation: the OS's error (its errno and
/// [`io::ErrorKind`], as std gives them), the operation (`"connect to"`) and the
/// address, host or path it concerned (Python's `OSError`, with `errno`,
/// `strerror` and `filename`).
///
/// [`raw_os_error`](NetError::raw_os_error) and [`kind`](NetError::kind) answer as
/// `io::Error`'s do; the message names the address. `?` turns it into an
/// `io::Error` (in a function returning `io::Result`, or in the `futures-io`
/// traits): that error keeps the message and the kind, and
/// [`NetError::of`] finds the `NetError` inside it again.
///
/// ```
/// use clearloop::net::{NetError, TcpStream};
///
/// let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
/// // Nobody listens there any more: refused.
/// let error = clearloop::run(TcpStream::connect(("127.0.0.1", port))).unwrap_err();
/// assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
/// // The OS's number: ECONNREFUSED (111 on Linux, 61 on macOS), WSAECONNREFUSED
/// // (10061) on Windows.
/// let errno = error.raw_os_error().unwrap();
/// #[cfg(target_os = "linux")]
/// assert_eq!(errno, 111);
/// #[cfg(target_vendor = "apple")]
/// assert_eq!(errno, 61);
/// #[cfg(windows)]
/// assert_eq!(errno, 10061);
/// assert_eq!(error.address(), Some(&*format!("127.0.0.1:{port}")));
/// assert!(error.to_string().starts_with(&format!("connect to 127.0.0.1:{port}: ")));
///
/// // Through `?` into an io::Error: the message stays, the NetError can be found.
/// let io_error = std::io::Error::from(error);
/// assert_eq!(NetError::of(&io_error).unwrap().raw_os_error(), Some(errno));
/// ```
pub struct NetError {
    /// Boxed so that `Result<usize, NetError>` is two words, as `io::Result<usize>`:
    /// the read and write paths return it, and only an error pays the allocation.
    inner: Box<Inner>,
}

struct Inner {
    operation: &'static str,
    /// The address (or host, or Unix path), written out: only errors pay for the text.
    address: Option<String>,
    cause: io::Error,
    /// What happens next, when the library does something about the error (the
    /// accept pause): appended to the message.
    note: Option<&'static str>,
}

impl NetError {
    /// `cause`, met while doing `operation` to `address`.
    pub(crate) fn new(
        cause: io::Error,
        operation: &'static str,
        address: Option<impl fmt::Display>,
    ) -> NetError {
        NetError {
            inner: Box::new(Inner {
                operation,
                address: address.map(|address| address.to_string()),
                cause,
                note: None,
            }),
        }
    }

    /// The same error, with `note` (what the library does about it) in its message.
    pub(crate) fn with_note(mut self, note: &'static str) -> NetError {
        self.inner.note = Some(note);
        self
    }

    /// The kind of the OS's error (`ConnectionRefused`, `AddrInUse`...), as
    /// `io::Error::kind` gives it. std has no kind for some errnos (`EMFILE`: "too
    /// many open files" is `Uncategorized`): use [`raw_os_error`](Self::raw_os_error)
    /// for those.
    pub fn kind(&self) -> io::ErrorKind {
        self.inner.cause.kind()
    }

    /// The OS's error number (`errno`: 111 is `ECONNREFUSED`, 24 `EMFILE` on Linux),
    /// or `None` if the error did not come from the OS (a host that does not
    /// resolve, a stream that ended early).
    pub fn raw_os_error(&self) -> Option<i32> {
        self.inner.cause.raw_os_error()
    }

    /// What was being done: `"connect to"`, `"bind"`, `"accept on"`, `"read from"`...
    pub fn operation(&self) -> &'static str {
        self.inner.operation
    }

    /// The address, host or path concerned, as the message writes it
    /// (`127.0.0.1:9`, `example.invalid:80`, `localhost:9 (127.0.0.1:9)`,
    /// `/tmp/app.sock`), if there is one.
    pub fn address(&self) -> Option<&str> {
        self.inner.address.as_deref()
    }

    /// The underlying error: the OS's (with its errno), or the lookup's.
    pub fn os_error(&self) -> &io::Error {
        &self.inner.cause
    }

    /// The underlying error itself, address dropped (std's and tokio's error).
    pub fn into_os_error(self) -> io::Error {
        self.inner.cause
    }

    /// The `NetError` inside an `io::Error` that `?` (or a `futures-io` trait) made
    /// from it, if it is one.
    pub fn of(error: &io::Error) -> Option<&NetError> {
        error.get_ref()?.downcast_ref::<NetError>()
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Inner {
            operation,
            address,
            cause,
            note,
        } = &*self.inner;
        match address {
            Some(address) => write!(f, "{operation} {address}: {cause}")?,
            None => write!(f, "{operation}: {cause}")?,
        }
        match note {
            Some(note) => write!(f, "; {note}"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `unwrap()` prints this: the io::Error's Debug shows code, kind and message.
        f.debug_struct("NetError")
            .field("operation", &self.inner.operation)
            .field("address", &self.inner.address)
            .field("cause", &self.inner.cause)
            .finish()
    }
}

impl std::error::Error for NetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.inner.cause)
    }
}

impl From<NetError> for io::Error {
    /// The kind and the message stay; `raw_os_error()` of the result is `None`
    /// (std cannot hold both), and [`NetError::of`] finds the errno again.
    fn from(error: NetError) -> io::Error {
        io::Error::new(error.kind(), error)
    }
}
