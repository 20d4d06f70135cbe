//! `at()`: the time of day (or of the hour, or of the minute) a job runs at.
//!
//! Python's `Job.at(time_str)` checks the text with a regular expression chosen by
//! the unit, then splits it on `:`. The same three formats here, checked by hand:
//!
//! ```text
//!   unit                    accepts               sets                 example
//!   days, weekdays          "HH:MM:SS", "HH:MM"   hour, minute, second "10:30"  -> 10:30:00
//!   hours                   "MM:SS", ":MM"        minute, second       ":15"    -> xx:15:00
//!   minutes                 ":SS"                 second               ":17"    -> xx:xx:17
//! ```
//!
//! Every field is two digits; hours go to 23, minutes and seconds to 59. A field the
//! format does not set is left as it is in the current time (`None` below).

use std::fmt;

use super::ScheduleError;

/// Which `at()` format applies: it depends on the job's unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AtKind {
    /// `every(..).days()` and weekday jobs: a time of day.
    Daily,
    /// `every(..).hours()`: a minute and second of the hour.
    Hourly,
    /// `every(..).minutes()`: a second of the minute.
    Minutely,
}

/// A parsed `at()` text. `None` fields are not fixed by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AtTime {
    pub(crate) hour: Option<i8>,
    pub(crate) minute: Option<i8>,
    pub(crate) second: i8,
}

/// Shown as Python shows its `at_time` (a `datetime.time`): unset fields as 00.
impl fmt::Display for AtTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, m) = (self.hour.unwrap_or(0), self.minute.unwrap_or(0));
        write!(f, "{h:02}:{m:02}:{:02}", self.second)
    }
}

impl AtKind {
    fn job(self) -> &'static str {
        match self {
            AtKind::Daily => "daily",
            AtKind::Hourly => "hourly",
            AtKind::Minutely => "minutely",
        }
    }

    fn expected(self) -> &'static str {
        match self {
            AtKind::Daily => "\"HH:MM:SS\" or \"HH:MM\", e.g. \"10:30\"",
            AtKind::Hourly => "\"MM:SS\" or \":MM\", e.g. \":15\"",
            AtKind::Minutely => "\":SS\", e.g. \":17\"",
        }
    }
}

/// Parses `text` in the format of `kind`.
pub(crate) fn parse(text: &str, kind: AtKind) -> Result<AtTime, ScheduleError> {
    let error = |reason: String| ScheduleError::AtFormat {
        text: text.to_owned(),
        job: kind.job(),
        expected: kind.expected(),
        reason,
    };
    let parts: Vec<&str> = text.split(':').collect();
    // An empty first part is allowed only where the format starts with ':'.
    let field = |part: &str, name: &str, max: i8| -> Result<i8, ScheduleError> {
        if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error(format!("{name} {part:?} is not two digits")));
        }
        let value: i8 = part
            .parse()
            .map_err(|_| error(format!("{name} {part:?}")))?;
        if value > max {
            return Err(error(format!("{name} {value} is not in 00-{max}")));
        }
        Ok(value)
    };
    match (kind, parts.as_slice()) {
        (AtKind::Daily, [h, m]) => Ok(AtTime {
            hour: Some(field(h, "hour", 23)?),
            minute: Some(field(m, "minute", 59)?),
            second: 0,
        }),
        (AtKind::Daily, [h, m, s]) => Ok(AtTime {
            hour: Some(field(h, "hour", 23)?),
            minute: Some(field(m, "minute", 59)?),
            second: field(s, "second", 59)?,
        }),
        // ":MM": Python reads the part after the colon as minutes for an hourly job.
        (AtKind::Hourly, ["", m]) => Ok(AtTime {
            hour: None,
            minute: Some(field(m, "minute", 59)?),
            second: 0,
        }),
        (AtKind::Hourly, [m, s]) => Ok(AtTime {
            hour: None,
            minute: Some(field(m, "minute", 59)?),
            second: field(s, "second", 59)?,
        }),
        (AtKind::Minutely, ["", s]) => Ok(AtTime {
            hour: None,
            minute: None,
            second: field(s, "second", 59)?,
        }),
        _ => Err(error("wrong shape".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: Option<i8>, m: Option<i8>, s: i8) -> AtTime {
        AtTime {
            hour: h,
            minute: m,
            second: s,
        }
    }

    #[test]
    fn accepts_each_format() {
        let cases = [
            ("10:30", AtKind::Daily, at(Some(10), Some(30), 0)),
            ("23:59:59", AtKind::Daily, at(Some(23), Some(59), 59)),
            ("00:00", AtKind::Daily, at(Some(0), Some(0), 0)),
            (":15", AtKind::Hourly, at(None, Some(15), 0)),
            ("15:30", AtKind::Hourly, at(None, Some(15), 30)),
            (":17", AtKind::Minutely, at(None, None, 17)),
        ];
        for (text, kind, expected) in cases {
            assert_eq!(parse(text, kind), Ok(expected), "at({text:?}) as {kind:?}");
        }
    }

    #[test]
    fn rejects_with_the_expected_format() {
        let cases = [
            ("25:00", AtKind::Daily, "hour 25 is not in 00-23"),
            ("10:61", AtKind::Daily, "minute 61 is not in 00-59"),
            ("ab", AtKind::Daily, "wrong shape"),
            ("9:30", AtKind::Daily, "hour \"9\" is not two digits"),
            ("10:30:", AtKind::Daily, "second \"\" is not two digits"),
            (":60", AtKind::Hourly, "minute 60 is not in 00-59"),
            ("10:30:00", AtKind::Hourly, "wrong shape"),
            ("17", AtKind::Minutely, "wrong shape"),
            ("00:17", AtKind::Minutely, "wrong shape"),
        ];
        for (text, kind, reason) in cases {
            let message = parse(text, kind).unwrap_err().to_string();
            assert!(message.contains(reason), "at({text:?}): {message}");
            assert!(message.contains(kind.expected()), "at({text:?}): {message}");
        }
    }

    #[test]
    fn displays_like_a_python_time() {
        assert_eq!(at(Some(10), Some(30), 0).to_string(), "10:30:00");
        assert_eq!(at(None, None, 17).to_string(), "00:00:17");
    }
}
