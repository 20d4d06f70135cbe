//! The process's I/O thread: a reactor for the waits that no loop on the real clock
//! drives.
//!
//! Two kinds of wait have no selector of their own to go to:
//!
//! * a socket polled outside any clearloop runtime (by another executor, or a
//!   `Future` polled by hand);
//! * the tasks of a runtime on a **virtual** clock: its loop sleeps on the clock,
//!   which jumps only once the network has been quiet for
//!   [`IO_GRACE`](crate::clock::IO_GRACE) (the `clock` module's I/O rule), so it
//!   cannot sit in `epoll_wait` itself.
//!
//! Their sources live in one more reactor, made at the first such wait, and one
//! thread, `clearloop-io`, waits on it for ever: `epoll_wait` with no timeout, then
//! the wakers, then again. Readiness reaches those tasks as wake-ups from another
//! thread, at once; nothing here counts time. asyncio has no such thread (a socket
//! belongs to one loop, and a loop is always the one waiting); smol's `async-io`
//! has one, and lends the reactor to whichever `block_on` blocks.
//!
//! ```text
//!   clearloop-io:  loop { reactor.wait(None) -> wake the tasks }   (no timeout)
//!   a wait outside a runtime, or on a virtual clock:
//!                  source.settle_in(shared reactor): epoll_ctl(ADD) there
//! ```

use std::io;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::Reactor;
use crate::panics::lock;

/// The reactor of the I/O thread, once created.
static SHARED: OnceLock<Arc<Reactor>> = OnceLock::new();

impl Reactor {
    /// The reactor that the process's I/O thread, `clearloop-io`, drives: the home of
    /// the sources waited on outside any runtime and by runtimes on a virtual clock
    /// (see `src/reactor/io_thread.rs`). Created, with its thread, on first use.
    ///
    /// # Errors
    ///
    /// When the epoll instance or the thread cannot be created. The error is not
    /// kept: a later call tries again.
    pub fn shared() -> io::Result<&'static Arc<Reactor>> {
        static STARTING: Mutex<()> = Mutex::new(());
        if let Some(reactor) = SHARED.get() {
            return Ok(reactor);
        }
        let _starting = lock(&STARTING);
        if let Some(reactor) = SHARED.get() {
            return Ok(reactor);
        }
        let reactor = Arc::new(Reactor::new()?);
        let driven = reactor.clone();
        std::thread::Builder::new()
            .name("clearloop-io".into())
            .spawn(move || drive_for_ever(&driven))
            .map_err(|error| {
                io::Error::new(
                    error.kind(),
                    format!("clearloop: cannot start the I/O thread (clearloop-io): {error}"),
                )
            })?;
        Ok(SHARED.get_or_init(|| reactor))
    }
}

/// The I/O thread's whole life. An error from `epoll_wait` is a bug (it fails only
/// on a bad descriptor or buffer): say it, at most once a second, rather than spin
/// or end silently.
fn drive_for_ever(reactor: &Reactor) {
    loop {
        if let Err(error) = reactor.wait(None) {
            eprintln!("clearloop-io: waiting on the selector failed: {error}");
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}
