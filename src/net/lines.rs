//! Lines on a byte stream: asyncio's `StreamReader.readline()` and `readuntil()`,
//! and the read buffer they need.
//!
//! TCP carries bytes, not lines: one `read` may return half a line, or a line and
//! the start of the next. To hand out one line at a time, a reader must keep what
//! came after the line for the next call. asyncio's `StreamReader` keeps a
//! `bytearray` (`self._buffer`) that the transport fills and that `readline`,
//! `readuntil`, `readexactly` and `read` all take from. clearloop's streams keep
//! the same buffer, made by the first line read:
//!
//! ```text
//!   socket ──read──▶ Lines (none until the first read_line / read_until)
//!                    data: [ handed out │ pending: read, not handed out │ room  ]
//!                          0            start                          end    len
//!
//!   read_line, read_until   search `pending` for the separator, from where the last
//!                           search of this call stopped. Found: hand out
//!                           pending[..=separator], `start` moves past it. Not yet:
//!                           read more into `room` (wait in the reactor if nothing
//!                           came), search the new bytes.
//!   read, read_exact        the pending bytes first, then the socket: the bytes
//!                           that came after a line are never lost.
//! ```
//!
//! A stream that never reads a line has no buffer: its `read` looks at one
//! `OnceLock` (an atomic load) and goes to the socket, as before. The buffer lives
//! with the socket (`stream.rs`'s `Conn`), so a [`TcpStream`](super::TcpStream)
//! split after a line read hands its pending bytes to its [`ReadHalf`](super::ReadHalf).
//!
//! | asyncio (`StreamReader`)            | clearloop (`TcpStream`, `ReadHalf`, `UnixStream`) |
//! |-------------------------------------|---------------------------------------------------|
//! | `await reader.readline()`           | `stream.read_line(&mut line).await` (appends to a `String`, returns the byte count) |
//! | `await reader.readuntil(b"\r\n")`   | `stream.read_until(b"\r\n", &mut bytes).await`     |
//! | `open_connection(..., limit=n)`     | `stream.set_line_limit(n)`                        |
//! | `asyncio.streams._DEFAULT_LIMIT`    | [`DEFAULT_LINE_LIMIT`] (64 KiB)                    |
//! | `LimitOverrunError`, `.consumed`    | [`LineError::LimitOverrun`], [`LimitOverrunError::consumed`] |
//! | `IncompleteReadError`, `.partial`   | [`LineError::Incomplete`], [`IncompleteReadError::partial`] |
//!
//! ## The limit and the end of the stream, as in asyncio
//!
//! What follows is CPython's `Lib/asyncio/streams.py` (3.11), checked by running it:
//!
//! - The limit bounds a line *without* its separator: a line of exactly `limit`
//!   bytes plus `\n` is fine. Past it, the error comes as soon as `limit + 1` bytes
//!   came without a separator, or when the separator is found further than `limit`.
//! - `read_until` (`readuntil`) leaves the bytes in the buffer on that error
//!   ([`LimitOverrunError`]): the next `read` or `read_exact` returns them.
//! - `read_line` (`readline`, which raises `ValueError` there) drops them: the line
//!   up to and including its newline if the newline came, else everything buffered.
//!   The rest of a long line that has not come yet is then read as the next line:
//!   asyncio does the same ([`LimitOverrunError::dropped`] says how many bytes went).
//! - At the end of the stream, `read_line` returns the last line even without its
//!   newline, then 0 bytes (`readline` returns it, then `b''`); `read_until` returns
//!   [`LineError::Incomplete`], which holds those bytes ([`IncompleteReadError`],
//!   asyncio's `.partial`), empty if nothing came.
//!
//! `read_line` gives a `String`, as std's `BufRead::read_line` does: a line that is
//! not UTF-8 is a [`LineError::NotUtf8`] that holds its bytes (read bytes with
//! `read_until(b"\n", ...)`).

use std::fmt;
use std::future::{Future, poll_fn};
use std::io::{self, Read};
use std::string::FromUtf8Error;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, ready};

use super::NetError;
use super::stream::{Conn, StdStream};

/// The longest line (without its separator) a stream's line reads accept, unless
/// [`set_line_limit`](super::TcpStream::set_line_limit) says otherwise: 64 KiB, as
/// asyncio's `asyncio.streams._DEFAULT_LIMIT` (`2 ** 16`).
pub const DEFAULT_LINE_LIMIT: usize = 64 * 1024;

/// The least room a read into the buffer gets: 8 KiB, the size of std's and
/// tokio's `BufReader`. The buffer doubles when a line needs more.
const READ_ROOM: usize = 8 * 1024;

/// A buffer this big is given back to the allocator once it is empty (a line near
/// a raised limit made it grow); smaller ones are kept for the next line.
const KEEP_AT_MOST: usize = 64 * 1024;

/// One stream's read buffer and line limit (asyncio's `StreamReader._buffer` and
/// `_limit`). Made by the first line read, or by `set_line_limit`.
pub(super) struct Lines {
    limit: usize,
    /// `data[start..end]` is read from the socket and not handed out yet; `data`
    /// stays allocated (and zeroed once) between reads.
    data: Vec<u8>,
    start: usize,
    end: usize,
}

/// The slot a `Conn` keeps for its [`Lines`]: empty until a line read needs it.
pub(super) type LinesSlot = OnceLock<Mutex<Lines>>;

impl Lines {
    fn new() -> Lines {
        Lines {
            limit: DEFAULT_LINE_LIMIT,
            data: Vec::new(), // no allocation until the first read into it
            start: 0,
            end: 0,
        }
    }

    fn pending(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    /// The first `n` pending bytes were handed out.
    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            // Nothing pending: the next read fills the buffer from its front.
            (self.start, self.end) = (0, 0);
            if self.data.len() > KEEP_AT_MOST {
                self.data = Vec::new();
            }
        }
    }

    /// All the pending bytes, handed out.
    fn take_all(&mut self) -> Vec<u8> {
        let all = self.pending().to_vec();
        self.consume(all.len());
        all
    }

    /// Room for the next read from the socket: at least [`READ_ROOM`] bytes after
    /// the pending ones. asyncio deletes each line from the front of its bytearray
    /// (`del self._buffer[:n]`, a move of what follows); here the pending bytes move
    /// to the front only when the room runs out, and the buffer doubles only when
    /// they fill it.
    fn room(&mut self) -> &mut [u8] {
        if self.data.len() - self.end < READ_ROOM {
            self.data.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
            if self.data.len() - self.end < READ_ROOM {
                let len = (self.end + READ_ROOM).next_power_of_two();
                self.data.resize(len, 0);
            }
        }
        &mut self.data[self.end..]
    }
}

impl fmt::Debug for Lines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lines")
            .field("limit", &self.limit)
            .field("pending", &(self.end - self.start))
            .field("capacity", &self.data.len())
            .finish()
    }
}

fn lock(lines: &Mutex<Lines>) -> MutexGuard<'_, Lines> {
    // No user code runs under this lock; a poisoned one still holds sound bytes.
    lines.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where the first `separator` starts in `bytes`.
fn find(bytes: &[u8], separator: &[u8]) -> Option<usize> {
    match separator {
        [byte] => bytes.iter().position(|b| b == byte),
        _ => bytes
            .windows(separator.len())
            .position(|window| window == separator),
    }
}

/// What a search that did not fail found.
enum Until {
    /// `pending[..n]` is a line and its separator.
    Found(usize),
    /// The stream ended: `pending` (maybe empty) is all that came after the last
    /// separator.
    End,
}

impl<S, P> Conn<S, P>
where
    S: StdStream,
    for<'a> &'a S: Read,
    P: fmt::Display,
{
    /// This stream's buffer, made now if no line read made it yet.
    fn lines(&self) -> MutexGuard<'_, Lines> {
        lock(self.lines.get_or_init(|| Mutex::new(Lines::new())))
    }

    /// The first step of every `read`: bytes a line read left in the buffer, if any.
    /// A stream that never read a line has no buffer: one atomic load, and `None`.
    pub(super) fn take_buffered(&self, buf: &mut [u8]) -> Option<usize> {
        let mut lines = lock(self.lines.get()?);
        let pending = lines.pending();
        if pending.is_empty() {
            return None;
        }
        let n = pending.len().min(buf.len());
        buf[..n].copy_from_slice(&pending[..n]);
        lines.consume(n);
        Some(n)
    }

    #[track_caller]
    pub(super) fn set_line_limit(&self, limit: usize) {
        assert!(
            limit > 0,
            "set_line_limit(0): no line could ever be read; the limit is the longest \
             line accepted, in bytes (the default, DEFAULT_LINE_LIMIT, is 64 KiB)"
        );
        self.lines().limit = limit;
    }

    pub(super) fn line_limit(&self) -> usize {
        self.lines
            .get()
            .map_or(DEFAULT_LINE_LIMIT, |lines| lock(lines).limit)
    }

    /// asyncio's `readuntil` loop: search the pending bytes (from `searched`, where
    /// the last search of this call stopped), else read more, until the separator
    /// comes, the limit is passed (nothing consumed), or the stream ends.
    fn poll_until(
        &self,
        lines: &mut Lines,
        cx: &mut Context<'_>,
        separator: &[u8],
        searched: &mut usize,
        operation: &'static str,
    ) -> Poll<Result<Until, LineError>> {
        loop {
            let pending = lines.pending();
            if pending.len() >= *searched + separator.len() {
                if let Some(at) = find(&pending[*searched..], separator) {
                    let at = *searched + at;
                    if at > lines.limit {
                        return Poll::Ready(Err(
                            self.overrun(lines, separator, at, true, operation)
                        ));
                    }
                    return Poll::Ready(Ok(Until::Found(at + separator.len())));
                }
                // The last `len - 1` bytes may be the start of a separator that
                // is still on its way: search them again next time.
                *searched = pending.len() + 1 - separator.len();
                if *searched > lines.limit {
                    let consumed = *searched;
                    return Poll::Ready(Err(
                        self.overrun(lines, separator, consumed, false, operation)
                    ));
                }
            }
            let room = lines.room();
            let len = room.len();
            let n = ready!(self.poll_read_io(cx, &mut room[..len]))
                .map_err(|error| NetError::new(error, operation, Some(&self.peer)))?;
            if n == 0 {
                return Poll::Ready(Ok(Until::End));
            }
            lines.end += n;
        }
    }

    fn overrun(
        &self,
        lines: &Lines,
        separator: &[u8],
        consumed: usize,
        found: bool,
        operation: &'static str,
    ) -> LineError {
        LineError::LimitOverrun(LimitOverrunError {
            operation,
            peer: self.peer.to_string(),
            separator: separator.to_vec(),
            consumed,
            limit: lines.limit,
            found,
            dropped: None,
        })
    }

    /// asyncio's `readline()`: appends the next line, newline included, to `line`.
    pub(super) async fn read_line(&self, line: &mut String) -> Result<usize, LineError> {
        const OPERATION: &str = "read_line from";
        let mut searched = 0;
        poll_fn(|cx| {
            let mut lines = self.lines();
            let n = match ready!(self.poll_until(&mut lines, cx, b"\n", &mut searched, OPERATION)) {
                Ok(Until::Found(n)) => n,
                // The last line, without its newline; 0 bytes once all is read.
                Ok(Until::End) => lines.pending().len(),
                Err(LineError::LimitOverrun(mut error)) => {
                    // readline's rule: drop the line through its newline if it
                    // came, else everything buffered.
                    let pending = lines.pending();
                    let dropped = if pending[error.consumed..].starts_with(b"\n") {
                        error.consumed + 1
                    } else {
                        pending.len()
                    };
                    lines.consume(dropped);
                    error.dropped = Some(dropped);
                    return Poll::Ready(Err(LineError::LimitOverrun(error)));
                }
                Err(error) => return Poll::Ready(Err(error)),
            };
            let bytes = &lines.pending()[..n];
            let done = match std::str::from_utf8(bytes) {
                Ok(text) => {
                    line.push_str(text);
                    Ok(n)
                }
                Err(_) => Err(LineError::NotUtf8(NotUtf8Error {
                    peer: self.peer.to_string(),
                    error: String::from_utf8(bytes.to_vec()).expect_err("not UTF-8"),
                })),
            };
            lines.consume(n);
            Poll::Ready(done)
        })
        .await
    }

    /// asyncio's `readuntil(separator)`: appends the bytes up to and including the
    /// separator to `buf`.
    #[track_caller]
    pub(super) fn read_until<'a>(
        &'a self,
        separator: &'a [u8],
        buf: &'a mut Vec<u8>,
    ) -> impl Future<Output = Result<usize, LineError>> + 'a {
        assert!(
            !separator.is_empty(),
            "read_until(b\"\", ..): the separator is empty, so it is found everywhere; \
             give at least one byte, such as b\"\\n\" or b\"\\r\\n\""
        );
        const OPERATION: &str = "read_until from";
        let mut searched = 0;
        poll_fn(move |cx| {
            let mut lines = self.lines();
            let done = match ready!(self.poll_until(
                &mut lines,
                cx,
                separator,
                &mut searched,
                OPERATION
            )) {
                Ok(Until::Found(n)) => {
                    buf.extend_from_slice(&lines.pending()[..n]);
                    lines.consume(n);
                    Ok(n)
                }
                Ok(Until::End) => Err(LineError::Incomplete(IncompleteReadError {
                    peer: self.peer.to_string(),
                    separator: separator.to_vec(),
                    partial: lines.take_all(),
                })),
                // LimitOverrun: the bytes stay in the buffer, as in asyncio.
                Err(error) => Err(error),
            };
            Poll::Ready(done)
        })
    }
}

/// `b"\r\n"`, as Python writes bytes.
fn show(bytes: &[u8]) -> String {
    format!("b\"{}\"", bytes.escape_ascii())
}

/// Why `read_line` or `read_until` returned no line.
///
/// ```
/// use clearloop::net::{LineError, TcpListener, TcpStream};
///
/// clearloop::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
///     let mut a = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (mut b, _) = listener.accept().await.unwrap();
///     a.write_all(b"hello\nwor").await.unwrap();
///     a.write_all(b"ld\nno newline at the end").await.unwrap();
///     drop(a); // the end of the stream
///
///     let mut line = String::new();
///     assert_eq!(b.read_line(&mut line).await.unwrap(), 6);
///     assert_eq!(line, "hello\n");
///     line.clear();
///     b.read_line(&mut line).await.unwrap();
///     assert_eq!(line, "world\n"); // came in two writes, handed out whole
///
///     // readuntil: the stream ends before the separator; the bytes are in the error.
///     let mut bytes = Vec::new();
///     match b.read_until(b"\n", &mut bytes).await {
///         Err(LineError::Incomplete(error)) => {
///             assert_eq!(error.partial(), b"no newline at the end")
///         }
///         other => panic!("{other:?}"),
///     }
/// });
/// ```
#[derive(Debug)]
pub enum LineError {
    /// The socket's error (connection reset and the like), as `read` returns it.
    Net(NetError),
    /// No separator within the stream's line limit: asyncio's `LimitOverrunError`
    /// (from `read_line`, asyncio's `readline` raises `ValueError`).
    LimitOverrun(LimitOverrunError),
    /// The stream ended before the separator (`read_until` only: `read_line`
    /// returns the last line without its newline): asyncio's `IncompleteReadError`.
    Incomplete(IncompleteReadError),
    /// `read_line`'s line is not UTF-8; the error holds its bytes.
    NotUtf8(NotUtf8Error),
}

impl LineError {
    /// The kind an `io::Error` made from it has: the socket's error's kind,
    /// `InvalidData` for a line over the limit or not UTF-8, `UnexpectedEof` for a
    /// stream that ended before the separator.
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            LineError::Net(error) => error.kind(),
            LineError::LimitOverrun(_) | LineError::NotUtf8(_) => io::ErrorKind::InvalidData,
            LineError::Incomplete(_) => io::ErrorKind::UnexpectedEof,
        }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::Net(error) => error.fmt(f),
            LineError::LimitOverrun(error) => error.fmt(f),
            LineError::Incomplete(error) => error.fmt(f),
            LineError::NotUtf8(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for LineError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LineError::Net(error) => Some(error),
            LineError::LimitOverrun(error) => Some(error),
            LineError::Incomplete(error) => Some(error),
            LineError::NotUtf8(error) => Some(error),
        }
    }
}

impl From<NetError> for LineError {
    fn from(error: NetError) -> LineError {
        LineError::Net(error)
    }
}

impl From<LineError> for io::Error {
    /// The kind of [`LineError::kind`], and the message; `get_ref()` and a downcast
    /// find the `LineError` (and its bytes) again. A socket's error becomes the
    /// `io::Error` its [`NetError`] does.
    fn from(error: LineError) -> io::Error {
        match error {
            LineError::Net(error) => error.into(),
            other => io::Error::new(other.kind(), other),
        }
    }
}

/// No separator within the limit (asyncio's `LimitOverrunError`): the line is longer
/// than the stream's [line limit](super::TcpStream::set_line_limit).
///
/// From `read_until` the bytes stay in the buffer, so that `read` or `read_exact`
/// can take them; `read_line` drops them, as asyncio's `readline` does
/// ([`dropped`](Self::dropped)).
#[derive(Debug)]
pub struct LimitOverrunError {
    operation: &'static str,
    peer: String,
    separator: Vec<u8>,
    consumed: usize,
    limit: usize,
    found: bool,
    dropped: Option<usize>,
}

impl LimitOverrunError {
    /// asyncio's `.consumed`: where the separator starts when it was found past the
    /// limit, else how many bytes were searched without finding it (more than the
    /// limit).
    pub fn consumed(&self) -> usize {
        self.consumed
    }

    /// The limit that was passed.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Whether the separator had come (past the limit) when the error was given.
    pub fn separator_found(&self) -> bool {
        self.found
    }

    /// How many bytes `read_line` dropped (`None` from `read_until`, which drops
    /// nothing).
    pub fn dropped(&self) -> Option<usize> {
        self.dropped
    }
}

impl fmt::Display for LimitOverrunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (separator, consumed, limit) = (show(&self.separator), self.consumed, self.limit);
        write!(f, "{} {}: ", self.operation, self.peer)?;
        if self.found {
            write!(
                f,
                "{consumed} bytes before the separator {separator}, more than the limit of \
                 {limit}"
            )?;
        } else {
            write!(
                f,
                "no separator {separator} in the first {consumed} bytes, more than the limit \
                 of {limit}"
            )?;
        }
        match self.dropped {
            Some(dropped) => write!(
                f,
                "; those {dropped} bytes were dropped, as asyncio's readline drops them \
                 (the rest of that line, if more comes, is read as the next line)"
            )?,
            None => write!(f, "; the bytes stay in the buffer for read and read_exact")?,
        }
        write!(
            f,
            " (asyncio's LimitOverrunError: raise the limit with set_line_limit)"
        )
    }
}

impl std::error::Error for LimitOverrunError {}

/// The stream ended before the separator came (asyncio's `IncompleteReadError`):
/// [`partial`](Self::partial) holds the bytes that came after the last separator.
#[derive(Debug)]
pub struct IncompleteReadError {
    peer: String,
    separator: Vec<u8>,
    partial: Vec<u8>,
}

impl IncompleteReadError {
    /// asyncio's `.partial`: the bytes that came before the end of the stream (empty
    /// if none did).
    pub fn partial(&self) -> &[u8] {
        &self.partial
    }

    /// The bytes, taken out of the error.
    pub fn into_partial(self) -> Vec<u8> {
        self.partial
    }
}

impl fmt::Display for IncompleteReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "read_until from {}: the stream ended after {} more bytes, before the separator \
             {} (asyncio's IncompleteReadError: the bytes are in partial())",
            self.peer,
            self.partial.len(),
            show(&self.separator)
        )
    }
}

impl std::error::Error for IncompleteReadError {}

/// `read_line`'s line is not UTF-8 (std's `read_line` says `InvalidData` too). The
/// line was read: its bytes are here, and the next `read_line` reads the next line.
#[derive(Debug)]
pub struct NotUtf8Error {
    peer: String,
    error: FromUtf8Error,
}

impl NotUtf8Error {
    /// The line's bytes, newline included.
    pub fn as_bytes(&self) -> &[u8] {
        self.error.as_bytes()
    }

    /// The line's bytes, taken out of the error.
    pub fn into_bytes(self) -> Vec<u8> {
        self.error.into_bytes()
    }

    /// Where the UTF-8 goes wrong.
    pub fn utf8_error(&self) -> std::str::Utf8Error {
        self.error.utf8_error()
    }
}

impl fmt::Display for NotUtf8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "read_line from {}: the line is not UTF-8 ({}); its {} bytes are in \
             into_bytes(), and read_until(b\"\\n\", ..) reads lines as bytes",
            self.peer,
            self.error.utf8_error(),
            self.as_bytes().len()
        )
    }
}

impl std::error::Error for NotUtf8Error {}
