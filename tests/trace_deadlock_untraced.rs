//! The deadlock report with tracing off (the default): what each task waits on, by
//! the name the user gave, read from the one word a task keeps of its last wait.

use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::sync::Semaphore;
use clearloop::time::sleep;
use clearloop::{Builder, Runtime};

fn untraced() -> Runtime {
    Builder::new().clock(Clock::virtual_clock()).build()
}

fn deadlock_of(runtime: Runtime, main: impl Future<Output = ()>) -> String {
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(main)));
    let payload = panic.expect_err("block_on must report the deadlock");
    clearloop::panics::message(&*payload)
}

/// The user report's program: a semaphore of 0 named "db-pool", acquired after a
/// 5 s sleep. Before: "waits on something the runtime cannot name".
#[test]
fn a_semaphore_named_by_the_user_is_named_in_the_report() {
    let report = deadlock_of(untraced(), async {
        let pool = Semaphore::new(0).with_name("db-pool");
        sleep(Duration::from_secs(5)).await;
        let _permit = pool.acquire().await;
    });
    assert!(
        report.contains("task 0 'main' waits on semaphore 'db-pool'"),
        "{report}"
    );
    assert!(report.contains("CLEARLOOP_TRACE=timeline"), "{report}");
    // The user's line (`deadlock_of`'s `block_on`), not one inside clearloop.
    assert!(
        report.contains("The loop was run at tests/trace_deadlock_untraced.rs:"),
        "{report}"
    );
}

/// A task awaiting another, which waits on an unnamed queue; and a sleep that
/// never ends.
#[test]
fn a_task_awaiting_a_task_and_an_endless_sleep_are_named() {
    let report = deadlock_of(untraced(), async {
        let getter = clearloop::spawn(async {
            let queue = clearloop::sync::Queue::<u32>::new(0);
            queue.get().await;
        });
        getter.set_name("getter");
        let sleeper = clearloop::spawn(sleep(Duration::MAX));
        sleeper.set_name("sleeper");
        getter.await;
    });
    let main = report.lines().find(|l| l.contains("'main'")).unwrap();
    assert!(main.contains("waits on task 1 'getter'"), "{report}");
    let getter = report
        .lines()
        .find(|l| l.contains("'getter' waits"))
        .unwrap();
    assert!(getter.contains("an unnamed queue"), "{report}");
    let sleeper = report
        .lines()
        .find(|l| l.contains("'sleeper' waits"))
        .unwrap();
    assert!(sleeper.contains("a sleep that never ends"), "{report}");
}

/// A task waiting to read a socket names the socket's address.
#[test]
fn a_socket_wait_names_the_address() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let runtime = Builder::new().build();
    runtime.block_on(async move {
        let reader = clearloop::spawn(async move {
            let mut stream = clearloop::net::TcpStream::connect(address).await.unwrap();
            let mut buf = [0u8; 8];
            let _ = stream.read(&mut buf).await;
        });
        reader.set_name("reader");
        // Let the reader reach its read and wait.
        sleep(Duration::from_millis(50)).await;
        let tasks = clearloop::trace::all_tasks();
        let row = tasks.iter().find(|t| t.name == "reader").unwrap();
        let on = row.waiting_on.as_ref().map(|on| on.to_string());
        assert!(
            on.as_deref()
                .is_some_and(|on| on.contains(&address.to_string())),
            "{on:?}"
        );
        reader.cancel();
    });
    drop(listener);
}
