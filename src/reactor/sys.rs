//! What a reactor watches, named once per system: a file descriptor on Unix; on
//! Windows a socket, or a *waitable* handle (a child process, signalled when it exits).
//!
//! Unix has one kind of thing to wait on, and `poll`/`epoll` take any descriptor:
//! a socket, a pipe, a pidfd. Windows has two worlds: sockets, whose readiness the
//! IOCP selector asks the AFD driver about, and kernel objects (processes, events)
//! that are *signalled*, waited on by another mechanism (`polling`'s
//! `add_waitable`, over the thread pool's `RegisterWaitForSingleObject`). The
//! reactor keeps one table of sources either way; this module gives each system's
//! names for "something to watch" the same three names, so the rest of the reactor
//! is written once:
//!
//! ```text
//!                     Unix          Windows
//!   AsSource          AsFd          AsSource (this crate's trait: a socket or a waitable)
//!   BorrowedSource    BorrowedFd    BorrowedSource::{Socket(BorrowedSocket), Waitable(BorrowedHandle)}
//!   RawSource         RawFd         RawSource::{Socket(RawSocket), Waitable(handle)}
//! ```

#[cfg(unix)]
pub(crate) use std::os::fd::{AsFd as AsSource, BorrowedFd as BorrowedSource, RawFd as RawSource};

/// `io`'s descriptor (Unix: `as_fd`).
#[cfg(unix)]
pub(crate) fn borrow<T: AsSource + ?Sized>(io: &T) -> BorrowedSource<'_> {
    io.as_fd()
}

/// The number behind a borrowed descriptor, kept in the reactor's table.
#[cfg(unix)]
pub(crate) fn raw(source: BorrowedSource<'_>) -> RawSource {
    std::os::fd::AsRawFd::as_raw_fd(&source)
}

#[cfg(windows)]
pub use windows::{AsSource, BorrowedSource};
#[cfg(windows)]
pub(crate) use windows::{RawSource, borrow, raw};

#[cfg(windows)]
mod windows {
    use std::os::windows::io::{
        AsRawHandle, AsRawSocket, AsSocket, BorrowedHandle, BorrowedSocket,
    };
    use std::sync::Arc;

    /// Something the reactor can watch on Windows (Unix: any `AsFd`): a socket,
    /// whose readiness is asked of the AFD driver, or a waitable handle, reported
    /// once it is signalled (a process: when it exits).
    pub trait AsSource {
        /// The socket or the handle, borrowed.
        fn as_source(&self) -> BorrowedSource<'_>;
    }

    /// A borrowed socket or waitable handle (see [`AsSource`]).
    #[derive(Clone, Copy, Debug)]
    pub enum BorrowedSource<'a> {
        /// A socket: reported readable or writable.
        Socket(BorrowedSocket<'a>),
        /// A handle that becomes signalled (a process that exits): reported readable.
        Waitable(BorrowedHandle<'a>),
    }

    /// The raw value of a [`BorrowedSource`], kept in the reactor's table. A handle
    /// is kept as a number: a raw handle is a pointer, which is not `Send`.
    #[derive(Clone, Copy, Debug)]
    pub(crate) enum RawSource {
        Socket(std::os::windows::io::RawSocket),
        Waitable(usize),
    }

    pub(crate) fn borrow<T: AsSource + ?Sized>(io: &T) -> BorrowedSource<'_> {
        io.as_source()
    }

    pub(crate) fn raw(source: BorrowedSource<'_>) -> RawSource {
        match source {
            BorrowedSource::Socket(socket) => RawSource::Socket(socket.as_raw_socket()),
            BorrowedSource::Waitable(handle) => {
                RawSource::Waitable(handle.as_raw_handle() as usize)
            }
        }
    }

    macro_rules! socket_source {
        ($($socket:ty),*) => {$(
            impl AsSource for $socket {
                fn as_source(&self) -> BorrowedSource<'_> {
                    BorrowedSource::Socket(self.as_socket())
                }
            }
        )*};
    }

    socket_source!(
        std::net::TcpStream,
        std::net::TcpListener,
        std::net::UdpSocket,
        std::os::windows::io::OwnedSocket
    );

    impl<T: AsSource + ?Sized> AsSource for Arc<T> {
        fn as_source(&self) -> BorrowedSource<'_> {
            (**self).as_source()
        }
    }
}
