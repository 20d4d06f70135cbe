//! The trace's renderers on three fixed traces of the course's examples, as the
//! runtime records them on the virtual clock (polls take no time):
//!
//! * `create_task`: two tasks of 2 s spawned together; they overlap, 2 s in all.
//! * `sequential`: the same two coroutines awaited one after the other, inside
//!   `main` (no task): 4 s.
//! * `semaphore`: six tasks through a semaphore of 3, each holding it 1 s: three
//!   at a time, 2 s in all.
//!
//! The terminal charts (both charsets) and the traces as JSON lines are compared
//! with the files in `tests/golden/` (tests/trace_formats.rs reads the latter back
//! to check the SVG and Chrome exports). To regenerate them on purpose, after a deliberate
//! change to a renderer:
//!
//! ```text
//! CLEARLOOP_BLESS=1 cargo test --test trace_render
//! git diff tests/golden/        # look at every changed line before committing
//! ```

use std::time::Duration;

use clearloop::trace::EventKind::*;
use clearloop::trace::{
    Charset, Event, EventKind, Outcome, Resource, ResourceKind, TaskId, Timeline, WakeSource,
    from_json_lines, render_terminal, to_json_lines,
};

/// Builds a trace in time order; times in milliseconds.
#[derive(Default)]
struct Script {
    events: Vec<Event>,
}

impl Script {
    fn at(&mut self, ms: u64, kind: EventKind) -> &mut Script {
        self.events
            .push(Event::new(Duration::from_millis(ms), kind));
        self
    }

    fn spawn(&mut self, ms: u64, task: u64, name: &str, parent: Option<u64>) -> &mut Script {
        let (task, parent, name) = (TaskId(task), parent.map(TaskId), name.to_string());
        self.at(ms, Spawned { task, name, parent })
    }

    /// One poll at `ms`; `during` records what the task does while polled.
    fn poll(&mut self, ms: u64, task: u64, during: impl FnOnce(&mut Script)) -> &mut Script {
        let task = TaskId(task);
        self.at(ms, PollStart { task, worker: 0 });
        during(self);
        self.at(ms, PollEnd { task, worker: 0 })
    }

    fn sleep(&mut self, ms: u64, task: u64, until_ms: u64) -> &mut Script {
        let due = Duration::from_millis(until_ms);
        self.at(
            ms,
            TimerRegistered {
                task: TaskId(task),
                due,
            },
        )
    }

    /// The timer of `task` fires at `ms` and wakes it.
    fn fire(&mut self, ms: u64, task: u64) -> &mut Script {
        let task = TaskId(task);
        self.at(ms, TimerFired { task }).at(
            ms,
            Woken {
                task,
                by: WakeSource::Timer,
            },
        )
    }

    fn done(&mut self, ms: u64, task: u64) -> &mut Script {
        self.at(
            ms,
            Done {
                task: TaskId(task),
                outcome: Outcome::Value,
            },
        )
    }

    fn wake(&mut self, ms: u64, task: u64, by: u64) -> &mut Script {
        self.at(
            ms,
            Woken {
                task: TaskId(task),
                by: WakeSource::Task(TaskId(by)),
            },
        )
    }
}

/// `t1 = create_task(long()); t2 = create_task(long()); await t1; await t2`.
fn create_task() -> Vec<Event> {
    let mut s = Script::default();
    s.spawn(0, 0, "main", None);
    s.poll(0, 0, |s| {
        s.spawn(0, 1, "Task-1", Some(0))
            .spawn(0, 2, "Task-2", Some(0));
    });
    for task in [1, 2] {
        s.poll(0, task, |s| {
            s.sleep(0, task, 2000);
        });
    }
    s.fire(2000, 1).fire(2000, 2);
    s.poll(2000, 1, |s| {
        s.wake(2000, 0, 1);
    })
    .done(2000, 1);
    s.poll(2000, 2, |_| {}).done(2000, 2);
    s.poll(2000, 0, |_| {}).done(2000, 0);
    s.events
}

/// `await long(); await long()`: both sleeps inside `main`.
fn sequential() -> Vec<Event> {
    let mut s = Script::default();
    s.spawn(0, 0, "main", None);
    s.poll(0, 0, |s| {
        s.sleep(0, 0, 2000);
    });
    s.fire(2000, 0).poll(2000, 0, |s| {
        s.sleep(2000, 0, 4000);
    });
    s.fire(4000, 0).poll(4000, 0, |_| {}).done(4000, 0);
    s.events
}

/// `sem = Semaphore(3)`; six tasks `async with sem: await sleep(1)`; gather them.
fn semaphore() -> Vec<Event> {
    let sem = || Resource::new(ResourceKind::Semaphore, "sem");
    let mut s = Script::default();
    s.spawn(0, 0, "main", None);
    s.poll(0, 0, |s| {
        for task in 1..=6 {
            s.spawn(0, task, &format!("Task-{task}"), Some(0));
        }
    });
    for task in 1..=6 {
        s.poll(0, task, |s| {
            if task <= 3 {
                s.sleep(0, task, 1000);
            } else {
                s.at(
                    0,
                    Waiting {
                        task: TaskId(task),
                        resource: sem(),
                    },
                );
            }
        });
    }
    for task in 1..=3 {
        s.fire(1000, task);
    }
    for task in 1..=3 {
        // Leaving `async with` hands the permit to the first in line and wakes it.
        s.poll(1000, task, |s| {
            s.wake(1000, task + 3, task);
        })
        .done(1000, task);
    }
    for task in 4..=6 {
        // The woken waiter finds the permit its own: Granted, in its poll.
        s.poll(1000, task, |s| {
            let resource = sem();
            s.at(
                1000,
                Granted {
                    task: TaskId(task),
                    resource,
                },
            )
            .sleep(1000, task, 2000);
        });
    }
    for task in 4..=6 {
        s.fire(2000, task);
    }
    for task in 4..=6 {
        s.poll(2000, task, |s| {
            if task == 6 {
                s.wake(2000, 0, 6);
            }
        })
        .done(2000, task);
    }
    s.poll(2000, 0, |_| {}).done(2000, 0);
    s.events
}

fn traces() -> [(&'static str, Vec<Event>); 3] {
    [
        ("create_task", create_task()),
        ("sequential", sequential()),
        ("semaphore", semaphore()),
    ]
}

/// Compares `actual` with `tests/golden/NAME`, or writes it there under
/// `CLEARLOOP_BLESS=1`.
fn golden(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var("CLEARLOOP_BLESS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "{}: {error}; create it with CLEARLOOP_BLESS=1 cargo test --test trace_render",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a);
        panic!(
            "{} differs (first different line: {first:?}).\nexpected:\n{expected}\nactual:\n{actual}\n\
             If the change is wanted: CLEARLOOP_BLESS=1 cargo test --test trace_render, then review git diff.",
            path.display()
        );
    }
}

#[test]
fn terminal_charts_match_the_golden_files_in_both_charsets() {
    for (name, events) in traces() {
        let timeline = Timeline::from_events(&events);
        for (charset, suffix) in [(Charset::Unicode, "utf8"), (Charset::Ascii, "ascii")] {
            let chart = render_terminal(&timeline, charset);
            for line in chart.lines() {
                assert!(
                    line.chars().count() <= 100,
                    "{name} {suffix}: {} columns: {line}",
                    line.chars().count()
                );
                assert!(
                    charset == Charset::Unicode || line.is_ascii(),
                    "{name}: not ASCII: {line}"
                );
            }
            golden(&format!("trace_{name}.{suffix}.txt"), &chart);
        }
        // The trace itself, for tests/trace_formats.rs and for anyone to load back.
        golden(&format!("trace_{name}.jsonl"), &to_json_lines(&events));
    }
}

/// The column of the end mark on the row of `label`.
fn end_column(chart: &str, label: &str) -> usize {
    let row = chart.lines().find(|line| line.starts_with(label)).unwrap();
    row.chars().count() - 1
}

#[test]
fn two_tasks_end_at_2s_and_two_awaits_end_at_4s() {
    let tasks = render_terminal(&Timeline::from_events(&create_task()), Charset::Ascii);
    let awaits = render_terminal(&Timeline::from_events(&sequential()), Charset::Ascii);
    // Both charts are 81 columns wide (25 ms and 50 ms a column): every row ends at the
    // right edge, whose tick reads 2s in one chart and 4s in the other.
    for label in ["main", "Task-1", "Task-2"] {
        assert_eq!(end_column(&tasks, label), 7 + 80, "{label}\n{tasks}");
    }
    assert_eq!(end_column(&awaits, "main"), 5 + 80, "{awaits}");
    assert!(
        tasks
            .lines()
            .next()
            .unwrap()
            .ends_with("1.5s                2s"),
        "{tasks}"
    );
    assert!(
        awaits
            .lines()
            .next()
            .unwrap()
            .ends_with("3s                  4s"),
        "{awaits}"
    );
    // The second sleep begins with a poll at 2 s, column 40 of 50 ms.
    let main = awaits
        .lines()
        .find(|line| line.starts_with("main"))
        .unwrap();
    assert_eq!(main.chars().nth(5 + 40), Some('#'), "{awaits}");
}

#[test]
fn the_semaphore_never_shows_more_than_three_tasks_sleeping() {
    let timeline = Timeline::from_events(&semaphore());
    let chart = render_terminal(&timeline, Charset::Ascii);
    let rows: Vec<&str> = chart
        .lines()
        .filter(|line| line.starts_with("Task-"))
        .collect();
    assert_eq!(rows.len(), 6, "{chart}");
    // Rows read "Task-N " then column 0 of the chart: chart column c is character 7 + c.
    let count = |column: usize, mark: char| {
        rows.iter()
            .filter(|row| row.chars().nth(7 + column) == Some(mark))
            .count()
    };
    for column in (1..40).chain(41..80) {
        assert_eq!(
            count(column, '-'),
            3,
            "sleeping at column {column}\n{chart}"
        );
        assert_eq!(
            count(column, '='),
            if column < 40 { 3 } else { 0 },
            "waiting at column {column}\n{chart}"
        );
    }
    // At 1 s, in one instant: three leave (v) and hand their permits to three (#).
    assert_eq!((count(40, 'v'), count(40, '#')), (3, 3), "{chart}");
}

#[test]
fn json_lines_read_back_into_the_same_events() {
    for (name, mut events) in traces() {
        events.push(Event::new(
            Duration::new(5, 1),
            Done {
                task: TaskId(9),
                outcome: Outcome::Panic("bad \"x\"\n".into()),
            },
        ));
        events.push(Event::new(
            Duration::from_secs(6),
            Done {
                task: TaskId(8),
                outcome: Outcome::Cancelled,
            },
        ));
        events.push(Event::new(
            Duration::from_secs(6),
            Woken {
                task: TaskId(8),
                by: WakeSource::Io,
            },
        ));
        events.push(Event::new(
            Duration::from_secs(6),
            Woken {
                task: TaskId(8),
                by: WakeSource::Thread,
            },
        ));
        let took = Duration::from_micros(1500);
        events.push(Event::new(
            Duration::from_secs(7),
            SchedRun {
                name: "backup ✓".into(),
                took,
            },
        ));
        events.push(Event::new(
            Duration::from_secs(7),
            JobRun {
                name: "report".into(),
                took,
            },
        ));
        let text = to_json_lines(&events);
        assert_eq!(
            text.lines().count(),
            events.len(),
            "{name}: one event per line"
        );
        assert_eq!(from_json_lines(&text), Ok(events), "{name}");
    }
}

/// On the real clock polls take time: a long poll fills columns, a task woken while
/// another runs waits its turn (ready), and failures get their own end marks.
#[test]
fn real_clock_polls_ready_time_panics_and_cancels_show() {
    let mut s = Script::default();
    s.spawn(0, 1, "slow", None)
        .spawn(0, 2, "boom", None)
        .spawn(0, 3, "stopped", None);
    // `slow` holds the only worker for 100 ms, though `boom` is woken at 20 ms.
    s.at(
        0,
        PollStart {
            task: TaskId(1),
            worker: 0,
        },
    );
    s.wake(20, 2, 1);
    s.at(
        100,
        PollEnd {
            task: TaskId(1),
            worker: 0,
        },
    )
    .done(100, 1);
    s.poll(150, 2, |_| {});
    let panic = Outcome::Panic("index out of range".into());
    s.at(
        150,
        Done {
            task: TaskId(2),
            outcome: panic,
        },
    );
    s.at(
        300,
        Done {
            task: TaskId(3),
            outcome: Outcome::Cancelled,
        },
    );
    let timeline = Timeline::from_events(&s.events);
    let chart = render_terminal(&timeline, Charset::Ascii);
    let row = |label: &str| {
        let line = chart.lines().find(|line| line.starts_with(label)).unwrap();
        line[8..].to_string() // after "stopped "
    };
    // 300 ms in 61 columns of 5 ms: `slow` runs for the first 20 columns, then ends.
    assert_eq!(row("slow"), format!("{}v", "#".repeat(20)), "{chart}");
    // `boom`: ready (+) from its spawn until the worker is free at 150 ms; then it fails.
    assert_eq!(row("boom"), format!("{}X", "+".repeat(30)), "{chart}");
    assert_eq!(row("stopped"), format!("{}C", "+".repeat(60)), "{chart}");
    let unicode = render_terminal(&timeline, Charset::Unicode);
    assert!(
        unicode.contains("░✗") && unicode.contains("░⊘"),
        "{unicode}"
    );
    let svg = clearloop::trace::render_svg(&timeline);
    assert!(svg.contains("<title>boom: panicked: index out of range at 0.150s</title>"));
}
