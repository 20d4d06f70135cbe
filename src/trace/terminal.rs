//! The timeline as text: one row per task, time across, at most 100 columns.
//!
//! Each column is a slice of time (25 ms for a 2 s run); its character says what
//! the task did during most of it, except that a poll always shows, however short
//! (on the virtual clock polls take no time at all):
//!
//! ```text
//! task   0s                  500ms               1s                  1.5s                2s
//!        ├───────────────────┼───────────────────┼───────────────────┼───────────────────┤
//! main   █───────────────────────────────────────────────────────────────────────────────✓
//! Task-1 █───────────────────────────────────────────────────────────────────────────────✓
//! ```
//!
//! Unicode block characters when the terminal speaks UTF-8, ASCII otherwise
//! ([`Charset::from_env`]); tests pick one explicitly.
//!
//! A trace that outgrew the recorder's window starts at the window (its first
//! column at a round time just before it, the ticks on round times) under a first
//! line that says what was dropped: `events before 12.400s dropped: 1,204,331`.

use std::time::Duration;

use super::event::Outcome;
use super::scale::{RULER, round_up, tick_label};
use super::timeline::{Row, State, Timeline};

/// The widest line the chart writes.
pub const WIDTH: usize = 100;
/// Room kept right of the last column for the last tick's text.
const TAIL: usize = 6;
/// Row labels are cut to this many characters.
const LABEL_MAX: usize = 16;

/// Which characters draw the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// Block and box-drawing characters: `█ ░ ─ ▒ ≈ · ✓ ✗ ⊘ ⧖`.
    Unicode,
    /// Plain ASCII: `# + - = ~ . v X C T`.
    Ascii,
}

impl Charset {
    /// UTF-8 if the locale says so, as the C library decides it: the first of
    /// `LC_ALL`, `LC_CTYPE`, `LANG` that is set and not empty names the encoding.
    pub fn from_env() -> Charset {
        let var = |name| std::env::var(name).ok();
        Charset::from_locale(var("LC_ALL"), var("LC_CTYPE"), var("LANG"))
    }

    /// [`from_env`](Charset::from_env) with the three variables given: `Unicode` when
    /// the one in force contains `UTF-8` (or `utf8`, any case).
    pub fn from_locale(
        lc_all: Option<String>,
        lc_ctype: Option<String>,
        lang: Option<String>,
    ) -> Charset {
        let locale = [lc_all, lc_ctype, lang]
            .into_iter()
            .flatten()
            .find(|v| !v.is_empty());
        let utf8 = locale.is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        });
        if utf8 {
            Charset::Unicode
        } else {
            Charset::Ascii
        }
    }

    /// The character for a state.
    pub fn glyph(self, state: State) -> char {
        let (unicode, ascii) = match state {
            State::Running => ('█', '#'),
            State::Ready => ('░', '+'),
            State::Timer => ('─', '-'),
            State::Sync => ('▒', '='),
            State::Io => ('≈', '~'),
            State::Idle => ('·', '.'),
        };
        self.pick(unicode, ascii)
    }

    /// The character for how a task ended.
    pub fn end_glyph(self, outcome: &Outcome) -> char {
        let (unicode, ascii) = match outcome {
            Outcome::Value => ('✓', 'v'),
            Outcome::Panic(_) => ('✗', 'X'),
            Outcome::Cancelled => ('⊘', 'C'),
            Outcome::TimedOut => ('⧖', 'T'),
        };
        self.pick(unicode, ascii)
    }

    fn pick(self, unicode: char, ascii: char) -> char {
        match self {
            Charset::Unicode => unicode,
            Charset::Ascii => ascii,
        }
    }

    /// Axis characters: line, first tick, tick, last tick.
    fn axis(self) -> [char; 4] {
        match self {
            Charset::Unicode => ['─', '├', '┼', '┤'],
            Charset::Ascii => ['-', '+', '+', '+'],
        }
    }
}

/// How the chart is laid out: label width, columns, and time per column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    label_width: usize,
    /// The time of the first column: zero, or the window's start rounded down to
    /// a whole column.
    origin: Duration,
    columns: usize,
    per_column: Duration,
    /// Columns between two ticks.
    tick_every: usize,
    /// The first column with a tick (0 unless the chart starts at a window).
    first_tick: usize,
}

impl Layout {
    fn of(timeline: &Timeline) -> Layout {
        let longest = timeline
            .rows
            .iter()
            .map(|r| r.label.chars().count())
            .max()
            .unwrap_or(0);
        let label_width = longest.clamp(4, LABEL_MAX);
        let most = WIDTH - label_width - 1 - TAIL;
        // The first time has a column of its own, hence `most - 1` slices for the
        // span; one less after a window, whose start is rounded down a column.
        let slices = if timeline.start.is_zero() {
            most - 1
        } else {
            most - 2
        };
        let span = timeline.end.saturating_sub(timeline.start);
        let per_column = round_up(span / slices as u32, &[10, 20, 25, 50]);
        let pc = per_column.as_nanos();
        let origin = nanos(timeline.start.as_nanos() / pc * pc);
        let columns = column_of(timeline.end.saturating_sub(origin), per_column) + 1;
        let mut tick = round_up(per_column * 12, &RULER);
        while !tick.as_nanos().is_multiple_of(pc) {
            tick = round_up(tick + Duration::from_nanos(1), &RULER);
        }
        let tick_every = (tick.as_nanos() / pc) as usize;
        // Ticks stay on round times: the first one at the first multiple of `tick`.
        let past = origin.as_nanos() % tick.as_nanos();
        let first_tick = if past == 0 {
            0
        } else {
            ((tick.as_nanos() - past) / pc) as usize
        };
        Layout {
            label_width,
            origin,
            columns,
            per_column,
            tick_every,
            first_tick,
        }
    }

    fn column(&self, at: Duration) -> usize {
        column_of(at.saturating_sub(self.origin), self.per_column).min(self.columns - 1)
    }

    /// The time where `column` begins.
    fn time_of(&self, column: usize) -> Duration {
        self.origin + self.per_column * column as u32
    }
}

/// A count of nanoseconds as a `Duration`.
fn nanos(n: u128) -> Duration {
    Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX))
}

fn column_of(at: Duration, per_column: Duration) -> usize {
    (at.as_nanos() / per_column.as_nanos()) as usize
}

/// Draws `timeline` in at most [`WIDTH`] columns: axis, one row per task, legend.
///
/// ```
/// use clearloop::trace::{Charset, Timeline, render_terminal};
///
/// let empty = render_terminal(&Timeline::from_events(&[]), Charset::Ascii);
/// assert!(empty.starts_with("task 0s\n     +\n"));
/// ```
pub fn render_terminal(timeline: &Timeline, charset: Charset) -> String {
    let layout = Layout::of(timeline);
    let mut out = String::new();
    if let Some(line) = timeline.dropped_line() {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&axis(&layout, charset));
    for row in &timeline.rows {
        let label = fit_label(&row.label, layout.label_width, charset);
        let cells: String = row_cells(row, &layout, charset).into_iter().collect();
        out.push_str(format!("{label} {cells}").trim_end());
        out.push('\n');
    }
    out.push_str(&legend(charset, layout.per_column));
    out
}

/// The tick texts line and the axis line.
fn axis(layout: &Layout, charset: Charset) -> String {
    let [line, first, tick, last] = charset.axis();
    let mut texts = vec![' '; layout.columns + TAIL];
    let mut ruler = vec![line; layout.columns];
    let mut free_from = 0;
    ruler[0] = first;
    for column in (layout.first_tick..layout.columns).step_by(layout.tick_every) {
        ruler[column] = if column == 0 { first } else { tick };
        let text = tick_label(layout.time_of(column));
        if column >= free_from && column + text.len() <= texts.len() {
            texts.splice(column..column + text.len(), text.chars());
            free_from = column + text.len() + 1;
        }
    }
    if layout.columns > 1 {
        ruler[layout.columns - 1] = last;
    }
    let texts: String = texts.into_iter().collect();
    let ruler: String = ruler.into_iter().collect();
    let pad = " ".repeat(layout.label_width);
    format!(
        "{:<width$} {}\n{pad} {ruler}\n",
        "task",
        texts.trim_end(),
        width = layout.label_width
    )
}

/// The label cut or padded to `width` characters.
fn fit_label(label: &str, width: usize, charset: Charset) -> String {
    if label.chars().count() <= width {
        return format!("{label:<width$}");
    }
    let mut cut: String = label.chars().take(width - 1).collect();
    cut.push(charset.pick('…', '~'));
    cut
}

/// One character per column: the state held longest in it, a poll if there was one,
/// the end mark in the column where the task ended.
fn row_cells(row: &Row, layout: &Layout, charset: Charset) -> Vec<char> {
    let mut time_in = vec![[Duration::ZERO; State::ALL.len()]; layout.columns];
    let mut polled = vec![false; layout.columns];
    let width = layout.per_column;
    for segment in &row.segments {
        let state_index = State::ALL
            .iter()
            .position(|s| *s == segment.state)
            .unwrap_or(0);
        if segment.state == State::Running {
            polled[layout.column(segment.start)] = true;
        }
        if segment.end <= segment.start {
            continue;
        }
        let last = layout.column(segment.end - Duration::from_nanos(1));
        let first = layout.column(segment.start);
        for (column, time) in time_in.iter_mut().enumerate().take(last + 1).skip(first) {
            let from = segment.start.max(layout.time_of(column));
            let to = segment.end.min(layout.time_of(column) + width);
            time[state_index] += to.saturating_sub(from);
        }
    }
    let mut cells: Vec<char> = (0..layout.columns)
        .map(|column| {
            if polled[column] {
                return charset.glyph(State::Running);
            }
            let longest = longest_state(&time_in[column]);
            longest.map_or(' ', |state| charset.glyph(state))
        })
        .collect();
    if let Some((at, outcome)) = &row.end {
        cells[layout.column(*at)] = charset.end_glyph(outcome);
    }
    cells
}

/// The state with the most time in a column (a tie goes to the earlier in
/// [`State::ALL`]); `None` for an empty column.
fn longest_state(time_in: &[Duration; State::ALL.len()]) -> Option<State> {
    let mut best: Option<(State, Duration)> = None;
    for (state, time) in State::ALL.iter().zip(time_in) {
        if *time > Duration::ZERO && best.is_none_or(|(_, longest)| *time > longest) {
            best = Some((*state, *time));
        }
    }
    best.map(|(state, _)| state)
}

fn legend(charset: Charset, per_column: Duration) -> String {
    let states: Vec<String> = State::ALL
        .iter()
        .map(|s| format!("{} {}", charset.glyph(*s), s.word()))
        .collect();
    let ends = [
        (Outcome::Value, "done"),
        (Outcome::Panic(String::new()), "panicked"),
        (Outcome::Cancelled, "cancelled"),
        (Outcome::TimedOut, "timed out"),
    ];
    let mut items = states;
    items.extend(
        ends.iter()
            .map(|(o, w)| format!("{} {w}", charset.end_glyph(o))),
    );
    items.push(format!("(one column = {})", tick_label(per_column)));
    format!("{}\n", wrap(&items))
}

/// `items` two spaces apart, on as many lines of at most [`WIDTH`] as they need.
fn wrap(items: &[String]) -> String {
    let mut out = String::new();
    let mut line = 0;
    for item in items {
        let width = item.chars().count();
        if line > 0 && line + 2 + width > WIDTH {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push_str("  ");
            line += 2;
        }
        out.push_str(item);
        line += width;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lc(value: &str) -> Option<String> {
        Some(value.to_string())
    }

    #[test]
    fn the_locale_in_force_decides_the_charset() {
        use Charset::*;
        for (all, ctype, lang, expected) in [
            (None, None, lc("fr_FR.UTF-8"), Unicode),
            (None, None, lc("en_US.utf8"), Unicode),
            (lc("C"), None, lc("fr_FR.UTF-8"), Ascii),
            (lc(""), lc("C.UTF-8"), lc("C"), Unicode),
            (None, None, None, Ascii),
        ] {
            assert_eq!(
                Charset::from_locale(all.clone(), ctype.clone(), lang.clone()),
                expected,
                "{all:?} {ctype:?} {lang:?}"
            );
        }
    }

    #[test]
    fn two_seconds_take_81_columns_of_25ms_with_a_tick_every_half_second() {
        let timeline = Timeline {
            rows: Vec::new(),
            start: Duration::ZERO,
            end: Duration::from_secs(2),
            dropped: 0,
        };
        let layout = Layout::of(&timeline);
        assert_eq!(layout.per_column, Duration::from_millis(25));
        assert_eq!((layout.columns, layout.tick_every), (81, 20));
        let four = Layout::of(&Timeline {
            rows: Vec::new(),
            start: Duration::ZERO,
            end: Duration::from_secs(4),
            dropped: 0,
        });
        assert_eq!(
            (four.per_column, four.columns, four.tick_every),
            (Duration::from_millis(50), 81, 20)
        );
    }

    #[test]
    fn a_window_starts_the_chart_on_a_round_column_and_says_what_was_dropped() {
        let s = |ms| Duration::from_millis(ms);
        let timeline = Timeline {
            rows: Vec::new(),
            start: s(12_400),
            end: s(72_400),
            dropped: 1_204_331,
        };
        let layout = Layout::of(&timeline);
        assert_eq!(
            (
                layout.origin,
                layout.per_column,
                layout.first_tick,
                layout.tick_every
            ),
            (s(12_000), s(1000), 8, 20)
        );
        let chart = render_terminal(&timeline, Charset::Ascii);
        let lines: Vec<&str> = chart.lines().collect();
        assert_eq!(lines[0], "events before 12.400s dropped: 1,204,331");
        let gap = |n| " ".repeat(n);
        assert_eq!(
            lines[1],
            format!("task {}20s{}40s{}60s", gap(8), gap(17), gap(17))
        );
        assert!(lines[2].len() <= WIDTH, "{chart}");
    }

    #[test]
    fn long_labels_are_cut_with_a_mark() {
        assert_eq!(
            fit_label("a-very-long-task-name", 8, Charset::Unicode),
            "a-very-…"
        );
        assert_eq!(fit_label("short", 8, Charset::Ascii), "short   ");
    }
}
