//! The name a synchronisation primitive carries in a trace: `Lock-1`, `Semaphore-2`,
//! or the name given by `with_name`.
//!
//! Python has no such thing (asyncio's primitives print as `<asyncio.locks.Lock object
//! at 0x..>`); the closest is the `repr` a debugger shows. Every primitive of [`super::super`]
//! holds one, and numbers itself only when a trace first records it, so a program that
//! traces nothing pays one `OnceLock` per primitive and nothing else.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::task::wait;
use crate::trace::{self, EventKind, Resource, ResourceKind};

/// A primitive's kind and name, for the trace ([`crate::trace`]).
#[derive(Debug)]
pub(crate) struct Label {
    kind: ResourceKind,
    /// Given by `with_name`, or numbered at the first event a trace records.
    name: OnceLock<Box<str>>,
    /// What a task waiting here writes into its wait word ([`crate::task::wait`]):
    /// the kind, and the id under which the name given by `with_name` is kept for
    /// a deadlock report (0: unnamed).
    word: u64,
}

impl Label {
    /// An unnamed primitive of `kind`.
    pub(crate) fn new(kind: ResourceKind) -> Label {
        Label {
            kind,
            name: OnceLock::new(),
            word: wait::primitive_word(kind, 0),
        }
    }

    /// Names it (a second name replaces the first).
    pub(crate) fn name(&mut self, name: String) {
        self.forget_name();
        self.word = wait::primitive_word(self.kind, wait::names::keep(&name));
        self.name = OnceLock::from(name.into_boxed_str());
    }

    /// The task polled now waits here (its queue took it): one store, read only by
    /// a deadlock report.
    #[inline]
    pub(crate) fn waiting(&self) {
        wait::on_primitive(self.word);
    }

    /// Takes the name given by `with_name` out of the report's table.
    fn forget_name(&self) {
        let id = self.word >> 4;
        if id != 0 {
            wait::names::forget(id);
        }
    }

    /// The resource, as a trace records it; an unnamed one gets the next number of
    /// its kind (`Lock-1`, `Semaphore-2`), in the order they first appear.
    pub(crate) fn resource(&self) -> Resource {
        static NEXT: [AtomicUsize; 5] = [const { AtomicUsize::new(1) }; 5];
        let name = self.name.get_or_init(|| {
            let (word, index) = match self.kind {
                ResourceKind::Lock => ("Lock", 0),
                ResourceKind::Semaphore => ("Semaphore", 1),
                ResourceKind::Event => ("Event", 2),
                ResourceKind::Condition => ("Condition", 3),
                ResourceKind::Queue => ("Queue", 4),
            };
            let n = NEXT[index].fetch_add(1, Ordering::Relaxed);
            format!("{word}-{n}").into_boxed_str()
        });
        Resource::new(self.kind, &**name)
    }

    /// Records that the task polled here waits on this primitive (`granted`: got it).
    #[cold]
    pub(crate) fn record(&self, granted: bool) {
        trace::record_current(|task, _| {
            let resource = self.resource();
            if granted {
                EventKind::Granted { task, resource }
            } else {
                EventKind::Waiting { task, resource }
            }
        });
    }
}

impl Drop for Label {
    fn drop(&mut self) {
        self.forget_name();
    }
}
