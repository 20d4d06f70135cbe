//! The scheduler's queue: the pending events in run order, and the threads asleep
//! until the next one.
//!
//! CPython's `sched.scheduler` keeps a `heapq` list of `Event` tuples compared as
//! `(time, priority, sequence)`; here a `BTreeMap` keyed the same way, in reverse,
//! so its last entry runs next and a cancel removes one key without a re-heapify.
//! The module doc of [`sched`](super) draws it; this file holds the key, the entry
//! and the list of sleepers that an `enter` may have to wake.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::thread::Thread;
use std::time::Instant;

use super::{Action, Event};

/// Everything the lock protects. Whoever holds it may read and change all of it;
/// nobody holds it while an action runs or while a thread sleeps.
pub(super) struct Queue {
    /// The pending events, in reverse run order (see "The queue" in the module
    /// doc: the last key runs first). Invariant: an event is in this map exactly
    /// when its state is `Pending` (both change together, under the lock).
    pub(super) pending: BTreeMap<Reverse<Key>, Entry>,
    /// The sequence number of the next event entered.
    pub(super) next_sequence: u64,
    /// Threads parked in `run`, each with the deadline it sleeps until (`None`: a
    /// runner on an empty queue, waiting for any event). `enter` unparks those that
    /// a new event is due before.
    pub(super) sleepers: Vec<Sleeper>,
}

pub(super) struct Sleeper {
    pub(super) thread: Thread,
    pub(super) deadline: Option<Instant>,
}

/// The queue's sort key. The derived order compares the fields top to bottom: time
/// first, then priority (lower runs first), then sequence (entered first runs first).
///
/// The time is not kept as an [`Instant`] but as nanoseconds from the scheduler's
/// creation, shifted so that earlier times (an `enterabs` in the past) still sort
/// first: one `u64` comparison instead of an `Instant`'s seconds-then-nanoseconds.
/// The tree compares a new key with several keys in each node on its way down;
/// this saved about 150 instructions per event (callgrind, see
/// `examples/sched_enter_run.rs`). Times more than 292 years away from the
/// scheduler's creation all share the farthest value, and so run in order of
/// priority and sequence among themselves.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Key {
    pub(super) nanos: u64,
    pub(super) priority: i32,
    pub(super) sequence: u64,
}

/// What a `Key` counts its time from: the scheduler's creation is `ORIGIN` nanoseconds.
pub(super) const ORIGIN: u64 = 1 << 63;

impl Key {
    pub(super) fn new(start: Instant, time: Instant, priority: i32, sequence: u64) -> Key {
        let nanos = match time.checked_duration_since(start) {
            Some(after) => ORIGIN + after.as_nanos().min(u128::from(ORIGIN - 1)) as u64,
            None => ORIGIN - (start - time).as_nanos().min(u128::from(ORIGIN)) as u64,
        };
        Key {
            nanos,
            priority,
            sequence,
        }
    }
}

pub(super) struct Entry {
    pub(super) event: Event,
    pub(super) action: Action,
}

impl Queue {
    /// The sleepers that must wake up to see an event due at `time`: those sleeping
    /// past it, or waiting for any event. Their deadline becomes `time`, so that the
    /// next thousand events entered for later do not unpark them again.
    pub(super) fn sleepers_to_wake_for(&mut self, time: Instant) -> Vec<Thread> {
        let mut to_wake = Vec::new();
        for sleeper in &mut self.sleepers {
            if sleeper.deadline.is_none_or(|deadline| time < deadline) {
                sleeper.deadline = Some(time);
                to_wake.push(sleeper.thread.clone());
            }
        }
        to_wake
    }

    pub(super) fn timed_sleepers(&self) -> Vec<Thread> {
        self.sleepers
            .iter()
            .filter(|s| s.deadline.is_some())
            .map(|s| s.thread.clone())
            .collect()
    }
}
