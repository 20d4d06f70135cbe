//! What a suspended task waits on, in one word: asked only when something goes
//! wrong (a deadlock, a loop idle for long in debug mode), paid for by one store
//! when a waiter registers.
//!
//! asyncio can answer the same question because a task's `_fut_waiter` points to the
//! future it awaits (a `Lock`'s waiter future, a `sleep`'s timer handle); here a
//! task is a state machine that keeps no such pointer, so every place that makes a
//! task wait (a lock's queue, a timer, a socket, another task's end) writes what it
//! is into a word while the task is polled, and the task keeps the last word of its
//! last poll in its header:
//!
//! ```text
//!   poll starts        WORD = 0                      (thread-local, one store)
//!   semaphore queue    WORD = Semaphore | label id   (the waiter registers)
//!   sleep inside it    WORD unchanged: a timer beside another wait is a timeout
//!   poll ends          header.waiting = WORD         (one store in the task)
//! ```
//!
//! The word is a number, not a pointer: a tag in its low 4 bits and a payload above
//! (a named primitive's id, a deadline, a descriptor, a task id). So nothing it
//! names has to outlive the task, reading it needs no `unsafe`, and a stale word
//! (the primitive was dropped meanwhile) only reads as "a semaphore" without its
//! name. Names given by `with_name` are kept by id in [`names`], a table the
//! primitive leaves when it is dropped.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The tags of a wait word (its low 4 bits).
const NOTHING: u64 = 0;
const LOCK: u64 = 1;
const SEMAPHORE: u64 = 2;
const EVENT: u64 = 3;
const CONDITION: u64 = 4;
const QUEUE: u64 = 5;
const BARRIER: u64 = 6;
const SLEEP: u64 = 7;
const TASK: u64 = 8;
const READ: u64 = 9;
const WRITE: u64 = 10;
const SIMULATED: u64 = 11;
const TAG_BITS: u32 = 4;

/// What a task waits on, decoded from its word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Nothing the runtime knows: a hand-written future, or no wait at all.
    Unknown,
    /// A synchronisation primitive (`kind`: "lock", "semaphore", ...), by the id its
    /// name is kept under (0: unnamed).
    Primitive {
        /// Its kind, as a word.
        kind: &'static str,
        /// The id of its name in [`names`] (0: it has none).
        id: u64,
    },
    /// A sleep or a timeout, due at this instant (`None`: never).
    Sleep(Option<Instant>),
    /// Another task's end (by task id).
    Task(u64),
    /// A simulated socket ([`crate::sim::net`]), by its address when it is IPv4
    /// (an IPv6 address does not fit in the word: `None`).
    Simulated(Option<std::net::SocketAddrV4>),
    /// A socket or pipe, by descriptor, to read (`true`) or to write.
    Descriptor {
        /// The descriptor's number.
        fd: i32,
        /// Waiting to read (else to write).
        read: bool,
    },
}

thread_local! {
    /// The word of the task being polled on this thread (0 outside a poll).
    static WORD: Cell<u64> = const { Cell::new(NOTHING) };
    /// The word `block_on`'s own future (task 0, "main") left at its last poll.
    static MAIN: Cell<u64> = const { Cell::new(NOTHING) };
}

/// Polls one task with an empty word, and stores the word its poll left in
/// `waiting` (even when the poll panics: the guard does it).
#[inline]
pub(crate) fn polling<R>(waiting: &AtomicU64, poll: impl FnOnce() -> R) -> R {
    struct Keep<'a>(&'a AtomicU64);
    impl Drop for Keep<'_> {
        #[inline]
        fn drop(&mut self) {
            let word = WORD.with(|word| word.replace(NOTHING));
            self.0.store(word, Ordering::Relaxed);
        }
    }
    WORD.with(|word| word.set(NOTHING));
    let _keep = Keep(waiting);
    poll()
}

/// Polls `block_on`'s future: its word is kept in a thread-local (it has no task
/// header), for the deadlock report of this thread's loop.
#[inline]
pub(crate) fn polling_main<R>(poll: impl FnOnce() -> R) -> R {
    struct Keep;
    impl Drop for Keep {
        #[inline]
        fn drop(&mut self) {
            let word = WORD.with(|word| word.replace(NOTHING));
            MAIN.with(|main| main.set(word));
        }
    }
    WORD.with(|word| word.set(NOTHING));
    let _keep = Keep;
    poll()
}

/// What `block_on`'s future waited on at its last poll on this thread.
pub(crate) fn main() -> Wait {
    decode(MAIN.with(Cell::get))
}

/// The task polled here now waits on `word` (the last registration wins).
#[inline]
fn set(word: u64) {
    WORD.with(|current| current.set(word));
}

/// The task polled here waits on the primitive whose [`Label`](crate::sync) word is
/// `word` (see [`primitive_word`]).
#[inline]
pub(crate) fn on_primitive(word: u64) {
    set(word);
}

/// The task polled here waits on a timer due at `deadline`, unless it already waits
/// on something else in this poll: a timer beside another wait is that wait's
/// timeout, and the wait is what the task is really for.
#[inline]
pub(crate) fn on_sleep(deadline: Instant) {
    WORD.with(|current| {
        if current.get() == NOTHING {
            let nanos = deadline.saturating_duration_since(base()).as_nanos();
            let nanos = u64::try_from(nanos).unwrap_or(u64::MAX) >> TAG_BITS;
            current.set(nanos << TAG_BITS | SLEEP);
        }
    });
}

/// The task polled here waits on a sleep that never ends.
#[inline]
pub(crate) fn on_endless_sleep() {
    WORD.with(|current| {
        if current.get() == NOTHING {
            current.set(u64::MAX << TAG_BITS | SLEEP);
        }
    });
}

/// The task polled here waits for task `id` to end.
#[inline]
pub(crate) fn on_task(id: u64) {
    set(id << TAG_BITS | TASK);
}

/// The task polled here waits for descriptor `fd` to turn readable (or writable).
/// Unix only: a Windows socket or handle is not a descriptor number (the report
/// says "something the runtime cannot name" there).
#[cfg(unix)]
#[inline]
pub(crate) fn on_descriptor(fd: i32, read: bool) {
    let tag = if read { READ } else { WRITE };
    set(u64::from(fd as u32) << TAG_BITS | tag);
}

/// The task polled here waits on a simulated socket whose peer (or, for a
/// listener, own address) is `addr`.
#[inline]
pub(crate) fn on_simulated(addr: std::net::SocketAddr) {
    let payload = match addr {
        // Address and port in 48 bits, above a bit that says "known".
        std::net::SocketAddr::V4(v4) => {
            (u64::from(v4.ip().to_bits()) << 16 | u64::from(v4.port())) << 1 | 1
        }
        std::net::SocketAddr::V6(_) => 0,
    };
    set(payload << TAG_BITS | SIMULATED);
}

/// The word of a primitive of `kind` whose name is kept under `id` (0: unnamed).
pub(crate) fn primitive_word(kind: crate::trace::ResourceKind, id: u64) -> u64 {
    use crate::trace::ResourceKind;
    let tag = match kind {
        ResourceKind::Lock => LOCK,
        ResourceKind::Semaphore => SEMAPHORE,
        ResourceKind::Event => EVENT,
        ResourceKind::Condition => CONDITION,
        ResourceKind::Queue => QUEUE,
    };
    id << TAG_BITS | tag
}

/// A barrier's word (barriers have no trace label).
pub(crate) const BARRIER_WORD: u64 = BARRIER;

/// Reads a task's word (see the module doc).
pub(crate) fn decode(word: u64) -> Wait {
    let payload = word >> TAG_BITS;
    let primitive = |kind| Wait::Primitive { kind, id: payload };
    match word & ((1 << TAG_BITS) - 1) {
        LOCK => primitive("lock"),
        SEMAPHORE => primitive("semaphore"),
        EVENT => primitive("event"),
        CONDITION => primitive("condition"),
        QUEUE => primitive("queue"),
        BARRIER => primitive("barrier"),
        SLEEP if payload == u64::MAX >> TAG_BITS => Wait::Sleep(None),
        SLEEP => Wait::Sleep(Some(base() + Duration::from_nanos(payload << TAG_BITS))),
        TASK => Wait::Task(payload),
        READ | WRITE => Wait::Descriptor {
            fd: payload as u32 as i32,
            read: word & ((1 << TAG_BITS) - 1) == READ,
        },
        SIMULATED if payload & 1 == 1 => {
            let (ip, port) = ((payload >> 17) as u32, (payload >> 1) as u16);
            Wait::Simulated(Some(std::net::SocketAddrV4::new(ip.into(), port)))
        }
        SIMULATED => Wait::Simulated(None),
        _ => Wait::Unknown,
    }
}

/// The instant sleep deadlines are counted from in a word: the first time one is
/// written (a deadline before it counts as it).
fn base() -> Instant {
    static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// The names given to primitives by `with_name`, by id: read only by a report.
pub(crate) mod names {
    use super::*;
    use std::sync::atomic::AtomicU64;

    fn table() -> std::sync::MutexGuard<'static, BTreeMap<u64, Box<str>>> {
        static NAMES: Mutex<BTreeMap<u64, Box<str>>> = Mutex::new(BTreeMap::new());
        NAMES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps `name` under a new id (never 0), returned.
    pub(crate) fn keep(name: &str) -> u64 {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        table().insert(id, name.into());
        id
    }

    /// Forgets the name kept under `id` (its primitive was dropped).
    pub(crate) fn forget(id: u64) {
        table().remove(&id);
    }

    /// The name kept under `id`, if its primitive is still alive.
    pub(crate) fn get(id: u64) -> Option<String> {
        table().get(&id).map(|name| name.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_says_what_was_written_last_and_a_timer_does_not_hide_a_wait() {
        let waiting = AtomicU64::new(0);
        let deadline = Instant::now() + Duration::from_secs(5);
        polling(&waiting, || on_sleep(deadline));
        let Wait::Sleep(Some(due)) = decode(waiting.load(Ordering::Relaxed)) else {
            panic!("a sleep");
        };
        assert!(due <= deadline && deadline - due < Duration::from_nanos(16));
        #[cfg(unix)]
        {
            polling(&waiting, || {
                on_descriptor(7, true);
                on_sleep(deadline);
            });
            let wait = decode(waiting.load(Ordering::Relaxed));
            assert_eq!(wait, Wait::Descriptor { fd: 7, read: true });
        }
        let peer: std::net::SocketAddr = "10.0.0.2:8080".parse().unwrap();
        polling(&waiting, || {
            on_simulated(peer);
            on_sleep(deadline);
        });
        let wait = decode(waiting.load(Ordering::Relaxed));
        assert_eq!(
            wait,
            Wait::Simulated(Some("10.0.0.2:8080".parse().unwrap()))
        );
        polling(&waiting, || on_simulated("[::1]:80".parse().unwrap()));
        assert_eq!(
            decode(waiting.load(Ordering::Relaxed)),
            Wait::Simulated(None)
        );
        polling(&waiting, || on_task(42));
        assert_eq!(decode(waiting.load(Ordering::Relaxed)), Wait::Task(42));
        polling(&waiting, || {});
        assert_eq!(decode(waiting.load(Ordering::Relaxed)), Wait::Unknown);
        let id = names::keep("db-pool");
        let word = primitive_word(crate::trace::ResourceKind::Semaphore, id);
        assert_eq!(
            decode(word),
            Wait::Primitive {
                kind: "semaphore",
                id
            }
        );
        assert_eq!(names::get(id).as_deref(), Some("db-pool"));
        names::forget(id);
        assert_eq!(names::get(id), None);
    }
}
