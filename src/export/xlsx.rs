//! XLSX without a spreadsheet library: a workbook is a zip of a few XML parts, written here
//! directly (stored entries, so the zip crate builds as candle already builds it). The data
//! sheet has typed cells — numbers as numbers, dates and times as dates Excel formats, text as
//! text, lists joined with `;` — a bold header row frozen above an autofilter and columns sized
//! to their contents; a second sheet says what was exported (the table or query, the statement,
//! when). Excel's limits hold: at most 1,048,575 data rows, cells of at most 32,767 characters
//! (longer text is cut and the sheet says so).

use std::fmt::Write as _;
use std::io::{Cursor, Write};

use deltalake::arrow::array::{Array, AsArray, RecordBatch};
use deltalake::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Date32Type, Float32Type, Float64Type, Int32Type, Int64Type, TimeUnit, TimestampMicrosecondType,
};
use deltalake::arrow::util::display::{ArrayFormatter, FormatOptions};
use zip::write::SimpleFileOptions;

use super::ExportError;

/// Excel's rows per sheet, the header's included.
pub const MAX_ROWS: usize = 1_048_576;
const MAX_CELL_CHARS: usize = 32_767;
/// Days from Excel's day 0 (1899-12-30) to the Unix epoch.
const EPOCH_SERIAL: f64 = 25_569.0;
/// Style indexes of `styles.xml`: plain, date, date and time, header.
const DATE_STYLE: u8 = 1;
const DATETIME_STYLE: u8 = 2;
const HEADER_STYLE: u8 = 3;

/// What the second sheet records about the export.
pub struct About<'a> {
    pub what: &'a str,
    pub statement: &'a str,
    pub exported_at: &'a str,
}

/// A workbook of `batches` (all of one schema) and the export's description, as bytes.
pub fn workbook(batches: &[RecordBatch], about: &About) -> Result<(Vec<u8>, usize), ExportError> {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if rows >= MAX_ROWS {
        return Err(ExportError::Convert(format!(
            "{rows} rows do not fit an Excel sheet ({} at most); narrow the export with --where or --limit",
            MAX_ROWS - 1
        )));
    }
    let (data, cut) = data_sheet(batches)?;
    let mut notes = vec![("exported", about.what.to_string()), ("statement", about.statement.to_string())];
    notes.push(("rows", rows.to_string()));
    notes.push(("exported at", about.exported_at.to_string()));
    if cut > 0 {
        notes.push((
            "note",
            format!("{cut} cells held more than {MAX_CELL_CHARS} characters and were cut"),
        ));
    }
    let about_sheet = notes_sheet(&notes);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let zip_error = |e: zip::result::ZipError| ExportError::Convert(format!("writing the workbook: {e}"));
    for (name, text) in [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", ROOT_RELS),
        ("xl/workbook.xml", WORKBOOK),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
        ("xl/styles.xml", STYLES),
        ("xl/worksheets/sheet1.xml", data.as_str()),
        ("xl/worksheets/sheet2.xml", about_sheet.as_str()),
    ] {
        zip.start_file(name, options).map_err(zip_error)?;
        zip.write_all(text.as_bytes()).map_err(|e| ExportError::Convert(e.to_string()))?;
    }
    Ok((zip.finish().map_err(zip_error)?.into_inner(), rows))
}

/// A1-style column letters of a 0-based index.
fn column_letters(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// Text as XML character data: escaped, and without the control characters XML cannot hold.
fn xml_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// One cell's XML, or `None` for a null.
enum Cell {
    Number(f64, u8),
    Boolean(bool),
    Text(String),
}

/// A numeric column's cells: each value made an Excel number by `to_excel`, shown in `style`.
fn numbers<T: ArrowPrimitiveType>(column: &dyn Array, style: u8, to_excel: impl Fn(T::Native) -> f64) -> Vec<Option<Cell>> {
    column
        .as_primitive::<T>()
        .iter()
        .map(|v| v.map(|v| Cell::Number(to_excel(v), style)))
        .collect()
}

fn cells_of(column: &dyn Array, data_type: &DataType) -> Result<Vec<Option<Cell>>, ExportError> {
    let convert = |e: deltalake::arrow::error::ArrowError| ExportError::Convert(e.to_string());
    let values: Vec<Option<Cell>> = match data_type {
        DataType::Int32 => numbers::<Int32Type>(column, 0, f64::from),
        DataType::Int64 => numbers::<Int64Type>(column, 0, |v| v as f64),
        DataType::Float32 => numbers::<Float32Type>(column, 0, f64::from),
        DataType::Float64 => numbers::<Float64Type>(column, 0, |v| v),
        DataType::Boolean => column.as_boolean().iter().map(|v| v.map(Cell::Boolean)).collect(),
        DataType::Date32 => numbers::<Date32Type>(column, DATE_STYLE, |days| f64::from(days) + EPOCH_SERIAL),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            numbers::<TimestampMicrosecondType>(column, DATETIME_STYLE, |micros| micros as f64 / 86_400_000_000.0 + EPOCH_SERIAL)
        }
        _ => {
            let formatter = ArrayFormatter::try_new(column, &FormatOptions::default()).map_err(convert)?;
            (0..column.len())
                .map(|i| column.is_valid(i).then(|| Cell::Text(formatter.value(i).to_string())))
                .collect()
        }
    };
    Ok(values
        .into_iter()
        .map(|cell| cell.filter(|c| !matches!(c, Cell::Number(n, _) if !n.is_finite())))
        .collect())
}

/// The data sheet's XML and how many cells were cut to Excel's limit.
fn data_sheet(batches: &[RecordBatch]) -> Result<(String, usize), ExportError> {
    let Some(first) = batches.first() else {
        return Ok((sheet_xml("", &[], "", ""), 0));
    };
    let schema = first.schema();
    let columns = schema.fields().len();
    let mut widths: Vec<usize> = schema.fields().iter().map(|f| f.name().chars().count() + 2).collect();
    let mut rows_xml = String::new();
    rows_xml.push_str(r#"<row r="1">"#);
    for (c, field) in schema.fields().iter().enumerate() {
        let _ = write!(
            rows_xml,
            r#"<c r="{}1" t="inlineStr" s="{HEADER_STYLE}"><is><t>{}</t></is></c>"#,
            column_letters(c),
            xml_text(field.name())
        );
    }
    rows_xml.push_str("</row>");
    let mut row_number = 1;
    let mut cut = 0;
    for batch in batches {
        let batch = super::write::lists_joined(batch)?;
        let cells: Vec<Vec<Option<Cell>>> = batch
            .columns()
            .iter()
            .zip(batch.schema().fields())
            .map(|(column, field)| cells_of(column.as_ref(), field.data_type()))
            .collect::<Result<_, _>>()?;
        for i in 0..batch.num_rows() {
            row_number += 1;
            let _ = write!(rows_xml, r#"<row r="{row_number}">"#);
            for (c, column) in cells.iter().enumerate() {
                let reference = format!("{}{row_number}", column_letters(c));
                match &column[i] {
                    None => {}
                    Some(Cell::Number(value, style)) => {
                        let shown = if *style == 0 { value.to_string().len() } else { 19 };
                        widths[c] = widths[c].max(shown + 2);
                        let style = if *style == 0 { String::new() } else { format!(r#" s="{style}""#) };
                        let _ = write!(rows_xml, r#"<c r="{reference}"{style}><v>{value}</v></c>"#);
                    }
                    Some(Cell::Boolean(value)) => {
                        let _ = write!(rows_xml, r#"<c r="{reference}" t="b"><v>{}</v></c>"#, u8::from(*value));
                    }
                    Some(Cell::Text(text)) => {
                        let text = if text.chars().count() > MAX_CELL_CHARS {
                            cut += 1;
                            text.chars().take(MAX_CELL_CHARS).collect()
                        } else {
                            text.clone()
                        };
                        widths[c] = widths[c].max(text.chars().count().min(60) + 2);
                        let _ = write!(
                            rows_xml,
                            r#"<c r="{reference}" t="inlineStr"><is><t xml:space="preserve">{}</t></is></c>"#,
                            xml_text(&text)
                        );
                    }
                }
            }
            rows_xml.push_str("</row>");
        }
    }
    let mut cols = String::new();
    for (c, width) in widths.iter().enumerate() {
        let _ = write!(
            cols,
            r#"<col min="{n}" max="{n}" width="{}" customWidth="1"/>"#,
            (*width).min(62),
            n = c + 1
        );
    }
    let last = format!("{}{row_number}", column_letters(columns.saturating_sub(1)));
    let frozen = r#"<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>"#;
    Ok((
        sheet_xml(frozen, &[cols], &rows_xml, &format!(r#"<autoFilter ref="A1:{last}"/>"#)),
        cut,
    ))
}

/// The second sheet: label and value pairs.
fn notes_sheet(notes: &[(&str, String)]) -> String {
    let mut rows = String::new();
    for (i, (label, value)) in notes.iter().enumerate() {
        let n = i + 1;
        let _ = write!(
            rows,
            r#"<row r="{n}"><c r="A{n}" t="inlineStr" s="{HEADER_STYLE}"><is><t>{}</t></is></c><c r="B{n}" t="inlineStr"><is><t xml:space="preserve">{}</t></is></c></row>"#,
            xml_text(label),
            xml_text(value)
        );
    }
    let cols = r#"<col min="1" max="1" width="14" customWidth="1"/><col min="2" max="2" width="100" customWidth="1"/>"#;
    sheet_xml("", &[cols.to_string()], &rows, "")
}

fn sheet_xml(views: &str, cols: &[String], rows: &str, after: &str) -> String {
    let cols = if cols.iter().all(String::is_empty) {
        String::new()
    } else {
        format!("<cols>{}</cols>", cols.concat())
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{views}{cols}<sheetData>{rows}</sheetData>{after}</worksheet>"#
    )
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;

const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;

const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="data" sheetId="1" r:id="rId1"/><sheet name="export" sheetId="2" r:id="rId2"/></sheets></workbook>"#;

const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;

/// Cell formats: 0 plain, 1 date (yyyy-mm-dd), 2 date and time, 3 the header (bold on grey).
const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/><numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill><fill><patternFill patternType="solid"><fgColor rgb="FFE7E6E6"/><bgColor indexed="64"/></patternFill></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_lettered_like_a_spreadsheet() {
        let letters: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702].into_iter().map(column_letters).collect();
        assert_eq!(letters, ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]);
    }

    #[test]
    fn text_is_escaped_and_control_characters_dropped() {
        assert_eq!(xml_text("R&D <lead> \"x\"\u{1}\tok"), "R&amp;D &lt;lead&gt; &quot;x&quot;\tok");
    }
}
