//! A résumé file's text: PDF (its text layer), DOCX (the paragraphs of word/document.xml) or
//! plain text and Markdown. The format is read from the file's first bytes, not its name, so a
//! misnamed file is still read and a `.docx` that is not a zip archive says so.

use std::io::Read;
use std::path::Path;

use quick_xml::events::Event;

use super::MatchError;

/// Larger files are refused before they are read: a résumé is a few pages.
pub const MAX_BYTES: u64 = 10 * 1024 * 1024;
/// A DOCX whose document part unpacks beyond this is refused (a zip bomb, not a résumé).
const MAX_DOCX_XML_BYTES: u64 = 50 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Docx,
    Text,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Pdf => "PDF",
            Format::Docx => "DOCX",
            Format::Text => "text",
        }
    }
}

/// Reads `path` and returns its format and text.
pub fn read(path: &Path) -> Result<(Format, String), MatchError> {
    let size = std::fs::metadata(path).map_err(|e| MatchError::file(path, e))?.len();
    if size > MAX_BYTES {
        return Err(MatchError::file(
            path,
            format!(
                "is {:.1} MB; résumés over {} MB are refused (is this the right file?)",
                size as f64 / 1e6,
                MAX_BYTES / 1024 / 1024
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| MatchError::file(path, e))?;
    let (format, text) = from_bytes(&bytes, path)?;
    if text.trim().is_empty() {
        let why = match format {
            Format::Pdf => "the PDF has no text layer (a scanned image?): run it through OCR or give the résumé as text",
            Format::Docx => "the DOCX has no text",
            Format::Text => "the file is empty",
        };
        return Err(MatchError::file(path, why));
    }
    Ok((format, text))
}

/// The format and text of a file's bytes; `path` names it in errors.
pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<(Format, String), MatchError> {
    let is_docx_name = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("docx"));
    if bytes.starts_with(b"%PDF-") {
        Ok((Format::Pdf, pdf_text(bytes, path)?))
    } else if bytes.starts_with(b"PK\x03\x04") {
        Ok((Format::Docx, docx_text(bytes, path)?))
    } else if is_docx_name || path.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf")) {
        Err(MatchError::file(
            path,
            format!(
                "is named like a {} but is not one (it does not start like a {})",
                if is_docx_name { "DOCX" } else { "PDF" },
                if is_docx_name { "zip archive" } else { "PDF" }
            ),
        ))
    } else {
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok((Format::Text, text.trim_start_matches('\u{feff}').to_string())),
            Err(e) => Err(MatchError::file(
                path,
                format!(
                    "is neither PDF, DOCX nor UTF-8 text (invalid UTF-8 at byte offset {})",
                    e.valid_up_to()
                ),
            )),
        }
    }
}

/// The PDF's text layer. pdf-extract panics on some malformed files instead of returning an
/// error, so a panic is caught here and reported as the file's error (with the panic message
/// kept off the terminal).
fn pdf_text(bytes: &[u8], path: &Path) -> Result<String, MatchError> {
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes));
    std::panic::set_hook(previous_hook);
    match outcome {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => Err(MatchError::file(path, format!("unreadable PDF: {e}"))),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
                .unwrap_or_default();
            Err(MatchError::file(
                path,
                format!("unreadable PDF (the PDF reader gave up: {message})"),
            ))
        }
    }
}

/// The text of a DOCX's main document part: a line per paragraph, tabs and breaks kept. The
/// part is read raw and inflated here (stored and deflated parts are what Word writes).
fn docx_text(bytes: &[u8], path: &Path) -> Result<String, MatchError> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| MatchError::file(path, format!("unreadable zip archive: {e}")))?;
    let part = archive
        .by_name_raw(b"word/document.xml")
        .map_err(|_| MatchError::file(path, "a zip archive without word/document.xml, so not a DOCX"))?;
    let method = part.compression();
    let reader: Box<dyn Read + '_> = if method == zip::CompressionMethod::STORE {
        Box::new(part)
    } else if method == zip::CompressionMethod::DEFLATE {
        Box::new(flate2::read::DeflateDecoder::new(part))
    } else {
        return Err(MatchError::file(
            path,
            format!("word/document.xml is compressed with {method:?}, which DOCX files do not use"),
        ));
    };
    let mut xml = String::new();
    reader
        .take(MAX_DOCX_XML_BYTES + 1)
        .read_to_string(&mut xml)
        .map_err(|e| MatchError::file(path, format!("word/document.xml: {e}")))?;
    if xml.len() as u64 > MAX_DOCX_XML_BYTES {
        return Err(MatchError::file(path, "word/document.xml unpacks to over 50 MB; refused"));
    }
    paragraphs_text(&xml).map_err(|message| MatchError::file(path, format!("word/document.xml: {message}")))
}

/// `WordprocessingML` to text: `w:t` runs, `w:tab`, `w:br` and a newline after each `w:p`.
fn paragraphs_text(xml: &str) -> Result<String, String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut text = String::new();
    let mut in_text_run = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed XML at byte offset {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(tag) if tag.local_name().as_ref() == b"t" => in_text_run = true,
            Event::End(tag) => match tag.local_name().as_ref() {
                b"t" => in_text_run = false,
                b"p" => text.push('\n'),
                _ => {}
            },
            Event::Empty(tag) => match tag.local_name().as_ref() {
                b"tab" => text.push('\t'),
                b"br" | b"cr" => text.push('\n'),
                _ => {}
            },
            Event::Text(run) if in_text_run => text.push_str(&run.xml_content().map_err(|e| e.to_string())?),
            Event::GeneralRef(reference) if in_text_run => {
                if let Ok(Some(c)) = reference.resolve_char_ref() {
                    text.push(c);
                } else {
                    let name = reference.decode().map_err(|e| e.to_string())?;
                    text.push_str(quick_xml::escape::resolve_predefined_entity(&name).unwrap_or_default());
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wordprocessing_xml_becomes_lines() {
        let xml = r#"<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>Skills</w:t></w:r></w:p><w:p><w:r><w:t xml:space="preserve">Python &amp; SQL</w:t><w:tab/><w:t>Spark</w:t></w:r></w:p></w:body></w:document>"#;
        assert_eq!(paragraphs_text(xml).expect("reads"), "Skills\nPython & SQL\tSpark\n");
    }

    #[test]
    fn misnamed_and_binary_files_are_refused_with_the_reason() {
        let error = from_bytes(b"hello", Path::new("cv.docx")).expect_err("not a zip").to_string();
        assert!(error.contains("cv.docx") && error.contains("not one"), "{error}");
        let error = from_bytes(b"ok\xff\xfe", Path::new("cv.txt")).expect_err("not UTF-8").to_string();
        assert!(error.contains("byte offset 2"), "{error}");
        let error = from_bytes(b"PK\x03\x04garbage", Path::new("cv.docx"))
            .expect_err("broken zip")
            .to_string();
        assert!(error.contains("zip"), "{error}");
        let error = from_bytes(b"%PDF-1.4 garbage", Path::new("cv.pdf"))
            .expect_err("broken PDF")
            .to_string();
        assert!(error.contains("unreadable PDF"), "{error}");
    }
}
