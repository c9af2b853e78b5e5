//! The named charts, as YAML (`reports/charts.yml`): each is a SQL query over the lake and how
//! to draw its answer. A chart's query reads the relation `source` — its `table` with the
//! caller's `--where` applied — so one chart serves every filter without the SQL knowing it.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::ChartError;

/// How a chart draws its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// One horizontal bar per row (`label`, `value`); with `low` and `high`, a range from low
    /// to high with the value marked (percentiles, for instance).
    Bars,
    /// Lines over ordered `label`s (dates, weeks), one per `series` value.
    Line,
}

/// How values read on an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    #[default]
    Count,
    Usd,
    Percent,
    Number,
}

/// One named chart.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartSpec {
    #[serde(skip)]
    pub name: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub kind: ChartKind,
    /// The lake table (`layer/name`, or a warehouse model's name) the query sees as `source`.
    pub table: String,
    /// The query; it reads `source` and may name any other lake table.
    pub sql: String,
    /// The column naming each bar, or the ordered position along a line.
    pub label: String,
    /// The column holding the number drawn.
    pub value: String,
    #[serde(default)]
    pub low: Option<String>,
    #[serde(default)]
    pub high: Option<String>,
    /// A line chart's column naming each line.
    #[serde(default)]
    pub series: Option<String>,
    #[serde(default)]
    pub unit: Unit,
}

/// Reads a charts file (`name: spec` at the top level); `origin` names it in errors.
pub fn parse(origin: &str, text: &str) -> Result<Vec<ChartSpec>, ChartError> {
    let yaml_error = |message: String| ChartError::Spec {
        origin: origin.to_string(),
        message,
    };
    let by_name: BTreeMap<String, serde_norway::Value> = serde_norway::from_str(text).map_err(|e| yaml_error(e.to_string()))?;
    let mut charts = Vec::with_capacity(by_name.len());
    for (name, value) in by_name {
        let mut spec: ChartSpec = serde_path_to_error::deserialize(value).map_err(|e| yaml_error(format!("chart {name}: {e}")))?;
        spec.name = name;
        if spec.low.is_some() != spec.high.is_some() {
            return Err(yaml_error(format!("chart {}: give both low and high, or neither", spec.name)));
        }
        if spec.kind == ChartKind::Line && spec.low.is_some() {
            return Err(yaml_error(format!("chart {}: a line chart has no low and high", spec.name)));
        }
        if spec.kind == ChartKind::Bars && spec.series.is_some() {
            return Err(yaml_error(format!("chart {}: a bar chart has no series", spec.name)));
        }
        charts.push(spec);
    }
    Ok(charts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_read_by_name_and_mistakes_are_named() {
        let text = "pay:\n  title: Pay\n  kind: bars\n  table: fct_postings\n  sql: select 1\n  label: t\n  value: v\n  low: l\n  high: h\n  unit: usd\n";
        let charts = parse("charts.yml", text).expect("test input is valid");
        assert_eq!(charts[0].name, "pay");
        assert_eq!(charts[0].unit, Unit::Usd);
        let misspelt = parse("charts.yml", &text.replace("unit:", "units:")).expect_err("refused");
        assert!(misspelt.to_string().contains("charts.yml: chart pay"), "{misspelt}");
        assert!(misspelt.to_string().contains("units"), "{misspelt}");
        let half = parse("charts.yml", &text.replace("  high: h\n", "")).expect_err("refused");
        assert!(half.to_string().contains("both low and high"), "{half}");
    }
}
