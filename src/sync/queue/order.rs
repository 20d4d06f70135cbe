//! The three orders a [`Queue`](super::Queue) can give its items back in, behind one
//! trait, [`QueueOrder`]: what makes `asyncio.Queue`, `asyncio.LifoQueue` and
//! `asyncio.PriorityQueue` three classes in Python and one type here.
//!
//! ```text
//!   put a, b, c      Fifo (VecDeque)   get -> a, b, c
//!                    Lifo (Vec)        get -> c, b, a
//!                    Priority (heap)   get -> smallest first, as heapq
//! ```
//!
//! asyncio's subclasses override `_put`, `_get` and `_init`; a type of yours that
//! implements [`QueueOrder`] plays the same part
//! ([`Queue::with_order`](super::Queue::with_order)).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// The order in which a [`Queue`](super::Queue) gives its items back.
pub trait QueueOrder<T> {
    /// Stores an item.
    fn push(&mut self, item: T);
    /// Takes the next item out, if any.
    fn pop(&mut self) -> Option<T>;
    /// How many items are stored.
    fn len(&self) -> usize;
    /// Whether no item is stored.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// First in, first out (`asyncio.Queue`).
#[derive(Debug)]
pub struct Fifo<T>(pub(super) VecDeque<T>);

/// Last in, first out (`asyncio.LifoQueue`).
#[derive(Debug)]
pub struct Lifo<T>(pub(super) Vec<T>);

/// Smallest first (`asyncio.PriorityQueue`; put `(priority, item)` tuples as in Python).
#[derive(Debug)]
pub struct Priority<T>(pub(super) BinaryHeap<Reverse<T>>);

impl<T> QueueOrder<T> for Fifo<T> {
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T> QueueOrder<T> for Lifo<T> {
    fn push(&mut self, item: T) {
        self.0.push(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T: Ord> QueueOrder<T> for Priority<T> {
    fn push(&mut self, item: T) {
        // `BinaryHeap` pops the largest; `Reverse` makes it the smallest, like heapq.
        self.0.push(Reverse(item));
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(item)| item)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}
