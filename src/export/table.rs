//! Exported rows as a table on the terminal (`rats export --format table` to stdout): the cells
//! as the CSV writer spells them, under the printer's table (`crate::output`), for a look at a
//! few rows. A table holds every row before it prints, so it is refused above [`TABLE_ROWS`].

use deltalake::arrow::array::Array;
use deltalake::arrow::util::display::{ArrayFormatter, FormatOptions};
use polars::prelude::DataFrame;

use super::ExportError;
use super::write::lists_joined;
use crate::output::Report;
use crate::transform::delta::to_arrow;

/// The most rows a table on stdout shows; more are for `--to csv` (or `--limit`).
pub const TABLE_ROWS: usize = 10_000;

/// The rows of `frames` as a printable table (its JSON form is empty: a table is for people).
pub fn table_of(frames: impl Iterator<Item = Result<DataFrame, ExportError>>) -> Result<Report, ExportError> {
    let convert = |e: deltalake::arrow::error::ArrowError| ExportError::Convert(e.to_string());
    let mut header = Vec::new();
    let mut rows = Vec::new();
    for frame in frames {
        for batch in to_arrow(std::path::Path::new("stdout"), &frame?)? {
            let batch = lists_joined(&batch)?;
            if header.is_empty() {
                header = batch.schema().fields().iter().map(|f| f.name().clone()).collect();
            }
            if rows.len() + batch.num_rows() > TABLE_ROWS {
                return Err(ExportError::Invalid {
                    option: "format",
                    value: "table".into(),
                    message: format!(
                        "more than {TABLE_ROWS} rows do not make a table; narrow it with --where or --limit, or give --to csv"
                    ),
                });
            }
            let formatters = batch
                .columns()
                .iter()
                .map(|column| ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default()).map_err(convert))
                .collect::<Result<Vec<_>, _>>()?;
            for row in 0..batch.num_rows() {
                rows.push(
                    batch
                        .columns()
                        .iter()
                        .zip(&formatters)
                        .map(|(column, formatter)| {
                            if column.is_null(row) {
                                String::new()
                            } else {
                                formatter.value(row).to_string()
                            }
                        })
                        .collect(),
                );
            }
        }
    }
    Ok(Report {
        header,
        rows,
        json: serde_json::Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::*;

    #[test]
    fn cells_read_as_the_csv_writes_them_and_too_many_rows_are_refused() {
        let frame = df!(
            "title" => [Some("Data Engineer"), None],
            "pay" => [Some(120_000.5), None],
        )
        .expect("frame");
        let skills = Series::new(
            "skills".into(),
            [Series::new("".into(), ["sql", "python"]), Series::new("".into(), ["excel"])],
        );
        let frame = frame.hstack(&[skills.into()]).expect("hstack");
        let report = table_of(std::iter::once(Ok(frame))).expect("a table");
        assert_eq!(report.header, ["title", "pay", "skills"]);
        assert_eq!(
            report.rows,
            [vec!["Data Engineer", "120000.5", "sql;python"], vec!["", "", "excel"]]
        );

        let many = df!("n" => (0..=TABLE_ROWS as i64).collect::<Vec<_>>()).expect("frame");
        assert!(matches!(
            table_of(std::iter::once(Ok(many))),
            Err(ExportError::Invalid { option: "format", .. })
        ));
    }
}
