//! Export to Chrome's trace-event format, so that Perfetto (<https://ui.perfetto.dev>)
//! or `chrome://tracing` opens a run with no code of ours.
//!
//! The file is a JSON array of events. Each task is a "thread" of process 1 (a
//! `thread_name` metadata event names it), each [`Segment`](super::Segment) a
//! complete event (`"ph":"X"`, start `ts` and `dur` in microseconds), and spawns,
//! wake-ups, fired timers and ends are instant events (`"ph":"i"`):
//!
//! ```text
//! [
//! {"name":"thread_name","ph":"M","pid":1,"tid":1,"args":{"name":"main"}},
//! {"name":"running","ph":"X","ts":0.000,"dur":0.000,"pid":1,"tid":1,"args":{"detail":"polled on worker 0"}},
//! {"name":"woken","ph":"i","s":"t","ts":2000000.000,"pid":1,"tid":2,"args":{"detail":"woken by its timer"}},
//! ...
//! ]
//! ```
//!
//! `tid` is the row's number (from 1) in the [`Timeline`], not the task id: sched
//! and schedule rows have no task id, and small numbers keep Perfetto's rows in
//! spawn order.
//!
//! A trace that outgrew the recorder's window starts at the window: a global
//! instant there (`"s":"g"`, a line across every row in Perfetto) says what was
//! dropped, and nothing before it is drawn.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::event::{Event, EventKind, Outcome, TaskId, format_secs};
use super::jsonl::json_string;
use super::timeline::{Timeline, wake_words};

/// The events in Chrome's trace-event format (a JSON array, one event per line).
///
/// ```
/// use clearloop::trace::to_chrome_trace;
///
/// assert_eq!(to_chrome_trace(&[]), "[\n]\n");
/// ```
pub fn to_chrome_trace(events: &[Event]) -> String {
    let timeline = Timeline::from_events(events);
    let mut lines = Vec::new();
    let mut tid_of: HashMap<TaskId, usize> = HashMap::new();
    for (n, row) in timeline.rows.iter().enumerate() {
        let tid = n + 1;
        if let Some(task) = row.task {
            tid_of.insert(task, tid);
        }
        lines.push(format!(
            "{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{tid},\"args\":{{\"name\":{}}}}}",
            json_string(&row.label)
        ));
        for segment in &row.segments {
            lines.push(format!(
                "{{\"name\":{},\"ph\":\"X\",\"ts\":{},\"dur\":{},\"pid\":1,\"tid\":{tid},\"args\":{{\"detail\":{}}}}}",
                json_string(segment.state.word()),
                micros(segment.start),
                micros(segment.end - segment.start),
                json_string(&segment.detail)
            ));
        }
    }
    if let Some(line) = timeline.dropped_line() {
        lines.push(format!(
            "{{\"name\":\"events dropped\",\"ph\":\"i\",\"s\":\"g\",\"ts\":{},\"pid\":1,\"tid\":0,\"args\":{{\"detail\":{}}}}}",
            micros(timeline.start),
            json_string(&line)
        ));
    }
    for event in events {
        if event.at < timeline.start {
            continue; // kept for the tasks alive at the window's start: not drawn
        }
        let Some((name, detail)) = instant(&event.kind) else {
            continue;
        };
        let Some(tid) = event.kind.task().and_then(|task| tid_of.get(&task)) else {
            continue;
        };
        lines.push(format!(
            "{{\"name\":\"{name}\",\"ph\":\"i\",\"s\":\"t\",\"ts\":{},\"pid\":1,\"tid\":{tid},\"args\":{{\"detail\":{}}}}}",
            micros(event.at),
            json_string(&detail)
        ));
    }
    let mut out = String::from("[\n");
    for (n, line) in lines.iter().enumerate() {
        let comma = if n + 1 < lines.len() { "," } else { "" };
        let _ = writeln!(out, "{line}{comma}");
    }
    out.push_str("]\n");
    out
}

/// Microseconds with three decimals: Chrome's unit, exact to the nanosecond.
fn micros(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    format!("{}.{:03}", nanos / 1000, nanos % 1000)
}

/// The events shown as instants, with their name and details; `None` for those the
/// segments already show (polls, waits).
fn instant(kind: &EventKind) -> Option<(&'static str, String)> {
    match kind {
        EventKind::Spawned { name, parent, .. } => {
            let by = parent.map_or(String::new(), |p| format!(" by task {p}"));
            Some(("spawned", format!("{name} spawned{by}")))
        }
        EventKind::Woken { by, .. } => Some(("woken", wake_words(by))),
        EventKind::TimerFired { .. } => Some(("timer fired", String::new())),
        EventKind::Granted { resource, .. } => Some(("granted", resource.to_string())),
        EventKind::TimedOut { after, .. } => Some((
            "timed out",
            format!("a timeout of {} ran out", format_secs(*after)),
        )),
        EventKind::Done { outcome, .. } => Some(match outcome {
            Outcome::Value => ("done", "returned a value".to_string()),
            Outcome::Panic(message) => ("panicked", message.clone()),
            Outcome::Cancelled => ("cancelled", String::new()),
            Outcome::TimedOut => ("timed out", String::new()),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microseconds_keep_the_nanoseconds() {
        assert_eq!(micros(Duration::new(2, 1)), "2000000.001");
        assert_eq!(micros(Duration::ZERO), "0.000");
    }
}
