//! The error of every fallible call of [`process`](super): which program, doing
//! what, and the OS's error untouched (Python's `OSError`, whose `errno` and
//! `filename` travel together: `FileNotFoundError: [Errno 2] No such file or
//! directory: 'prog'`).
//!
//! Why a type of its own: a [`std::io::Error`] is *either* an OS error (then
//! `raw_os_error()` gives the errno, and its text is only `strerror`'s) *or* a
//! custom payload (then ``io::Error::new(kind, "cannot start `prog`")`` has the
//! text, but `raw_os_error()` is `None` for good). std and tokio keep the errno and
//! drop the program (`No such file or directory (os error 2)`: which file?). This
//! type keeps both:
//!
//! ```text
//!   process::Error { program: "prog", pid, doing: Start, source: io::Error (os error 2) }
//!     Display        cannot start `prog`: No such file or directory (os error 2)
//!     kind()         NotFound            (the source's)
//!     raw_os_error() Some(2)             (the source's)
//!     source()       the io::Error itself
//!   io::Error::from(it)  (what `?` does in an io::Result function)
//!     kind() and Display kept; raw_os_error() None, as for any payload:
//!     get_ref()?.downcast_ref::<process::Error>()?.raw_os_error() finds it back
//! ```

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::Arc;

/// What went wrong with a child process: which program, doing what, and the OS's
/// error, whose [`kind`](Error::kind) and [`raw_os_error`](Error::raw_os_error) it
/// answers with (see the module doc of `process` for why not a bare `io::Error`).
///
/// ```
/// use clearloop::process::Command;
///
/// let error = Command::new("clearloop-no-such-program").spawn().unwrap_err();
/// assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
/// #[cfg(unix)]
/// {
///     assert_eq!(error.raw_os_error(), Some(2)); // ENOENT
///     assert_eq!(
///         error.to_string(),
///         "cannot start `clearloop-no-such-program`: No such file or directory (os error 2)"
///     );
/// }
/// // (On Windows std looks the program up in PATH itself: "program not found", and
/// // no OS error number.)
/// #[cfg(windows)]
/// assert_eq!(
///     error.to_string(),
///     "cannot start `clearloop-no-such-program`: program not found"
/// );
/// // In a function returning io::Result, `?` converts it; the errno is one downcast away.
/// let errno = error.raw_os_error();
/// let io_error = std::io::Error::from(error);
/// let again = io_error.get_ref().unwrap().downcast_ref::<clearloop::process::Error>();
/// assert_eq!(again.unwrap().raw_os_error(), errno);
/// ```
#[derive(Debug)]
pub struct Error {
    program: Arc<str>,
    /// The child's, once it ran.
    pid: Option<u32>,
    doing: Doing,
    source: io::Error,
}

/// What the module was doing when the OS said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Doing {
    /// Starting the program (nothing ran).
    Start,
    /// Starting the reaper thread, before the program (nothing ran; Unix only).
    #[cfg(unix)]
    StartReaper,
    /// Watching a program that ran: it was killed and reaped.
    Watch,
    Wait,
    Kill,
    WriteStdin,
    ReadStdout,
    ReadStderr,
}

impl Error {
    pub(super) fn new(
        program: &Arc<str>,
        pid: Option<u32>,
        doing: Doing,
        source: io::Error,
    ) -> Error {
        Error {
            program: program.clone(),
            pid,
            doing,
            source,
        }
    }

    /// The OS error's kind (`NotFound`, `BrokenPipe`, ...).
    pub fn kind(&self) -> io::ErrorKind {
        self.source.kind()
    }

    /// The OS error's number (`ENOENT`, `EPIPE`, `EMFILE`...), if the OS gave one.
    pub fn raw_os_error(&self) -> Option<i32> {
        self.source.raw_os_error()
    }

    /// The program, as given to [`Command::new`](super::Command::new).
    pub fn program(&self) -> &str {
        &self.program
    }

    /// The child's process id, if it ran (a failed start has none; a child that ran
    /// but could not be watched was killed and reaped before this error came back).
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let program = &self.program;
        let pid = self.pid.unwrap_or(0);
        match self.doing {
            Doing::Start => write!(f, "cannot start `{program}`"),
            #[cfg(unix)]
            Doing::StartReaper => write!(
                f,
                "cannot start `{program}`: the reaper of dropped children cannot start"
            ),
            Doing::Watch => write!(
                f,
                "cannot start `{program}`: it ran as pid {pid}, but cannot be watched, \
                 so it was killed and reaped"
            ),
            Doing::Wait => write!(f, "cannot wait for `{program}` (pid {pid})"),
            Doing::Kill => write!(f, "cannot kill `{program}` (pid {pid})"),
            Doing::WriteStdin => write!(f, "cannot write to the stdin of `{program}` (pid {pid})"),
            Doing::ReadStdout => write!(f, "cannot read the stdout of `{program}` (pid {pid})"),
            Doing::ReadStderr => write!(f, "cannot read the stderr of `{program}` (pid {pid})"),
        }?;
        // The OS's words too: most users print only the top error.
        write!(f, ": {}", self.source)
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.source)
    }
}

impl From<Error> for io::Error {
    /// Same kind and text; the errno stays inside (see [`Error`]'s example).
    fn from(error: Error) -> io::Error {
        io::Error::new(error.kind(), error)
    }
}
