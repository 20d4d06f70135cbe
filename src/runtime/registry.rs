//! The registry: every task of a runtime that has not finished, so that shutdown
//! can cancel them and `all_tasks()` / `Runtime::dump` can list them (asyncio keeps a
//! `WeakSet` of its tasks, `_all_tasks`, for `asyncio.all_tasks()`; here the runtime
//! holds them strongly, since a detached task must still be cancelled at shutdown).
//! A task takes a slot when it is spawned and leaves it when it finishes
//! (`src/task/cell/finish.rs`), under the task's own lock.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::task::cell::{Header, Runnable};

/// A slab of live tasks, one shard of the registry: slots in pages of [`PAGE`], and
/// a chain of free slots threaded through the vacant ones (the timer wheel's slab,
/// `src/wheel/slab.rs`, does the same).
///
/// ```text
///   pages[0]: [ T1 ][ free: next 3 ][ T7 ][ free: next 66 ][ T9 ] ...  (64 slots)
///   pages[1]: [ T12 ][ T14 ][ free: next 67 ][ free: next 68 ] ... [ free: end ]
///   free chain: 1 -> 3 -> 66 -> 67 -> ... -> end     slot = page * PAGE + offset
/// ```
///
/// A new page joins the free chain whole, its slots in order: a task always takes
/// the chain's first slot, the one freed last (its line is likely still in cache).
///
/// **Why pages, not one `Vec`.** A `Vec` doubles when it is full: with 100,000 idle
/// tasks a quarter of its slots were empty capacity (21 bytes a task instead of 16),
/// and each doubling copied the whole shard under its lock. A page is allocated
/// once, full-size, and never moves, so the registry costs 16 bytes a live task,
/// plus at most one partly used page per shard.
pub(super) struct Registry {
    /// The slots, [`PAGE`] to a page.
    #[expect(
        clippy::vec_box,
        reason = "boxed so that a page never moves: a Vec of arrays would copy every \
                  page when it grows, the very copy that pages are here to avoid"
    )]
    pub(super) pages: Vec<Box<[Entry; PAGE]>>,
    /// The first vacant slot, the next one a task takes ([`NO_SLOT`]: none, a new
    /// page is needed).
    free: u32,
    /// Tasks in the slots (what `live_tasks()` adds up).
    pub(super) live: usize,
}

/// One slot of the registry: 16 bytes, the size of the `Arc` it holds (the free
/// chain's `u32` fits beside the `Arc`'s non-null pointer, which tells them apart).
pub(super) enum Entry {
    /// A live task.
    Task(Arc<dyn Runnable>),
    /// No task; `next` continues the free chain ([`NO_SLOT`] ends it).
    Vacant { next: u32 },
}

// A regression here costs every live task the difference.
const _: () = assert!(size_of::<Entry>() == 16);

/// Slots in a page of the registry (a power of two). 1 KiB a page: small enough
/// that a runtime with a few tasks spends little on its eight shards, large enough
/// that a page is added only every 64 spawns in a shard.
pub(super) const PAGE: usize = 64;

/// The end of the free chain.
const NO_SLOT: u32 = u32::MAX;

/// How many locks the registry is split into (a power of two).
pub(super) const REGISTRY_SHARDS: usize = 8;

/// A task's `registry_index` once the registry has let go of it.
pub(crate) const NOT_REGISTERED: u32 = u32::MAX;

/// Slots a shard may hold: `index * REGISTRY_SHARDS + shard` must stay below
/// [`NOT_REGISTERED`] to fit a task's 32-bit `registry_index`.
const MAX_SLOTS: usize = NOT_REGISTERED as usize / REGISTRY_SHARDS;

impl Default for Registry {
    fn default() -> Registry {
        Registry {
            pages: Vec::new(),
            free: NO_SLOT,
            live: 0,
        }
    }
}

impl Registry {
    /// Puts `task` in the free chain's first slot (after adding a page if the chain
    /// is empty) and writes where into its header: one number says both, the slot,
    /// then this registry's `shard` in the low bits.
    ///
    /// Inlined, like `remove`: a spawn and a finish each call one of them once,
    /// and as calls their frames cost more than their bodies (callgrind: some 30
    /// instructions a task).
    #[inline]
    pub(super) fn insert(&mut self, header: &Header, task: Arc<dyn Runnable>, shard: usize) {
        if self.free == NO_SLOT {
            self.grow();
        }
        let index = self.free as usize;
        // `index % PAGE` needs no bounds check: a page is an array of `PAGE`.
        let entry = &mut self.pages[index / PAGE][index % PAGE];
        let Entry::Vacant { next } = *entry else {
            unreachable!("the free chain links vacant slots only")
        };
        self.free = next;
        // Below `NOT_REGISTERED`: `grow` keeps every index below `MAX_SLOTS`.
        let where_ = (index * REGISTRY_SHARDS + shard) as u32;
        header.registry_index.store(where_, Ordering::Relaxed);
        *entry = Entry::Task(task);
        self.live += 1;
    }

    /// Adds a page, every slot of it vacant, chained in order: the whole free chain
    /// (it was empty).
    #[cold]
    pub(super) fn grow(&mut self) {
        let first = self.pages.len() * PAGE;
        assert!(
            first + PAGE <= MAX_SLOTS,
            "clearloop: over 4 billion tasks alive in one runtime, more than its registry can index"
        );
        let page: Box<[Entry]> = (first + 1..=first + PAGE)
            .map(|next| Entry::Vacant {
                next: if next < first + PAGE {
                    next as u32
                } else {
                    NO_SLOT
                },
            })
            .collect();
        let Ok(page) = page.try_into() else {
            unreachable!("the range has PAGE numbers")
        };
        self.pages.push(page);
        self.free = first as u32;
    }

    /// Takes the task out of slot `index`, which becomes the free chain's first.
    #[inline]
    pub(super) fn remove(&mut self, index: usize) -> Option<Arc<dyn Runnable>> {
        let next = self.free;
        let entry = self.pages.get_mut(index / PAGE)?.get_mut(index % PAGE)?;
        match std::mem::replace(entry, Entry::Vacant { next }) {
            Entry::Task(task) => {
                // `index < MAX_SLOTS`: `grow` checked it.
                self.free = index as u32;
                self.live -= 1;
                Some(task)
            }
            vacant => {
                *entry = vacant;
                None
            }
        }
    }

    /// The live tasks, in slot order.
    pub(super) fn tasks(&self) -> impl Iterator<Item = &Arc<dyn Runnable>> {
        self.pages
            .iter()
            .flat_map(|page| page.iter())
            .filter_map(|entry| match entry {
                Entry::Task(task) => Some(task),
                Entry::Vacant { .. } => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A task that is only a header: what the registry looks at.
    struct Stub(Header);

    impl Runnable for Stub {
        fn header(&self) -> &Header {
            &self.0
        }
        fn run(self: Arc<Self>) -> Option<Arc<dyn Runnable>> {
            None
        }
        fn shut_down(&self) {}
        fn name(&self) -> String {
            format!("Task-{}", self.0.id)
        }
    }

    fn stub(id: u64) -> Arc<dyn Runnable> {
        Arc::new(Stub(Header::new(id, false)))
    }

    /// Slots fill page after page, in order; a freed slot is reused (the last freed
    /// first) before the page's untouched ones; the header says where its task is,
    /// shard in the low bits.
    #[test]
    fn the_registry_grows_by_pages_and_reuses_freed_slots() {
        let shard = 3;
        let mut registry = Registry::default();
        let tasks: Vec<_> = (0..PAGE as u64 + 44).map(stub).collect();
        for task in &tasks {
            registry.insert(task.header(), task.clone(), shard);
        }
        assert_eq!(registry.pages.len(), 2);
        assert_eq!(registry.live, PAGE + 44);
        let where_ =
            |task: &Arc<dyn Runnable>| task.header().registry_index.load(Ordering::Relaxed);
        assert_eq!(
            where_(&tasks[PAGE + 1]),
            ((PAGE + 1) * REGISTRY_SHARDS + shard) as u32
        );

        assert_eq!(registry.remove(5).map(|task| task.header().id), Some(5));
        assert_eq!(
            registry.remove(PAGE + 7).map(|task| task.header().id),
            Some(PAGE as u64 + 7)
        );
        assert!(registry.remove(5).is_none(), "a vacant slot holds no task");
        assert_eq!(registry.live, PAGE + 42);

        let (late, later) = (stub(1000), stub(1001));
        registry.insert(late.header(), late.clone(), shard);
        registry.insert(later.header(), later.clone(), shard);
        assert_eq!(where_(&late), ((PAGE + 7) * REGISTRY_SHARDS + shard) as u32);
        assert_eq!(where_(&later), (5 * REGISTRY_SHARDS + shard) as u32);
        let next = stub(1002);
        registry.insert(next.header(), next.clone(), shard);
        assert_eq!(
            where_(&next),
            ((PAGE + 44) * REGISTRY_SHARDS + shard) as u32
        );
        assert_eq!(registry.pages.len(), 2, "no new page while a slot is free");
        assert_eq!(registry.tasks().count(), PAGE + 45);
        assert_eq!(registry.live, PAGE + 45);
    }
}
