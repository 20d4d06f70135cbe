//! The side-by-side tables in Markdown, and the plot as a hand-written SVG.

use std::fmt::Write as _;

use crate::measure::{human, min_median_max};
use crate::rows::Section;

/// What one row measured.
pub struct Measured {
    pub name: &'static str,
    pub section: Section,
    pub what: &'static str,
    pub workers: usize,
    /// Seconds per iteration, one per run.
    pub clearloop: Vec<f64>,
    pub tokio: Vec<f64>,
    /// tokio with `enable_time()` only, for timer rows.
    pub tokio_time_only: Vec<f64>,
    /// clearloop's instructions / tokio's, or why there is none.
    pub instructions: Result<f64, String>,
}

impl Measured {
    fn ratios(&self, theirs: &[f64]) -> Vec<f64> {
        self.clearloop
            .iter()
            .zip(theirs)
            .map(|(a, b)| a / b)
            .collect()
    }
}

/// One line of the plot.
pub struct PlotPoint {
    pub label: String,
    pub min: f64,
    pub median: f64,
    pub max: f64,
    pub instructions: Option<f64>,
}

/// The tables of one section.
pub fn table(rows: &[Measured], section: Section) -> String {
    let mut md = String::from(
        "| workload | threads | clearloop | tokio `enable_all` | ratio, median [min–max] | instructions ratio | tokio time driver only | ratio to it |\n\
         |---|---:|---:|---:|---|---:|---:|---:|\n",
    );
    for row in rows.iter().filter(|r| r.section == section) {
        let (lo, mid, hi) = min_median_max(&row.ratios(&row.tokio));
        let instructions = match &row.instructions {
            Ok(ratio) => format!("{ratio:.2}"),
            Err(why) => format!("— ({why})"),
        };
        let (time_only, ratio_time_only) = if row.tokio_time_only.is_empty() {
            ("".to_owned(), "".to_owned())
        } else {
            let (_, mid_t, _) = min_median_max(&row.ratios(&row.tokio_time_only));
            (
                human(min_median_max(&row.tokio_time_only).1),
                format!("{mid_t:.2}"),
            )
        };
        let threads = if row.workers == 0 {
            "1".to_owned()
        } else {
            format!("{} workers", row.workers)
        };
        let _ = writeln!(
            md,
            "| `{}`<br>{} | {threads} | {} | {} | **{mid:.2}** [{lo:.2}–{hi:.2}] | {instructions} | {time_only} | {ratio_time_only} |",
            row.name,
            row.what,
            human(min_median_max(&row.clearloop).1),
            human(min_median_max(&row.tokio).1),
        );
    }
    md
}

/// The points of the plot for the side-by-side rows.
pub fn plot_points(rows: &[Measured]) -> Vec<PlotPoint> {
    rows.iter()
        .map(|row| {
            let (min, median, max) = min_median_max(&row.ratios(&row.tokio));
            PlotPoint {
                label: row.name.to_owned(),
                min,
                median,
                max,
                instructions: row.instructions.as_ref().ok().copied(),
            }
        })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A horizontal plot of the ratios on a log scale from 1/32 to 32: a dot at the
/// median, a bar from min to max, a hollow diamond at the instruction ratio, and
/// the line at 1.0 (left of it, clearloop is faster).
pub fn svg(points: &[PlotPoint], title: &str) -> String {
    const LEFT: f64 = 330.0;
    const WIDTH: f64 = 520.0;
    const ROW: f64 = 18.0;
    const TOP: f64 = 60.0;
    let (lo, hi) = (1.0f64 / 32.0, 32.0f64);
    let x = |ratio: f64| {
        let r = ratio.clamp(lo, hi);
        LEFT + (r.log2() - lo.log2()) / (hi.log2() - lo.log2()) * WIDTH
    };
    let height = TOP + ROW * points.len() as f64 + 50.0;
    let total_width = LEFT + WIDTH + 30.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{total_width}" height="{height}" viewBox="0 0 {total_width} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="10" y="18" font-size="14" font-weight="bold">{}</text>"#,
        escape(title)
    );
    let _ = writeln!(
        s,
        r#"<text x="10" y="34">clearloop time / tokio time (tokio built with enable_all). Left of 1.0: clearloop is faster. Log scale, clamped to 1/32..32.</text>"#
    );
    let _ = writeln!(
        s,
        r##"<text x="10" y="48"><tspan fill="#1f6fb4">●</tspan> median of the runs, bar: min to max; <tspan fill="#c0392b">◇</tspan> instruction count ratio (callgrind)</text>"##
    );
    // Stripes first, so that the grid and the points are drawn over them.
    for i in (0..points.len()).step_by(2) {
        let _ = writeln!(
            s,
            r##"<rect x="0" y="{:.1}" width="{total_width}" height="{ROW}" fill="#f3f3f3"/>"##,
            TOP + ROW * i as f64
        );
    }
    // Grid and axis labels.
    for power in -5..=5 {
        let tick = 2f64.powi(power);
        let tx = x(tick);
        let (stroke, width) = if tick == 1.0 {
            ("#000", 1.5)
        } else {
            ("#ddd", 1.0)
        };
        let _ = writeln!(
            s,
            r#"<line x1="{tx:.1}" y1="{}" x2="{tx:.1}" y2="{}" stroke="{stroke}" stroke-width="{width}"/>"#,
            TOP - 6.0,
            TOP + ROW * points.len() as f64
        );
        let _ = writeln!(
            s,
            r#"<text x="{tx:.1}" y="{}" text-anchor="middle">{}</text>"#,
            TOP + ROW * points.len() as f64 + 16.0,
            if tick < 1.0 {
                format!("1/{}", (1.0 / tick).round())
            } else {
                format!("{tick}")
            }
        );
    }
    for (i, p) in points.iter().enumerate() {
        let y = TOP + ROW * i as f64 + ROW / 2.0;
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 8.0,
            y + 4.0,
            escape(&p.label)
        );
        let _ = writeln!(
            s,
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#1f6fb4" stroke-width="2"/>"##,
            x(p.min),
            x(p.max)
        );
        let _ = writeln!(
            s,
            r##"<circle cx="{:.1}" cy="{y:.1}" r="4" fill="#1f6fb4"><title>{}: {:.2} (min {:.2}, max {:.2})</title></circle>"##,
            x(p.median),
            escape(&p.label),
            p.median,
            p.min,
            p.max
        );
        if let Some(ir) = p.instructions {
            let ix = x(ir);
            let _ = writeln!(
                s,
                r##"<path d="M{:.1} {y:.1} L{ix:.1} {:.1} L{:.1} {y:.1} L{ix:.1} {:.1} Z" fill="none" stroke="#c0392b" stroke-width="1.5"><title>instructions: {ir:.2}</title></path>"##,
                ix - 5.0,
                y - 5.0,
                ix + 5.0,
                y + 5.0
            );
        }
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">ratio (clearloop / tokio)</text>"#,
        LEFT + WIDTH / 2.0,
        height - 12.0
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plot_has_one_dot_per_point_the_one_line_and_escaped_labels() {
        let points = [
            PlotPoint {
                label: "a<b".to_owned(),
                min: 0.4,
                median: 0.5,
                max: 0.6,
                instructions: Some(0.7),
            },
            PlotPoint {
                label: "far".to_owned(),
                min: 100.0,
                median: 200.0,
                max: 300.0,
                instructions: None,
            },
        ];
        let svg = svg(&points, "t");
        assert_eq!(svg.matches("<circle").count(), 2);
        assert_eq!(svg.matches("<path").count(), 1, "one instruction diamond");
        assert!(svg.contains(r##"stroke="#000""##), "the 1.0 line");
        assert!(svg.contains("a&lt;b") && !svg.contains("a<b"));
        // A ratio beyond the scale is drawn at its edge, not outside the picture.
        let right_edge = format!(r#"cx="{:.1}""#, 330.0 + 520.0);
        assert!(svg.contains(&right_edge), "{svg}");
        assert!(svg.ends_with("</svg>\n"));
    }
}
