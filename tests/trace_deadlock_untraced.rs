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
    // When: the clock's time since the runtime started, not 0.000s.
    assert!(report.starts_with("deadlock at 5.000s: "), "{report}");
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

/// Every named kind by its name, each in a task of its own, stuck at 2.5 s.
#[test]
fn a_named_lock_event_and_queue_are_named_with_the_time_they_stuck_at() {
    use std::sync::Arc;
    let report = deadlock_of(untraced(), async {
        sleep(Duration::from_millis(2500)).await;
        let accounts = Arc::new(clearloop::sync::Mutex::new(0).with_name("accounts"));
        let ready = Arc::new(clearloop::sync::Event::new().with_name("ready"));
        let jobs = Arc::new(clearloop::sync::Queue::<u32>::new(0).with_name("jobs"));
        let _held = accounts.lock().await;
        let locker = clearloop::spawn({
            let accounts = accounts.clone();
            async move {
                *accounts.lock().await += 1;
            }
        });
        locker.set_name("locker");
        let waiter = clearloop::spawn({
            let ready = ready.clone();
            async move { ready.wait().await }
        });
        waiter.set_name("waiter");
        let getter = clearloop::spawn({
            let jobs = jobs.clone();
            async move {
                jobs.get().await;
            }
        });
        getter.set_name("getter");
        locker.await;
    });
    assert!(report.starts_with("deadlock at 2.500s: "), "{report}");
    assert!(report.contains("4 tasks are waiting"), "{report}");
    for (task, on) in [
        ("'main'", "task 1 'locker'"),
        ("'locker'", "lock 'accounts'"),
        ("'waiter'", "event 'ready'"),
        ("'getter'", "queue 'jobs'"),
    ] {
        let line = report
            .lines()
            .find(|line| line.contains(&format!("{task} waits on")))
            .unwrap_or_else(|| panic!("no line for {task}:\n{report}"));
        assert!(line.ends_with(&format!("waits on {on}")), "{line}");
    }
}

/// A sleep is named with its deadline, on the clock's scale: a task sleeping 10 s,
/// looked at 2 s in.
#[test]
fn a_sleep_is_named_with_its_deadline() {
    untraced().block_on(async {
        let nap = clearloop::spawn(sleep(Duration::from_secs(10)));
        nap.set_name("nap");
        sleep(Duration::from_secs(2)).await;
        let tasks = clearloop::trace::all_tasks();
        let row = tasks.iter().find(|t| t.name == "nap").unwrap();
        let on = row.waiting_on.as_ref().map(|on| on.to_string());
        assert_eq!(on.as_deref(), Some("a sleep until 10.000s (in 8.000s)"));
        nap.cancel();
    });
}

/// A task awaiting a child process names the child: its pid and its command.
#[cfg(target_os = "linux")]
#[test]
fn a_child_process_wait_names_the_child() {
    let runtime = Builder::new().build();
    runtime.block_on(async {
        let mut child = clearloop::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        let waiter = clearloop::spawn(async move {
            let _ = child.wait().await;
        });
        waiter.set_name("waiter");
        // Let the waiter reach its wait.
        sleep(Duration::from_millis(50)).await;
        let tasks = clearloop::trace::all_tasks();
        let row = tasks.iter().find(|t| t.name == "waiter").unwrap();
        let on = row.waiting_on.as_ref().map(|on| on.to_string());
        assert!(
            on.as_deref()
                .is_some_and(|on| on.starts_with(&format!("child process {pid} 'sleep'"))),
            "{on:?}"
        );
        // Cancelling the wait drops the child, which kills it.
        waiter.cancel();
        clearloop::process::Command::new("kill")
            .arg(pid.to_string())
            .status()
            .await
            .unwrap();
    });
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
#[cfg_attr(
    windows,
    ignore = "names a Unix descriptor: the wait word (src/task/wait.rs) and the trace's I/O wait (src/trace/fd.rs) are not ported to Windows sockets yet"
)]
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
                .is_some_and(|on| on.starts_with(&format!("socket {address} (fd "))
                    && on.ends_with(", to read)")),
            "{on:?}"
        );
        reader.cancel();
    });
    drop(listener);
}

mod common;

/// Debug mode on the real clock, a loop idle for 2 s with a live task: the report
/// counts the rows it prints, main included (it said "1 live task(s)" above two
/// rows when tracing showed main), traced or not. Run in a child process, whose
/// standard error holds the report.
#[test]
fn the_debug_idle_report_counts_the_rows_it_prints() {
    if std::env::var("CLEARLOOP_IDLE_REPORT_CHILD").is_ok() {
        for traced in [true, false] {
            let mut builder = Builder::new().debug(true);
            if traced {
                builder = builder.trace(clearloop::trace::TraceConfig::default());
            }
            builder.build().block_on(async {
                let ready = std::sync::Arc::new(clearloop::sync::Event::new().with_name("ready"));
                let waiter = clearloop::spawn({
                    let ready = ready.clone();
                    async move { ready.wait().await }
                });
                waiter.set_name("waiter");
                // Idle past the report's 2 s, then wake up and end.
                clearloop::to_thread(|| std::thread::sleep(Duration::from_millis(2300)))
                    .await
                    .unwrap();
                ready.set();
                waiter.await;
            });
        }
        return;
    }
    let output = common::in_own_process(
        "the_debug_idle_report_counts_the_rows_it_prints",
        "CLEARLOOP_IDLE_REPORT_CHILD",
        &[],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let reports: Vec<&str> = stderr.split("clearloop (debug): ").skip(1).collect();
    assert_eq!(reports.len(), 2, "{stderr}");
    for (report, traced) in reports.iter().zip([true, false]) {
        assert!(
            report.starts_with(
                "the loop has been idle for 2.000s with 2 tasks alive (main, block_on's future, \
                 included); what each waits on:\n"
            ),
            "{report}"
        );
        let rows: Vec<&str> = report.lines().skip(2).take(2).collect();
        assert!(rows[0].starts_with("  0  main "), "{report}");
        assert!(rows[1].starts_with("  1  waiter "), "{report}");
        assert!(rows[1].ends_with("event 'ready'"), "{report}");
        assert_eq!(
            report.contains("CLEARLOOP_TRACE=timeline"),
            !traced,
            "the hint only when not tracing: {report}"
        );
    }
}
