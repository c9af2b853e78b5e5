//! The model graph: every node with its rendered parse-time SQL, configuration and
//! dependencies, checked before any SQL runs (unknown refs and sources, cycles), and ordered
//! so each node runs after everything it reads.

use std::collections::{BTreeMap, BTreeSet};

use super::TransformError;
use super::project::{Project, SqlFile};
use super::render::{self, Reference, RenderInputs};

/// How a model is materialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Materialization {
    /// Inlined where it is read; nothing is stored.
    View,
    /// Like a view; dbt inlines it as a CTE.
    Ephemeral,
    /// Rebuilt as a Delta table under the lake's `gold/`.
    Table,
    /// A Delta table that grows: appended to, or merged on `unique_key`.
    Incremental,
    /// A slowly changing dimension (type 2) kept as a Delta table.
    Snapshot,
}

impl Materialization {
    pub fn as_str(self) -> &'static str {
        match self {
            Materialization::View => "view",
            Materialization::Ephemeral => "ephemeral",
            Materialization::Table => "table",
            Materialization::Incremental => "incremental",
            Materialization::Snapshot => "snapshot",
        }
    }

    /// Whether the model is stored in the lake (and so survives between runs).
    pub fn is_stored(self) -> bool {
        matches!(
            self,
            Materialization::Table | Materialization::Incremental | Materialization::Snapshot
        )
    }
}

/// One model (or snapshot) of the graph.
#[derive(Debug, Clone)]
pub struct Node {
    pub file: SqlFile,
    pub materialization: Materialization,
    /// Folder configs overlaid by the model's `config()`.
    pub config: BTreeMap<String, serde_json::Value>,
    pub tags: BTreeSet<String>,
    /// Models this node reads.
    pub depends_on: BTreeSet<String>,
    /// Source tables this node reads, as (source, table).
    pub sources: BTreeSet<(String, String)>,
}

impl Node {
    pub fn name(&self) -> &str {
        &self.file.name
    }

    /// A string-valued config entry.
    pub fn config_str(&self, key: &str) -> Option<&str> {
        self.config.get(key).and_then(serde_json::Value::as_str)
    }
}

/// The checked graph, nodes in run order.
#[derive(Debug, Clone)]
pub struct Dag {
    pub nodes: Vec<Node>,
}

impl Dag {
    /// Renders every model and snapshot once (with `is_incremental()` false) to learn its
    /// configuration and dependencies, then checks and orders the graph.
    pub fn build(project: &Project, vars: &BTreeMap<String, serde_json::Value>) -> Result<Self, TransformError> {
        let inputs = RenderInputs {
            incremental: false,
            vars: vars.clone(),
        };
        let known_sources: BTreeSet<(String, String)> = project
            .sources
            .iter()
            .flat_map(|s| s.tables.iter().map(move |t| (s.name.clone(), t.name.clone())))
            .collect();
        let names: BTreeSet<&str> = project.models.iter().chain(&project.snapshots).map(|m| m.name.as_str()).collect();
        let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
        for (file, is_snapshot) in project
            .models
            .iter()
            .map(|m| (m, false))
            .chain(project.snapshots.iter().map(|s| (s, true)))
        {
            let rendered = render::render(project, file, &inputs)?;
            let mut config = project.folder_config(&file.folders);
            let mut tags: BTreeSet<String> = BTreeSet::new();
            for (key, value) in rendered.config {
                config.insert(key, value);
            }
            for tag in config.get("tags").into_iter().flat_map(tag_values) {
                tags.insert(tag);
            }
            let materialization = if is_snapshot {
                Materialization::Snapshot
            } else {
                parse_materialization(config.get("materialized"), &file.path)?
            };
            let mut depends_on = BTreeSet::new();
            let mut sources = BTreeSet::new();
            for reference in rendered.references {
                match reference {
                    Reference::Ref { name, line } => {
                        if !names.contains(name.as_str()) {
                            return Err(TransformError::UnknownRef {
                                path: file.path.clone(),
                                line,
                                name,
                            });
                        }
                        depends_on.insert(name);
                    }
                    Reference::Source { source, table, line } => {
                        if !known_sources.contains(&(source.clone(), table.clone())) {
                            return Err(TransformError::UnknownSource {
                                path: file.path.clone(),
                                line,
                                source_name: source,
                                table,
                            });
                        }
                        sources.insert((source, table));
                    }
                }
            }
            nodes.insert(
                file.name.clone(),
                Node {
                    file: file.clone(),
                    materialization,
                    config,
                    tags,
                    depends_on,
                    sources,
                },
            );
        }
        let order = topological_order(&nodes)?;
        Ok(Dag {
            nodes: order.iter().filter_map(|name| nodes.remove(name)).collect(),
        })
    }

    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name() == name)
    }

    /// The names of the models that read `name` directly.
    pub fn children(&self, name: &str) -> impl Iterator<Item = &str> {
        self.nodes.iter().filter(move |n| n.depends_on.contains(name)).map(Node::name)
    }
}

fn tag_values(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(values) => values.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

fn parse_materialization(value: Option<&serde_json::Value>, path: &str) -> Result<Materialization, TransformError> {
    match value.and_then(serde_json::Value::as_str).unwrap_or("view") {
        "view" => Ok(Materialization::View),
        "ephemeral" => Ok(Materialization::Ephemeral),
        "table" => Ok(Materialization::Table),
        "incremental" => Ok(Materialization::Incremental),
        other => Err(TransformError::Config {
            path: path.to_string(),
            message: format!("materialized='{other}' is not one of view, ephemeral, table, incremental"),
        }),
    }
}

/// Kahn's algorithm over names in sorted order (so the run order is stable); what is left
/// when no node is free holds a cycle, which is reported as a path.
fn topological_order(nodes: &BTreeMap<String, Node>) -> Result<Vec<String>, TransformError> {
    let mut waiting: BTreeMap<&str, usize> = nodes.iter().map(|(n, node)| (n.as_str(), node.depends_on.len())).collect();
    let mut order = Vec::new();
    loop {
        let ready: Vec<&str> = waiting.iter().filter(|(_, w)| **w == 0).map(|(n, _)| *n).collect();
        if ready.is_empty() {
            break;
        }
        for name in ready {
            waiting.remove(name);
            order.push(name.to_string());
            for (other, node) in nodes {
                if node.depends_on.contains(name)
                    && let Some(count) = waiting.get_mut(other.as_str())
                {
                    *count -= 1;
                }
            }
        }
    }
    if waiting.is_empty() {
        return Ok(order);
    }
    Err(TransformError::Cycle {
        path: find_cycle(nodes, &waiting.keys().copied().collect()),
    })
}

/// A cycle among `stuck` (every one of them waits on another), as `a -> b -> a`.
fn find_cycle(nodes: &BTreeMap<String, Node>, stuck: &BTreeSet<&str>) -> String {
    let Some(&start) = stuck.iter().next() else {
        return String::new();
    };
    let mut path: Vec<&str> = vec![start];
    let mut current = start;
    loop {
        let next = nodes[current].depends_on.iter().map(String::as_str).find(|d| stuck.contains(d));
        let Some(next) = next else {
            return path.join(" -> ");
        };
        if let Some(i) = path.iter().position(|p| *p == next) {
            let mut cycle: Vec<&str> = path[i..].to_vec();
            cycle.push(next);
            // A model reads its dependencies, so show it in data-flow order: a -> b means b reads a.
            cycle.reverse();
            return cycle.join(" -> ");
        }
        path.push(next);
        current = next;
    }
}
