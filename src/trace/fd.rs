//! What a file descriptor is, in words: the socket's address, the child process
//! behind a pidfd, a pipe. Asked when a task waits on one (the reactor only knows a
//! number), for the deadlock report and for the trace's I/O rows.
//!
//! asyncio's debug `repr` of a transport shows the same: `<_SelectorSocketTransport
//! fd=7 read=polling write=<idle> peername=('127.0.0.1', 8080)>`. The kernel answers
//! every question by the number alone:
//!
//! ```text
//!   getpeername(fd)  ──ok──>  "127.0.0.1:8080"                a connected socket
//!        └─ENOTCONN─> getsockname(fd) + SO_ACCEPTCONN        "listening on 127.0.0.1:80"
//!        └─ENOTSOCK─> readlink /proc/self/fd/N  (Linux)
//!                        "anon_inode:[pidfd]" ─> /proc/self/fdinfo/N "Pid:"  "child 1234 'sleep'"
//!                        "pipe:[..]"                                         "a pipe"
//!                        anything else                                       "fd 7"
//! ```
//!
//! A few system calls, paid only when a report is printed or when a traced task
//! waits: never on the untraced path.

use std::fmt;

/// A descriptor, described.
#[derive(Debug, Clone, PartialEq, Eq)]
// Children and pipes are told apart through Linux's /proc only.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) enum Described {
    /// A socket connected to `peer`.
    Connected {
        /// The other end's address.
        peer: String,
    },
    /// A socket bound to `local` and listening (accept waits here).
    Listening {
        /// Its own address.
        local: String,
    },
    /// A socket bound to `local` (a datagram socket, one not connected yet).
    Bound {
        /// Its own address.
        local: String,
    },
    /// A child process's exit descriptor (Linux's pidfd).
    Child {
        /// The child's process id.
        pid: u32,
        /// Its command (`/proc/PID/comm`), if it can still be read.
        command: Option<String>,
    },
    /// A pipe (a child's stdin, stdout or stderr, or one of the program's own).
    Pipe,
    /// Something else (or already closed).
    Unknown,
}

impl Described {
    /// Whether it is a socket (the report says "socket ...").
    pub(crate) fn is_socket(&self) -> bool {
        matches!(
            self,
            Described::Connected { .. } | Described::Listening { .. } | Described::Bound { .. }
        )
    }
}

impl fmt::Display for Described {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Described::Connected { peer } => f.write_str(peer),
            Described::Listening { local } => write!(f, "listening on {local}"),
            Described::Bound { local } => write!(f, "bound to {local}"),
            Described::Child { pid, command } => match command {
                Some(command) => write!(f, "child process {pid} '{command}'"),
                None => write!(f, "child process {pid}"),
            },
            Described::Pipe => f.write_str("a pipe"),
            Described::Unknown => f.write_str("a descriptor"),
        }
    }
}

/// What descriptor `fd` is now.
#[cfg(unix)]
pub(crate) fn describe(fd: i32) -> Described {
    use rustix::io::Errno;
    use std::os::fd::BorrowedFd;
    if fd < 0 {
        return Described::Unknown;
    }
    // SAFETY: `fd` is only named here, for getpeername, getsockname and getsockopt
    // to read its address: a descriptor closed (or reused) since the wait was
    // registered makes them fail (or describe the new one), never touch memory.
    // The task waiting on it keeps it open in every case this is asked for.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    match rustix::net::getpeername(borrowed) {
        Ok(Some(peer)) => {
            return Described::Connected {
                peer: address(&peer),
            };
        }
        Ok(None) => return Described::Unknown,
        Err(Errno::NOTCONN) => {
            let Ok(local) = rustix::net::getsockname(borrowed) else {
                return Described::Unknown;
            };
            let local = address(&local);
            return match listening(borrowed) {
                true => Described::Listening { local },
                false => Described::Bound { local },
            };
        }
        Err(_) => {}
    }
    not_a_socket(fd)
}

#[cfg(not(unix))]
pub(crate) fn describe(_fd: i32) -> Described {
    Described::Unknown
}

/// Whether the socket listens (`SO_ACCEPTCONN`; Apple's systems do not answer it).
#[cfg(unix)]
fn listening(socket: std::os::fd::BorrowedFd<'_>) -> bool {
    #[cfg(not(target_vendor = "apple"))]
    return rustix::net::sockopt::socket_acceptconn(socket).unwrap_or(false);
    #[cfg(target_vendor = "apple")]
    {
        let _ = socket; // no SO_ACCEPTCONN to ask
        false
    }
}

/// A socket address as people write it: `127.0.0.1:8080`, `[::1]:80`, a Unix
/// socket's path.
#[cfg(unix)]
fn address(address: &rustix::net::SocketAddrAny) -> String {
    if let Ok(ip) = std::net::SocketAddr::try_from(address.clone()) {
        return ip.to_string();
    }
    if let Ok(unix) = rustix::net::SocketAddrUnix::try_from(address.clone()) {
        if let Some(path) = unix.path() {
            return path.to_string_lossy().into_owned();
        }
        return "an unnamed Unix socket".to_string();
    }
    format!("{address:?}")
}

/// Not a socket: Linux names what it is in `/proc/self/fd`.
#[cfg(target_os = "linux")]
fn not_a_socket(fd: i32) -> Described {
    let Ok(target) = std::fs::read_link(format!("/proc/self/fd/{fd}")) else {
        return Described::Unknown;
    };
    let target = target.to_string_lossy();
    if target.starts_with("pipe:") {
        return Described::Pipe;
    }
    if target == "anon_inode:[pidfd]" {
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap_or_default();
        let pid = info
            .lines()
            .find_map(|line| line.strip_prefix("Pid:"))
            .and_then(|pid| pid.trim().parse::<u32>().ok());
        if let Some(pid) = pid {
            let command = std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .ok()
                .map(|comm| comm.trim_end().to_string());
            return Described::Child { pid, command };
        }
    }
    Described::Unknown
}

#[cfg(all(unix, not(target_os = "linux")))]
fn not_a_socket(_fd: i32) -> Described {
    Described::Unknown
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn sockets_pipes_and_children_are_told_apart() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let local = listener.local_addr().unwrap();
        assert_eq!(
            describe(listener.as_raw_fd()).to_string(),
            format!("listening on {local}")
        );
        let client = std::net::TcpStream::connect(local).unwrap();
        assert_eq!(describe(client.as_raw_fd()).to_string(), local.to_string());
        let (reader, _writer) = rustix::pipe::pipe().unwrap();
        assert_eq!(describe(reader.as_raw_fd()), Described::Pipe);
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let pid = rustix::process::Pid::from_child(&child);
        let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).unwrap();
        // Its command is `sleep` once the exec is done (a moment after `spawn`
        // returns, /proc may still show the parent's thread name).
        let described = describe(pidfd.as_raw_fd()).to_string();
        assert!(
            described.starts_with(&format!("child process {} '", child.id())),
            "{described}"
        );
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
