//! A slab: a `Vec` whose places are handed out by index and reused once freed.
//!
//! The queue keeps two: the entries of the pending events (an event records the
//! index of its entry, so that `cancel` finds it at once) and the pages of state
//! bytes its events share (an entry records the index of its page). CPython has no
//! such thing: its `sched` keeps the events themselves in the heap's list.
//!
//! The free places form a list kept inside the slab itself: each free place names
//! the next one, so freeing a place never allocates, and a full slab grows by one
//! `Vec::push`.
//!
//! ```text
//!   places: [0: value] [1: free → 3] [2: value] [3: free → 4 (the end)]
//!   first free: 1        insert(v) → 1, first free: 3        remove(2) → first free: 2
//! ```

/// A `Vec` of values found again by their index; freed places are reused first.
pub(super) struct Slab<T> {
    places: Vec<Place<T>>,
    /// The first free place (`places.len()`: none, the next insert grows the `Vec`).
    first_free: usize,
}

/// One place in the slab.
enum Place<T> {
    Full(T),
    /// A free place; `next` is the next free one (`places.len()`: none).
    Free {
        next: usize,
    },
}

impl<T> Slab<T> {
    pub(super) const fn new() -> Slab<T> {
        Slab {
            places: Vec::new(),
            first_free: 0,
        }
    }

    /// Stores `value` in the first free place and returns its index.
    #[inline]
    pub(super) fn insert(&mut self, value: T) -> usize {
        let index = self.first_free;
        match self.places.get_mut(index) {
            Some(place) => {
                let Place::Free { next } = *place else {
                    unreachable!("the free list names only free places")
                };
                self.first_free = next;
                *place = Place::Full(value);
            }
            None => {
                self.places.push(Place::Full(value));
                self.first_free = self.places.len();
            }
        }
        index
    }

    /// The value at `index`, if that place is full.
    pub(super) fn get(&self, index: usize) -> Option<&T> {
        match self.places.get(index) {
            Some(Place::Full(value)) => Some(value),
            _ => None,
        }
    }

    /// The value at `index`, if that place is full.
    pub(super) fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        match self.places.get_mut(index) {
            Some(Place::Full(value)) => Some(value),
            _ => None,
        }
    }

    /// How many places are full (for tests: the slab does not keep a count).
    #[cfg(test)]
    pub(super) fn count(&self) -> usize {
        self.places
            .iter()
            .filter(|p| matches!(p, Place::Full(_)))
            .count()
    }

    /// How many places there are, full or free (for tests).
    #[cfg(test)]
    pub(super) fn places(&self) -> usize {
        self.places.len()
    }

    /// Takes the value out of `index`, which must be full, and frees the place.
    #[inline]
    pub(super) fn remove(&mut self, index: usize) -> T {
        let free = Place::Free {
            next: self.first_free,
        };
        match std::mem::replace(&mut self.places[index], free) {
            Place::Full(value) => {
                self.first_free = index;
                value
            }
            Place::Free { .. } => unreachable!("remove() is given a full place"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Slab;

    #[test]
    fn freed_places_are_reused_last_freed_first() {
        let mut slab = Slab::new();
        let (a, b, c) = (slab.insert('a'), slab.insert('b'), slab.insert('c'));
        assert_eq!((a, b, c), (0, 1, 2));
        assert_eq!(slab.remove(b), 'b');
        assert_eq!(slab.remove(a), 'a');
        assert_eq!(slab.get(a), None, "a free place holds nothing");
        assert_eq!(slab.insert('d'), a, "the last place freed comes back first");
        assert_eq!(slab.insert('e'), b);
        assert_eq!(slab.insert('f'), 3, "then the slab grows");
        assert_eq!(
            [0, 1, 2, 3].map(|i| slab.get(i).copied()),
            [Some('d'), Some('e'), Some('c'), Some('f')]
        );
        *slab.get_mut(2).unwrap() = 'C';
        assert_eq!(slab.get(2), Some(&'C'));
        assert_eq!(slab.get(9), None);
    }
}
