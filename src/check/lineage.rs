//! Lineage of the lake: input files and Kafka partitions → bronze → silver, duplicates and
//! quarantine → the warehouse's models (from the transform graph) → the quality results, the
//! reports (from the tables their queries and charts read) and the files exported (from the
//! exports' log) → the deliveries of scheduled reports, each table with the Delta version it
//! is at now. Printed as rows, JSON, Graphviz or
//! Mermaid.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use super::CheckError;
use crate::export::{self, ExportError};
use crate::report::{Catalog, reads, schedule};
use crate::transform::delta::DeltaIo;
use crate::transform::project::{Project, ProjectSource};
use crate::transform::{TransformError, dag::Dag};

/// One thing data flows through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineageNode {
    /// `input:PATH`, `kafka://TOPIC/PARTITION`, a lake table (`silver/postings`),
    /// `view:MODEL` for a model that is not stored, `report:NAME` or `export:FILE`.
    pub id: String,
    /// `input`, `table`, `view`, `report` or `export`.
    pub kind: &'static str,
    /// The table's Delta version now (tables only).
    pub version: Option<i64>,
    /// Bronze records an input contributed (inputs only).
    pub records: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Lineage {
    pub nodes: Vec<LineageNode>,
    pub edges: Vec<(String, String)>,
}

/// The tables `rats consume` writes from bronze.
const CONSUMED: [&str; 3] = ["silver/postings", "silver/duplicates", "quarantine/postings"];
const BRONZE: &str = "bronze/postings";
const QUALITY: &str = "quality/results";
const DELIVERIES: &str = "reports/deliveries";

/// The lineage of the lake at `lake` through the warehouse project `project` to the reports of
/// `reports`.
pub fn build(lake: &Path, project: &ProjectSource, reports: &Catalog) -> Result<Lineage, CheckError> {
    let io = DeltaIo::new().map_err(ExportError::from)?;
    let tables = export::lake_tables(lake)?;
    let mut versions: BTreeMap<String, Option<i64>> = BTreeMap::new();
    for table in &tables {
        versions.insert(table.name.clone(), table.version());
    }
    let mut lineage = Lineage::default();
    let mut nodes: BTreeMap<String, LineageNode> = BTreeMap::new();
    let mut edges: BTreeSet<(String, String)> = BTreeSet::new();
    let table_node = |name: &str, nodes: &mut BTreeMap<String, LineageNode>| {
        nodes.entry(name.to_string()).or_insert_with(|| LineageNode {
            id: name.to_string(),
            kind: "table",
            version: versions.get(name).copied().flatten(),
            records: None,
        });
    };

    // A report or an exported file: a node of its own after each table it read.
    let fed_by = |id: &str,
                  kind: &'static str,
                  read: Vec<String>,
                  nodes: &mut BTreeMap<String, LineageNode>,
                  edges: &mut BTreeSet<(String, String)>| {
        nodes.insert(
            id.to_string(),
            LineageNode {
                id: id.to_string(),
                kind,
                version: None,
                records: None,
            },
        );
        for table in read {
            table_node(&table, nodes);
            edges.insert((table, id.to_string()));
        }
    };

    if let Some(bronze) = tables.iter().find(|t| t.name == BRONZE) {
        table_node(BRONZE, &mut nodes);
        for (input, records) in inputs(&io, &bronze.path)? {
            let id = if input.starts_with("kafka://") {
                input
            } else {
                format!("input:{input}")
            };
            nodes.insert(
                id.clone(),
                LineageNode {
                    id: id.clone(),
                    kind: "input",
                    version: None,
                    records: Some(records),
                },
            );
            edges.insert((id, BRONZE.to_string()));
        }
        for consumed in CONSUMED.iter().filter(|c| tables.iter().any(|t| t.name == **c)) {
            table_node(consumed, &mut nodes);
            edges.insert((BRONZE.to_string(), (*consumed).to_string()));
        }
    }

    let project = Project::load(project).map_err(ExportError::from)?;
    let dag = Dag::build(&project, &project.file.vars).map_err(ExportError::from)?;
    let model_id = |name: &str| -> String {
        let stored = dag.node(name).is_some_and(|n| n.materialization.is_stored());
        if stored { format!("gold/{name}") } else { format!("view:{name}") }
    };
    for node in &dag.nodes {
        let id = model_id(node.name());
        if id.starts_with("view:") {
            nodes.entry(id.clone()).or_insert_with(|| LineageNode {
                id: id.clone(),
                kind: "view",
                version: None,
                records: None,
            });
        } else {
            table_node(&id, &mut nodes);
        }
        for (source, table) in &node.sources {
            let from = format!("{source}/{table}");
            table_node(&from, &mut nodes);
            edges.insert((from, id.clone()));
        }
        for parent in &node.depends_on {
            edges.insert((model_id(parent), id.clone()));
        }
    }

    if let Some(results) = tables.iter().find(|t| t.name == QUALITY) {
        table_node(QUALITY, &mut nodes);
        for checked in checked_tables(&io, &results.path)? {
            table_node(&checked, &mut nodes);
            edges.insert((checked, QUALITY.to_string()));
        }
    }
    let delivered = schedule::delivered_reports(&io, lake)?;
    let charts = reports.charts()?;
    for listed in reports.list()? {
        let read = reads::tables_read(&listed.template, &charts, &tables);
        if read.is_empty() {
            continue;
        }
        let id = format!("report:{}", listed.template.name);
        fed_by(&id, "report", read.into_iter().collect(), &mut nodes, &mut edges);
        if delivered.contains(&listed.template.name) {
            let deliveries = DELIVERIES.to_string();
            table_node(&deliveries, &mut nodes);
            edges.insert((id, deliveries));
        }
    }
    for (target, read) in export::log::exported_files(&io, lake)? {
        fed_by(&format!("export:{target}"), "export", read, &mut nodes, &mut edges);
    }
    // Tables no edge reaches (written by `rats train`, `rats occupation`, …) are still listed.
    for table in &tables {
        table_node(&table.name, &mut nodes);
    }
    lineage.nodes = nodes.into_values().collect();
    lineage.edges = edges.into_iter().collect();
    Ok(lineage)
}

fn engine(what: &str, error: &PolarsError) -> CheckError {
    CheckError::Lake(ExportError::Transform(TransformError::Engine {
        model: what.to_string(),
        message: error.to_string(),
    }))
}

/// Each input of bronze (`source_file`) with its record count.
fn inputs(io: &DeltaIo, bronze: &Path) -> Result<Vec<(String, u64)>, CheckError> {
    let counts = io
        .scan(bronze)
        .map_err(ExportError::from)?
        .group_by([col("source_file")])
        .agg([len().alias("records")])
        .sort(["source_file"], SortMultipleOptions::default())
        .collect()
        .map_err(|e| engine(BRONZE, &e))?;
    let files = counts
        .column("source_file")
        .and_then(|c| c.str().cloned())
        .map_err(|e| engine(BRONZE, &e))?;
    let records = counts
        .column("records")
        .and_then(|c| c.cast(&DataType::UInt64))
        .map_err(|e| engine(BRONZE, &e))?;
    let records = records.u64().map_err(|e| engine(BRONZE, &e))?;
    Ok(files
        .iter()
        .zip(records.iter())
        .filter_map(|(f, n)| Some((f?.to_string(), n.unwrap_or(0))))
        .collect())
}

/// The tables `rats check` has results for.
fn checked_tables(io: &DeltaIo, results: &Path) -> Result<Vec<String>, CheckError> {
    let tables = io
        .scan(results)
        .map_err(ExportError::from)?
        .select([col("table")])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()
        .map_err(|e| engine(QUALITY, &e))?;
    let column = tables
        .column("table")
        .and_then(|c| c.str().cloned())
        .map_err(|e| engine(QUALITY, &e))?;
    let mut names: Vec<String> = column.iter().flatten().map(str::to_string).collect();
    names.sort();
    Ok(names)
}

fn label(node: &LineageNode) -> String {
    match (node.version, node.records) {
        (Some(version), _) => format!("{}\\nv{version}", node.id),
        (None, Some(records)) => format!("{}\\n{records} records", node.id),
        (None, None) => node.id.clone(),
    }
}

/// Graphviz `dot` text.
pub fn to_dot(lineage: &Lineage) -> String {
    let mut out = String::from("digraph lineage {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n");
    for node in &lineage.nodes {
        let shape = match node.kind {
            "input" => "note",
            "view" => "ellipse",
            "report" => "tab",
            "export" => "folder",
            _ => "box",
        };
        let _ = writeln!(out, "  {:?} [label=\"{}\", shape={shape}];", node.id, label(node).replace('"', "'"));
    }
    for (from, to) in &lineage.edges {
        let _ = writeln!(out, "  {from:?} -> {to:?};");
    }
    out.push_str("}\n");
    out
}

/// Mermaid `flowchart` text (ids made safe, names in the labels).
pub fn to_mermaid(lineage: &Lineage) -> String {
    let ids: BTreeMap<&str, String> = lineage
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), format!("n{i}")))
        .collect();
    let mut out = String::from("flowchart LR\n");
    for node in &lineage.nodes {
        let text = label(node).replace("\\n", "<br/>").replace('"', "'");
        let (open, close) = match node.kind {
            "input" => ("[/", "/]"),
            "view" => ("(", ")"),
            "report" => ("[[", "]]"),
            "export" => ("[\\", "\\]"),
            _ => ("[", "]"),
        };
        let _ = writeln!(out, "  {}{open}\"{text}\"{close}", ids[node.id.as_str()]);
    }
    for (from, to) in &lineage.edges {
        if let (Some(a), Some(b)) = (ids.get(from.as_str()), ids.get(to.as_str())) {
            let _ = writeln!(out, "  {a} --> {b}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Lineage {
        Lineage {
            nodes: vec![
                LineageNode {
                    id: "input:jobs.csv".into(),
                    kind: "input",
                    version: None,
                    records: Some(12),
                },
                LineageNode {
                    id: "bronze/postings".into(),
                    kind: "table",
                    version: Some(3),
                    records: None,
                },
                LineageNode {
                    id: "view:stg_postings".into(),
                    kind: "view",
                    version: None,
                    records: None,
                },
            ],
            edges: vec![
                ("input:jobs.csv".into(), "bronze/postings".into()),
                ("bronze/postings".into(), "view:stg_postings".into()),
            ],
        }
    }

    #[test]
    fn dot_and_mermaid_name_every_node_and_edge() {
        let dot = to_dot(&sample());
        assert!(dot.contains("\"input:jobs.csv\" -> \"bronze/postings\";"), "{dot}");
        assert!(dot.contains("label=\"bronze/postings\\nv3\", shape=box"), "{dot}");
        let mermaid = to_mermaid(&sample());
        assert!(mermaid.starts_with("flowchart LR\n"));
        assert!(mermaid.contains("n0[/\"input:jobs.csv<br/>12 records\"/]"), "{mermaid}");
        assert!(mermaid.contains("n1 --> n2"), "{mermaid}");
    }
}
