//! Draws a chart's rows as SVG: horizontal bars (or ranges with a marked value) and lines over
//! ordered labels, with a title, nice axis ticks and value labels. Text is laid out with the
//! embedded font's own advances, so long labels are shortened to fit rather than overlapping
//! the plot; `render` then turns the text into paths, so no viewer needs the font.

use std::fmt::Write as _;
use std::sync::OnceLock;

use super::spec::{ChartKind, Unit};
use crate::output::escape_markup;

/// DejaVu Sans (assets/fonts, its licence beside it): every chart's text, in every format.
pub static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The family name `render` asks the font database for.
pub const FONT_FAMILY: &str = "DejaVu Sans";

const WIDTH: f64 = 760.0;
const TITLE_SIZE: f64 = 17.0;
const TEXT_SIZE: f64 = 12.0;
const MARGIN: f64 = 16.0;
const PALETTE: [&str; 8] = [
    "#2563eb", "#db2777", "#16a34a", "#ea580c", "#7c3aed", "#0891b2", "#ca8a04", "#4b5563",
];
const INK: &str = "#1f2937";
const MUTED: &str = "#6b7280";
const GRID: &str = "#e5e7eb";

/// One bar: a value, or a range with a value inside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub range: Option<(f64, f64)>,
}

/// One line: a value (or a gap) at each of the chart's labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub name: String,
    pub points: Vec<Option<f64>>,
}

/// A chart's rows, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub enum ChartData {
    Bars(Vec<Bar>),
    Lines { labels: Vec<String>, lines: Vec<Line> },
}

impl ChartData {
    /// The kind of chart these rows draw.
    pub fn kind(&self) -> ChartKind {
        match self {
            ChartData::Bars(_) => ChartKind::Bars,
            ChartData::Lines { .. } => ChartKind::Line,
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            ChartData::Bars(bars) => bars.is_empty(),
            ChartData::Lines { labels, .. } => labels.is_empty(),
        }
    }
}

/// The SVG of `data` under `title` (and `subtitle`), values read as `unit`.
pub fn svg(title: &str, subtitle: Option<&str>, data: &ChartData, unit: Unit) -> String {
    let mut canvas = Canvas::default();
    canvas.text(
        MARGIN,
        26.0,
        TITLE_SIZE,
        INK,
        "start",
        &fit(title, TITLE_SIZE, WIDTH - 2.0 * MARGIN),
    );
    let mut top = 40.0;
    if let Some(subtitle) = subtitle.filter(|s| !s.trim().is_empty()) {
        canvas.text(
            MARGIN,
            46.0,
            TEXT_SIZE,
            MUTED,
            "start",
            &fit(subtitle, TEXT_SIZE, WIDTH - 2.0 * MARGIN),
        );
        top = 62.0;
    }
    let height = if data.is_empty() {
        canvas.text(WIDTH / 2.0, top + 40.0, TEXT_SIZE, MUTED, "middle", "No data for this selection");
        top + 70.0
    } else {
        match data {
            ChartData::Bars(bars) => draw_bars(&mut canvas, top, bars, unit),
            ChartData::Lines { labels, lines } => draw_lines(&mut canvas, top, labels, lines, unit),
        }
    };
    canvas.finish(WIDTH, height, title)
}

fn draw_bars(canvas: &mut Canvas, top: f64, bars: &[Bar], unit: Unit) -> f64 {
    const ROW: f64 = 24.0;
    const BAR: f64 = 16.0;
    let label_width = bars.iter().map(|b| text_width(&b.label, TEXT_SIZE)).fold(0.0, f64::max).min(250.0);
    let value_room = 64.0;
    let (left, right) = (MARGIN + label_width + 10.0, WIDTH - MARGIN - value_room);
    let lowest = bars
        .iter()
        .map(|b| b.range.map_or(b.value, |(low, _)| low.min(b.value)))
        .fold(0.0, f64::min);
    let highest = bars
        .iter()
        .map(|b| b.range.map_or(b.value, |(_, high)| high.max(b.value)))
        .fold(0.0, f64::max);
    // Ranges start where the data does (pay does not start at zero); plain bars at zero.
    let ranged = bars.iter().any(|b| b.range.is_some());
    let ticks = nice_ticks(
        if ranged {
            bars.iter()
                .filter_map(|b| b.range.map(|r| r.0))
                .fold(f64::INFINITY, f64::min)
                .min(highest)
        } else {
            lowest
        },
        highest,
    );
    let (from, to) = (ticks[0], ticks[ticks.len() - 1]);
    let x = |v: f64| left + (v - from) / (to - from).max(f64::EPSILON) * (right - left);
    let bottom = top + 8.0 + ROW * bars.len() as f64;
    for tick in &ticks {
        canvas.line(x(*tick), top, x(*tick), bottom, GRID, 1.0);
        canvas.text(
            x(*tick),
            bottom + 16.0,
            TEXT_SIZE - 1.0,
            MUTED,
            "middle",
            &format_value(*tick, unit),
        );
    }
    for (i, bar) in bars.iter().enumerate() {
        let y = top + 8.0 + ROW * i as f64;
        let middle = y + BAR / 2.0;
        canvas.text(
            left - 8.0,
            middle + 4.0,
            TEXT_SIZE,
            INK,
            "end",
            &fit(&bar.label, TEXT_SIZE, label_width),
        );
        let end = if let Some((low, high)) = bar.range {
            canvas.rect(x(low), middle - 4.0, (x(high) - x(low)).max(1.0), 8.0, "#93c5fd");
            canvas.rect(x(bar.value) - 1.5, y, 3.0, BAR, PALETTE[0]);
            x(high)
        } else {
            let (a, b) = (x(0.0_f64.max(from)), x(bar.value));
            canvas.rect(a.min(b), y, (b - a).abs().max(1.0), BAR, PALETTE[0]);
            b.max(a)
        };
        canvas.text(
            end + 6.0,
            middle + 4.0,
            TEXT_SIZE - 1.0,
            INK,
            "start",
            &format_value(bar.value, unit),
        );
    }
    bottom + 30.0
}

fn draw_lines(canvas: &mut Canvas, top: f64, labels: &[String], lines: &[Line], unit: Unit) -> f64 {
    let mut top = top;
    if lines.len() > 1 {
        let mut at = MARGIN;
        for (i, line) in lines.iter().enumerate() {
            let name = fit(&line.name, TEXT_SIZE, 160.0);
            canvas.rect(at, top + 2.0, 12.0, 4.0, PALETTE[i % PALETTE.len()]);
            canvas.text(at + 16.0, top + 8.0, TEXT_SIZE, INK, "start", &name);
            at += 30.0 + text_width(&name, TEXT_SIZE);
            if at > WIDTH - 180.0 && i + 1 < lines.len() {
                at = MARGIN;
                top += 18.0;
            }
        }
        top += 24.0;
    }
    let values = || lines.iter().flat_map(|l| l.points.iter().flatten().copied());
    let ticks = nice_ticks(values().fold(0.0, f64::min), values().fold(0.0, f64::max));
    let (from, to) = (ticks[0], ticks[ticks.len() - 1]);
    let tick_labels: Vec<String> = ticks.iter().map(|t| format_value(*t, unit)).collect();
    let left = MARGIN + tick_labels.iter().map(|t| text_width(t, TEXT_SIZE - 1.0)).fold(0.0, f64::max) + 8.0;
    let (right, bottom) = (WIDTH - MARGIN - 8.0, top + 260.0);
    let y = |v: f64| bottom - (v - from) / (to - from).max(f64::EPSILON) * (bottom - top);
    // Dates, months, ISO weeks and numbers sit where they fall on their scale, so gaps in time
    // show as gaps; other labels are spread evenly in the query's order.
    let positions = label_positions(labels);
    let (first, last) = (positions[0], positions[positions.len() - 1]);
    let x = |i: usize| {
        if (last - first).abs() < f64::EPSILON {
            f64::midpoint(left, right)
        } else {
            left + (positions[i] - first) / (last - first) * (right - left)
        }
    };
    for (tick, label) in ticks.iter().zip(&tick_labels) {
        canvas.line(left, y(*tick), right, y(*tick), GRID, 1.0);
        canvas.text(left - 6.0, y(*tick) + 4.0, TEXT_SIZE - 1.0, MUTED, "end", label);
    }
    // Labels along the bottom from left to right, each far enough from the one before to read.
    let shown: Vec<String> = labels.iter().map(|l| fit(l, TEXT_SIZE - 1.0, 90.0)).collect();
    let gap = shown.iter().map(|l| text_width(l, TEXT_SIZE - 1.0)).fold(0.0, f64::max) + 16.0;
    let mut last_drawn = f64::NEG_INFINITY;
    for (i, label) in shown.iter().enumerate() {
        if x(i) - last_drawn >= gap {
            canvas.text(x(i), bottom + 18.0, TEXT_SIZE - 1.0, MUTED, "middle", label);
            last_drawn = x(i);
        }
    }
    for (n, line) in lines.iter().enumerate() {
        let colour = PALETTE[n % PALETTE.len()];
        let mut path = String::new();
        let mut pen_down = false;
        for (i, point) in line.points.iter().enumerate() {
            match point {
                Some(v) => {
                    let _ = write!(path, "{}{:.1},{:.1} ", if pen_down { "L" } else { "M" }, x(i), y(*v));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        canvas.path(&path, colour, 2.0);
        if labels.len() <= 40 {
            for (i, v) in line.points.iter().enumerate().filter_map(|(i, p)| p.map(|v| (i, v))) {
                canvas.circle(x(i), y(v), 2.5, colour);
            }
        }
    }
    bottom + 34.0
}

/// Where each label sits along a line chart: its day for dates (`2024-03-05`), months
/// (`2024-03`) and ISO weeks (`2024-W10`), its value for numbers — when every label reads as
/// one of them, in increasing order — and its rank otherwise.
fn label_positions(labels: &[String]) -> Vec<f64> {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
    let day = |d: chrono::NaiveDate| (d - epoch).num_days() as f64;
    let scale = |label: &str| -> Option<f64> {
        let label = label.trim();
        chrono::NaiveDate::parse_from_str(label, "%Y-%m-%d")
            .or_else(|_| chrono::NaiveDate::parse_from_str(&format!("{label}-01"), "%Y-%m-%d"))
            .or_else(|_| chrono::NaiveDate::parse_from_str(&format!("{label}-1"), "%G-W%V-%u"))
            .map(day)
            .ok()
            .or_else(|| label.parse::<f64>().ok().filter(|v| v.is_finite()))
    };
    let scaled: Option<Vec<f64>> = labels.iter().map(|l| scale(l)).collect();
    match scaled {
        Some(values) if values.windows(2).all(|w| w[0] < w[1]) => values,
        _ => (0..labels.len()).map(|i| i as f64).collect(),
    }
}

/// Round tick values from `low` to `high` (at least two), spaced 1, 2 or 5 times a power of ten.
pub fn nice_ticks(low: f64, high: f64) -> Vec<f64> {
    let (low, high) = if high < low || (high - low).abs() < f64::EPSILON {
        (low.min(0.0), high.max(low + 1.0))
    } else {
        (low, high)
    };
    let rough = (high - low) / 5.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * power);
    let first = (low / step).floor() * step;
    let mut ticks = vec![first];
    while ticks[ticks.len() - 1] < high - step * 1e-9 {
        let next = first + step * ticks.len() as f64;
        ticks.push(next);
    }
    ticks
}

/// A value as people read it on the axis: `12,345`, `$123k`, `12.5%`.
pub fn format_value(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Count => thousands(value.round()),
        Unit::Usd => {
            let magnitude = value.abs();
            let sign = if value < 0.0 { "-" } else { "" };
            if magnitude >= 1e6 {
                format!("{sign}${:.1}M", magnitude / 1e6)
            } else if magnitude >= 1e4 {
                format!("{sign}${:.0}k", magnitude / 1e3)
            } else if magnitude >= 1e3 {
                format!("{sign}${:.1}k", magnitude / 1e3)
            } else {
                format!("{sign}${magnitude:.0}")
            }
        }
        Unit::Percent => format!("{value:.1}%"),
        Unit::Number if value.abs() >= 100.0 => thousands(value.round()),
        Unit::Number => format!("{value:.2}").trim_end_matches('0').trim_end_matches('.').to_string(),
    }
}

/// `value` rounded to a whole number with commas between thousands: `13,252`.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.abs());
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if value < 0.0 { format!("-{grouped}") } else { grouped }
}

/// The width of `text` at `size` in the embedded font.
pub fn text_width(text: &str, size: f64) -> f64 {
    static FACE: OnceLock<Option<ttf_parser::Face<'static>>> = OnceLock::new();
    let Some(face) = FACE.get_or_init(|| ttf_parser::Face::parse(FONT, 0).ok()) else {
        return text.chars().count() as f64 * size * 0.6;
    };
    let units: f64 = text
        .chars()
        .map(|c| {
            face.glyph_index(c)
                .and_then(|g| face.glyph_hor_advance(g))
                .map_or(f64::from(face.units_per_em()) * 0.6, f64::from)
        })
        .sum();
    units * size / f64::from(face.units_per_em())
}

/// `text`, shortened with an ellipsis to at most `width`.
fn fit(text: &str, size: f64, width: f64) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text_width(&text, size) <= width {
        return text;
    }
    let mut kept: String = text.clone();
    while !kept.is_empty() && text_width(&format!("{kept}…"), size) > width {
        kept.pop();
    }
    format!("{}…", kept.trim_end())
}

/// SVG elements collected in drawing order.
#[derive(Default)]
struct Canvas {
    body: String,
}

impl Canvas {
    fn text(&mut self, x: f64, y: f64, size: f64, fill: &str, anchor: &str, text: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{size}" fill="{fill}" text-anchor="{anchor}">{}</text>"#,
            escape_markup(text)
        );
    }

    fn rect(&mut self, x: f64, y: f64, width: f64, height: f64, fill: &str) {
        let _ = writeln!(
            self.body,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{width:.1}" height="{height:.1}" fill="{fill}"/>"#
        );
    }

    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{stroke}" stroke-width="{width}"/>"#
        );
    }

    fn path(&mut self, d: &str, stroke: &str, width: f64) {
        let _ = writeln!(
            self.body,
            r#"<path d="{}" fill="none" stroke="{stroke}" stroke-width="{width}" stroke-linejoin="round"/>"#,
            d.trim()
        );
    }

    fn circle(&mut self, x: f64, y: f64, r: f64, fill: &str) {
        let _ = writeln!(self.body, r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r}" fill="{fill}"/>"#);
    }

    fn finish(self, width: f64, height: f64, title: &str) -> String {
        format!(
            concat!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" "#,
                r#"font-family="{font}" role="img" aria-label="{title}">"#,
                "\n<title>{title}</title>\n",
                r##"<rect width="{w:.0}" height="{h:.0}" fill="#ffffff"/>"##,
                "\n{body}</svg>\n"
            ),
            w = width,
            h = height.ceil(),
            font = FONT_FAMILY,
            title = escape_markup(title),
            body = self.body
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_values() {
        assert_eq!(nice_ticks(0.0, 97.0), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(nice_ticks(52_000.0, 181_000.0), vec![50_000.0, 100_000.0, 150_000.0, 200_000.0]);
        assert_eq!(nice_ticks(3.0, 3.0), vec![0.0, 1.0, 2.0, 3.0, 4.0], "one value still gets an axis");
    }

    #[test]
    fn time_labels_sit_where_they_fall_and_others_evenly() {
        let months: Vec<String> = ["2012-01", "2012-02", "2015-01"].map(String::from).to_vec();
        let at = label_positions(&months);
        assert!((at[2] - at[1]) / (at[1] - at[0]) > 30.0, "three years after one month: {at:?}");
        let weeks: Vec<String> = ["2024-W01", "2024-W02", "2024-W04"].map(String::from).to_vec();
        let at = label_positions(&weeks);
        assert_eq!((at[1] - at[0], at[2] - at[1]), (7.0, 14.0));
        let words: Vec<String> = ["junior", "mid", "senior"].map(String::from).to_vec();
        assert_eq!(label_positions(&words), [0.0, 1.0, 2.0]);
        let unordered: Vec<String> = ["3", "1"].map(String::from).to_vec();
        assert_eq!(
            label_positions(&unordered),
            [0.0, 1.0],
            "the query's order when the scale disagrees"
        );
    }

    #[test]
    fn values_read_as_their_unit() {
        assert_eq!(format_value(1_234_567.0, Unit::Count), "1,234,567");
        assert_eq!(format_value(123_456.0, Unit::Usd), "$123k");
        assert_eq!(format_value(-4_500.0, Unit::Usd), "-$4.5k");
        assert_eq!(format_value(12.345, Unit::Percent), "12.3%");
        assert_eq!(format_value(0.5, Unit::Number), "0.5");
    }

    #[test]
    fn long_labels_are_shortened_to_fit_and_text_is_escaped() {
        let long = "Principal Staff Machine Learning Platform Engineer, Recommendations and Ranking";
        let fitted = fit(long, TEXT_SIZE, 200.0);
        assert!(fitted.ends_with('…') && text_width(&fitted, TEXT_SIZE) <= 200.0, "{fitted}");
        let data = ChartData::Bars(vec![Bar {
            label: "R&D <lab>".into(),
            value: 3.0,
            range: None,
        }]);
        let svg = svg("A & B", None, &data, Unit::Count);
        assert!(
            svg.contains("R&amp;D &lt;lab&gt;") && svg.contains("<title>A &amp; B</title>"),
            "{svg}"
        );
    }
}
