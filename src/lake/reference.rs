//! Reference tables: what the lake's rows refer to, written beside them so the warehouse reads
//! only the lake. Today that is the skill taxonomy silver's `skill_ids` come from
//! (`reference/skills`), rewritten by consume whenever the taxonomy it extracts with differs
//! from the one the table holds, and left alone (no commit) otherwise.

use std::path::Path;
use std::sync::Arc;

use deltalake::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, StringArray};
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::arrow::record_batch::RecordBatch;

use super::table::Table;
use super::{LakeError, io_runtime};
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

fn rows_in(batches: &[RecordBatch]) -> Vec<SkillRow> {
    let mut rows = Vec::new();
    for batch in batches {
        let text = |i: usize| batch.column(i).as_string_opt::<i32>().cloned();
        let (Some(id), Some(name), Some(category), Some(description), Some(parents)) = (text(0), text(1), text(2), text(3), text(4)) else {
            continue;
        };
        let Some(technical) = batch.column(5).as_boolean_opt().cloned() else {
            continue;
        };
        for i in 0..batch.num_rows() {
            rows.push((
                id.value(i).to_string(),
                name.value(i).to_string(),
                category.value(i).to_string(),
                (!description.is_null(i)).then(|| description.value(i).to_string()),
                parents.value(i).to_string(),
                technical.value(i),
            ));
        }
    }
    rows.sort();
    rows
}

/// Makes `LAKE/reference/skills` hold `taxonomy`; returns whether a commit was needed.
pub fn sync_skills(root: &Path, taxonomy: &Taxonomy) -> Result<bool, LakeError> {
    let path = root.join(SKILLS);
    let runtime = io_runtime(root)?;
    let mut table = runtime.block_on(Table::open_or_create(&path, "reference_skills", &skills_schema(), &[]))?;
    let wanted = rows_of(taxonomy);
    let held = rows_in(&table.scan(&[
        "skill_id",
        "skill_name",
        "category",
        "category_description",
        "parent_ids",
        "is_technical",
    ])?);
    if held == wanted {
        return Ok(false);
    }
    let mut metadata = serde_json::Map::new();
    metadata.insert("rats.reference".into(), "skills".into());
    metadata.insert("rats.taxonomy.version".into(), taxonomy.version.into());
    runtime.block_on(table.overwrite(vec![batch_of(&wanted)], metadata))?;
    remove_replaced_files(&path, &table)?;
    Ok(true)
}

/// Deletes the Parquet files the overwrite removed from the table, so that readers of plain
/// Parquet (dbt-duckdb's `read_parquet`) see only the live rows. The table is small and only
/// ever read whole; older versions are not worth keeping.
pub(super) fn remove_replaced_files(path: &Path, table: &Table) -> Result<(), LakeError> {
    let live: Vec<std::path::PathBuf> = table.live_files()?.into_iter().map(|(file, _)| file).collect();
    let entries = std::fs::read_dir(path).map_err(|e| LakeError::Invalid {
        path: path.to_path_buf(),
        message: format!("cannot list the table's files: {e}"),
    })?;
    for entry in entries.flatten() {
        let file = entry.path();
        let is_parquet = file.extension().is_some_and(|e| e == "parquet");
        if is_parquet && !live.iter().any(|l| l.file_name() == file.file_name()) {
            std::fs::remove_file(&file).map_err(|e| LakeError::Invalid {
                path: file.clone(),
                message: format!("cannot delete a replaced file: {e}"),
            })?;
        }
    }
    Ok(())
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
