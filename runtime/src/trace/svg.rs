//! The trace as a self-contained SVG picture: no script, no fonts to fetch, no network.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::Duration;

use super::Trace;
use super::timeline::{Timeline, Track};

/// Where the plot starts (the labels are left of it), its width, and a row's height.
const LABEL_WIDTH: f64 = 300.0;
const PLOT_WIDTH: f64 = 900.0;
const ROW: f64 = 18.0;
const TOP: f64 = 44.0;
/// Task rows drawn at most; the rest are counted in a last row.
const MAX_TASK_ROWS: usize = 40;
/// Wake arrows drawn at most (the first ones), to keep the file small.
const MAX_ARROWS: usize = 4000;

impl Trace {
    /// Writes the trace as an SVG timeline: the reactor's waits for I/O, the wakers (I/O
    /// readiness, timers, other threads), and a row per task with its polls, joined by a line
    /// for each wake from the slice that woke a task to the poll it caused. The first 40
    /// tasks by id get a row each.
    pub fn write_svg(&self, out: &mut impl Write) -> io::Result<()> {
        let timeline = Timeline::new(self);
        let mut rows: Vec<Track> = timeline
            .tracks
            .iter()
            .copied()
            .take(2 + MAX_TASK_ROWS)
            .collect();
        let hidden = timeline.tracks.len() - rows.len();
        rows.sort();
        let row_of = |track: Track| rows.binary_search(&track).ok();
        let span = timeline.end.max(Duration::from_micros(1));
        let x = |at: Duration| LABEL_WIDTH + at.as_secs_f64() / span.as_secs_f64() * PLOT_WIDTH;
        let y = |row: usize| TOP + row as f64 * ROW;
        let height = y(rows.len() + usize::from(hidden > 0)) + 30.0;
        let width = LABEL_WIDTH + PLOT_WIDTH + 20.0;
        let polls = timeline
            .slices
            .iter()
            .filter(|s| matches!(s.track, Track::Task(_)) && !s.is_life())
            .count();

        let mut svg = String::new();
        let _ = write!(
            svg,
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" font-size="11">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="8" y="16" font-size="13" font-weight="bold">weft: {} tasks, {polls} polls, {} wakes in {:.1?}</text>
<text x="8" y="32" fill="#555555">pale: a task alive and waiting; dark: a poll; lines: from what woke a task to the poll it caused; grey: the loop waiting for I/O</text>
"##,
            timeline.tracks.len() - 2,
            timeline.flows.len(),
            span
        );
        for (row, track) in rows.iter().enumerate() {
            let label = match track {
                Track::Reactor => "reactor: waits for I/O".to_owned(),
                Track::Wakers => "I/O events, timers, threads".to_owned(),
                Track::Task(task) => self.label(*task),
            };
            let shade = if row % 2 == 0 { "#f4f4f4" } else { "#ffffff" };
            let _ = writeln!(
                svg,
                r#"<rect x="0" y="{}" width="{width}" height="{ROW}" fill="{shade}"/><text x="8" y="{}">{}</text>"#,
                y(row),
                y(row) + ROW - 5.0,
                Xml(&shorten(&label, 44))
            );
        }
        if hidden > 0 {
            let _ = writeln!(
                svg,
                r##"<text x="8" y="{}" fill="#555555">... and {hidden} more tasks</text>"##,
                y(rows.len()) + ROW - 5.0
            );
        }
        for slice in &timeline.slices {
            let Some(row) = row_of(slice.track) else {
                continue;
            };
            let (fill, inset) = match slice.track {
                Track::Reactor => ("#c8c8c8".to_owned(), 4.0),
                Track::Wakers => ("#e08a1e".to_owned(), 3.0),
                Track::Task(_) if slice.is_life() => ("#b9cdee".to_owned(), 6.0),
                Track::Task(task) => (color(task.as_u64()), 2.0),
            };
            let left = x(slice.start);
            let w = (x(slice.end) - left).max(1.0);
            let _ = writeln!(
                svg,
                r#"<rect x="{left:.2}" y="{:.1}" width="{w:.2}" height="{:.1}" fill="{fill}"><title>{} at {:.3?} for {:.3?}</title></rect>"#,
                y(row) + inset,
                ROW - 2.0 * inset,
                Xml(&slice.name),
                slice.start,
                slice.end.saturating_sub(slice.start)
            );
        }
        for flow in timeline.flows.iter().take(MAX_ARROWS) {
            let (Some(from), Some(to)) = (row_of(flow.from), row_of(flow.to)) else {
                continue;
            };
            let _ = writeln!(
                svg,
                r##"<line x1="{:.2}" y1="{:.1}" x2="{:.2}" y2="{:.1}" stroke="#3060c0" stroke-opacity="0.45" stroke-width="0.8"/>"##,
                x(flow.at),
                y(from) + ROW / 2.0,
                x(flow.poll_starts),
                y(to) + ROW / 2.0
            );
        }
        let axis = y(rows.len() + usize::from(hidden > 0)) + 14.0;
        for tick in 0..=5 {
            let at = span.mul_f64(f64::from(tick) / 5.0);
            let _ = writeln!(
                svg,
                r##"<line x1="{0:.1}" y1="{1}" x2="{0:.1}" y2="{2}" stroke="#999999" stroke-width="0.5"/><text x="{0:.1}" y="{3}" text-anchor="middle" fill="#555555">{4:.1?}</text>"##,
                x(at),
                TOP,
                axis - 10.0,
                axis + 2.0,
                at
            );
        }
        svg.push_str("</svg>\n");
        out.write_all(svg.as_bytes())
    }
}

/// A colour per task, spread around the hue circle.
fn color(task: u64) -> String {
    let hue = (task.wrapping_mul(47) % 360) as f64;
    format!("hsl({hue:.0},60%,45%)")
}

/// `label`, cut to `max` characters with an ellipsis.
fn shorten(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        return label.to_owned();
    }
    let mut short: String = label.chars().take(max - 1).collect();
    short.push('…');
    short
}

/// Text with XML's special characters escaped.
struct Xml<'a>(&'a str);

impl std::fmt::Display for Xml<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}
