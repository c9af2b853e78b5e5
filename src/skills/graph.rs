//! The skill knowledge graph: taxonomy skills as nodes, parent edges from the taxonomy and
//! co-occurrence edges counted over postings (two skills mentioned in the same posting),
//! written as JSON or GraphML.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use super::taxonomy::Taxonomy;
use crate::output::escape_markup as escape;

#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub id: String,
    pub name: String,
    pub category: String,
    /// Postings that mention the skill.
    pub postings: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// `source` is a kind of, or built on, `target` (pandas → python).
    Parent,
    /// Both mentioned in `weight` postings.
    CoOccurs,
}

#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    pub source: String,
    pub target: String,
    pub kind: EdgeKind,
    pub weight: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Graph {
    pub postings: u64,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// Builds the graph. `postings` yields each posting's skill ids (repeats are ignored); pairs
/// seen in fewer than `min_cooccurrence` postings are left out.
pub fn build<'a>(taxonomy: &Taxonomy, postings: impl Iterator<Item = Vec<&'a str>>, min_cooccurrence: u64) -> Graph {
    let mut mentions: BTreeMap<&str, u64> = BTreeMap::new();
    let mut pairs: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    let mut count = 0;
    for skills in postings {
        count += 1;
        let distinct: BTreeSet<&str> = skills.into_iter().filter(|id| taxonomy.get(id).is_some()).collect();
        let distinct: Vec<&str> = distinct.into_iter().collect();
        for (i, a) in distinct.iter().enumerate() {
            *mentions.entry(a).or_default() += 1;
            for b in &distinct[i + 1..] {
                *pairs.entry((a, b)).or_default() += 1;
            }
        }
    }
    let nodes = taxonomy
        .skills
        .iter()
        .map(|s| Node {
            id: s.id.clone(),
            name: s.name.clone(),
            category: s.category.clone(),
            postings: mentions.get(s.id.as_str()).copied().unwrap_or(0),
        })
        .collect();
    let mut edges: Vec<Edge> = taxonomy
        .skills
        .iter()
        .flat_map(|s| {
            s.parents.iter().map(|p| Edge {
                source: s.id.clone(),
                target: p.clone(),
                kind: EdgeKind::Parent,
                weight: 1,
            })
        })
        .collect();
    edges.extend(
        pairs
            .into_iter()
            .filter(|(_, n)| *n >= min_cooccurrence.max(1))
            .map(|((a, b), n)| Edge {
                source: a.to_string(),
                target: b.to_string(),
                kind: EdgeKind::CoOccurs,
                weight: n,
            }),
    );
    Graph {
        postings: count,
        nodes,
        edges,
    }
}

impl Graph {
    /// GraphML with node attributes name, category, postings and edge attributes kind, weight.
    pub fn to_graphml(&self) -> String {
        let mut out = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n\
             \x20 <key id=\"name\" for=\"node\" attr.name=\"name\" attr.type=\"string\"/>\n\
             \x20 <key id=\"category\" for=\"node\" attr.name=\"category\" attr.type=\"string\"/>\n\
             \x20 <key id=\"postings\" for=\"node\" attr.name=\"postings\" attr.type=\"long\"/>\n\
             \x20 <key id=\"kind\" for=\"edge\" attr.name=\"kind\" attr.type=\"string\"/>\n\
             \x20 <key id=\"weight\" for=\"edge\" attr.name=\"weight\" attr.type=\"long\"/>\n\
             \x20 <graph id=\"skills\" edgedefault=\"directed\">\n",
        );
        for node in &self.nodes {
            let _ = writeln!(
                out,
                "    <node id=\"{}\"><data key=\"name\">{}</data><data key=\"category\">{}</data><data key=\"postings\">{}</data></node>",
                escape(&node.id),
                escape(&node.name),
                escape(&node.category),
                node.postings
            );
        }
        for (i, edge) in self.edges.iter().enumerate() {
            let kind = match edge.kind {
                EdgeKind::Parent => "parent",
                EdgeKind::CoOccurs => "co_occurs",
            };
            let _ = writeln!(
                out,
                "    <edge id=\"e{i}\" source=\"{}\" target=\"{}\"><data key=\"kind\">{kind}</data><data key=\"weight\">{}</data></edge>",
                escape(&edge.source),
                escape(&edge.target),
                edge.weight
            );
        }
        out.push_str("  </graph>\n</graphml>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_and_co_occurrence_edges_are_counted() {
        let taxonomy = Taxonomy::built_in().expect("valid");
        let postings = vec![
            vec!["python", "pandas", "python"],
            vec!["python", "pandas"],
            vec!["python", "sql", "not-a-skill"],
        ];
        let graph = build(&taxonomy, postings.into_iter(), 2);
        assert_eq!(graph.postings, 3);
        let python = graph.nodes.iter().find(|n| n.id == "python").expect("node");
        assert_eq!(python.postings, 3);
        let co: Vec<(&str, &str, u64)> = graph
            .edges
            .iter()
            .filter(|e| e.kind == EdgeKind::CoOccurs)
            .map(|e| (e.source.as_str(), e.target.as_str(), e.weight))
            .collect();
        assert_eq!(co, [("pandas", "python", 2)]);
        assert!(
            graph
                .edges
                .iter()
                .any(|e| e.kind == EdgeKind::Parent && e.source == "pandas" && e.target == "python")
        );
        let graphml = graph.to_graphml();
        assert!(graphml.contains("<edge id=\"e0\""));
        assert!(graphml.contains("<data key=\"name\">C++</data>"));
        assert!(graphml.contains("<data key=\"name\">Weights &amp; Biases</data>"));
    }
}
