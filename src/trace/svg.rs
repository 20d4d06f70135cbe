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
/// The first row's top, and the distance from one row to the next.
const TOP: f64 = 40.0;
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
        State::Idle => "#d1d5db",
    }
}

/// The end mark of a task: its character, colour and words.
fn end_mark(outcome: &Outcome) -> (&'static str, &'static str, String) {
    match outcome {
        Outcome::Value => ("✓", "#15803d", "done".to_string()),
        Outcome::Panic(message) => ("✗", "#b91c1c", format!("panicked: {message}")),
        Outcome::Cancelled => ("⊘", "#4b5563", "cancelled".to_string()),
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
    let rows_bottom = TOP + PITCH * timeline.rows.len() as f64;
    let height = rows_bottom + 60.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"13\">\n\
         <title>clearloop timeline: {} rows, {}</title>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
        timeline.rows.len(),
        format_secs(timeline.end)
    );
    axis(&mut out, timeline.end, rows_bottom);
    for (n, row) in timeline.rows.iter().enumerate() {
        draw_row(&mut out, row, TOP + PITCH * n as f64, timeline.end);
    }
    legend(&mut out, rows_bottom + 24.0);
    out.push_str("</svg>\n");
    out
}

/// The x coordinate of time `at`.
fn x_of(at: Duration, end: Duration) -> f64 {
    if end.is_zero() {
        return LEFT;
    }
    LEFT + (RIGHT - LEFT) * at.as_secs_f64() / end.as_secs_f64()
}

/// Tick texts and light vertical lines, about every 80 pixels.
fn axis(out: &mut String, end: Duration, bottom: f64) {
    let _ = writeln!(out, "<g class=\"axis\" fill=\"#374151\">");
    let _ = writeln!(
        out,
        "<text x=\"10\" y=\"{}\" font-weight=\"bold\">task</text>",
        TOP - 14.0
    );
    let step = round_up(end.mul_f64(80.0 / (RIGHT - LEFT)), &RULER);
    let mut at = Duration::ZERO;
    while at <= end {
        let x = x_of(at, end);
        let _ = writeln!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{bottom}\" stroke=\"#e5e7eb\"/>\
             <text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            TOP - 8.0,
            TOP - 14.0,
            tick_label(at)
        );
        if end.is_zero() {
            break;
        }
        at += step;
    }
    let _ = writeln!(out, "</g>");
}

fn draw_row(out: &mut String, row: &Row, top: f64, end: Duration) {
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
        draw_segment(out, &label, segment, top, end);
    }
    if let Some((at, outcome)) = &row.end {
        let (mark, fill, words) = end_mark(outcome);
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{fill}\" font-weight=\"bold\">{mark}\
             <title>{label}: {} at {}</title></text>",
            x_of(*at, end) + 3.0,
            top + BAR - 3.0,
            escape(&words),
            format_secs(*at)
        );
    }
    let _ = writeln!(out, "</g>");
}

fn draw_segment(out: &mut String, label: &str, segment: &Segment, top: f64, end: Duration) {
    let x = x_of(segment.start, end);
    let mut width = x_of(segment.end, end) - x;
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
        let end = Duration::from_secs(2);
        assert_eq!(x_of(Duration::ZERO, end), LEFT);
        assert_eq!(x_of(end, end), RIGHT);
        assert_eq!(x_of(Duration::from_secs(1), end), (LEFT + RIGHT) / 2.0);
        assert_eq!(x_of(Duration::from_secs(1), Duration::ZERO), LEFT);
    }
}
