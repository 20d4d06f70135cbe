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

/// A scheduler that only counts: enough to run a cell outside a runtime.
struct Counting(std::sync::atomic::AtomicUsize);

impl Schedule for Counting {
    fn schedule(&self, _task: Arc<dyn Runnable>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn release(&self, _header: &Header) {}
    fn exception_never_retrieved(&self, _task: String, _message: String) {}
    fn budget(&self) -> u32 {
        super::super::coop::UNLIMITED
    }
    fn trace(&self) -> Option<&Arc<crate::trace::Recorder>> {
        None
    }
}

/// `yield_now` on the hot path: the task woken during its poll comes back from
/// `run` as the very reference the queue gave it, with no count bumped and nothing
/// pushed through the scheduler; a poll that leaves it idle gives that reference up.
#[test]
fn a_task_woken_during_its_poll_is_handed_back_not_cloned() {
    let scheduler = Arc::new(Counting(Default::default()));
    let cell = Cell::new(
        async {
            crate::task::yield_now().await;
            std::future::pending::<()>().await
        },
        1,
        scheduler.clone(),
    );
    let queued: Arc<dyn Runnable> = cell.clone();
    let before = Arc::strong_count(&cell);
    let again = queued.run().expect("woken during its poll: handed back");
    assert!(std::ptr::eq(
        Arc::as_ptr(&again).cast::<()>(),
        Arc::as_ptr(&cell).cast::<()>()
    ));
    assert_eq!(Arc::strong_count(&cell), before, "no clone, no drop");
    assert_eq!(
        scheduler.0.load(Ordering::SeqCst),
        0,
        "not pushed by the task"
    );
    assert!(again.run().is_none(), "pending, nobody woke it: idle");
    assert_eq!(
        Arc::strong_count(&cell),
        before - 1,
        "the queue's reference is gone"
    );
}
