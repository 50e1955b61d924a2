//! [`ReportModel`] -> PDF bytes with krilla: two pages (A4 or Letter), real text in
//! embedded, subset fonts (Ubuntu Light for text, Hack for numbers), the image crops at
//! their native resolution with vector contours on top, the volume curve as vector
//! graphics, page numbers; PDF/A-2b.

use super::text::{Metrics, TEXT_FACES};
use super::{ReportError, ReportModel};
use crate::contour::Structure;
use crate::measure::Level;
use krilla::color::rgb;
use krilla::configure::{Configuration, Validator};
use krilla::geom::{PathBuilder, Point, Size, Transform};
use krilla::image::Image;
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};

const MONO_FONT: &[u8] = epaint_default_fonts::HACK_REGULAR;
const MARGIN: f32 = 42.0;
const PAGES: usize = 2;

/// Contour colours as in the viewer (LV endocardium red, LV epicardium green, RV yellow).
fn contour_colour(s: Structure) -> rgb::Color {
    match s {
        Structure::LvEndo => rgb::Color::new(230, 40, 40),
        Structure::LvEpi => rgb::Color::new(40, 210, 70),
        Structure::RvEndo => rgb::Color::new(240, 215, 30),
    }
}

const INK: (u8, u8, u8) = (20, 20, 20);
const GREY: (u8, u8, u8) = (110, 110, 110);
const LV_CURVE: (u8, u8, u8) = (200, 30, 30);
// The RV's yellow is unreadable as a thin line on white paper; a darker gold keeps the hue.
const RV_CURVE: (u8, u8, u8) = (190, 150, 0);

struct Pen<'a, 'b> {
    s: &'a mut Surface<'b>,
    /// The text face and its fallbacks, as in [`TEXT_FACES`].
    fonts: Vec<Font>,
    mono: Font,
    metrics: &'a Metrics,
    mono_metrics: &'a Metrics,
}

fn colour((r, g, b): (u8, u8, u8)) -> rgb::Color {
    rgb::Color::new(r, g, b)
}

fn fill_of(c: rgb::Color) -> Fill {
    Fill {
        paint: c.into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

fn stroke_of(c: rgb::Color, width: f32) -> Stroke {
    Stroke {
        paint: c.into(),
        width,
        ..Stroke::default()
    }
}

impl Pen<'_, '_> {
    fn text(&mut self, x: f32, y: f32, size: f32, text: &str, ink: (u8, u8, u8)) {
        self.s.set_fill(Some(fill_of(colour(ink))));
        self.s.set_stroke(None);
        self.runs(x, y, size, text);
    }

    /// Heavier text: the light face filled and outlined thinly (the one face embedded).
    fn strong(&mut self, x: f32, y: f32, size: f32, text: &str) {
        self.s.set_fill(Some(fill_of(colour(INK))));
        self.s
            .set_stroke(Some(stroke_of(colour(INK), size * 0.035)));
        self.runs(x, y, size, text);
        self.s.set_stroke(None);
    }

    /// Draws `text` run by run, each in the face that has its characters.
    fn runs(&mut self, x: f32, y: f32, size: f32, text: &str) {
        let mut x = x;
        for (face, run) in self.metrics.runs(text) {
            let Some(font) = self.fonts.get(face) else {
                continue;
            };
            self.s.draw_text(
                Point::from_xy(x, y),
                font.clone(),
                size,
                &run,
                false,
                TextDirection::Auto,
            );
            x += self.metrics.run_width(face, &run, size);
        }
    }

    fn mono_right(&mut self, right: f32, y: f32, size: f32, text: &str, ink: (u8, u8, u8)) {
        let w = self.mono_metrics.width(text, size);
        self.s.set_fill(Some(fill_of(colour(ink))));
        self.s.set_stroke(None);
        self.s.draw_text(
            Point::from_xy(right - w, y),
            self.mono.clone(),
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    fn line(&mut self, a: (f32, f32), b: (f32, f32), width: f32, ink: rgb::Color) {
        let mut pb = PathBuilder::new();
        pb.move_to(a.0, a.1);
        pb.line_to(b.0, b.1);
        if let Some(path) = pb.finish() {
            self.s.set_fill(None);
            self.s.set_stroke(Some(stroke_of(ink, width)));
            self.s.draw_path(&path);
            self.s.set_stroke(None);
        }
    }

    fn polyline(&mut self, pts: &[(f32, f32)], closed: bool, width: f32, ink: rgb::Color) {
        let mut pb = PathBuilder::new();
        for (i, p) in pts.iter().enumerate() {
            if i == 0 {
                pb.move_to(p.0, p.1);
            } else {
                pb.line_to(p.0, p.1);
            }
        }
        if closed {
            pb.close();
        }
        if let Some(path) = pb.finish() {
            self.s.set_fill(None);
            self.s.set_stroke(Some(stroke_of(ink, width)));
            self.s.draw_path(&path);
            self.s.set_stroke(None);
        }
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, ink: rgb::Color) {
        let mut pb = PathBuilder::new();
        pb.move_to(x, y);
        pb.line_to(x + w, y);
        pb.line_to(x + w, y + h);
        pb.line_to(x, y + h);
        pb.close();
        if let Some(path) = pb.finish() {
            self.s.set_stroke(None);
            self.s.set_fill(Some(fill_of(ink)));
            self.s.draw_path(&path);
        }
    }
}

/// Writes the report as PDF/A-2b bytes.
pub fn render(model: &ReportModel) -> Result<Vec<u8>, ReportError> {
    let fonts = TEXT_FACES
        .iter()
        .map(|&(data, index)| Font::new(krilla::Data::from(data), index))
        .collect::<Option<Vec<Font>>>()
        .ok_or_else(|| ReportError::Pdf("a text font cannot be read".into()))?;
    let mono = Font::new(krilla::Data::from(MONO_FONT), 0)
        .ok_or_else(|| ReportError::Pdf("the number font cannot be read".into()))?;
    let metrics = Metrics::with_fallbacks(&TEXT_FACES);
    let mono_metrics = Metrics::new(MONO_FONT);
    let settings = SerializeSettings {
        configuration: Configuration::new_with_validator(Validator::A2_B),
        ..SerializeSettings::default()
    };
    let mut doc = Document::new_with(settings);
    doc.set_metadata(
        Metadata::new()
            .title(model.metadata_title.clone())
            .creator(format!("Systole {}", env!("CARGO_PKG_VERSION")))
            .language("en".into())
            .creation_date(date_time(model.generated_secs)),
    );
    let (w, h) = model.paper.size_pt();
    let size = Size::from_wh(w, h).ok_or_else(|| ReportError::Pdf("bad paper size".into()))?;
    for page_no in 1..=PAGES {
        let mut page = doc.start_page_with(PageSettings::new(size));
        let mut surface = page.surface();
        let mut pen = Pen {
            s: &mut surface,
            fonts: fonts.clone(),
            mono: mono.clone(),
            metrics: &metrics,
            mono_metrics: &mono_metrics,
        };
        if page_no == 1 {
            page_one(&mut pen, model, w);
        } else {
            page_two(&mut pen, model, w, h);
        }
        let footer = format!("{} | page {page_no} of {PAGES}", model.footer);
        pen.line(
            (MARGIN, h - 36.0),
            (w - MARGIN, h - 36.0),
            0.5,
            colour(GREY),
        );
        pen.text(MARGIN, h - 24.0, 7.5, &footer, GREY);
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| ReportError::Pdf(format!("{e:?}")))
}

fn date_time(secs: i64) -> DateTime {
    let [y, mo, d, h, mi] = super::civil(secs);
    DateTime::new(y.clamp(0, 9999) as u16)
        .month(mo as u8)
        .day(d as u8)
        .hour(h as u8)
        .minute(mi as u8)
        .second(0)
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

fn page_one(pen: &mut Pen, m: &ReportModel, w: f32) {
    let mut y = MARGIN + 14.0;
    pen.strong(MARGIN, y, 16.0, &m.title);
    y += 22.0;
    // Header: two columns of label/value pairs.
    let col_w = (w - 2.0 * MARGIN) / 2.0;
    let rows = m.header.len().div_ceil(2);
    for (i, (k, v)) in m.header.iter().enumerate() {
        let (col, row) = (i / rows, i % rows);
        let x = MARGIN + col as f32 * col_w;
        let yy = y + row as f32 * 13.0;
        pen.text(x, yy, 8.5, k, GREY);
        let lines = pen.metrics.wrap(v, 9.0, col_w - 78.0);
        pen.text(
            x + 72.0,
            yy,
            9.0,
            lines.first().map_or("", String::as_str),
            INK,
        );
    }
    y += rows as f32 * 13.0 + 10.0;
    pen.line((MARGIN, y), (w - MARGIN, y), 0.6, colour(GREY));
    y += 20.0;
    pen.strong(MARGIN, y, 12.0, "Ventricular volumes and function");
    y += 16.0;
    // Table: name | value | unit | indexed | reference | flag.
    let x_value = MARGIN + 210.0;
    let x_unit = x_value + 6.0;
    let x_index = MARGIN + 330.0;
    let x_range = MARGIN + 345.0;
    let x_flag = w - MARGIN - 40.0;
    pen.text(MARGIN, y, 8.0, "Measure", GREY);
    pen.mono_right(x_value, y, 8.0, "Value", GREY);
    pen.mono_right(x_index, y, 8.0, "per m² BSA", GREY);
    pen.text(x_range, y, 8.0, "Reference range", GREY);
    pen.text(x_flag, y, 8.0, "Flag", GREY);
    y += 5.0;
    pen.line((MARGIN, y), (w - MARGIN, y), 0.4, colour(GREY));
    y += 13.0;
    for (i, r) in m.rows.iter().enumerate() {
        if i % 2 == 0 {
            pen.rect(
                MARGIN,
                y - 10.0,
                w - 2.0 * MARGIN,
                14.0,
                rgb::Color::new(242, 242, 242),
            );
        }
        pen.text(MARGIN + 2.0, y, 9.5, r.name, INK);
        pen.mono_right(x_value, y, 9.5, &r.value, INK);
        pen.text(x_unit, y, 8.5, r.unit, GREY);
        pen.mono_right(x_index, y, 9.5, &r.indexed, INK);
        pen.text(x_range, y, 8.5, &r.range, GREY);
        match r.flag {
            Some(Level::Low) => pen.strong(x_flag, y, 9.0, "LOW"),
            Some(Level::High) => pen.strong(x_flag, y, 9.0, "HIGH"),
            Some(Level::Normal) => pen.text(x_flag, y, 9.0, "normal", INK),
            None => {}
        }
        y += 14.0;
    }
    y += 4.0;
    for line in pen.metrics.wrap(&m.key_phases, 8.5, w - 2.0 * MARGIN) {
        pen.text(MARGIN, y, 8.5, &line, GREY);
        y += 11.0;
    }
    pen.text(MARGIN, y, 8.0, "Reference ranges: adult CMR normal values (Petersen et al., JCMR 2017); a dash means unknown or no range.", GREY);
    y += 16.0;
    if !m.warnings.is_empty() {
        pen.strong(MARGIN, y, 10.0, "Warnings");
        y += 12.0;
        // At most eight lines, so that the volume curve still fits on the page.
        let lines: Vec<String> = m
            .warnings
            .iter()
            .flat_map(|text| pen.metrics.wrap(text, 8.5, w - 2.0 * MARGIN))
            .collect();
        for (i, line) in lines.iter().enumerate() {
            let last = i == 7 && lines.len() > 8;
            pen.text(
                MARGIN,
                y,
                8.5,
                if last {
                    "... more in the session's measures (systole measure --json)"
                } else {
                    line
                },
                INK,
            );
            y += 11.0;
            if last {
                break;
            }
        }
    }
    y += 8.0;
    pen.strong(MARGIN, y, 12.0, "Volume over the cardiac cycle");
    y += 10.0;
    curve(pen, m, MARGIN, y, w - 2.0 * MARGIN, 190.0);
}

fn page_two(pen: &mut Pen, m: &ReportModel, w: f32, h: f32) {
    let mut y = MARGIN + 14.0;
    pen.strong(MARGIN, y, 12.0, "Contours at end-diastole and end-systole");
    y += 12.0;
    let gap = 10.0;
    let cell = ((w - 2.0 * MARGIN - gap) / 2.0)
        .min(((h - 380.0) / 3.0) - 14.0)
        .max(60.0);
    let x0 = (w - (2.0 * cell + gap)) / 2.0;
    if m.images.is_empty() {
        pen.text(
            MARGIN,
            y + 12.0,
            9.0,
            "No images: ED or ES is unknown, or no LV contour at ED.",
            INK,
        );
    }
    for (i, img) in m.images.iter().enumerate() {
        let (row, col) = (i / 2, i % 2);
        let x = x0 + col as f32 * (cell + gap);
        let top = y + row as f32 * (cell + 16.0);
        pen.text(x, top + 9.0, 8.0, &img.caption, INK);
        image(pen, img, x, top + 13.0, cell);
    }
    y += 3.0 * (cell + 16.0) + 10.0;
    pen.text(MARGIN, y, 8.0, "LV endocardium red, LV epicardium green, RV endocardium yellow (as in the viewer). Images at their native resolution.", GREY);
    y += 22.0;
    pen.strong(MARGIN, y, 11.0, "Contours edited by hand");
    y += 14.0;
    let room = ((h - 200.0 - y) / 11.0).max(1.0) as usize;
    if m.edited.is_empty() {
        pen.text(
            MARGIN,
            y,
            9.0,
            "None: every contour is as the network drew it.",
            INK,
        );
        y += 11.0;
    }
    for (i, e) in m.edited.iter().enumerate() {
        if i + 1 == room && m.edited.len() > room {
            pen.text(
                MARGIN,
                y,
                9.0,
                &format!("... and {} more images", m.edited.len() - i),
                INK,
            );
            y += 11.0;
            break;
        }
        pen.text(MARGIN, y, 9.0, e, INK);
        y += 11.0;
    }
    y += 14.0;
    pen.strong(MARGIN, y, 11.0, "Review");
    y += 14.0;
    pen.text(MARGIN, y, 8.5, "Images", GREY);
    pen.text(MARGIN + 72.0, y, 9.5, &m.review_status, INK);
    y += 14.0;
    pen.text(MARGIN, y, 8.5, "Reviewer", GREY);
    pen.text(MARGIN + 72.0, y, 9.5, &m.reviewer, INK);
    y += 14.0;
    pen.text(MARGIN, y, 8.5, "Conclusion", GREY);
    for line in pen
        .metrics
        .wrap(&m.conclusion, 9.5, w - 2.0 * MARGIN - 72.0)
        .into_iter()
        .take(8)
    {
        pen.text(MARGIN + 72.0, y, 9.5, &line, INK);
        y += 12.0;
    }
}

/// One image crop scaled into a `cell`-point square, with its contours.
fn image(pen: &mut Pen, img: &super::ReportImage, x: f32, y: f32, cell: f32) {
    let (cw, ch) = (img.columns as f32, img.rows as f32);
    if cw < 1.0 || ch < 1.0 {
        return;
    }
    let scale = cell / cw.max(ch);
    let rgba: Vec<u8> = img.gray.iter().flat_map(|&g| [g, g, g, 255]).collect();
    let picture = Image::from_rgba8(rgba, img.columns, img.rows);
    pen.s.push_transform(&Transform::from_translate(x, y));
    if let Some(sz) = Size::from_wh(cw * scale, ch * scale) {
        pen.s.draw_image(picture, sz);
    }
    pen.s.pop();
    for (st, poly) in &img.contours {
        // Pixel centres sit half a pixel inside the picture's edge.
        let pts: Vec<(f32, f32)> = poly
            .iter()
            .map(|p| {
                (
                    x + (p[0] as f32 + 0.5) * scale,
                    y + (p[1] as f32 + 0.5) * scale,
                )
            })
            .collect();
        pen.polyline(&pts, true, 1.1, contour_colour(*st));
    }
}

/// LV and RV volume against phase, with ED and ES marked.
fn curve(pen: &mut Pen, m: &ReportModel, x: f32, y: f32, w: f32, h: f32) {
    let vals: Vec<f64> = m
        .lv_ml
        .iter()
        .chain(&m.rv_ml)
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let n = m.lv_ml.len().max(m.rv_ml.len());
    let (left, bottom) = (x + 36.0, y + h - 22.0);
    let (pw, ph) = (w - 46.0, h - 32.0);
    pen.line((left, y), (left, bottom), 0.6, colour(GREY));
    pen.line((left, bottom), (left + pw, bottom), 0.6, colour(GREY));
    if vals.is_empty() || n < 1 {
        pen.text(left + 8.0, y + 20.0, 9.0, "No volumes.", INK);
        return;
    }
    let top_ml = vals.iter().copied().fold(0.0, f64::max) * 1.1;
    let top_ml = if top_ml > 0.0 { top_ml } else { 1.0 };
    let px = |p: usize| {
        left + if n > 1 {
            p as f32 / (n - 1) as f32 * pw
        } else {
            pw / 2.0
        }
    };
    let py = |v: f64| bottom - (v / top_ml) as f32 * ph;
    // Axis ticks: 0, half, top (mL); phases 1 and n.
    for v in [0.0, top_ml / 2.0, top_ml] {
        pen.line((left - 3.0, py(v)), (left, py(v)), 0.5, colour(GREY));
        pen.mono_right(left - 5.0, py(v) + 3.0, 7.0, &format!("{v:.0}"), GREY);
    }
    pen.text(x, y - 2.0, 7.5, "mL", GREY);
    for p in [0, n - 1] {
        pen.mono_right(px(p) + 3.0, bottom + 11.0, 7.0, &format!("{}", p + 1), GREY);
    }
    pen.text(left + pw / 2.0 - 12.0, bottom + 19.0, 7.5, "phase", GREY);
    for (p, label) in [(m.ed_phase, "ED"), (m.es_phase, "ES")] {
        if let Some(p) = p.filter(|p| *p < n) {
            pen.line(
                (px(p), y),
                (px(p), bottom),
                0.6,
                rgb::Color::new(150, 150, 220),
            );
            pen.text(px(p) + 2.0, y + 8.0, 7.5, label, GREY);
        }
    }
    for (series, ink, name) in [(&m.lv_ml, LV_CURVE, "LV"), (&m.rv_ml, RV_CURVE, "RV")] {
        // Runs of measured phases only: a gap is never drawn as zero.
        let mut run: Vec<(f32, f32)> = Vec::new();
        for (p, v) in series.iter().enumerate() {
            match v {
                Some(v) if v.is_finite() => run.push((px(p), py(*v))),
                _ => {
                    if run.len() > 1 {
                        pen.polyline(&run, false, 1.4, colour(ink));
                    }
                    run.clear();
                }
            }
        }
        if run.len() > 1 {
            pen.polyline(&run, false, 1.4, colour(ink));
        } else if let Some(&(a, b)) = run.first() {
            pen.rect(a - 1.5, b - 1.5, 3.0, 3.0, colour(ink));
        }
        // Legend above the plot's top right corner, clear of the ED/ES labels.
        let lx = left + pw - if name == "LV" { 70.0 } else { 30.0 };
        pen.line((lx, y - 5.0), (lx + 12.0, y - 5.0), 1.4, colour(ink));
        pen.text(lx + 15.0, y - 2.0, 8.0, name, INK);
    }
}
