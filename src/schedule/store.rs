//! [`Store`]: the scheduler's jobs, by id, and the [`Order`] they run in.
//!
//! A job lives in two places: its [`Entry`] (what it is, when it runs next) in a
//! slab, found by id; and its id in the order, under its next-run time. The order
//! is never searched: when a job is cancelled, or filed again under a new time,
//! its old entry in the order stays behind, **stale**, and is dropped when it
//! reaches the front (lazy deletion, as asyncio does with cancelled timers).
//!
//! ```text
//!   slots (a Vec; a removed job's place is reused)      place: id -> index
//!   [0] #0 Every 10 minutes, next 09:10                  #0 -> 0
//!   [1] #2 Every 1 day at 10:30, next 10:30              #2 -> 1
//!   [2] (free)                                           #1 was cancelled
//!
//!   order: 09:10 -> [#0]   10:00 -> [#1]  <- stale: #1 is gone, dropped by head()
//!          10:30 -> [#2]
//! ```
//!
//! An entry of the order counts only while its job exists, has that next-run time,
//! and is not running ([`Store::head`]). When stale entries outnumber live ones,
//! the order is rebuilt from the slab: O(n), once per n cancels.

use crate::id_hash::IdMap;

use jiff::Timestamp;

use super::job::{Action, describe_spec, format_time};
use super::order::Order;
use super::run::Ran;
use super::timing::{DriftPolicy, Slot, Spec};

/// One job, as the scheduler keeps it.
pub(crate) struct Entry {
    /// What `every(..)` described.
    pub(crate) spec: Spec,
    /// The name it shows as (`job`, `closure`, or the name given to `do_named`).
    pub(crate) name: String,
    /// Its tags, in the order they were given.
    pub(crate) tags: Vec<String>,
    /// The slot of the next run (an instant, or a civil time in the job's zone).
    pub(crate) slot: Slot,
    /// The instant of that slot.
    pub(crate) next_run: Timestamp,
    /// When the last run finished (Python sets `last_run` after the job returns).
    pub(crate) last_run: Option<Timestamp>,
    /// `None` while a `run_pending` has taken it to run it.
    pub(crate) action: Option<Action>,
    /// An async job whose task is still running.
    pub(crate) task_running: bool,
}

impl Entry {
    /// Puts the action back after a run and records it: `last_run` is when the job
    /// returned (`after`), as Python sets it after the job returns (for an async
    /// job, when its task was spawned); then the next slot. (Inlined into its one
    /// caller: as a call it cost 60 instructions a run, measured with callgrind.)
    #[inline(always)]
    pub(crate) fn record(
        &mut self,
        action: Action,
        ran: &Ran,
        drift: DriftPolicy,
        draw: u64,
        after: Timestamp,
    ) {
        if matches!(ran, Ran::Returned(_)) && matches!(action, Action::Async(_)) {
            self.task_running = true;
        }
        if !matches!(ran, Ran::NotRun) {
            self.last_run = Some(after);
        }
        self.action = Some(action);
        self.slot = self.spec.next_slot(self.slot, drift, draw, after);
        self.next_run = self.spec.resolve(self.slot);
    }

    /// For the one line of a panic: what panicked (`job flaky() (Every 3
    /// seconds)`) and what happens next.
    pub(crate) fn panic_line(&self, cancelled: bool) -> (String, String) {
        let what = format!("job {}() ({})", self.name, describe_spec(&self.spec));
        let then = if cancelled {
            "the job is cancelled (PanicPolicy::Cancel)".to_owned()
        } else {
            let next = format_time(self.next_run, &self.spec.zone);
            format!("it runs again at {next}")
        };
        (what, then)
    }

    /// Whether the job has this tag.
    pub(crate) fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }

    /// Python's repr: `Every 10 minutes do job() (last run: [never], next run: ...)`.
    pub(crate) fn describe(&self) -> String {
        let zone = &self.spec.zone;
        let last = self
            .last_run
            .map_or_else(|| "[never]".to_owned(), |t| format_time(t, zone));
        format!(
            "{} do {}() (last run: {last}, next run: {})",
            describe_spec(&self.spec),
            self.name,
            format_time(self.next_run, zone)
        )
    }
}

/// The jobs and their order. Everything here runs under the scheduler's lock.
#[derive(Default)]
pub(crate) struct Store {
    /// Every job of the scheduler, by id.
    pub(crate) jobs: Jobs,
    /// `(next run, id)` of every job that is not running, earliest first; some
    /// entries are stale (see the module doc).
    pub(crate) order: Order,
}

impl Store {
    /// Adds job `id` and files it under its next run.
    pub(crate) fn insert(&mut self, id: u64, entry: Entry) {
        self.order.push(entry.next_run.as_nanosecond(), id);
        self.jobs.insert(id, entry);
    }

    /// Removes job `id`, returning it (the caller drops it, outside the lock: its
    /// action is user code, and so is the `Drop` of what the action captured).
    pub(crate) fn remove(&mut self, id: u64) -> Option<Entry> {
        let removed = self.jobs.remove(&id);
        // Its entry in the order goes stale. When stale entries outnumber live
        // ones, rebuild the order from the jobs.
        if self.order.len() > 2 * self.jobs.len() + 64 {
            self.order = self
                .jobs
                .iter()
                .filter(|(_, e)| e.action.is_some())
                .map(|(id, e)| (e.next_run.as_nanosecond(), id))
                .collect();
        }
        removed
    }

    /// The first entry of the order that is not stale, dropping stale ones found
    /// at the front. Amortised O(1) per entry: each stale entry is dropped once.
    /// Returns its time, its job's id and the job's place in the slab.
    pub(crate) fn head(&mut self) -> Option<(Timestamp, u64, u32)> {
        while let Some((t, id)) = self.order.peek() {
            if let Some(place) = self.jobs.place(id)
                && let Some((_, e)) = &self.jobs.slots[place as usize]
                && e.next_run.as_nanosecond() == t
                && e.action.is_some()
            {
                return Some((e.next_run, id, place));
            }
            self.order.pop();
        }
        None
    }

    /// The ids of the jobs `keep` accepts, in the order they were added.
    pub(crate) fn ids_where(&self, keep: impl Fn(&Entry) -> bool) -> Vec<u64> {
        let mut ids: Vec<u64> = self
            .jobs
            .iter()
            .filter(|(_, e)| keep(e))
            .map(|(id, _)| id)
            .collect();
        // Ids grow with insertion.
        ids.sort_unstable();
        ids
    }
}

/// The jobs: entries packed in a `Vec` (a slab: a removed job's place is reused),
/// and a small map from id to place.
///
/// Measured with `perf` on the 10,000-job day of `benches/schedule.rs`: walking a
/// `BTreeMap<u64, Entry>` to the job was a third of the cost of a run, and a
/// `HashMap<u64, Entry>` still missed the cache twice (its control bytes, then the
/// large bucket). The id-to-place map is 16 bytes a job and stays in cache; the
/// entry itself is the one miss left.
#[derive(Default)]
pub(crate) struct Jobs {
    place: IdMap<u64, u32>,
    slots: Vec<Option<(u64, Entry)>>,
    free: Vec<u32>,
}

impl Jobs {
    pub(crate) fn get(&self, id: &u64) -> Option<&Entry> {
        let &place = self.place.get(id)?;
        self.slots[place as usize].as_ref().map(|(_, e)| e)
    }

    pub(crate) fn get_mut(&mut self, id: &u64) -> Option<&mut Entry> {
        let &place = self.place.get(id)?;
        self.slots[place as usize].as_mut().map(|(_, e)| e)
    }

    /// Where job `id` lives in the slab.
    pub(crate) fn place(&self, id: u64) -> Option<u32> {
        self.place.get(&id).copied()
    }

    /// Job `id`, found at `place` without hashing; `None` if it was removed since
    /// `place` was read (the place may hold another job now: ids are never reused).
    /// A run looks its job up once, in [`Store::head`], then goes by place.
    pub(crate) fn at_mut(&mut self, place: u32, id: u64) -> Option<&mut Entry> {
        match self.slots.get_mut(place as usize)? {
            Some((found, entry)) if *found == id => Some(entry),
            _ => None,
        }
    }

    fn insert(&mut self, id: u64, entry: Entry) {
        let place = match self.free.pop() {
            Some(place) => {
                self.slots[place as usize] = Some((id, entry));
                place
            }
            None => {
                self.slots.push(Some((id, entry)));
                u32::try_from(self.slots.len() - 1).expect("fewer than 4 billion jobs")
            }
        };
        self.place.insert(id, place);
    }

    fn remove(&mut self, id: &u64) -> Option<Entry> {
        let place = self.place.remove(id)?;
        self.free.push(place);
        self.slots[place as usize].take().map(|(_, e)| e)
    }

    pub(crate) fn len(&self) -> usize {
        self.place.len()
    }

    /// In no particular order: [`Store::ids_where`] sorts them.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &Entry)> {
        self.slots.iter().flatten().map(|(id, e)| (*id, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::timing::Unit;
    use jiff::tz::TimeZone;

    fn entry(next_run_s: i64) -> Entry {
        let next_run = Timestamp::from_second(next_run_s).unwrap();
        Entry {
            spec: Spec {
                interval: 10,
                latest: None,
                unit: Unit::Minutes,
                weekday: None,
                at: None,
                zone: TimeZone::UTC,
                until: None,
            },
            name: "job".to_owned(),
            tags: Vec::new(),
            slot: Slot::Instant(next_run),
            next_run,
            last_run: None,
            action: Some(Action::Sync(Box::new(|| false))),
            task_running: false,
        }
    }

    #[test]
    fn a_removed_place_is_reused_and_ids_stay_apart() {
        let mut store = Store::default();
        store.insert(0, entry(100));
        store.insert(1, entry(200));
        assert!(store.remove(0).is_some());
        assert!(store.remove(0).is_none(), "removing twice finds nothing");
        store.insert(2, entry(300));
        assert_eq!(store.jobs.slots.len(), 2, "the free place was reused");
        assert_eq!(store.jobs.len(), 2);
        assert_eq!(store.jobs.get(&2).unwrap().next_run.as_second(), 300);
        assert!(store.jobs.get(&0).is_none());
    }

    #[test]
    fn head_skips_stale_entries() {
        let mut store = Store::default();
        store.insert(0, entry(100));
        store.insert(1, entry(200));
        store.insert(2, entry(300));
        store.remove(0); // cancelled: its entry at 100 is stale
        // #1 runs (its action is taken), so its entry does not count either.
        store.jobs.get_mut(&1).unwrap().action = None;
        assert_eq!(
            store.head().map(|(t, id, _)| (t.as_second(), id)),
            Some((300, 2))
        );
        // Filed again under a new time: the old entry at 300 goes stale.
        let moved = Timestamp::from_second(50).unwrap();
        store.jobs.get_mut(&2).unwrap().next_run = moved;
        store.order.push(moved.as_nanosecond(), 2);
        assert_eq!(
            store.head().map(|(t, id, _)| (t.as_second(), id)),
            Some((50, 2))
        );
    }

    #[test]
    fn many_cancels_rebuild_the_order() {
        let mut store = Store::default();
        for id in 0..200 {
            store.insert(id, entry(1_000 + id as i64));
        }
        for id in 0..190 {
            store.remove(id);
        }
        assert!(store.order.len() <= 2 * store.jobs.len() + 64 + 1);
        assert_eq!(store.head().map(|(_, id, _)| id), Some(190));
        assert_eq!(store.ids_where(|_| true), (190..200).collect::<Vec<_>>());
    }

    #[test]
    fn describe_is_pythons_repr() {
        let described = entry(600).describe();
        assert_eq!(
            described,
            "Every 10 minutes do job() (last run: [never], next run: 1970-01-01 00:10:00)"
        );
    }
}
