//! The selector: epoll, by hand, edge-triggered (Python's `selectors.EpollSelector`).
//!
//! Three system calls are the whole of it, plus one descriptor to be woken by:
//!
//! ```text
//!   epoll_create1()                     one kernel object: the interest list
//!   epoll_ctl(ADD, fd, IN|OUT|ET, key)  once per socket, when it is registered
//!   epoll_ctl(DEL, fd)                  once, before the socket is closed
//!   epoll_wait(timeout) -> [(key, flags), ...]
//!                                       the loop's step 4: sleep until something
//!                                       is ready, or the timeout, or notify()
//!   eventfd, registered as NOTIFY       notify(): write 1 to it, and the wait
//!                                       returns (asyncio's self-pipe)
//! ```
//!
//! Python's `EpollSelector.register(fd, EVENT_READ, data)` is the same `epoll_ctl`;
//! its `select(timeout)` the same wait. `epoll_wait` counts whole milliseconds, and
//! Python rounds the timeout *up* (a timer 1.3 ms away fires after 2 ms). Here it is
//! rounded *down* (1 ms), and the loop parks the last fraction on its clock, where
//! microseconds count ([`select_until`](super::select_until)): a timer is not made late
//! by the selector. (`epoll_pwait2` takes nanoseconds, but Linux before 5.11, and
//! tools such as valgrind, do not know it.)
//!
//! **Edge-triggered.** Every descriptor is registered once, for both directions, with
//! `EPOLLET`: the kernel reports a direction when it *becomes* ready (data arrived,
//! room freed), not on every wait while it stays ready. Nothing is re-armed, so a
//! task that waits costs no `epoll_ctl` at all; the price is that the reactor must
//! remember what was reported (`source.rs`: an event counter per direction), since
//! the kernel will not say it twice.
//!
//! Only one thread waits at a time (the reactor holds its scratch buffers for the
//! whole wait); `notify` may be called from any thread, at any time.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rustix::event::epoll::{self, EventData, EventFlags};
use rustix::event::{EventfdFlags, Timespec, eventfd};

/// The key of the eventfd that [`Selector::notify`] writes to; no source has it.
const NOTIFY: u64 = u64::MAX;

/// At most this many events come back from one wait (a buffer on the stack of the
/// waiting thread); more wait for the next one.
const EVENTS_PER_WAIT: usize = 256;

/// What the kernel said about one descriptor in one wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Readiness {
    /// The key given to [`Selector::add`].
    pub(super) key: usize,
    /// Data (or end of stream, or an error) can be read.
    pub(super) readable: bool,
    /// Room to write (or an error to collect).
    pub(super) writable: bool,
    /// The peer closed its side, or the socket has an error: from now on a read
    /// returns at once (end of stream, or the error), however often it is tried.
    pub(super) closed: bool,
}

/// An epoll instance and its eventfd (see the module doc).
pub(super) struct Selector {
    epoll: OwnedFd,
    /// Written by `notify` to end a wait from another thread.
    wake: OwnedFd,
    /// A notification is pending: later `notify` calls skip the write.
    notified: AtomicBool,
}

impl Selector {
    /// A new epoll instance with its eventfd registered.
    pub(super) fn new() -> io::Result<Selector> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let wake = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        let flags = EventFlags::IN | EventFlags::ET;
        epoll::add(&epoll, &wake, EventData::new_u64(NOTIFY), flags)?;
        Ok(Selector {
            epoll,
            wake,
            notified: AtomicBool::new(false),
        })
    }

    /// Watches `fd` in both directions, edge-triggered, reported with `key`.
    pub(super) fn add(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        let flags = EventFlags::IN | EventFlags::OUT | EventFlags::RDHUP | EventFlags::ET;
        epoll::add(&self.epoll, fd, EventData::new_u64(key as u64), flags)?;
        Ok(())
    }

    /// Stops watching `fd`. Call it before the descriptor is closed: epoll would
    /// otherwise keep reporting it while another descriptor shares its open file.
    pub(super) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        epoll::delete(&self.epoll, fd)?;
        Ok(())
    }

    /// Waits until a descriptor becomes ready, [`notify`](Selector::notify) is
    /// called, or `timeout` passes (`None`: no limit; else whole milliseconds, the
    /// rest dropped: `epoll_wait` would round it up), and pushes what became ready
    /// onto `ready`. A signal that interrupts the wait ends it early with no events.
    pub(super) fn wait(
        &self,
        ready: &mut Vec<Readiness>,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        let timeout = timeout.map(whole_millis);
        let mut buffer = [const { MaybeUninit::<epoll::Event>::uninit() }; EVENTS_PER_WAIT];
        let events = match epoll::wait(&self.epoll, &mut buffer, timeout.as_ref()) {
            Ok((events, _)) => events,
            Err(rustix::io::Errno::INTR) => return Ok(()),
            Err(errno) => return Err(errno.into()),
        };
        for event in events.iter() {
            let (flags, key) = (event.flags, event.data.u64());
            if key == NOTIFY {
                self.clear_notification();
                continue;
            }
            // An error or a hang-up wakes both directions: the next operation
            // returns the error, or end of stream, instead of waiting forever.
            let failed = flags.intersects(EventFlags::ERR | EventFlags::HUP);
            ready.push(Readiness {
                key: key as usize,
                readable: failed || flags.intersects(EventFlags::IN | EventFlags::RDHUP),
                writable: failed || flags.contains(EventFlags::OUT),
                closed: failed || flags.contains(EventFlags::RDHUP),
            });
        }
        Ok(())
    }

    /// Ends the current wait on another thread, or makes the next one return at
    /// once. Cheap when called again before that wait: the eventfd is written once.
    pub(super) fn notify(&self) -> io::Result<()> {
        if self.notified.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        match rustix::io::write(&self.wake, &1u64.to_ne_bytes()) {
            // EAGAIN: the counter is full of earlier writes; the wait returns anyway.
            Ok(_) | Err(rustix::io::Errno::AGAIN) => Ok(()),
            Err(errno) => Err(errno.into()),
        }
    }

    /// The eventfd was reported: empty its counter, *then* drop the flag, so that the
    /// next `notify` writes again and is a new edge. The other order loses wake-ups
    /// for good: a `notify` between the two would write, its write would be emptied
    /// by our read before any wait reported it, and the flag would stay set, so every
    /// later `notify` would skip its write. In this order a `notify` between the two
    /// skips its write while this wait is already returning: the caller looks at its
    /// queues after every wait, and finds what that `notify` announced.
    fn clear_notification(&self) {
        let mut counter = [0; 8];
        let _ = rustix::io::read(&self.wake, &mut counter);
        self.notified.store(false, Ordering::SeqCst);
    }
}

/// `t` in whole milliseconds, the fraction dropped (what `epoll_wait` takes; given a
/// fraction, it would round up, and wake a loop up to 1 ms after its timer).
fn whole_millis(t: Duration) -> Timespec {
    Timespec {
        tv_sec: t.as_secs().try_into().unwrap_or(i64::MAX),
        tv_nsec: (t.subsec_millis() * 1_000_000).into(),
    }
}

impl AsFd for Selector {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::whole_millis;

    #[test]
    fn a_timeout_is_cut_to_whole_milliseconds_never_rounded_up() {
        let millis = |t: Duration| {
            let ts = whole_millis(t);
            ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
        };
        assert_eq!(millis(Duration::from_micros(1_999)), 1);
        assert_eq!(millis(Duration::from_micros(999)), 0);
        assert_eq!(millis(Duration::from_millis(2_500)), 2_500);
        assert_eq!(whole_millis(Duration::from_micros(1_000_001)).tv_nsec, 0);
    }
}
