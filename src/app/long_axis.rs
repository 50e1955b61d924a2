//! The long-axis pane: a long-axis cine of the exam beside the short-axis view, in step
//! by cardiac phase, with every short-axis slice drawn as a line where its plane crosses
//! the image (the current slice highlighted, slices with contours in green); a click on a
//! line goes to that slice. The short-axis view shows the long-axis plane as a line.

use super::{App, Command};
use crate::study::LongAxisPlane;
use crate::study::exam::ImagePlane;
use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2};

/// The pane's state.
#[derive(Default)]
pub struct LaxPane {
    /// Index into the study's long-axis planes.
    pub selected: usize,
    /// The texture on show, keyed by (study id, plane, long-axis phase).
    texture: Option<((u64, usize, usize), egui::TextureHandle)>,
    /// Where the image sits on screen: (top-left corner, points per pixel), as last drawn.
    pub map: Option<(Pos2, f32)>,
}

impl LaxPane {
    /// The long-axis phase (0-based) last drawn.
    pub fn shown_phase(&self) -> Option<usize> {
        self.texture.as_ref().map(|((_, _, phase), _)| *phase)
    }
}

/// The short-axis slice line colour: the current slice, slices with contours, the rest.
pub const CURRENT_LINE: Color32 = Color32::from_rgb(255, 220, 40);
pub const CONTOURED_LINE: Color32 = Color32::from_rgb(40, 210, 70);
pub const OTHER_LINE: Color32 = Color32::from_rgb(150, 150, 150);
/// The long-axis plane drawn on the short-axis view.
pub const PLANE_LINE: Color32 = Color32::from_rgb(80, 200, 255);

/// The long-axis phase shown with short-axis phase `phase` of `phases`: the same fraction
/// of the cardiac cycle (rounded to the nearest phase) when the counts differ.
pub fn lax_phase(phase: usize, phases: usize, lax_phases: usize) -> usize {
    if phases == 0 || lax_phases == 0 {
        return 0;
    }
    ((phase * lax_phases + phases / 2) / phases).min(lax_phases - 1)
}

/// Points per pixel and the top-left corner that fit `columns x rows` pixels in `rect`.
fn fit(rect: Rect, columns: usize, rows: usize) -> (Pos2, f32) {
    let (w, h) = (columns as f32, rows as f32);
    let scale = (rect.width() / w).min(rect.height() / h);
    let size = Vec2::new(w * scale, h * scale);
    (rect.center() - size / 2.0, scale)
}

/// The image as grey levels, windowed from its 1st to its 99th percentile.
fn grey(img: &[f32], columns: usize, rows: usize) -> egui::ColorImage {
    let mut sorted: Vec<f32> = img.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f32::total_cmp);
    let at = |q: f64| {
        sorted
            .get(((sorted.len().saturating_sub(1)) as f64 * q) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let (lo, hi) = (at(0.01), at(0.99));
    let span = (hi - lo).max(1e-6);
    let bytes: Vec<u8> = img
        .iter()
        .map(|v| (((v - lo) / span).clamp(0.0, 1.0) * 255.0) as u8)
        .collect();
    egui::ColorImage::from_gray([columns, rows], &bytes)
}

/// Distance from `p` to the segment `a`-`b`.
fn distance(p: Pos2, a: Pos2, b: Pos2) -> f32 {
    let ab = b - a;
    let t = ((p - a).dot(ab) / ab.length_sq().max(1e-6)).clamp(0.0, 1.0);
    (a + ab * t - p).length()
}

/// The long-axis planes of the open study that have images.
fn planes(app: &App) -> Vec<(usize, &LongAxisPlane)> {
    app.current.as_ref().map_or_else(Vec::new, |c| {
        c.study
            .long_axis
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.images.is_empty())
            .collect()
    })
}

/// Whether the open study has a long-axis cine to show.
pub fn has_long_axis(app: &App) -> bool {
    !planes(app).is_empty()
}

/// The pane.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    let list: Vec<(usize, String)> = planes(app)
        .iter()
        .map(|(i, l)| {
            (
                *i,
                format!(
                    "{} #{}",
                    l.view.name(),
                    l.number.map_or("-".into(), |n| n.to_string())
                ),
            )
        })
        .collect();
    let Some(first) = list.first().map(|(i, _)| *i) else {
        return;
    };
    if !list.iter().any(|(i, _)| *i == app.lax.selected) {
        app.lax.selected = first;
    }
    ui.horizontal(|ui| {
        ui.label("Long axis");
        for (i, name) in &list {
            ui.selectable_value(&mut app.lax.selected, *i, name.as_str());
        }
    });
    let (Some(cur), Some(v)) = (&app.current, &app.view) else {
        return;
    };
    let Some(plane) = cur.study.long_axis.get(app.lax.selected) else {
        return;
    };
    let d = cur.cine.dims();
    let lp = lax_phase(v.phase, d.phases, plane.images.len());
    let key = (cur.id, app.lax.selected, lp);
    if app.lax.texture.as_ref().is_none_or(|(k, _)| *k != key) {
        let img = grey(&plane.images[lp], plane.columns, plane.rows);
        let tex = ui
            .ctx()
            .load_texture("systole-long-axis", img, egui::TextureOptions::LINEAR);
        app.lax.texture = Some((key, tex));
    }
    let rect = ui.available_rect_before_wrap();
    let resp = ui.allocate_rect(rect, Sense::click());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, Color32::BLACK);
    let (min, scale) = fit(rect, plane.columns, plane.rows);
    if let Some((_, tex)) = &app.lax.texture {
        painter.image(
            tex.id(),
            Rect::from_min_size(
                min,
                Vec2::new(plane.columns as f32, plane.rows as f32) * scale,
            ),
            Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
            Color32::WHITE,
        );
    }
    let to_screen = |p: [f64; 2]| {
        Pos2::new(
            min.x + (p[0] as f32 + 0.5) * scale,
            min.y + (p[1] as f32 + 0.5) * scale,
        )
    };
    let lines = plane.sax_lines(&cur.cine.geometry);
    for line in &lines {
        let contoured = app
            .labels
            .as_ref()
            .is_some_and(|l| !l.annotated(v.phase, line.slice).is_empty());
        let (colour, width) = if line.slice == v.slice {
            (CURRENT_LINE, 2.5)
        } else if contoured {
            (CONTOURED_LINE, 1.2)
        } else {
            (OTHER_LINE, 0.8)
        };
        let (a, b) = (to_screen(line.from), to_screen(line.to));
        painter.line_segment([a, b], Stroke::new(width, colour));
        let left = if a.x <= b.x { a } else { b };
        painter.text(
            left + Vec2::new(2.0, -1.0),
            egui::Align2::LEFT_BOTTOM,
            format!("{}", line.slice + 1),
            egui::FontId::proportional(10.0),
            colour,
        );
    }
    painter.text(
        rect.left_top() + Vec2::new(6.0, 6.0),
        egui::Align2::LEFT_TOP,
        format!(
            "{}  phase {} of {}{}",
            plane.view.name(),
            lp + 1,
            plane.images.len(),
            plane
                .description
                .as_deref()
                .map_or(String::new(), |d| format!("\n{d}"))
        ),
        egui::FontId::monospace(11.0),
        Color32::LIGHT_GRAY,
    );
    app.lax.map = Some((min, scale));
    // A click on (or near) a line goes to that slice.
    if resp.clicked()
        && let Some(pos) = resp.interact_pointer_pos()
    {
        let nearest = lines
            .iter()
            .map(|l| (l.slice, distance(pos, to_screen(l.from), to_screen(l.to))))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((slice, dist)) = nearest
            && dist <= 8.0
        {
            app.commands.push(Command::Go {
                phase: v.phase,
                slice,
            });
        }
    }
}

/// Where the selected long-axis plane crosses short-axis slice `slice`, in that slice's
/// pixel coordinates.
pub fn plane_on_slice(app: &App, slice: usize) -> Option<([f64; 2], [f64; 2])> {
    let cur = app.current.as_ref()?;
    let plane = cur
        .study
        .long_axis
        .get(app.lax.selected)
        .filter(|l| !l.images.is_empty())?;
    let d = cur.cine.dims();
    ImagePlane::of_slice(&cur.cine.geometry, slice, d.rows, d.columns)?
        .crossing(plane.position_mm, plane.normal())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_map_by_fraction_of_the_cycle() {
        assert_eq!(lax_phase(0, 20, 30), 0);
        assert_eq!(lax_phase(10, 20, 30), 15);
        assert_eq!(lax_phase(19, 20, 30), 29);
        assert_eq!(lax_phase(7, 25, 25), 7);
        assert_eq!(lax_phase(24, 25, 20), 19);
        assert_eq!(lax_phase(3, 0, 20), 0);
    }
}
