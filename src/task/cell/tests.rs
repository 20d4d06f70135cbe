//! Unit tests of the task cell, beside the module they test.

use super::*;
use crate::runtime::scheduler::RuntimeCore;

/// What an idle task costs (issue 14: at most tokio's 136 to 138 heap bytes per
/// idle task, run queue and registry included). A field added to the cell, or a
/// layout that stops packing, fails here before it shows in the report.
#[test]
fn a_trivial_task_is_one_96_byte_allocation() {
    assert_eq!(
        size_of::<Header>(),
        24,
        "state, traced, future_gone, retrieved, index, id, the wait word"
    );
    assert_eq!(size_of::<Outcome<()>>(), 16, "a tag and a thin `Panic`");
    assert_eq!(size_of::<Awaiters>(), 24, "a tag, a handle id and a waker");
    assert_eq!(size_of::<Slot<()>>(), 24, "the outcome fits beside the tag");
    assert_eq!(size_of::<Meta<()>>(), 40, "slot, two counters, extras");
    let cell = size_of::<Cell<std::future::Pending<()>, RuntimeCore>>();
    assert_eq!(
        cell, 80,
        "header 24, scheduler 8, meta 48, and the future (0 bytes here): no lock, no flag"
    );
    // `Arc::new` adds its two counts: the one allocation `spawn` asks for.
    assert_eq!(cell + 2 * size_of::<usize>(), 96);
    // The handle is a fat pointer, a handle id and the `awaited` flag.
    assert_eq!(size_of::<crate::task::Task<()>>(), 24);
}

/// `Panic` derefs to the payload itself, not to the `Box` around it: the
/// message is read from the value `panic!` gave, and handed back unchanged.
#[test]
fn a_panic_keeps_its_payload() {
    let panic = Panic::new(Box::new("it broke"));
    assert_eq!(crate::panics::message(&*panic), "it broke");
    let payload = panic.into_payload();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"it broke"));
}
