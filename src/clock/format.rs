//! Printing times the way Python does: `time.strftime('%X')` and `str(timedelta)`.
//!
//! The examples print the same lines as the course's Python programs, so that the two
//! outputs can be compared line by line.
//!
//! ```
//! use std::time::Duration;
//! use clearloop::clock::format_timedelta;
//! assert_eq!(format_timedelta(Duration::from_millis(2500)), "0:00:02.500000");
//! ```

use std::time::{Duration, SystemTime};

/// Formats a wall-clock reading as `HH:MM:SS` in UTC. Python's
/// `time.strftime('%X')` uses local time: for that, read the clock in a time zone
/// with [`Clock::zoned_now`](super::Clock::zoned_now) (the `schedule` feature) and
/// format it with `%X`.
pub fn format_hms(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    format!("{h:02}:{m:02}:{s:02}")
}

/// Formats a duration as Python prints a `timedelta`: `0:00:02.500000`, and from a
/// day on, `7 days, 0:00:00` (`1 day, ...` for one).
pub fn format_timedelta(duration: Duration) -> String {
    let secs = duration.as_secs();
    let (days, h, m, s) = (
        secs / 86_400,
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60,
    );
    let days = match days {
        0 => String::new(),
        1 => "1 day, ".to_string(),
        n => format!("{n} days, "),
    };
    let micros = duration.subsec_micros();
    if micros == 0 {
        format!("{days}{h}:{m:02}:{s:02}")
    } else {
        format!("{days}{h}:{m:02}:{s:02}.{micros:06}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_python() {
        assert_eq!(format_timedelta(Duration::from_millis(2000)), "0:00:02");
        assert_eq!(
            format_timedelta(Duration::from_micros(4_014_359)),
            "0:00:04.014359"
        );
        assert_eq!(format_timedelta(Duration::from_secs(3723)), "1:02:03");
        // Python: str(timedelta(days=7)), str(timedelta(days=1, seconds=3723, microseconds=5))
        assert_eq!(
            format_timedelta(Duration::from_secs(7 * 86_400)),
            "7 days, 0:00:00"
        );
        assert_eq!(
            format_timedelta(Duration::from_micros(86_400_000_000 + 3_723_000_005)),
            "1 day, 1:02:03.000005"
        );
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(15 * 3600 + 31 * 60 + 4);
        assert_eq!(format_hms(t), "15:31:04");
    }
}
