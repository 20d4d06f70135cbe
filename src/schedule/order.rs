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
//!   10:00:00  ->  [#0, #2, #6, ...]    (#0 filed again at 09:50, #2 at 09:00:
//!                                        sorted when it becomes the first bucket)
//! ```
//!
//! Ids grow with insertion, so "in the order they were added" is "by id", whatever
//! each job's history. A job filed again after a run usually has the largest id
//! seen so far in its new bucket, and is pushed at the back; when it is not (a
//! newer job got there first), the bucket is marked unsorted and sorted once, the
//! first time it is looked at. `sort` finds the sorted runs already there and
//! merges them, so that costs about one pass over the bucket.
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
    /// Whether `ids` is in increasing order. Pushes keep it so when they can; a
    /// push of a smaller id clears it, and the next `peek` sorts.
    sorted: bool,
}

impl Order {
    /// Files job `id` under `time`.
    #[inline]
    pub(crate) fn push(&mut self, time: i128, id: u64) {
        let bucket = self.buckets.entry(time).or_insert_with(|| Bucket {
            ids: VecDeque::new(),
            sorted: true,
        });
        if bucket.ids.back().is_some_and(|&last| last > id) {
            bucket.sorted = false;
        }
        bucket.ids.push_back(id);
        self.len += 1;
    }

    /// The first entry: the earliest time, and the smallest id filed under it.
    pub(crate) fn peek(&mut self) -> Option<(i128, u64)> {
        let (&time, bucket) = self.buckets.first_key_value()?;
        if bucket.sorted {
            // The common case, without the cost of a mutable entry.
            return Some((
                time,
                *bucket.ids.front().expect("empty buckets are removed"),
            ));
        }
        let mut first = self.buckets.first_entry()?;
        let time = *first.key();
        let bucket = first.get_mut();
        if !bucket.sorted {
            bucket.ids.make_contiguous().sort();
            bucket.sorted = true;
        }
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
    fn earliest_time_first_then_smallest_id() {
        let mut order = Order::default();
        for (time, id) in [(20, 1), (10, 5), (10, 2), (20, 0), (10, 9)] {
            order.push(time, id);
        }
        assert_eq!(order.len(), 5);
        let drained = drain(&mut order);
        assert_eq!(drained, [(10, 2), (10, 5), (10, 9), (20, 0), (20, 1)]);
        assert_eq!(order.len(), 0);
    }

    #[test]
    fn a_push_into_the_bucket_being_drained_keeps_id_order() {
        // The first bucket is half popped when an older job is filed under it.
        let mut order: Order = [(10, 3), (10, 4), (10, 8)].into_iter().collect();
        assert_eq!(order.peek(), Some((10, 3)));
        order.pop();
        order.push(10, 1);
        order.push(10, 6);
        assert_eq!(drain(&mut order), [(10, 1), (10, 4), (10, 6), (10, 8)]);
    }

    #[test]
    fn collect_sorts_by_time() {
        let mut order: Order = [(5, 1), (1, 2)].into_iter().collect();
        assert_eq!(drain(&mut order), [(1, 2), (5, 1)]);
    }
}
