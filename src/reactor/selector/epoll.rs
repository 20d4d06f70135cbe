//! epoll, by hand, edge-triggered (Python's `selectors.EpollSelector`): the selector on Linux.
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
//!   the wake-up eventfd, as NOTIFY      notify(): write 1 to it, and the wait
//!                                       returns (asyncio's self-pipe; `wake.rs`)
//! ```
//!
//! Python's `EpollSelector.register(fd, EVENT_READ, data)` is the same `epoll_ctl`;
//! its `select(timeout)` the same wait. `epoll_wait` counts whole milliseconds, and
//! Python rounds the timeout *up* (a timer 1.3 ms away fires after 2 ms). Here it is
//! rounded *down* (1 ms), and the loop parks the last fraction on its clock, where
//! microseconds count ([`select_until`](crate::reactor::select_until)): a timer is not made late
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

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::time::Duration;

use rustix::event::epoll::{self, EventData, EventFlags};

use super::Readiness;
use super::wake::Wake;

/// The key of the wake-up eventfd; no source has it.
const NOTIFY: u64 = u64::MAX;

/// At most this many events come back from one wait (a buffer on the stack of the
/// waiting thread); more wait for the next one.
const EVENTS_PER_WAIT: usize = 256;

/// An epoll instance and its wake-up eventfd (see the module doc).
pub(crate) struct Epoll {
    epoll: OwnedFd,
    pub(super) wake: Wake,
}

impl Epoll {
    /// A new epoll instance with its eventfd registered.
    pub(super) fn new() -> io::Result<Epoll> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let wake = Wake::eventfd()?;
        let flags = EventFlags::IN | EventFlags::ET;
        epoll::add(&epoll, wake.fd(), EventData::new_u64(NOTIFY), flags)?;
        Ok(Epoll { epoll, wake })
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

    /// Waits until a descriptor becomes ready, the wake-up is written, or `timeout`
    /// passes (`None`: no limit; else whole milliseconds, the rest dropped:
    /// `epoll_wait` would round it up), and pushes what became ready onto `ready`. A
    /// signal that interrupts the wait ends it early with no events.
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
                self.wake.clear();
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
}

/// `t` in whole milliseconds, the fraction dropped (what `epoll_wait` takes; given a
/// fraction, it would round up, and wake a loop up to 1 ms after its timer).
fn whole_millis(t: Duration) -> rustix::event::Timespec {
    rustix::event::Timespec {
        tv_sec: t.as_secs().try_into().unwrap_or(i64::MAX),
        tv_nsec: (t.subsec_millis() * 1_000_000).into(),
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
