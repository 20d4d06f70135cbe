//! The recorder's window: a run that records far more events than it keeps holds
//! a bounded number of them, the drawings say what was dropped, and a task idle
//! since long before the window is still listed with what it waits on.

use std::sync::Arc;
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::time::sleep;
use clearloop::trace::event::format_secs;
use clearloop::trace::{
    Charset, EventKind, Output, Resource, ResourceKind, State, TraceConfig, WaitingOn,
    from_json_lines, render_svg, render_terminal, to_chrome_trace,
};
use clearloop::{Builder, Runtime};

mod common;

fn traced(config: TraceConfig) -> Runtime {
    Builder::new()
        .clock(Clock::virtual_clock())
        .trace(config)
        .build()
}

/// `tasks` tasks yielding `yields` times each, awaited: three events a poll.
async fn busy(tasks: usize, yields: usize) {
    let all: Vec<_> = (0..tasks)
        .map(|_| {
            clearloop::spawn(async move {
                for _ in 0..yields {
                    clearloop::task::yield_now().await;
                }
            })
        })
        .collect();
    for task in all {
        task.await;
    }
}

/// A scratch directory of this test's own.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "clearloop-trace-window-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The default configuration keeps the last 50,000 events: a run of some 300,000
/// never holds many more, measured between its rounds (before the window, the
/// recorder held every event: 300,000 at the end).
#[test]
fn a_run_that_records_more_than_the_window_keeps_the_recorder_bounded() {
    let runtime = traced(TraceConfig::default());
    let trace = runtime.trace().unwrap().clone();
    let most = runtime.block_on(async move {
        let mut most = 0;
        for _ in 0..10 {
            busy(100, 100).await;
            most = most.max(trace.len());
        }
        most
    });
    // 50,000 kept, plus a few carried for each of the 100 tasks alive at a time.
    assert!(most <= 52_000, "the recorder held {most} events");
    assert!(most >= 50_000, "the window keeps its 50,000: {most}");
}

#[test]
fn the_window_says_how_many_it_dropped_and_keeps_a_bounded_count_through_the_run() {
    let runtime = traced(TraceConfig::default().keep_events(1_000));
    let trace = runtime.trace().unwrap().clone();
    let lengths = runtime.block_on(async move {
        let mut lengths = Vec::new();
        for _ in 0..20 {
            busy(10, 100).await;
            lengths.push(trace.len());
        }
        lengths
    });
    assert!(
        lengths.iter().all(|&n| n <= 1_000 + 10 * 17 + 1),
        "{lengths:?}"
    );
    let events = runtime.trace().unwrap().events();
    let dropped: Vec<u64> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Dropped { count } => Some(count),
            _ => None,
        })
        .collect();
    // 20 rounds of 10 tasks x 100 polls x 3 events, and the spawns, ends, main's polls.
    assert_eq!(dropped.len(), 1, "one marker");
    assert!(dropped[0] > 59_000, "dropped {}", dropped[0]);
}

/// The SVG written at the end and the terminal chart both begin with what was
/// dropped, the count and the time exactly those of the run (read back from its
/// JSON lines, which have every event).
#[test]
fn the_svg_and_the_terminal_chart_say_what_was_dropped() {
    let dir = scratch("drawn");
    let (json, svg) = (dir.join("run.jsonl"), dir.join("run.svg"));
    let value = format!("json:{},svg:{}@100", json.display(), svg.display());
    let config = TraceConfig::parse(&value).unwrap().unwrap();
    assert_eq!(config.window.events, 100);
    let runtime = traced(config);
    let trace = runtime.trace().unwrap().clone();
    runtime.block_on(async {
        let napper = clearloop::spawn(sleep(Duration::from_secs(3600)));
        napper.set_name("napper");
        for _ in 0..50 {
            sleep(Duration::from_millis(10)).await;
        }
    });
    drop(runtime);
    let all = from_json_lines(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(all.len() > 200, "{} events", all.len());
    let first_kept = all[all.len() - 100].at;
    let line = format!(
        "events before {} dropped: {}",
        format_secs(first_kept),
        common::thousands(all.len() - 100)
    );
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert!(
        drawn.contains(&format!(">{line}</text>")),
        "no {line:?} in\n{drawn}"
    );
    let timeline = trace.timeline();
    assert_eq!(timeline.start, first_kept);
    let chart = render_terminal(&timeline, Charset::Ascii);
    assert_eq!(chart.lines().next(), Some(line.as_str()), "{chart}");
    assert_eq!(render_svg(&timeline), drawn);
    let chrome = to_chrome_trace(&trace.events());
    assert!(
        chrome.contains("\"name\":\"events dropped\"") && chrome.contains(&line),
        "{chrome}"
    );
    // The napper slept through the whole window: its row starts at the left edge.
    let napper = timeline.rows.iter().find(|r| r.label == "napper").unwrap();
    assert_eq!(napper.segments[0].state, State::Timer);
    assert_eq!(napper.segments[0].start, first_kept);
    // The trace keeps its JSON lines file open until it is dropped: Windows removes
    // an open file's name only when its last handle closes (unless the file system
    // offers POSIX semantics; Wine's does not), so the directory would not be empty.
    drop(trace);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_task_idle_since_before_the_window_is_still_listed_with_its_wait() {
    let runtime = traced(TraceConfig::default().keep_events(100));
    let idle = runtime.block_on(async {
        let never = Arc::new(clearloop::sync::Event::new().with_name("never"));
        let waiter = {
            let never = never.clone();
            clearloop::spawn(async move { never.wait().await })
        };
        waiter.set_name("idle");
        busy(1, 1000).await; // 3,000 events: the idle task's all leave the window
        let tasks = clearloop::trace::all_tasks();
        tasks.into_iter().find(|t| t.name == "idle")
    });
    let idle = idle.expect("the idle task is listed");
    let never = Resource::new(ResourceKind::Event, "never");
    assert_eq!(idle.waiting_on, Some(WaitingOn::Resource(never)));
    assert_eq!(idle.since, Duration::ZERO);
    let dump = runtime.dump().to_string();
    assert!(
        dump.contains("idle") && dump.contains("event 'never'"),
        "{dump}"
    );
}

#[test]
fn a_span_keeps_the_last_stretch_of_trace_time() {
    let config = TraceConfig::default()
        .keep_span(Duration::from_secs(1))
        .with(Output::Timeline);
    assert_eq!(config.window.events, clearloop::trace::Window::EVENTS);
    let runtime = traced(TraceConfig {
        outputs: Vec::new(),
        ..config
    });
    runtime.block_on(async {
        for _ in 0..500 {
            sleep(Duration::from_millis(10)).await;
        }
    });
    let events = runtime.trace().unwrap().events();
    let last = events.last().unwrap().at;
    assert_eq!(last, Duration::from_secs(5));
    let marker = events
        .iter()
        .position(|e| matches!(e.kind, EventKind::Dropped { .. }))
        .expect("events were dropped");
    assert!(
        events[marker..]
            .iter()
            .all(|e| e.at >= Duration::from_secs(4)),
        "only the last second is kept"
    );
}
