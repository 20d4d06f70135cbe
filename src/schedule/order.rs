//! [`Order`]: which job runs next. Job ids in buckets by next-run time.
//!
//! Python's `run_pending` sorts the due jobs on each call (`sorted(runnable_jobs)`,
//! a stable sort by `next_run`): jobs due at the same instant run in the order they
//! were added to the scheduler. Here the order is kept between calls, so a call with
//! nothing due looks at one bucket and stops:
//!
//! ```text
//!   time (ns)      ids, smallest first = added first
//!   09:10:00  ->  [#0, #6, #12]        <- first bucket: run #0, then #6, then #12
//!   09:30:00  ->  [#1, #7]
//!   10:00:00  ->  [#2, #0, #6, ...]    (#2 filed at 09:00, #0 again at 09:50)
//! ```
//!
//! Within a bucket, ids run in the order they were filed: jobs added together keep
//! the order they were added in, and a job filed again after a run goes behind those
//! already waiting for the same instant.
//!
//! Why buckets and not a heap of `(time, id)`: on the 10,000-job day of
//! `benches/schedule.rs` most runs fall on a few instants (every 10 minutes, every
//! hour), and a bucket is popped from the front in O(1), where a heap pays
//! O(log n) per pop and per push.

use std::collections::{BTreeMap, VecDeque};

/// Job ids by next-run time (nanoseconds: comparing two integers was measured
/// faster than comparing two `Timestamp`s). Entries may be stale: see
/// `Store::head`.
#[derive(Default)]
pub(crate) struct Order {
    buckets: BTreeMap<i128, Bucket>,
    /// Entries in all buckets, stale ones included.
    len: usize,
}

/// The ids due at one instant.
#[derive(Default)]
struct Bucket {
    ids: VecDeque<u64>,
}

impl Order {
    /// Files job `id` under `time`.
    pub(crate) fn push(&mut self, time: i128, id: u64) {
        let bucket = self.buckets.entry(time).or_default();
        bucket.ids.push_back(id);
        self.len += 1;
    }

    /// The first entry: the earliest time, and the first id filed under it.
    pub(crate) fn peek(&mut self) -> Option<(i128, u64)> {
        let mut first = self.buckets.first_entry()?;
        let time = *first.key();
        let bucket = first.get_mut();
        Some((
            time,
            *bucket.ids.front().expect("empty buckets are removed"),
        ))
    }

    /// Removes the first entry (the one [`peek`](Order::peek) returned).
    pub(crate) fn pop(&mut self) {
        if let Some(mut first) = self.buckets.first_entry() {
            first.get_mut().ids.pop_front();
            self.len -= 1;
            if first.get().ids.is_empty() {
                first.remove();
            }
        }
    }

    /// Entries, stale ones included.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl FromIterator<(i128, u64)> for Order {
    fn from_iter<I: IntoIterator<Item = (i128, u64)>>(entries: I) -> Order {
        let mut entries: Vec<(i128, u64)> = entries.into_iter().collect();
        entries.sort_unstable();
        let mut order = Order::default();
        for (time, id) in entries {
            order.push(time, id);
        }
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(order: &mut Order) -> Vec<(i128, u64)> {
        let mut out = Vec::new();
        while let Some(first) = order.peek() {
            out.push(first);
            order.pop();
        }
        out
    }

    #[test]
    fn earliest_time_first_then_filing_order() {
        let mut order = Order::default();
        for (time, id) in [(20, 1), (10, 2), (10, 5), (20, 0), (10, 9)] {
            order.push(time, id);
        }
        assert_eq!(order.len(), 5);
        let drained = drain(&mut order);
        assert_eq!(drained, [(10, 2), (10, 5), (10, 9), (20, 1), (20, 0)]);
        assert_eq!(order.len(), 0);
    }

    #[test]
    fn collect_sorts_by_time() {
        let mut order: Order = [(5, 1), (1, 2)].into_iter().collect();
        assert_eq!(drain(&mut order), [(1, 2), (5, 1)]);
    }
}
