//! `CLEARLOOP_TRACE`: what to record and where to write it, read from the
//! environment (the runtime's `Builder` reads it as it reads `CLEARLOOP_DEBUG`).
//!
//! | value                                 | meaning                                              |
//! |---------------------------------------|------------------------------------------------------|
//! | unset, empty, `0`, `off`, `false`, `no` | tracing off                                        |
//! | `1`, `on`, `true`, `yes`, `timeline`  | at the end of the run, the terminal timeline on stderr |
//! | `json:PATH` (or `jsonl:PATH`)         | the events as JSON lines in file PATH                |
//! | `chrome:PATH`                         | Chrome's trace-event JSON in PATH (Perfetto)         |
//! | `svg:PATH`                            | the SVG timeline in PATH                             |
//!
//! Several at once, separated by commas: `CLEARLOOP_TRACE=timeline,svg:run.svg`.
//! A path cannot contain a comma. Anything else is an error that says what was
//! expected, so a typo does not silently trace nothing.

use std::fmt;
use std::path::PathBuf;

use super::chrome::to_chrome_trace;
use super::event::Event;
use super::jsonl::to_json_lines;
use super::svg::render_svg;
use super::terminal::{Charset, render_terminal};
use super::timeline::Timeline;

/// Where a trace goes at the end of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// The terminal timeline, on standard error.
    Timeline,
    /// JSON lines in a file.
    JsonLines(PathBuf),
    /// Chrome's trace-event JSON in a file.
    Chrome(PathBuf),
    /// The SVG timeline in a file.
    Svg(PathBuf),
}

/// What `CLEARLOOP_TRACE` asks for: one or more outputs. The default has none: the
/// run is recorded, and read through its [`Recorder`](super::Recorder) only.
///
/// ```
/// use clearloop::trace::{Output, TraceConfig};
///
/// let config = TraceConfig::default().with(Output::Timeline).with(Output::Svg("run.svg".into()));
/// assert_eq!(config.outputs.len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceConfig {
    /// Where the trace goes, in the order given.
    pub outputs: Vec<Output>,
}

/// A `CLEARLOOP_TRACE` value that means nothing to us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEnvError {
    /// The whole value.
    pub value: String,
    /// The comma-separated part that could not be read.
    pub part: String,
}

impl fmt::Display for TraceEnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CLEARLOOP_TRACE={:?}: cannot read {:?}; expected 1 (or timeline) for the terminal \
             chart, json:PATH, chrome:PATH or svg:PATH for a file, several separated by commas, \
             or 0 for off",
            self.value, self.part
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
        let mut outputs = Vec::new();
        for part in trimmed.split(',').map(str::trim) {
            let error = || TraceEnvError {
                value: value.to_string(),
                part: part.to_string(),
            };
            let file = |prefix: &str| {
                part.strip_prefix(prefix)
                    .filter(|p| !p.is_empty())
                    .map(PathBuf::from)
            };
            let output = match part {
                "1" | "on" | "true" | "yes" | "timeline" => Output::Timeline,
                _ => {
                    if let Some(path) = file("json:").or_else(|| file("jsonl:")) {
                        Output::JsonLines(path)
                    } else if let Some(path) = file("chrome:") {
                        Output::Chrome(path)
                    } else if let Some(path) = file("svg:") {
                        Output::Svg(path)
                    } else {
                        return Err(error());
                    }
                }
            };
            outputs.push(output);
        }
        Ok(Some(TraceConfig { outputs }))
    }

    /// Writes `events` to every output: the timeline to standard error (in the
    /// terminal's charset), the files created or replaced.
    ///
    /// # Errors
    ///
    /// The first file that cannot be written, with its path in the message.
    pub fn write(&self, events: &[Event]) -> std::io::Result<()> {
        for output in &self.outputs {
            let (path, text) = match output {
                Output::Timeline => {
                    let chart =
                        render_terminal(&Timeline::from_events(events), Charset::from_env());
                    eprint!("{chart}");
                    continue;
                }
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
        let config = TraceConfig {
            outputs: vec![Output::JsonLines(path.clone())],
        };
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
        let bad = TraceConfig {
            outputs: vec![Output::Svg(dir.join("no/such/dir/x.svg"))],
        };
        let error = bad.write(&events).unwrap_err();
        assert!(error.to_string().contains("no/such/dir/x.svg"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
