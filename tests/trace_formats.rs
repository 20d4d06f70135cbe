//! The SVG and Chrome exports, drawn from the traces in `tests/golden/*.jsonl`
//! (written by tests/trace_render.rs): the renderers work from JSON lines alone, as
//! they will for a run saved with `CLEARLOOP_TRACE=json:PATH`.
//!
//! `tests/golden/trace_semaphore.svg` is the picture to look at (README: tracing);
//! `CLEARLOOP_BLESS=1 cargo test --test trace_formats` regenerates it.

use std::path::PathBuf;

use clearloop::trace::{Event, Timeline, from_json_lines, render_svg, to_chrome_trace};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// One of the course's traces, read back from its JSON lines.
fn load(name: &str) -> Vec<Event> {
    let path = golden_dir().join(format!("trace_{name}.jsonl"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    from_json_lines(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_chrome_export_is_json_with_names_polls_and_instants() {
    let text = to_chrome_trace(&load("semaphore"));
    let Json::Array(events) = Json::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}")) else {
        panic!("not an array:\n{text}");
    };
    let phase = |event: &Json| {
        event
            .get("ph")
            .and_then(Json::text)
            .unwrap_or("?")
            .to_string()
    };
    let count = |ph: &str| events.iter().filter(|e| phase(e) == ph).count();
    assert_eq!(count("M"), 7, "a thread_name per task");
    assert!(count("X") > 0 && count("i") > 0, "segments and instants");
    for event in &events {
        for key in ["name", "ph", "pid", "tid"] {
            assert!(event.get(key).is_some(), "{key} missing in {event:?}");
        }
        if phase(event) == "X" {
            assert!(matches!(
                (event.get("ts"), event.get("dur")),
                (Some(Json::Number(_)), Some(Json::Number(_)))
            ));
        }
    }
    let sleeping = events
        .iter()
        .filter(|e| e.get("name").and_then(Json::text) == Some("sleeping (timer)"));
    let durations: Vec<f64> = sleeping.filter_map(|e| e.get("dur")?.number()).collect();
    assert_eq!(durations, [1_000_000.0; 6], "each task sleeps 1 s = 1e6 us");
}

#[test]
fn the_svg_is_well_formed_with_one_group_per_task() {
    for name in ["create_task", "sequential", "semaphore"] {
        let timeline = Timeline::from_events(&load(name));
        let svg = render_svg(&timeline);
        check_xml(&svg).unwrap_or_else(|e| panic!("{name}: {e}\n{svg}"));
        let groups = svg.matches("<g class=\"task\">").count();
        assert_eq!(groups, timeline.rows.len(), "{name}");
        for row in &timeline.rows {
            assert!(
                svg.contains(&format!(">{}</text>", row.label)),
                "{name}: no label {}",
                row.label
            );
        }
        assert!(
            svg.contains("<title>Task-").ne(&(name == "sequential")),
            "{name}: hover titles"
        );
        assert!(!svg.contains("<script"), "no JavaScript");
    }
    let semaphore = render_svg(&Timeline::from_events(&load("semaphore")));
    let path = golden_dir().join("trace_semaphore.svg");
    if std::env::var("CLEARLOOP_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &semaphore).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    let hint = "regenerate with CLEARLOOP_BLESS=1 cargo test --test trace_formats";
    assert!(expected == semaphore, "{} differs; {hint}", path.display());
}

/// Checks that every tag is closed in order, attributes are quoted, and text holds
/// no stray `<` or `&`.
fn check_xml(text: &str) -> Result<(), String> {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        check_text(&rest[..start])?;
        let end = rest[start..]
            .find('>')
            .ok_or("a tag is not closed with '>'")?
            + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if !tag.matches('"').count().is_multiple_of(2) || tag.contains('<') {
            return Err(format!("bad tag <{tag}>"));
        }
        if let Some(name) = tag.strip_prefix('/') {
            match open.pop() {
                Some(top) if top == name.trim() => {}
                top => return Err(format!("</{name}> closes {top:?}")),
            }
        } else if !tag.ends_with('/') {
            open.push(tag.split_whitespace().next().ok_or("empty tag")?);
        }
    }
    check_text(rest)?;
    match open.is_empty() {
        true => Ok(()),
        false => Err(format!("never closed: {open:?}")),
    }
}

fn check_text(text: &str) -> Result<(), String> {
    for (n, _) in text.match_indices('&') {
        let entity = &text[n..text[n..].find(';').map_or(text.len(), |e| n + e + 1)];
        if !["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].contains(&entity) {
            return Err(format!("stray & in text: {entity}"));
        }
    }
    Ok(())
}

/// Just enough JSON to check the Chrome export: a value tree.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn parse(text: &str) -> Result<Json, String> {
        let mut chars = text.trim().chars().peekable();
        let value = Json::value(&mut chars)?;
        match chars.find(|c| !c.is_whitespace()) {
            None => Ok(value),
            Some(c) => Err(format!("text after the value: {c:?}")),
        }
    }

    fn value(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Json, String> {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.next().ok_or("unexpected end")? {
            '[' => Json::items(chars, ']', Json::value).map(Json::Array),
            '{' => Json::items(chars, '}', |chars| {
                let Json::Text(key) = Json::value(chars)? else {
                    return Err("a key is not a string".to_string());
                };
                while chars.next_if(|c| c.is_whitespace()).is_some() {}
                (chars.next() == Some(':'))
                    .then_some(())
                    .ok_or("missing ':'")?;
                Ok((key, Json::value(chars)?))
            })
            .map(Json::Object),
            '"' => {
                let mut text = String::new();
                loop {
                    match chars.next().ok_or("unclosed string")? {
                        '"' => return Ok(Json::Text(text)),
                        '\\' => text.push(chars.next().ok_or("bad escape")?),
                        c if (c as u32) < 0x20 => {
                            return Err("raw control character in a string".to_string());
                        }
                        c => text.push(c),
                    }
                }
            }
            c if c == '-' || c.is_ascii_digit() => {
                let mut number = c.to_string();
                while let Some(c) = chars.next_if(|c| c.is_ascii_digit() || ".eE+-".contains(*c)) {
                    number.push(c);
                }
                number
                    .parse()
                    .map(Json::Number)
                    .map_err(|_| format!("bad number {number}"))
            }
            c => {
                let word: String = std::iter::once(c)
                    .chain(std::iter::from_fn(|| chars.next_if(|c| c.is_alphabetic())))
                    .collect();
                match word.as_str() {
                    "null" => Ok(Json::Null),
                    "true" | "false" => Ok(Json::Bool(word == "true")),
                    _ => Err(format!("unexpected {word:?}")),
                }
            }
        }
    }

    /// Comma-separated items up to `close`.
    fn items<T>(
        chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
        close: char,
        mut item: impl FnMut(&mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        let mut items = Vec::new();
        loop {
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            if items.is_empty() && chars.next_if_eq(&close).is_some() {
                return Ok(items);
            }
            items.push(item(chars)?);
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            match chars.next() {
                Some(',') => continue,
                Some(c) if c == close => return Ok(items),
                other => return Err(format!("expected ',' or {close:?}, found {other:?}")),
            }
        }
    }

    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            Json::Text(text) => Some(text),
            _ => None,
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Json::Number(n) => Some(*n),
            _ => None,
        }
    }
}
