//! JSON lines: one event per line, written and read back by this file alone.
//!
//! Each line is a flat JSON object (no nesting, no arrays); values are strings,
//! non-negative integers or `null`. Times are integers in nanoseconds, so a
//! virtual-clock trace reads back exactly. The fields are listed in the table of
//! the [`trace`](super) module's doc.
//!
//! ```text
//! {"t_ns":0,"ev":"spawned","task":1,"name":"Task-1","parent":0}
//! {"t_ns":0,"ev":"timer_registered","task":1,"due_ns":2000000000}
//! {"t_ns":2000000000,"ev":"done","task":1,"outcome":"value"}
//! ```
//!
//! Why no serde: the format is one level deep with three kinds of values, so the
//! writer is a few lines and the reader a small hand-written scanner, both readable
//! here; serde and serde_json would be the crate's first derive macros and its
//! largest dependencies, for a format this plain.

use std::fmt;
use std::io::Write as _;
use std::time::Duration;

use super::event::{Event, EventKind, Outcome, Resource, ResourceKind, TaskId, WakeSource};

/// One JSON value of a trace line, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Str(String),
    Int(u64),
    Null,
}

/// The events as JSON lines, one per line, each ending in `\n`.
pub fn to_json_lines(events: &[Event]) -> String {
    let mut out = Vec::new();
    for event in events {
        push_json_line(&mut out, event);
    }
    text(out)
}

/// One event as one JSON object, without the newline.
pub fn to_json_line(event: &Event) -> String {
    let mut line = Vec::new();
    push_json_line(&mut line, event);
    line.pop();
    text(line)
}

/// Bytes written from `&str`s and ASCII as text (the check cannot fail).
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// Appends `event` to `out` as one line of UTF-8, its `\n` included. Written
/// straight into `out`, field by field, with no allocation of its own: the
/// recorder's stream turns every event of a run into a line this way.
pub(crate) fn push_json_line(out: &mut Vec<u8>, event: &Event) {
    out.reserve(128); // most lines fit: one check here, none growing below
    out.extend_from_slice(b"{\"t_ns\":");
    push_u64(out, nanos(event.at));
    out.extend_from_slice(b",\"ev\":\"");
    out.extend_from_slice(tag(&event.kind).as_bytes());
    out.push(b'"');
    if let Some(task) = event.kind.task() {
        int(out, "task", task.0);
    }
    match &event.kind {
        EventKind::Spawned { name, parent, .. } => {
            text_field(out, "name", name);
            match parent {
                Some(parent) => int(out, "parent", parent.0),
                None => out.extend_from_slice(b",\"parent\":null"),
            }
        }
        EventKind::PollStart { worker, .. } | EventKind::PollEnd { worker, .. } => {
            int(out, "worker", *worker as u64);
        }
        EventKind::Woken { by, .. } => match by {
            WakeSource::Timer => text_field(out, "by", "timer"),
            WakeSource::Task(waker) => {
                text_field(out, "by", "task");
                int(out, "waker", waker.0);
            }
            WakeSource::Thread => text_field(out, "by", "thread"),
            WakeSource::Io => text_field(out, "by", "io"),
        },
        EventKind::TimerRegistered { due, .. } => int(out, "due_ns", nanos(*due)),
        EventKind::TimerFired { .. } => {}
        EventKind::Waiting { resource, .. } | EventKind::Granted { resource, .. } => {
            text_field(out, "resource", resource.kind.word());
            text_field(out, "resource_name", &resource.name);
        }
        EventKind::IoWaiting { source, read, .. } => {
            text_field(out, "source", source);
            text_field(out, "direction", if *read { "read" } else { "write" });
        }
        EventKind::TimedOut { after, .. } => int(out, "after_ns", nanos(*after)),
        EventKind::SpawnedAt { location, .. } => text_field(out, "location", location),
        EventKind::Done { outcome, .. } => match outcome {
            Outcome::Value => text_field(out, "outcome", "value"),
            Outcome::Panic(message) => {
                text_field(out, "outcome", "panic");
                text_field(out, "message", message);
            }
            Outcome::Cancelled => text_field(out, "outcome", "cancelled"),
            Outcome::TimedOut => text_field(out, "outcome", "timed_out"),
        },
        EventKind::SchedRun { name, took } | EventKind::JobRun { name, took } => {
            text_field(out, "name", name);
            int(out, "took_ns", nanos(*took));
        }
        EventKind::Dropped { count } => int(out, "count", *count),
    }
    out.extend_from_slice(b"}\n");
}

/// `,"key":123`
fn int(out: &mut Vec<u8>, key: &str, value: u64) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    push_u64(out, value);
}

/// `,"key":"value"`, escaped.
fn text_field(out: &mut Vec<u8>, key: &str, value: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    push_json_string(out, value);
}

/// `n` in decimal, without going through `fmt` (a `Formatter` per number): two
/// digits per division, from a table, as `itoa` and `core` itself do.
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
                                2021222324252627282930313233343536373839\
                                4041424344454647484950515253545556575859\
                                6061626364656667686970717273747576777879\
                                8081828384858687888990919293949596979899";
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        digits[at] = b'0' + n as u8;
    }
    out.extend_from_slice(&digits[at..]);
}

/// The `ev` field: the event's kind in snake case.
fn tag(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Spawned { .. } => "spawned",
        EventKind::PollStart { .. } => "poll_start",
        EventKind::PollEnd { .. } => "poll_end",
        EventKind::Woken { .. } => "woken",
        EventKind::TimerRegistered { .. } => "timer_registered",
        EventKind::TimerFired { .. } => "timer_fired",
        EventKind::Waiting { .. } => "waiting",
        EventKind::Granted { .. } => "granted",
        EventKind::IoWaiting { .. } => "io_waiting",
        EventKind::TimedOut { .. } => "timed_out",
        EventKind::SpawnedAt { .. } => "spawned_at",
        EventKind::Done { .. } => "done",
        EventKind::SchedRun { .. } => "sched_run",
        EventKind::JobRun { .. } => "job_run",
        EventKind::Dropped { .. } => "dropped",
    }
}

/// Nanoseconds in a u64: 584 years, longer than any trace.
fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// `text` as a JSON string literal, quotes included: `"`, `\` and control
/// characters escaped, everything else (UTF-8 included) as is.
pub fn json_string(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len() + 2);
    push_json_string(&mut out, text);
    self::text(out)
}

/// Appends [`json_string`]`(text)` to `out`.
fn push_json_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    // Names are nearly always plain: one scan, one copy.
    if !text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
        return;
    }
    for c in text.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out.push(b'"');
}

/// A line that is not a trace event, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The line's number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "trace JSON lines, line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Reads JSON lines back into events (blank lines are skipped).
///
/// # Errors
///
/// The first line that is not a flat JSON object, or lacks a field its `ev` needs.
pub fn from_json_lines(text: &str) -> Result<Vec<Event>, ParseError> {
    let mut events = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let error = |message: String| ParseError {
            line: n + 1,
            message,
        };
        let fields = Scanner::new(line).object().map_err(error)?;
        events.push(event_from(&fields).map_err(error)?);
    }
    Ok(events)
}

/// The fields of one parsed line, looked up by name.
struct Line(Vec<(String, Value)>);

impl Line {
    fn get(&self, key: &str) -> Result<&Value, String> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .ok_or_else(|| format!("missing field \"{key}\""))
    }
    fn int(&self, key: &str) -> Result<u64, String> {
        match self.get(key)? {
            Value::Int(n) => Ok(*n),
            other => Err(format!(
                "field \"{key}\" should be an integer, not {other:?}"
            )),
        }
    }
    fn text(&self, key: &str) -> Result<String, String> {
        match self.get(key)? {
            Value::Str(s) => Ok(s.clone()),
            other => Err(format!("field \"{key}\" should be a string, not {other:?}")),
        }
    }
    fn task(&self, key: &str) -> Result<TaskId, String> {
        self.int(key).map(TaskId)
    }
    fn time(&self, key: &str) -> Result<Duration, String> {
        self.int(key).map(Duration::from_nanos)
    }
    fn resource(&self) -> Result<Resource, String> {
        let word = self.text("resource")?;
        let kind = ResourceKind::from_word(&word)
            .ok_or_else(|| format!("unknown resource kind \"{word}\""))?;
        Ok(Resource::new(kind, self.text("resource_name")?))
    }
}

fn event_from(fields: &[(String, Value)]) -> Result<Event, String> {
    let line = Line(fields.to_vec());
    let at = line.time("t_ns")?;
    let ev = line.text("ev")?;
    let task = || line.task("task");
    let worker = || line.int("worker").map(|w| w as usize);
    let kind = match ev.as_str() {
        "spawned" => EventKind::Spawned {
            task: task()?,
            name: line.text("name")?,
            parent: match line.get("parent")? {
                Value::Null => None,
                _ => Some(line.task("parent")?),
            },
        },
        "poll_start" => EventKind::PollStart {
            task: task()?,
            worker: worker()?,
        },
        "poll_end" => EventKind::PollEnd {
            task: task()?,
            worker: worker()?,
        },
        "woken" => EventKind::Woken {
            task: task()?,
            by: wake_source(&line)?,
        },
        "timer_registered" => EventKind::TimerRegistered {
            task: task()?,
            due: line.time("due_ns")?,
        },
        "timer_fired" => EventKind::TimerFired { task: task()? },
        "waiting" => EventKind::Waiting {
            task: task()?,
            resource: line.resource()?,
        },
        "granted" => EventKind::Granted {
            task: task()?,
            resource: line.resource()?,
        },
        "done" => EventKind::Done {
            task: task()?,
            outcome: outcome(&line)?,
        },
        "io_waiting" => EventKind::IoWaiting {
            task: task()?,
            source: line.text("source")?,
            read: match line.text("direction")?.as_str() {
                "read" => true,
                "write" => false,
                other => return Err(format!("unknown direction \"{other}\"")),
            },
        },
        "timed_out" => EventKind::TimedOut {
            task: task()?,
            after: line.time("after_ns")?,
        },
        "spawned_at" => EventKind::SpawnedAt {
            task: task()?,
            location: line.text("location")?,
        },
        "sched_run" => EventKind::SchedRun {
            name: line.text("name")?,
            took: line.time("took_ns")?,
        },
        "job_run" => EventKind::JobRun {
            name: line.text("name")?,
            took: line.time("took_ns")?,
        },
        "dropped" => EventKind::Dropped {
            count: line.int("count")?,
        },
        other => return Err(format!("unknown event \"{other}\"")),
    };
    Ok(Event { at, kind })
}

fn wake_source(line: &Line) -> Result<WakeSource, String> {
    match line.text("by")?.as_str() {
        "timer" => Ok(WakeSource::Timer),
        "task" => Ok(WakeSource::Task(line.task("waker")?)),
        "thread" => Ok(WakeSource::Thread),
        "io" => Ok(WakeSource::Io),
        other => Err(format!("unknown waker \"{other}\"")),
    }
}

fn outcome(line: &Line) -> Result<Outcome, String> {
    match line.text("outcome")?.as_str() {
        "value" => Ok(Outcome::Value),
        "panic" => Ok(Outcome::Panic(line.text("message")?)),
        "cancelled" => Ok(Outcome::Cancelled),
        "timed_out" => Ok(Outcome::TimedOut),
        other => Err(format!("unknown outcome \"{other}\"")),
    }
}

/// Reads one flat JSON object, left to right.
struct Scanner<'a> {
    rest: &'a str,
}

impl<'a> Scanner<'a> {
    fn new(line: &'a str) -> Scanner<'a> {
        Scanner { rest: line }
    }

    fn skip_spaces(&mut self) {
        self.rest = self.rest.trim_start();
    }

    /// Consumes `c` (after spaces) or says what was found instead.
    fn expect(&mut self, c: char) -> Result<(), String> {
        self.skip_spaces();
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                Ok(())
            }
            None => Err(format!("expected '{c}' at \"{}\"", preview(self.rest))),
        }
    }

    fn object(&mut self) -> Result<Vec<(String, Value)>, String> {
        self.expect('{')?;
        let mut fields = Vec::new();
        self.skip_spaces();
        if let Some(rest) = self.rest.strip_prefix('}') {
            self.rest = rest;
        } else {
            loop {
                self.skip_spaces();
                let key = self.string()?;
                self.expect(':')?;
                fields.push((key, self.value()?));
                self.skip_spaces();
                if let Some(rest) = self.rest.strip_prefix(',') {
                    self.rest = rest;
                    continue;
                }
                self.expect('}')?;
                break;
            }
        }
        self.skip_spaces();
        if !self.rest.is_empty() {
            return Err(format!(
                "unexpected text after the object: \"{}\"",
                preview(self.rest)
            ));
        }
        Ok(fields)
    }

    fn value(&mut self) -> Result<Value, String> {
        self.skip_spaces();
        if self.rest.starts_with('"') {
            return self.string().map(Value::Str);
        }
        if let Some(rest) = self.rest.strip_prefix("null") {
            self.rest = rest;
            return Ok(Value::Null);
        }
        let digits = self.rest.len()
            - self
                .rest
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .len();
        if digits == 0 {
            return Err(format!(
                "a trace holds strings, non-negative integers and null only; found \"{}\"",
                preview(self.rest)
            ));
        }
        let (number, rest) = self.rest.split_at(digits);
        self.rest = rest;
        number
            .parse()
            .map(Value::Int)
            .map_err(|e| format!("{number}: {e}"))
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect('"')?;
        let mut out = String::new();
        let mut chars = self.rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &self.rest[i + 1..];
                    return Ok(out);
                }
                '\\' => out.push(unescape(&mut chars)?),
                c => out.push(c),
            }
        }
        Err("a string has no closing quote".to_string())
    }
}

/// The character an escape stands for; `chars` is just past the backslash.
fn unescape(chars: &mut std::str::CharIndices<'_>) -> Result<char, String> {
    let escaped = match chars.next().map(|(_, c)| c) {
        Some('"') => '"',
        Some('\\') => '\\',
        Some('/') => '/',
        Some('b') => '\u{8}',
        Some('f') => '\u{c}',
        Some('n') => '\n',
        Some('r') => '\r',
        Some('t') => '\t',
        Some('u') => {
            let first = hex4(chars)?;
            if (0xD800..0xDC00).contains(&first) {
                // A surrogate pair: `\ud83d\ude00` is one character.
                let (Some((_, '\\')), Some((_, 'u'))) = (chars.next(), chars.next()) else {
                    return Err("a \\u surrogate is not followed by its pair".to_string());
                };
                let second = hex4(chars)?;
                let code =
                    0x10000 + ((first - 0xD800) << 10) + (second.wrapping_sub(0xDC00) & 0x3FF);
                return char::from_u32(code).ok_or_else(|| "invalid surrogate pair".to_string());
            }
            return char::from_u32(first).ok_or_else(|| format!("invalid \\u{first:04x}"));
        }
        other => return Err(format!("invalid escape \\{}", other.unwrap_or(' '))),
    };
    Ok(escaped)
}

fn hex4(chars: &mut std::str::CharIndices<'_>) -> Result<u32, String> {
    let digits: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
    u32::from_str_radix(&digits, 16).map_err(|_| format!("invalid \\u escape \"{digits}\""))
}

/// The start of `text`, for an error message.
fn preview(text: &str) -> String {
    text.chars().take(20).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_with_quotes_controls_and_unicode_read_back_unchanged() {
        for text in [
            "plain",
            "say \"hi\"",
            "back\\slash",
            "tab\tnew\nline\u{1}",
            "é ✓ 😀",
        ] {
            let literal = json_string(text);
            assert_eq!(
                Scanner::new(&literal).string().as_deref(),
                Ok(text),
                "{literal}"
            );
        }
        let pair = Scanner::new(r#""\ud83d\ude00 \u00e9""#).string();
        assert_eq!(pair.as_deref(), Ok("😀 é"));
    }

    #[test]
    fn numbers_of_every_width_are_written_in_full() {
        for n in [0, 7, 10, 99, 100, 999, 1_000_000_007, u64::MAX] {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    #[test]
    fn a_broken_line_names_its_number_and_the_problem() {
        let text =
            "{\"t_ns\":0,\"ev\":\"timer_fired\",\"task\":1}\n\n{\"t_ns\":1,\"ev\":\"done\"}\n";
        let error = from_json_lines(text).unwrap_err();
        assert_eq!(error.line, 3);
        assert_eq!(
            error.to_string(),
            "trace JSON lines, line 3: missing field \"task\""
        );
        for bad in [
            "[1]",
            "{\"t_ns\":-1}",
            "{\"a\":1} x",
            "{\"a\":\"open}",
            "{\"t_ns\":1.5}",
        ] {
            assert!(from_json_lines(bad).is_err(), "{bad} should not parse");
        }
    }
}
