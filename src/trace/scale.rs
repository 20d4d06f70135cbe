//! Round numbers for a time axis: the step between ticks and the text under them;
//! and counts written for people (`1,204,331`).
//!
//! A tick every 0.5 s reads better than one every 0.473 s, so steps are taken from
//! the "1, 2, 5" series (1 ms, 2 ms, 5 ms, 10 ms, ...), as on a ruler.

use std::time::Duration;

/// The smallest duration of the form `m × 10^k` ns (with `m` one of `mantissas`, in
/// tenths: 10 = 1, 25 = 2.5) that is at least `at_least`.
pub(crate) fn round_up(at_least: Duration, mantissas: &[u64]) -> Duration {
    let at_least = at_least.as_nanos().max(1);
    let mut power: u128 = 1;
    loop {
        for &tenths in mantissas {
            // In tenths of a nanosecond, so that 2.5 ns is skipped, not rounded to 2.
            let tenths_of_ns = u128::from(tenths) * power;
            if tenths_of_ns.is_multiple_of(10) && tenths_of_ns >= at_least * 10 {
                let step = tenths_of_ns / 10;
                return Duration::from_nanos(u64::try_from(step).unwrap_or(u64::MAX));
            }
        }
        power *= 10;
    }
}

/// The "1, 2, 5" series, in tenths.
pub(crate) const RULER: [u64; 3] = [10, 20, 50];

/// A tick's text in the largest unit that fits: `0s`, `250ms`, `1.5s`, `40us`; long
/// runs stay in seconds (`150s`). `us`, not `µs`, so that the ASCII chart can use it.
pub(crate) fn tick_label(at: Duration) -> String {
    let nanos = at.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    let (unit, per) = match nanos {
        n if n >= 1_000_000_000 => ("s", 1_000_000_000),
        n if n >= 1_000_000 => ("ms", 1_000_000),
        n if n >= 1_000 => ("us", 1_000),
        _ => ("ns", 1),
    };
    let whole = nanos / per;
    let digits = per.ilog10() as usize;
    let frac = format!("{:0digits$}", nanos % per);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{whole}{unit}")
    } else {
        format!("{whole}.{frac}{unit}")
    }
}

/// `1204331` as `1,204,331`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_round_up_to_the_ruler() {
        let ms = Duration::from_millis;
        for (wanted, with_quarter, ruler) in [
            (ms(23), ms(25), ms(50)),
            (ms(50), ms(50), ms(50)),
            (ms(51), ms(100), ms(100)),
            (
                Duration::from_nanos(3),
                Duration::from_nanos(5),
                Duration::from_nanos(5),
            ),
            (
                Duration::ZERO,
                Duration::from_nanos(1),
                Duration::from_nanos(1),
            ),
        ] {
            assert_eq!(
                round_up(wanted, &[10, 20, 25, 50]),
                with_quarter,
                "{wanted:?}"
            );
            assert_eq!(round_up(wanted, &RULER), ruler, "{wanted:?}");
        }
    }

    #[test]
    fn tick_labels_use_the_largest_unit_and_no_trailing_zeros() {
        let ms = Duration::from_millis;
        for (at, text) in [
            (Duration::ZERO, "0s"),
            (ms(500), "500ms"),
            (ms(1500), "1.5s"),
            (ms(2000), "2s"),
            (Duration::from_micros(40), "40us"),
            (Duration::from_micros(1250), "1.25ms"),
        ] {
            assert_eq!(tick_label(at), text, "{at:?}");
        }
    }

    #[test]
    fn thousands_are_separated_by_commas() {
        for (n, text) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (1_204_331, "1,204,331"),
        ] {
            assert_eq!(thousands(n), text);
        }
    }
}
