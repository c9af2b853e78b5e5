//! A drawn chart in the formats people open: SVG with its text turned into outlines of the
//! embedded font (so no viewer shows boxes for missing glyphs or swaps the font), and PNG
//! rasterised by resvg from the same drawing.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

use super::ChartError;
use super::draw::{FONT, FONT_FAMILY};

/// The font database every chart is laid out with: the embedded font only, never the system's.
fn options() -> &'static usvg::Options<'static> {
    static OPTIONS: OnceLock<usvg::Options<'static>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut fonts = usvg::fontdb::Database::new();
        fonts.load_font_data(FONT.to_vec());
        fonts.set_sans_serif_family(FONT_FAMILY);
        usvg::Options {
            font_family: FONT_FAMILY.to_string(),
            fontdb: Arc::new(fonts),
            ..usvg::Options::default()
        }
    })
}

fn parse(svg: &str) -> Result<usvg::Tree, ChartError> {
    usvg::Tree::from_str(svg, options()).map_err(|e| ChartError::Render(e.to_string()))
}

/// `svg` with every text element replaced by the outlines of its glyphs. The view box usvg
/// leaves out is put back, so a page can scale the drawing to its column.
pub fn outlined_svg(svg: &str) -> Result<String, ChartError> {
    let tree = parse(svg)?;
    let size = tree.size();
    // Hundredths of a unit are below a pixel at any scale a page uses; the default eight digits
    // made a bar chart's outlines four times as large.
    let written = tree.to_string(&usvg::WriteOptions {
        coordinates_precision: 2,
        transforms_precision: 4,
        ..usvg::WriteOptions::default()
    });
    Ok(written.replacen("<svg ", &format!("<svg viewBox=\"0 0 {} {}\" ", size.width(), size.height()), 1))
}

/// `svg` as a PNG at `scale` times its size (2 for sharp text on high-density screens).
pub fn png(svg: &str, scale: f32) -> Result<Vec<u8>, ChartError> {
    let tree = parse(svg)?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(scale)
        .ok_or_else(|| ChartError::Render(format!("cannot scale the chart by {scale}")))?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| ChartError::Render(format!("a {}×{} image is too large", size.width(), size.height())))?;
    resvg::render(&tree, tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| ChartError::Render(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::super::draw::{Bar, ChartData, svg};
    use super::super::spec::Unit;
    use super::*;

    fn sample() -> String {
        let bars = vec![
            Bar {
                label: "Python".into(),
                value: 120.0,
                range: None,
            },
            Bar {
                label: "SQL".into(),
                value: 80.0,
                range: None,
            },
        ];
        svg(
            "Skill demand",
            Some("postings naming each skill"),
            &ChartData::Bars(bars),
            Unit::Count,
        )
    }

    #[test]
    fn outlined_svg_holds_no_text_but_the_glyphs_shapes() {
        let outlined = outlined_svg(&sample()).expect("test input is valid");
        assert!(!outlined.contains("<text"), "text left as text: {outlined}");
        assert!(outlined.starts_with("<svg viewBox=\"0 0 760 "), "scalable: {outlined}");
        // Every label became paths: far more path data than the drawing had rectangles.
        assert!(outlined.matches("<path").count() > 10, "{outlined}");
    }

    #[test]
    fn png_has_the_scaled_size_and_ink_where_the_text_is() {
        let bytes = png(&sample(), 2.0).expect("test input is valid");
        let image = tiny_skia::Pixmap::decode_png(&bytes).expect("a PNG");
        let tree = parse(&sample()).expect("test input is valid");
        assert_eq!(image.width(), (tree.size().width() * 2.0).round() as u32);
        // The title's band (y 10–30 at scale 1) has dark pixels: the font was found and drawn.
        let dark = (20..60)
            .flat_map(|y| (20..400).map(move |x| (x, y)))
            .filter(|(x, y)| image.pixel(*x, *y).is_some_and(|p| p.red() < 100 && p.green() < 100))
            .count();
        assert!(dark > 200, "only {dark} dark pixels where the title is");
    }
}
