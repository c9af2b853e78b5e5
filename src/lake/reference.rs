//! Reference tables: what the lake's rows refer to, written beside them so the warehouse reads
//! only the lake. Today that is the skill taxonomy silver's `skill_ids` come from
//! (`reference/skills`), rewritten by consume whenever the taxonomy it extracts with differs
//! from the one the table holds, and left alone (no commit) otherwise.

use std::path::Path;
use std::sync::Arc;

use deltalake::arrow::array::{ArrayRef, BooleanArray, StringArray};
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::arrow::record_batch::RecordBatch;

use super::LakeError;
use crate::skills::Taxonomy;

/// The skill taxonomy table, relative to the lake root.
pub const SKILLS: &str = "reference/skills";

pub fn skills_schema() -> Schema {
    Schema::new(vec![
        Field::new("skill_id", DataType::Utf8, false),
        Field::new("skill_name", DataType::Utf8, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("category_description", DataType::Utf8, true),
        // Space-separated parent ids (`pandas` → `python`); empty when none.
        Field::new("parent_ids", DataType::Utf8, false),
        Field::new("is_technical", DataType::Boolean, false),
    ])
}

type SkillRow = (String, String, String, Option<String>, String, bool);

fn rows_of(taxonomy: &Taxonomy) -> Vec<SkillRow> {
    let mut rows: Vec<SkillRow> = taxonomy
        .skills
        .iter()
        .map(|s| {
            (
                s.id.clone(),
                s.name.clone(),
                s.category.clone(),
                taxonomy.categories.get(&s.category).cloned(),
                s.parents.join(" "),
                s.is_technical(),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn batch_of(rows: &[SkillRow]) -> RecordBatch {
    let text = |f: fn(&SkillRow) -> &str| -> ArrayRef { Arc::new(StringArray::from_iter_values(rows.iter().map(f))) };
    let columns: Vec<ArrayRef> = vec![
        text(|r| &r.0),
        text(|r| &r.1),
        text(|r| &r.2),
        Arc::new(rows.iter().map(|r| r.3.as_deref()).collect::<StringArray>()),
        text(|r| &r.4),
        Arc::new(rows.iter().map(|r| Some(r.5)).collect::<BooleanArray>()),
    ];
    RecordBatch::try_new(Arc::new(skills_schema()), columns).expect("columns match the schema (checked by a unit test)")
}

/// Makes `LAKE/reference/skills` hold `taxonomy`; returns whether a commit was needed.
pub fn sync_skills(root: &Path, taxonomy: &Taxonomy) -> Result<bool, LakeError> {
    let mut metadata = serde_json::Map::new();
    metadata.insert("rats.reference".into(), "skills".into());
    metadata.insert("rats.taxonomy.version".into(), taxonomy.version.into());
    super::replace_table(&root.join(SKILLS), "reference_skills", batch_of(&rows_of(taxonomy)), metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_taxonomy_is_written_once_and_rewritten_only_when_it_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let taxonomy = Taxonomy::built_in().expect("valid");
        assert!(sync_skills(dir.path(), &taxonomy).expect("writes"));
        assert!(!sync_skills(dir.path(), &taxonomy).expect("reads"));
        let batches = super::super::scan_table(&dir.path().join(SKILLS), &["skill_id"]).expect("scans");
        assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), taxonomy.skills.len());
        let mut smaller = Taxonomy::built_in().expect("valid");
        let keep: Vec<_> = smaller.skills.drain(..).filter(|s| s.id == "python").collect();
        let smaller = Taxonomy::from_parts(1, smaller.categories.clone(), keep, "t").expect("valid");
        assert!(sync_skills(dir.path(), &smaller).expect("rewrites"));
        let batches = super::super::scan_table(&dir.path().join(SKILLS), &["skill_id"]).expect("scans");
        assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 1);
        let parquet_files = std::fs::read_dir(dir.path().join(SKILLS))
            .expect("lists")
            .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "parquet")))
            .count();
        assert_eq!(parquet_files, 1, "the replaced file is deleted");
    }
}
