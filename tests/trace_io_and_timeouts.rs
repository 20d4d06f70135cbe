//! The trace says what a task waits on when it waits on I/O (the socket's address,
//! not "sleeping (timer)" because a timeout's timer sits beside the read), and how a
//! task cut off by its timeout or cancelled ended (not ✓); an unnamed task is drawn
//! under its spawn location. In the terminal timeline, the JSON lines and the
//! Chrome export alike.

use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::net::{TcpListener, TcpStream};
use clearloop::time::sleep;
use clearloop::trace::{
    Charset, DeadlockReport, Event, EventKind, Outcome, Row, Snapshot, State, TaskId, TaskSnapshot,
    TaskState, Timeline, TraceConfig, from_json_lines, render_terminal, to_chrome_trace,
    to_json_lines,
};
use clearloop::{Builder, Runtime, wait_for};

fn traced() -> Runtime {
    Builder::new()
        .clock(Clock::virtual_clock())
        .trace(TraceConfig::default())
        .build()
}

fn row<'a>(timeline: &'a Timeline, label: &str) -> &'a Row {
    timeline
        .rows
        .iter()
        .find(|row| row.label == label)
        .unwrap_or_else(|| panic!("no row '{label}': {timeline:?}"))
}

/// The program: a fetch waits on its socket under `wait_for(.., 5 s)`, the
/// server never answers. Before: the row said "sleeping until 5.000s" and ended
/// with ✓.
#[test]
#[cfg_attr(
    windows,
    ignore = "names a Unix descriptor: the wait word (src/task/wait.rs) and the trace's I/O wait (src/trace/fd.rs) are not ported to Windows sockets yet"
)]
fn a_read_under_a_timeout_is_drawn_as_io_and_ends_timed_out() {
    let runtime = traced();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    runtime.block_on(async move {
        let fetch = clearloop::spawn(async move {
            let mut stream = TcpStream::connect(address).await.unwrap();
            let mut buf = [0u8; 8];
            wait_for(stream.read(&mut buf), Duration::from_secs(5)).await
        });
        fetch.set_name("fetch");
        assert!(fetch.await.is_err(), "the server is silent: a timeout");
    });
    drop(listener);
    let events = runtime.trace().unwrap().events();
    let timeline = Timeline::from_events(&events);
    let fetch = row(&timeline, "fetch");
    let io: Vec<_> = fetch
        .segments
        .iter()
        .filter(|s| s.state == State::Io)
        .collect();
    assert!(!io.is_empty(), "{fetch:?}");
    let waiting = io.last().unwrap();
    assert_eq!(
        waiting.detail,
        format!("waiting on I/O: {address}, to read; timeout at 5.000s"),
    );
    assert_eq!(waiting.end, Duration::from_secs(5));
    assert!(
        fetch.segments.iter().all(|s| s.state != State::Timer),
        "no sleep in a read: {fetch:?}"
    );
    assert_eq!(fetch.end, Some((Duration::from_secs(5), Outcome::TimedOut)));

    // The terminal: the wait drawn as I/O, the end as timed out.
    for (charset, io, end) in [(Charset::Unicode, '≈', '⧖'), (Charset::Ascii, '~', 'T')] {
        let chart = render_terminal(&timeline, charset);
        let line = chart.lines().find(|l| l.starts_with("fetch")).unwrap();
        assert!(line.contains(&io.to_string().repeat(10)), "{chart}");
        assert!(line.ends_with(end), "{chart}");
    }

    // The JSON lines: the wait with its address, the timeout; and read back, the
    // same chart.
    let lines = to_json_lines(&events);
    assert!(
        lines.contains(&format!(
            "\"ev\":\"io_waiting\",\"task\":1,\"source\":\"{address}\",\"direction\":\"read\"}}"
        )),
        "{lines}"
    );
    assert!(
        lines.contains(
            "\"t_ns\":5000000000,\"ev\":\"timed_out\",\"task\":1,\"after_ns\":5000000000}"
        ),
        "{lines}"
    );
    assert_eq!(
        Timeline::from_events(&from_json_lines(&lines).unwrap()),
        timeline
    );

    // Chrome: the I/O slice, and the timeout and the end as instants.
    let chrome = to_chrome_trace(&events);
    assert!(
        chrome.contains(&format!(
            "\"name\":\"waiting on I/O\",\"ph\":\"X\",\"ts\":0.000,\"dur\":5000000.000,\"pid\":1,\"tid\":2,\"args\":{{\"detail\":\"waiting on I/O: {address}, to read; timeout at 5.000s\"}}"
        )),
        "{chrome}"
    );
    assert!(
        chrome.contains("{\"name\":\"timed out\",\"ph\":\"i\",\"s\":\"t\",\"ts\":5000000.000,\"pid\":1,\"tid\":2,\"args\":{\"detail\":\"a timeout of 5.000s ran out\"}}"),
        "{chrome}"
    );
}

/// Accepting is a wait on the listening socket, named by its address; the snapshot
/// of a traced runtime says so too.
#[test]
#[cfg_attr(
    windows,
    ignore = "names a Unix descriptor: the wait word (src/task/wait.rs) and the trace's I/O wait (src/trace/fd.rs) are not ported to Windows sockets yet"
)]
fn an_accept_is_drawn_as_io_on_the_listening_address() {
    let runtime = traced();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let server = clearloop::spawn(async move {
            let _ = listener.accept().await;
        });
        server.set_name("server");
        sleep(Duration::from_secs(1)).await;
        let tasks = clearloop::trace::all_tasks();
        let row = tasks.iter().find(|t| t.name == "server").unwrap();
        let on = row.waiting_on.as_ref().map(|on| on.to_string());
        assert_eq!(
            on.as_deref(),
            Some(format!("socket listening on {address}, to read").as_str())
        );
        server.cancel();
        server.wait().await;
        assert!(server.cancelled());
    });
    let timeline = runtime.trace().unwrap().timeline();
    let server = row(&timeline, "server");
    assert!(
        server
            .segments
            .iter()
            .any(|s| s.state == State::Io && s.detail.contains("listening on 127.0.0.1:")),
        "{server:?}"
    );
    // Cancelled: its own mark, not ✓.
    assert_eq!(
        server.end,
        Some((Duration::from_secs(1), Outcome::Cancelled))
    );
}

/// A task handed to `wait_for` is cancelled at the deadline: ⊘, not ✓. The task
/// that awaited it returns in the poll its timeout ran out in: ⧖.
#[test]
fn a_task_cancelled_by_a_timeout_and_its_awaiter_are_not_drawn_done() {
    let runtime = traced();
    runtime.block_on(async {
        let waiter = clearloop::spawn(async {
            let slow = clearloop::spawn(sleep(Duration::from_secs(10)));
            slow.set_name("slow");
            wait_for(slow, Duration::from_secs(2)).await.is_err()
        });
        waiter.set_name("waiter");
        assert!(waiter.await);
        // A timeout that does not run out leaves its task a success.
        let quick = clearloop::spawn(wait_for(
            sleep(Duration::from_secs(1)),
            Duration::from_secs(5),
        ));
        quick.set_name("quick");
        assert!(quick.await.is_ok());
    });
    let timeline = runtime.trace().unwrap().timeline();
    let two = Duration::from_secs(2);
    assert_eq!(row(&timeline, "slow").end, Some((two, Outcome::Cancelled)));
    assert_eq!(row(&timeline, "waiter").end, Some((two, Outcome::TimedOut)));
    assert_eq!(
        row(&timeline, "quick").end,
        Some((Duration::from_secs(3), Outcome::Value))
    );
    let chart = render_terminal(&timeline, Charset::Unicode);
    for (label, end) in [("slow", '⊘'), ("waiter", '⧖'), ("quick", '✓')] {
        let line = chart.lines().find(|l| l.starts_with(label)).unwrap();
        assert!(line.contains(end), "{label}: {chart}");
    }
    assert!(chart.contains("⧖ timed out"), "the legend: {chart}");
}

/// The events of two unnamed tasks spawned at one line, a third at another, and
/// one named by the user: each row under what says most.
fn located() -> Vec<Event> {
    let at = |kind| Event::new(Duration::ZERO, kind);
    let mut events = Vec::new();
    for (id, line) in [(1, 12), (2, 12), (3, 40), (4, 12)] {
        let task = TaskId(id);
        events.push(at(EventKind::Spawned {
            task,
            name: format!("Task-{id}"),
            parent: None,
        }));
        events.push(at(EventKind::SpawnedAt {
            task,
            location: format!("examples/fetch.rs:{line}"),
        }));
    }
    events.push(at(EventKind::Spawned {
        task: TaskId(4),
        name: "poller".into(),
        parent: None,
    }));
    events
}

#[test]
fn an_unnamed_task_is_labelled_by_where_it_was_spawned() {
    let events = located();
    let timeline = Timeline::from_events(&events);
    let labels: Vec<&str> = timeline.rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(
        labels,
        ["fetch.rs:12 #1", "fetch.rs:12 #2", "fetch.rs:40", "poller"]
    );
    let lines = to_json_lines(&events);
    assert!(
        lines.contains(
            "{\"t_ns\":0,\"ev\":\"spawned_at\",\"task\":3,\"location\":\"examples/fetch.rs:40\"}"
        ),
        "{lines}"
    );
    assert_eq!(from_json_lines(&lines).unwrap(), events);
    let chart = render_terminal(&timeline, Charset::Ascii);
    assert!(
        chart.lines().any(|l| l.trim_end() == "fetch.rs:40"),
        "{chart}"
    );
    // The snapshot keeps the whole path, and the deadlock report prints it.
    let snapshot = Snapshot::from_events(&events, Duration::ZERO);
    let third = &snapshot.tasks[2];
    assert_eq!(third.spawned_at.as_deref(), Some("examples/fetch.rs:40"));
    let report = DeadlockReport {
        at: Duration::from_secs(5),
        tasks: vec![TaskSnapshot {
            state: TaskState::Unknown,
            ..third.clone()
        }],
    };
    assert!(
        report
            .to_string()
            .contains("  task 3 'Task-3' (spawned at examples/fetch.rs:40) waits on "),
        "{report}"
    );
}

/// `Recorder::spawned_at`, the hook the runtime's spawn calls with the caller's
/// location: recorded as a `SpawnedAt` of `file:line`.
#[test]
fn the_spawned_at_hook_records_file_and_line() {
    let recorder = clearloop::trace::Recorder::new(Clock::virtual_clock());
    let task = TaskId(7);
    recorder.spawned(task, || "Task-7".to_string());
    let here = std::panic::Location::caller();
    recorder.spawned_at(task, here);
    let kinds: Vec<EventKind> = recorder.events().into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds[1],
        EventKind::SpawnedAt {
            task,
            location: format!("{}:{}", here.file(), here.line()),
        }
    );
    let label = &recorder.timeline().rows[0].label;
    assert_eq!(label, &format!("trace_io_and_timeouts.rs:{}", here.line()));
}

/// End to end: the runtime's spawns pass the user's line to the trace, through
/// `clearloop::spawn`, `Runtime::spawn`, `Handle::spawn` and `spawn_local` alike.
#[test]
fn a_traced_runtime_labels_unnamed_tasks_by_the_line_that_spawned_them() {
    let runtime = traced();
    let (early, early_line) = (runtime.spawn(async {}), line!());
    let lines = runtime.block_on(async {
        let (a, a_line) = (clearloop::spawn(sleep(Duration::from_millis(1))), line!());
        let (b, b_line) = (clearloop::spawn_local(async {}), line!());
        let handle = clearloop::Handle::current();
        let (c, c_line) = (handle.spawn(async {}), line!());
        let named = clearloop::spawn(async {});
        named.set_name("named");
        early.await;
        for task in [a, b, c, named] {
            task.await;
        }
        [early_line, a_line, b_line, c_line]
    });
    let timeline = runtime.trace().expect("traced").timeline();
    let labels: Vec<&str> = timeline.rows.iter().map(|r| r.label.as_str()).collect();
    for line in lines {
        let wanted = format!("trace_io_and_timeouts.rs:{line}");
        assert!(labels.contains(&wanted.as_str()), "{wanted}: {labels:?}");
    }
    assert!(
        labels.contains(&"named"),
        "a name the user gave wins: {labels:?}"
    );
    assert!(!labels.iter().any(|l| l.starts_with("Task-")), "{labels:?}");
}
