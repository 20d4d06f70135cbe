//! `CLEARLOOP_TRACE`: what to record and where to write it, read from the
//! environment (the runtime's `Builder` reads it as it reads `CLEARLOOP_DEBUG`).
//!
//! | value                                 | meaning                                              |
//! |---------------------------------------|------------------------------------------------------|
//! | unset, empty, `0`, `off`, `false`, `no` | tracing off                                        |
//! | `1`, `on`, `true`, `yes`, `timeline`  | at the end of the run, the terminal timeline on stderr |
//! | `json:PATH` (or `jsonl:PATH`)         | the events as JSON lines in file PATH, written as they happen |
//! | `chrome:PATH`                         | Chrome's trace-event JSON in PATH (Perfetto)         |
//! | `svg:PATH`                            | the SVG timeline in PATH                             |
//! | `...@60s`, `...@500ms`, `...@5m`      | the drawn outputs show the last 60 s (500 ms, 5 min) only |
//! | `...@100000`                          | the drawn outputs show the last 100,000 events only |
//!
//! Several at once, separated by commas: `CLEARLOOP_TRACE=timeline,svg:run.svg`.
//! A path cannot contain a comma, nor end in what reads as a window (`@5s`). Anything else is an error that says what was
//! expected, so a typo does not silently trace nothing.
//!
//! ## Two kinds of output: streamed, and drawn at the end
//!
//! The JSON lines are **streamed**: each event goes to the file as it happens,
//! through a buffer written out at least every 100 ms, so the file of a program
//! killed by Ctrl-C holds its events up to a moment before the signal. The
//! timeline, the SVG and the Chrome file are **drawn at the end**, from the events
//! the recorder keeps in memory: a [`Window`], the last 50,000 events by default,
//! so that a server traced for hours stays within a few MB. The drawing says what
//! the window left out ("events before 12.400s dropped: 1,204,331").
//!
//! The window is the trace's, not one output's: `svg:run.svg@60s,timeline` draws
//! both from the last 60 s. Both limits can be given (`svg:run.svg@60s@200000`:
//! the last 60 s, and at most 200,000 events). A window on `json:` is an error:
//! the stream is always whole.
//!
//! ```text
//!   events ──> JSON lines file  (every event, on disk within ~100 ms)
//!          └─> window in memory (the last N events / T seconds) ──> timeline, SVG, Chrome
//!                                                                   at the end of the run
//! ```

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::chrome::to_chrome_trace;
use super::event::Event;
use super::jsonl::to_json_lines;
use super::svg::render_svg;
use super::terminal::{Charset, render_terminal};
use super::timeline::Timeline;

/// Where a trace goes: a file written as the run goes, or a drawing made at its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// The terminal timeline, on standard error, at the end.
    Timeline,
    /// JSON lines in a file, streamed: every event, written as the run goes.
    JsonLines(PathBuf),
    /// Chrome's trace-event JSON in a file.
    Chrome(PathBuf),
    /// The SVG timeline in a file.
    Svg(PathBuf),
}

/// How much of a run the recorder keeps in memory, for what is drawn at the end (the
/// timeline, the SVG, the Chrome file, `Recorder::events`): the newest events, at
/// most [`events`](Window::events) of them, and only those of the last
/// [`span`](Window::span) of trace time if one is given. The older ones are
/// dropped, and counted; the JSON lines stream keeps everything.
///
/// The default keeps 50,000 events (64 bytes each: about 3 MB) and sets no time
/// limit: the count is what bounds the memory, and a time limit by default would
/// empty the chart of a virtual-clock run that covers a week in a few hundred
/// events. A server traced for hours shows its last 50,000 events; `@60s` shows
/// its last minute instead (if that holds fewer events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// At most this many events are kept (at least 1).
    pub events: usize,
    /// Only the events of this last stretch of trace time are kept; `None`: no
    /// time limit.
    pub span: Option<Duration>,
}

impl Window {
    /// The default [`events`](Window::events): 50,000.
    pub const EVENTS: usize = 50_000;
}

impl Default for Window {
    fn default() -> Window {
        Window {
            events: Window::EVENTS,
            span: None,
        }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the last {} events",
            super::scale::thousands(self.events as u64)
        )?;
        match self.span {
            Some(span) => write!(f, " of the last {}", super::event::format_secs(span)),
            None => Ok(()),
        }
    }
}

/// What `CLEARLOOP_TRACE` asks for: one or more outputs, and the [`Window`] the
/// drawn ones show. The default has no output: the run is recorded, and read
/// through its [`Recorder`](super::Recorder) only.
///
/// ```
/// use std::time::Duration;
/// use clearloop::trace::{Output, TraceConfig};
///
/// let config = TraceConfig::default()
///     .with(Output::Timeline)
///     .with(Output::Svg("run.svg".into()))
///     .keep_span(Duration::from_secs(60));
/// assert_eq!(config.outputs.len(), 2);
/// assert_eq!(config.window.span, Some(Duration::from_secs(60)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceConfig {
    /// Where the trace goes, in the order given.
    pub outputs: Vec<Output>,
    /// What the recorder keeps in memory for the outputs drawn at the end.
    pub window: Window,
}

/// A `CLEARLOOP_TRACE` value that means nothing to us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEnvError {
    /// The whole value.
    pub value: String,
    /// The comma-separated part that could not be read.
    pub part: String,
    /// What was expected instead.
    pub reason: String,
}

/// What a part of `CLEARLOOP_TRACE` may be, for the error message.
const EXPECTED: &str = "expected 1 (or timeline) for the terminal chart, json:PATH, chrome:PATH \
                        or svg:PATH for a file, several separated by commas, or 0 for off; a \
                        drawn output may end with a window, @60s or @100000 (events)";

impl fmt::Display for TraceEnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CLEARLOOP_TRACE={:?}: cannot read {:?}; {}",
            self.value, self.part, self.reason
        )
    }
}

impl std::error::Error for TraceEnvError {}

impl TraceConfig {
    /// This configuration with one more output.
    pub fn with(mut self, output: Output) -> TraceConfig {
        self.outputs.push(output);
        self
    }

    /// This configuration keeping at most the last `events` events in memory
    /// ([`Window::events`]; at least 1).
    ///
    /// # Panics
    ///
    /// If `events` is 0: a window of nothing would draw nothing.
    #[track_caller]
    pub fn keep_events(mut self, events: usize) -> TraceConfig {
        assert!(
            events > 0,
            "TraceConfig::keep_events(0): the window must keep at least one event; \
             give the number of events the drawings should show (the default is {})",
            Window::EVENTS
        );
        self.window.events = events;
        self
    }

    /// This configuration keeping only the events of the last `span` of trace
    /// time ([`Window::span`]).
    pub fn keep_span(mut self, span: Duration) -> TraceConfig {
        self.window.span = Some(span);
        self
    }

    /// Reads `CLEARLOOP_TRACE`; `Ok(None)` when tracing is off.
    ///
    /// # Errors
    ///
    /// A value [`parse`](TraceConfig::parse) cannot read.
    pub fn from_env() -> Result<Option<TraceConfig>, TraceEnvError> {
        match std::env::var("CLEARLOOP_TRACE") {
            Ok(value) => TraceConfig::parse(&value),
            Err(_) => Ok(None),
        }
    }

    /// Reads a `CLEARLOOP_TRACE` value (see the table above); `Ok(None)` for off.
    ///
    /// ```
    /// use clearloop::trace::{Output, TraceConfig};
    ///
    /// let config = TraceConfig::parse("timeline,svg:/tmp/run.svg").unwrap().unwrap();
    /// assert_eq!(config.outputs, [Output::Timeline, Output::Svg("/tmp/run.svg".into())]);
    /// assert_eq!(TraceConfig::parse("off"), Ok(None));
    /// assert!(TraceConfig::parse("yes please").is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// A part that is none of the forms of the table, or a file form with no path.
    pub fn parse(value: &str) -> Result<Option<TraceConfig>, TraceEnvError> {
        let trimmed = value.trim();
        if matches!(trimmed, "" | "0" | "off" | "false" | "no") {
            return Ok(None);
        }
        let mut config = TraceConfig::default();
        // The window's terms as given, to refuse two different values for one.
        let (mut events, mut span) = (None, None);
        for part in trimmed.split(',').map(str::trim) {
            let error = |reason: &str| TraceEnvError {
                value: value.to_string(),
                part: part.to_string(),
                reason: reason.to_string(),
            };
            // Trailing `@TERM`s are the window; an `@` that reads as none is the path's.
            let mut output = part;
            let mut terms = Vec::new();
            while let Some((rest, term)) = output.rsplit_once('@') {
                match window_term(term) {
                    Some(term) => terms.push(term),
                    None => break,
                }
                output = rest;
            }
            let file = |prefix: &str| {
                output
                    .strip_prefix(prefix)
                    .filter(|p| !p.is_empty())
                    .map(PathBuf::from)
            };
            let output = match output {
                "1" | "on" | "true" | "yes" | "timeline" => Output::Timeline,
                _ => {
                    if let Some(path) = file("json:").or_else(|| file("jsonl:")) {
                        Output::JsonLines(path)
                    } else if let Some(path) = file("chrome:") {
                        Output::Chrome(path)
                    } else if let Some(path) = file("svg:") {
                        Output::Svg(path)
                    } else {
                        return Err(error(EXPECTED));
                    }
                }
            };
            if !terms.is_empty() && matches!(output, Output::JsonLines(_)) {
                return Err(error(
                    "the JSON lines are streamed whole, every event: a window (@...) applies \
                     to timeline, svg: and chrome:; put it on one of those",
                ));
            }
            for term in terms {
                let clash = match term {
                    Term::Events(n) => events.replace(n).is_some_and(|old| old != n),
                    Term::Span(t) => span.replace(t).is_some_and(|old| old != t),
                };
                if clash {
                    return Err(error(
                        "the window is the trace's, one for all the drawn outputs: this part \
                         asks for another than an earlier part; give it once",
                    ));
                }
            }
            config.outputs.push(output);
        }
        if let Some(events) = events {
            config.window.events = events;
        }
        config.window.span = span.or(config.window.span);
        Ok(Some(config))
    }

    /// Writes `events` to every output: the timeline to standard error (in the
    /// terminal's charset), the files created or replaced. For a trace already in
    /// hand (one read back from JSON lines, say); a runtime's recorder streams its
    /// JSON lines and draws the others at the end instead.
    ///
    /// # Errors
    ///
    /// The first file that cannot be written, with its path in the message.
    pub fn write(&self, events: &[Event]) -> std::io::Result<()> {
        self.write_outputs(events, true)
    }

    /// Writes the drawn outputs (timeline, SVG, Chrome) of `events`, and the JSON
    /// lines too if `json`.
    pub(crate) fn write_outputs(&self, events: &[Event], json: bool) -> std::io::Result<()> {
        for output in &self.outputs {
            let (path, text) = match output {
                Output::Timeline => {
                    let chart =
                        render_terminal(&Timeline::from_events(events), Charset::from_env());
                    eprint!("{chart}");
                    continue;
                }
                Output::JsonLines(_) if !json => continue,
                Output::JsonLines(path) => (path, to_json_lines(events)),
                Output::Chrome(path) => (path, to_chrome_trace(events)),
                Output::Svg(path) => (path, render_svg(&Timeline::from_events(events))),
            };
            std::fs::write(path, text).map_err(|error| {
                let message = format!("writing the trace to {}: {error}", path.display());
                std::io::Error::new(error.kind(), message)
            })?;
        }
        Ok(())
    }
}

/// One `@` term of a window: a number of events, or a stretch of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Term {
    Events(usize),
    Span(Duration),
}

/// `100000` (events, at least 1), `60s`, `500ms`, `1.5s`, `5m` or `5min`, `1h`.
fn window_term(text: &str) -> Option<Term> {
    if let Ok(events) = text.replace('_', "").parse::<usize>() {
        return (events > 0).then_some(Term::Events(events));
    }
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "s" => number,
        "m" | "min" => number * 60.0,
        "h" => number * 3600.0,
        _ => return None,
    };
    let span = Duration::try_from_secs_f64(seconds).ok()?;
    (!span.is_zero()).then_some(Term::Span(span))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_the_table_is_read() {
        let outputs = |value| TraceConfig::parse(value).unwrap().map(|c| c.outputs);
        for off in ["", " ", "0", "off", "false", "no"] {
            assert_eq!(outputs(off), None, "{off:?}");
        }
        for on in ["1", "on", "true", "yes", "timeline"] {
            assert_eq!(outputs(on), Some(vec![Output::Timeline]), "{on:?}");
        }
        let files = outputs("json:a.jsonl, jsonl:b, chrome:c.json,svg:d.svg").unwrap();
        assert_eq!(
            files,
            [
                Output::JsonLines("a.jsonl".into()),
                Output::JsonLines("b".into()),
                Output::Chrome("c.json".into()),
                Output::Svg("d.svg".into()),
            ]
        );
    }

    #[test]
    fn a_window_ends_a_drawn_output_and_is_the_traces() {
        let config = |value| TraceConfig::parse(value).unwrap().unwrap();
        let secs = Duration::from_secs;
        let svg = config("svg:run.svg@60s,timeline");
        assert_eq!(
            svg.outputs,
            [Output::Svg("run.svg".into()), Output::Timeline]
        );
        assert_eq!(
            svg.window,
            Window {
                events: Window::EVENTS,
                span: Some(secs(60))
            }
        );
        let both = config("timeline@1.5s@200_000,chrome:a@b.json@200000");
        assert_eq!(both.window.events, 200_000);
        assert_eq!(both.window.span, Some(Duration::from_millis(1500)));
        assert_eq!(both.outputs[1], Output::Chrome("a@b.json".into()));
        assert_eq!(config("timeline@5m").window.span, Some(secs(300)));
        assert_eq!(config("timeline").window, Window::default());
        assert_eq!(
            config("timeline@500ms").window.span,
            Some(Duration::from_millis(500))
        );
        assert_eq!(config("timeline@1h").window.span, Some(secs(3600)));
        assert_eq!(
            config("svg:x@home.svg").outputs,
            [Output::Svg("x@home.svg".into())]
        );
        for (bad, says) in [
            ("json:t.jsonl@60s", "streamed whole"),
            (
                "timeline@60s,svg:r.svg@30s",
                "one for all the drawn outputs",
            ),
            ("timeline@0", "expected 1"),
        ] {
            let error = TraceConfig::parse(bad).unwrap_err();
            assert!(error.to_string().contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn a_typo_is_an_error_naming_the_part() {
        let error = TraceConfig::parse("timeline,svg:").unwrap_err();
        assert_eq!(error.part, "svg:");
        assert!(
            error.to_string().contains("cannot read \"svg:\""),
            "{error}"
        );
        assert_eq!(TraceConfig::parse("timelime").unwrap_err().part, "timelime");
    }

    #[test]
    fn files_are_written_and_a_bad_path_is_named() {
        let dir =
            std::env::temp_dir().join(format!("clearloop-trace-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("run.jsonl");
        let config = TraceConfig::default().with(Output::JsonLines(path.clone()));
        let events = [Event::new(
            Default::default(),
            crate::trace::EventKind::TimerFired {
                task: crate::trace::TaskId(3),
            },
        )];
        config.write(&events).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"t_ns\":0,\"ev\":\"timer_fired\",\"task\":3}\n"
        );
        let bad = TraceConfig::default().with(Output::Svg(dir.join("no/such/dir/x.svg")));
        let error = bad.write(&events).unwrap_err();
        assert!(error.to_string().contains("no/such/dir/x.svg"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
