//! The timeline as a standalone SVG picture: open it in a browser, hover a bar to
//! read what the task was doing, from when to when, and why.
//!
//! No JavaScript: each bar carries its details in a `<title>`, which browsers show
//! as a tooltip. One `<g class="task">` per task row, one colour per state, a
//! legend below.
//!
//! ```text
//!   task     0s        200ms       400ms ...
//!   main     ▮────────────────────────────────────────────▮ ✓
//!   Task-1   ▮████████████ sleeping (timer) ██████████████▮ ✓   <title>Task-1: sleeping ...</title>
//!   ■ running  ■ ready  ■ sleeping (timer)  ■ waiting on a lock/semaphore/queue ...
//! ```
//!
//! A trace that outgrew the recorder's window is drawn from the window's start,
//! under a line that says what was dropped (`events before 12.400s dropped: ...`).

use std::fmt::Write as _;
use std::time::Duration;

use super::event::{Outcome, format_secs};
use super::scale::{RULER, round_up, tick_label};
use super::timeline::{Row, Segment, State, Timeline};

/// Picture width in pixels.
const WIDTH: f64 = 1000.0;
/// Where the bars begin and end (labels sit left of `LEFT`).
const LEFT: f64 = 150.0;
const RIGHT: f64 = 960.0;
/// The first row's top (lower by `NOTE` when a line says what was dropped), and
/// the distance from one row to the next.
const TOP: f64 = 40.0;
const NOTE: f64 = 20.0;
const PITCH: f64 = 26.0;
const BAR: f64 = 16.0;
/// A poll on the virtual clock takes no time: it is drawn this wide all the same.
const MIN_POLL: f64 = 2.0;

/// A bar's colour: running dark, sleeping medium blue (the "bars" of a semaphore
/// run), waiting on a lock orange, ready and other waits pale.
fn colour(state: State) -> &'static str {
    match state {
        State::Running => "#1e3a8a",
        State::Ready => "#c4b5fd",
        State::Timer => "#60a5fa",
        State::Sync => "#fb923c",
        State::Io => "#2dd4bf",
        State::Idle => "#d1d5db",
    }
}

/// The end mark of a task: its character, colour and words.
fn end_mark(outcome: &Outcome) -> (&'static str, &'static str, String) {
    match outcome {
        Outcome::Value => ("✓", "#15803d", "done".to_string()),
        Outcome::Panic(message) => ("✗", "#b91c1c", format!("panicked: {message}")),
        Outcome::Cancelled => ("⊘", "#4b5563", "cancelled".to_string()),
        Outcome::TimedOut => ("⧖", "#b45309", "timed out".to_string()),
    }
}

/// Draws `timeline` as an SVG document (UTF-8 text).
///
/// ```
/// use clearloop::trace::{Timeline, render_svg};
///
/// let svg = render_svg(&Timeline::from_events(&[]));
/// assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
/// ```
pub fn render_svg(timeline: &Timeline) -> String {
    let note = timeline.dropped_line();
    let frame = Frame {
        start: timeline.start,
        end: timeline.end,
        top: if note.is_some() { TOP + NOTE } else { TOP },
    };
    let rows_bottom = frame.top + PITCH * timeline.rows.len() as f64;
    let height = rows_bottom + 60.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"13\">\n\
         <title>clearloop timeline: {} rows, {}</title>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
        timeline.rows.len(),
        format_secs(timeline.end)
    );
    if let Some(note) = note {
        let _ = writeln!(
            out,
            "<text class=\"dropped\" x=\"10\" y=\"{}\" fill=\"#b45309\">{}</text>",
            TOP - 22.0,
            escape(&note)
        );
    }
    axis(&mut out, &frame, rows_bottom);
    for (n, row) in timeline.rows.iter().enumerate() {
        draw_row(&mut out, row, frame.top + PITCH * n as f64, &frame);
    }
    legend(&mut out, rows_bottom + 24.0);
    out.push_str("</svg>\n");
    out
}

/// The time span drawn, and where the rows begin.
struct Frame {
    /// The time at the left end of the bars (zero, or the window's start).
    start: Duration,
    /// The time at the right end.
    end: Duration,
    /// The first row's top.
    top: f64,
}

impl Frame {
    /// The x coordinate of time `at`.
    fn x_of(&self, at: Duration) -> f64 {
        let span = self.end.saturating_sub(self.start);
        if span.is_zero() {
            return LEFT;
        }
        let at = at.saturating_sub(self.start);
        LEFT + (RIGHT - LEFT) * at.as_secs_f64() / span.as_secs_f64()
    }
}

/// Tick texts and light vertical lines, about every 80 pixels, on round times.
fn axis(out: &mut String, frame: &Frame, bottom: f64) {
    let top = frame.top;
    let _ = writeln!(out, "<g class=\"axis\" fill=\"#374151\">");
    let _ = writeln!(
        out,
        "<text x=\"10\" y=\"{}\" font-weight=\"bold\">task</text>",
        top - 14.0
    );
    let span = frame.end.saturating_sub(frame.start);
    let step = round_up(span.mul_f64(80.0 / (RIGHT - LEFT)), &RULER);
    // The first multiple of `step` at or after the start.
    let steps = frame.start.as_nanos().div_ceil(step.as_nanos());
    let mut at = Duration::from_nanos(u64::try_from(steps * step.as_nanos()).unwrap_or(u64::MAX));
    while at <= frame.end {
        let x = frame.x_of(at);
        let _ = writeln!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{bottom}\" stroke=\"#e5e7eb\"/>\
             <text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            top - 8.0,
            top - 14.0,
            tick_label(at)
        );
        if span.is_zero() {
            break;
        }
        at += step;
    }
    let _ = writeln!(out, "</g>");
}

fn draw_row(out: &mut String, row: &Row, top: f64, frame: &Frame) {
    let class = if row.task.is_some() { "task" } else { "job" };
    let label = escape(&row.label);
    let _ = writeln!(out, "<g class=\"{class}\">");
    let _ = writeln!(
        out,
        "<text x=\"10\" y=\"{:.1}\">{label}</text>",
        top + BAR - 3.0
    );
    // Waits first, polls last: a zero-length poll stays visible on top of the wait
    // that begins at the same instant.
    let (polls, waits): (Vec<&Segment>, Vec<&Segment>) =
        row.segments.iter().partition(|s| s.state == State::Running);
    for segment in waits.into_iter().chain(polls) {
        draw_segment(out, &label, segment, top, frame);
    }
    if let Some((at, outcome)) = &row.end {
        let (mark, fill, words) = end_mark(outcome);
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{fill}\" font-weight=\"bold\">{mark}\
             <title>{label}: {} at {}</title></text>",
            frame.x_of(*at) + 3.0,
            top + BAR - 3.0,
            escape(&words),
            format_secs(*at)
        );
    }
    let _ = writeln!(out, "</g>");
}

fn draw_segment(out: &mut String, label: &str, segment: &Segment, top: f64, frame: &Frame) {
    let x = frame.x_of(segment.start);
    let mut width = frame.x_of(segment.end) - x;
    if segment.state == State::Running {
        width = width.max(MIN_POLL);
    }
    if width <= 0.0 {
        return;
    }
    let _ = writeln!(
        out,
        "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{width:.1}\" height=\"{BAR}\" fill=\"{}\">\
         <title>{label}: {} from {} to {}: {}</title></rect>",
        colour(segment.state),
        segment.state.word(),
        format_secs(segment.start),
        format_secs(segment.end),
        escape(&segment.detail)
    );
}

/// A square and a word per state, then the end marks, on two lines.
fn legend(out: &mut String, y: f64) {
    let _ = writeln!(out, "<g class=\"legend\">");
    let mut x = 10.0;
    for state in State::ALL {
        let _ = writeln!(
            out,
            "<rect x=\"{x}\" y=\"{:.1}\" width=\"14\" height=\"14\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"{y:.1}\">{}</text>",
            y - 12.0,
            colour(state),
            x + 20.0,
            state.word()
        );
        x += 34.0 + 7.5 * state.word().len() as f64;
    }
    x = 10.0;
    for outcome in [
        Outcome::Value,
        Outcome::Panic(String::new()),
        Outcome::Cancelled,
        Outcome::TimedOut,
    ] {
        let (mark, fill, words) = end_mark(&outcome);
        let words = words.trim_end_matches(": ");
        let _ = writeln!(
            out,
            "<text x=\"{x}\" y=\"{:.1}\" fill=\"{fill}\" font-weight=\"bold\">{mark}</text>\
             <text x=\"{}\" y=\"{:.1}\">{words}</text>",
            y + 22.0,
            x + 20.0,
            y + 22.0
        );
        x += 34.0 + 7.5 * words.len() as f64;
    }
    let _ = writeln!(out, "</g>");
}

/// `text` with XML's five special characters escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(
            escape("a<b & 'c' \"d\">"),
            "a&lt;b &amp; &apos;c&apos; &quot;d&quot;&gt;"
        );
    }

    #[test]
    fn times_map_onto_the_bar_area() {
        let s = Duration::from_secs;
        let frame = |start, end| Frame {
            start,
            end,
            top: TOP,
        };
        let whole = frame(Duration::ZERO, s(2));
        assert_eq!(whole.x_of(Duration::ZERO), LEFT);
        assert_eq!(whole.x_of(s(2)), RIGHT);
        assert_eq!(whole.x_of(s(1)), (LEFT + RIGHT) / 2.0);
        assert_eq!(frame(Duration::ZERO, Duration::ZERO).x_of(s(1)), LEFT);
        let window = frame(s(10), s(12));
        assert_eq!(window.x_of(s(10)), LEFT);
        assert_eq!(window.x_of(s(11)), (LEFT + RIGHT) / 2.0);
        assert_eq!(
            window.x_of(s(5)),
            LEFT,
            "before the window: at its left edge"
        );
    }
}
