//! Events on disk as they happen: the JSON lines file, written in batches at
//! least every 100 ms by a thread of the recorder's own, so that a program killed
//! by Ctrl-C leaves its trace up to a moment before the signal.
//!
//! Writing each event as it is recorded would cost a system call per event, on the
//! thread that polls the tasks. Keeping them all until the end loses them all when
//! the process is killed. In between: the recording threads append to a list in
//! memory, as before; the **flusher** thread turns what has piled up into lines and
//! `write(2)`s them, at most `FLUSH_EVERY` (100 ms) after the first of them was recorded.
//! Perfetto's tracing service reads its ring buffers the same way, periodically.
//!
//! ```text
//!   recording threads           flusher thread                       the file
//!   record(e1)  ─ first since the last write: ring the bell ─> wakes
//!   record(e2)                                                 waits out 100 ms
//!   record(e3)                                                 takes e1 e2 e3,
//!                                                              formats them ───> write(2)
//!   (nothing recorded)                                         waits for the bell,
//!                                                              with no timeout
//! ```
//!
//! The 100 ms bound how late an event reaches the disk, nothing else: when nothing
//! is recorded the thread sleeps until something is. A burst that fills a batch
//! rings the bell at once (see `Recorder::record`), and a recording thread that
//! finds four batches waiting writes them itself: memory stays bounded even when
//! the flusher cannot keep up. The loop may also write when it parks
//! (`Recorder::flush_if_due`), which spares the flusher a wake-up.
//!
//! **What a kill leaves.** `write(2)` hands the lines to the kernel, which keeps
//! them when the process dies: after a SIGINT with its default action (a server
//! that does not await `signal::ctrl_c`), a panic that aborts or
//! `std::process::exit`, the file holds every event recorded up to about 100 ms
//! before the end, each line whole (a batch is written in whole lines). The drawn
//! outputs (timeline, SVG, Chrome) are written when the runtime is dropped: a
//! killed process leaves none. Await `signal::ctrl_c()` and return from
//! `block_on` to get them.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The longest an event waits in memory before it is written to the file.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// One JSON lines file being written.
pub(crate) struct Stream {
    path: PathBuf,
    /// `None` once a write failed: reported once, the others go on.
    file: Option<File>,
}

impl Stream {
    /// Creates (or empties) the file at `path`; a failure is reported on stderr,
    /// naming the file, and gives `None`: the program goes on untraced there.
    pub(crate) fn create(path: PathBuf) -> Option<Stream> {
        match File::create(&path) {
            Ok(file) => Some(Stream {
                path,
                file: Some(file),
            }),
            Err(error) => {
                eprintln!(
                    "clearloop: creating the trace file {}: {error}; its JSON lines are lost",
                    path.display()
                );
                None
            }
        }
    }

    /// Appends `lines` (whole lines) to the file.
    pub(crate) fn write(&mut self, lines: &[u8]) {
        let Some(file) = &mut self.file else {
            return;
        };
        if let Err(error) = file.write_all(lines) {
            eprintln!(
                "clearloop: writing the trace to {}: {error}; the JSON lines stop here",
                self.path.display()
            );
            self.file = None;
        }
    }
}

/// What the flusher thread is asked to do.
#[derive(Default)]
struct Asked {
    /// Events wait to be written.
    wanted: bool,
    /// A full batch waits: write it now, not at the end of the period.
    urgent: bool,
    /// The recorder is going away.
    stop: bool,
}

/// How the recording threads wake the flusher.
#[derive(Default)]
pub(crate) struct Bell {
    asked: Mutex<Asked>,
    rung: Condvar,
}

impl Bell {
    fn asked(&self) -> MutexGuard<'_, Asked> {
        self.asked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Events wait (`urgent`: a full batch of them).
    pub(crate) fn ring(&self, urgent: bool) {
        let mut asked = self.asked();
        asked.wanted = true;
        asked.urgent |= urgent;
        drop(asked);
        self.rung.notify_one();
    }

    /// Asks the flusher thread to return.
    pub(crate) fn stop(&self) {
        self.asked().stop = true;
        self.rung.notify_one();
    }

    /// The flusher thread's loop: wait for the bell (no timeout: nothing to write),
    /// then for the rest of [`FLUSH_EVERY`] since the last write (`since_flush`), then
    /// `flush`. Returns when [`stop`](Bell::stop) is called; the recorder writes what
    /// is left.
    pub(crate) fn serve(&self, flush: impl Fn(), since_flush: impl Fn() -> Duration) {
        let mut asked = self.asked();
        loop {
            while !asked.wanted && !asked.stop {
                asked = self
                    .rung
                    .wait(asked)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            while !asked.stop && !asked.urgent {
                let since = since_flush();
                if since >= FLUSH_EVERY {
                    break;
                }
                // The one timed wait: it bounds how late events reach the file.
                let (again, _) = self
                    .rung
                    .wait_timeout(asked, FLUSH_EVERY - since)
                    .unwrap_or_else(PoisonError::into_inner);
                asked = again;
            }
            if asked.stop {
                return;
            }
            (asked.wanted, asked.urgent) = (false, false);
            drop(asked);
            if let Err(payload) = crate::panics::catch(&flush) {
                crate::panics::report(
                    "the trace's flusher thread",
                    &*payload,
                    "the events it held are lost; it goes on with the next ones",
                );
            }
            asked = self.asked();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    #[test]
    fn the_bell_wakes_the_flusher_and_stop_ends_it() {
        let bell = Arc::new(Bell::default());
        let flushes = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (bell, flushes) = (bell.clone(), flushes.clone());
            std::thread::spawn(move || {
                let flush = || {
                    flushes.fetch_add(1, Ordering::SeqCst);
                };
                // Long after the last write: the bell is served at once.
                bell.serve(flush, || FLUSH_EVERY);
            })
        };
        let start = Instant::now();
        bell.ring(false);
        while flushes.load(Ordering::SeqCst) == 0 {
            assert!(start.elapsed() < Duration::from_secs(10), "never flushed");
            std::thread::yield_now();
        }
        bell.stop();
        thread.join().unwrap();
        assert_eq!(flushes.load(Ordering::SeqCst), 1, "one ring, one flush");
    }

    #[test]
    fn a_file_that_cannot_be_created_is_none() {
        assert!(Stream::create("/no/such/dir/trace.jsonl".into()).is_none());
    }
}
