//! Named charts drawn in Rust from the lake — salary by title family, postings over time, skill
//! demand … — for `rats export chart`, the reports and their mails. A chart is YAML (a query
//! and how to draw its answer, `spec`), its rows become bars or lines (`data`), `draw` lays
//! them out as SVG with the embedded font, and `render` makes the SVG self-contained or a PNG.

pub mod draw;
pub mod render;
pub mod spec;

use std::path::Path;

use polars::prelude::*;

use crate::export::{ExportError, lake_tables, tables::sql_context};
use crate::transform::delta::DeltaIo;
use draw::{Bar, ChartData, Line};
pub use spec::{ChartKind, ChartSpec, Unit};

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("{origin}: {message}")]
    Spec { origin: String, message: String },
    #[error("no chart {name:?}; the charts: {known}")]
    Unknown { name: String, known: String },
    #[error("chart {chart}: {message}")]
    Query { chart: String, message: String },
    #[error("cannot draw the chart: {0}")]
    Render(String),
    #[error(transparent)]
    Lake(#[from] ExportError),
}

/// The charts of several files, a later file's chart replacing an earlier one of that name
/// (a user's `charts.yml` over the built-in one).
pub fn merge(files: &[(String, String)]) -> Result<Vec<ChartSpec>, ChartError> {
    let mut charts: Vec<ChartSpec> = Vec::new();
    for (origin, text) in files {
        for chart in spec::parse(origin, text)? {
            charts.retain(|c| c.name != chart.name);
            charts.push(chart);
        }
    }
    charts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(charts)
}

/// The chart named `name` among `charts`.
pub fn find<'a>(charts: &'a [ChartSpec], name: &str) -> Result<&'a ChartSpec, ChartError> {
    charts.iter().find(|c| c.name == name).ok_or_else(|| ChartError::Unknown {
        name: name.to_string(),
        known: charts.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "),
    })
}

/// A chart drawn from the lake.
#[derive(Debug, Clone)]
pub struct Drawn {
    pub name: String,
    pub title: String,
    /// The drawing, text still as text (`render` outlines it or rasterises it).
    pub svg: String,
    pub data: ChartData,
}

/// Runs `chart`'s query over the lake at `lake` — its table filtered by `filter` as `source` —
/// and draws the answer, `note` (the filter, say) after the chart's description.
pub fn draw_from_lake(lake: &Path, chart: &ChartSpec, filter: Option<&str>, note: Option<&str>) -> Result<Drawn, ChartError> {
    let frame = query(lake, chart, filter)?;
    let data = rows(chart, &frame)?;
    let subtitle = match (chart.description.as_deref(), note) {
        (Some(description), Some(note)) => Some(format!("{description} — {note}")),
        (Some(description), None) => Some(description.to_string()),
        (None, Some(note)) => Some(note.to_string()),
        (None, None) => None,
    };
    Ok(Drawn {
        name: chart.name.clone(),
        title: chart.title.clone(),
        svg: draw::svg(&chart.title, subtitle.as_deref(), &data, chart.unit),
        data,
    })
}

fn query(lake: &Path, chart: &ChartSpec, filter: Option<&str>) -> Result<DataFrame, ChartError> {
    let failed = |message: String| ChartError::Query {
        chart: chart.name.clone(),
        message,
    };
    let tables = lake_tables(lake)?;
    let table = tables
        .iter()
        .find(|t| t.name == chart.table || t.model_name() == Some(chart.table.as_str()))
        .ok_or_else(|| failed(format!("its table {} is not in the lake {}", chart.table, lake.display())))?;
    let io = DeltaIo::new().map_err(ExportError::from)?;
    let mut context = sql_context(&io, &tables)?;
    let source = match filter {
        Some(filter) => format!(
            "select * from {}{}",
            table.relation(),
            crate::transform::engine::where_clause(filter)
        ),
        None => format!("select * from {}", table.relation()),
    };
    // Planned on no rows first, so a filter naming no column fails as the filter's fault.
    let source = context
        .execute(&source)
        .and_then(|frame| frame.clone().limit(0).collect().map(|_| frame))
        .map_err(|e| {
            failed(format!(
                "--where {:?}: {}",
                filter.unwrap_or_default(),
                crate::transform::engine::built_query_message(&e)
            ))
        })?;
    context.register("source", source);
    context
        .execute(&chart.sql)
        .and_then(LazyFrame::collect)
        .map_err(|e| failed(crate::transform::engine::polars_message(&e)))
}

/// The query's answer as bars or lines, in the query's row order.
fn rows(chart: &ChartSpec, frame: &DataFrame) -> Result<ChartData, ChartError> {
    let texts = |column: &str| text_column(chart, frame, column);
    let numbers = |column: &str| number_column(chart, frame, column);
    let labels = texts(&chart.label)?;
    let values = numbers(&chart.value)?;
    match chart.kind {
        ChartKind::Bars => {
            let ranges = match (&chart.low, &chart.high) {
                (Some(low), Some(high)) => Some((numbers(low)?, numbers(high)?)),
                _ => None,
            };
            let bars = (0..frame.height())
                .filter_map(|i| {
                    let value = values[i]?;
                    let range = match &ranges {
                        Some((low, high)) => Some((low[i]?, high[i]?)),
                        None => None,
                    };
                    Some(Bar {
                        label: labels[i].clone().unwrap_or_else(|| "(none)".into()),
                        value,
                        range,
                    })
                })
                .collect();
            Ok(ChartData::Bars(bars))
        }
        ChartKind::Line => {
            let series = match &chart.series {
                Some(column) => texts(column)?,
                None => vec![Some(chart.value.clone()); frame.height()],
            };
            let mut positions: Vec<String> = Vec::new();
            let mut lines: Vec<Line> = Vec::new();
            for i in 0..frame.height() {
                let (Some(label), Some(value)) = (labels[i].clone(), values[i]) else {
                    continue;
                };
                let name = series[i].clone().unwrap_or_else(|| "(none)".into());
                let at = positions.iter().position(|p| *p == label).unwrap_or_else(|| {
                    positions.push(label);
                    positions.len() - 1
                });
                let n = lines.iter().position(|l| l.name == name).unwrap_or_else(|| {
                    lines.push(Line { name, points: Vec::new() });
                    lines.len() - 1
                });
                let line = &mut lines[n];
                if line.points.len() <= at {
                    line.points.resize(at + 1, None);
                }
                line.points[at] = Some(value);
            }
            for line in &mut lines {
                line.points.resize(positions.len(), None);
            }
            Ok(ChartData::Lines { labels: positions, lines })
        }
    }
}

fn column<'a>(chart: &ChartSpec, frame: &'a DataFrame, name: &str) -> Result<&'a Column, ChartError> {
    frame.column(name).map_err(|_| ChartError::Query {
        chart: chart.name.clone(),
        message: format!(
            "its query has no column {name:?} (it returns {})",
            frame.get_column_names().iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
        ),
    })
}

fn text_column(chart: &ChartSpec, frame: &DataFrame, name: &str) -> Result<Vec<Option<String>>, ChartError> {
    let cast = column(chart, frame, name)?.cast(&DataType::String).map_err(|e| ChartError::Query {
        chart: chart.name.clone(),
        message: format!("column {name}: {e}"),
    })?;
    let strings = cast.str().map_err(|e| ChartError::Query {
        chart: chart.name.clone(),
        message: format!("column {name}: {e}"),
    })?;
    Ok(strings.iter().map(|s| s.map(str::to_string)).collect())
}

fn number_column(chart: &ChartSpec, frame: &DataFrame, name: &str) -> Result<Vec<Option<f64>>, ChartError> {
    let not_numbers = |e: PolarsError| ChartError::Query {
        chart: chart.name.clone(),
        message: format!("column {name} is not numbers: {e}"),
    };
    let cast = column(chart, frame, name)?.strict_cast(&DataType::Float64).map_err(not_numbers)?;
    Ok(cast
        .f64()
        .map_err(not_numbers)?
        .iter()
        .map(|v| v.filter(|v| v.is_finite()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(kind: &str, extra: &str) -> ChartSpec {
        let text = format!("c:\n  title: C\n  kind: {kind}\n  table: t\n  sql: select 1\n  label: label\n  value: value\n{extra}");
        spec::parse("test", &text).expect("test input is valid").remove(0)
    }

    #[test]
    fn line_rows_become_one_line_per_series_with_gaps() {
        let frame = df!(
            "label" => ["2024-01", "2024-01", "2024-02", "2024-03"],
            "board" => ["a", "b", "a", "b"],
            "value" => [1i64, 2, 3, 4],
        )
        .expect("test input is valid");
        let ChartData::Lines { labels, lines } = rows(&chart("line", "  series: board\n"), &frame).expect("test input is valid") else {
            panic!("lines expected")
        };
        assert_eq!(labels, ["2024-01", "2024-02", "2024-03"]);
        assert_eq!(lines[0].points, [Some(1.0), Some(3.0), None]);
        assert_eq!(lines[1].points, [Some(2.0), None, Some(4.0)]);
    }

    #[test]
    fn bars_skip_rows_without_a_value_and_name_a_missing_column() {
        let frame = df!("label" => ["x", "y"], "value" => [Some(1.5), None]).expect("test input is valid");
        let ChartData::Bars(bars) = rows(&chart("bars", ""), &frame).expect("test input is valid") else {
            panic!("bars expected")
        };
        assert_eq!(bars.len(), 1);
        let missing = rows(&chart("bars", "  low: p25\n  high: p75\n"), &frame).expect_err("no p25");
        assert!(missing.to_string().contains("no column \"p25\""), "{missing}");
        let words = df!("label" => ["x"], "value" => ["many"]).expect("test input is valid");
        assert!(rows(&chart("bars", ""), &words).is_err(), "text is not a value");
    }
}
