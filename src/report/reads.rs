//! Which lake tables a report reads — its queries' and its charts' — for the lineage: a table
//! is read when its SQL name (`layer__name`, or a warehouse model's own name) appears as a word
//! in a query, or when it is the table of a chart the body places (or is named in that chart's
//! query).

use std::collections::BTreeSet;

use super::template::Template;
use crate::chart::ChartSpec;
use crate::export::LakeTable;

/// The names (`layer/name`) of the tables among `tables` that `template` reads.
pub fn tables_read(template: &Template, charts: &[ChartSpec], tables: &[LakeTable]) -> BTreeSet<String> {
    let mut texts: Vec<&str> = template.queries.values().map(super::template::Query::sql).collect();
    let mut read = BTreeSet::new();
    for placed in charts_placed(&template.body) {
        if let Some(chart) = charts.iter().find(|c| c.name == placed) {
            texts.push(&chart.sql);
            if let Some(table) = tables
                .iter()
                .find(|t| t.name == chart.table || t.model_name() == Some(chart.table.as_str()))
            {
                read.insert(table.name.clone());
            }
        }
    }
    for text in texts {
        read.extend(
            crate::export::tables::tables_named(text, tables)
                .into_iter()
                .map(|t| t.name.clone()),
        );
    }
    read
}

/// The charts a body places: the names in its `chart("NAME"…)` calls.
fn charts_placed(body: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find("chart(") {
        rest = &rest[at + "chart(".len()..];
        let trimmed = rest.trim_start();
        if let Some(quote) = trimmed.chars().next().filter(|c| *c == '"' || *c == '\'')
            && let Some(end) = trimmed[1..].find(quote)
        {
            names.push(trimmed[1..=end].to_string());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::template::{BodyKind, parse};

    fn table(name: &str) -> LakeTable {
        LakeTable {
            name: name.to_string(),
            path: std::path::PathBuf::from(name),
        }
    }

    #[test]
    fn queries_and_placed_charts_name_the_tables_read() {
        let text = "---\ntitle: T\nqueries:\n  q: select * from fct_postings join silver__duplicates using (posting_key)\n---\n{{ chart('skills') }} {{ chart(\"absent\") }}\n";
        let template = parse("t", BodyKind::Markdown, "t.md", text).expect("test input is valid");
        let charts = crate::chart::spec::parse(
            "charts.yml",
            "skills:\n  title: S\n  kind: bars\n  table: fct_posting_skills\n  sql: select * from source join dim_skill using (skill_id)\n  label: a\n  value: b\n",
        )
        .expect("test input is valid");
        let tables: Vec<LakeTable> = [
            "gold/fct_postings",
            "gold/fct_posting_skills",
            "gold/dim_skill",
            "silver/duplicates",
            "silver/postings",
        ]
        .map(table)
        .to_vec();
        let read: Vec<String> = tables_read(&template, &charts, &tables).into_iter().collect();
        assert_eq!(
            read,
            [
                "gold/dim_skill",
                "gold/fct_posting_skills",
                "gold/fct_postings",
                "silver/duplicates"
            ]
        );
    }
}
