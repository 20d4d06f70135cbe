//! The sync examples run to the end on the virtual clock (the tour runs them too).

#[path = "../examples/lock.rs"]
mod lock;
#[path = "../examples/queue.rs"]
mod queue;
#[path = "../examples/semaphore.rs"]
mod semaphore;

use clearloop::clock::Clock;

#[test]
fn the_sync_examples_run_on_the_virtual_clock() {
    for example in [lock::example, semaphore::example, queue::example] {
        let clock = Clock::virtual_clock();
        let start = clock.now();
        example(clock.clone());
        assert!(
            clock.now() > start,
            "virtual time moved: the examples sleep"
        );
    }
}
