//! The long-axis pane: a long-axis cine of the exam beside the short-axis view, in step
//! by cardiac phase, with every short-axis slice drawn as a line where its plane crosses
//! the image (the current slice highlighted, slices with contours in green); a click on a
//! line goes to that slice. The short-axis view shows the long-axis plane as a line.

use super::render::{ImageData, ImageKey, SliceCallback, SliceUniforms, ViewId};
use super::{App, Command};
use crate::study::LongAxisPlane;
use crate::study::exam::ImagePlane;
use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2};
use std::sync::Arc;

/// The pane's state.
#[derive(Default)]
pub struct LaxPane {
    /// Index into the study's long-axis planes.
    pub selected: usize,
    /// Show a second long-axis cine below the first (the next view of the exam).
    pub two: bool,
    /// The textures on show (one per slot), keyed by (study id, plane, long-axis phase,
    /// window).
    textures: [Option<(TextureKey, egui::TextureHandle)>; 2],
    /// Where the first slot's image sits on screen: (top-left corner, points per pixel).
    pub map: Option<(Pos2, f32)>,
    /// The same for the second slot.
    pub second_map: Option<(Pos2, f32)>,
    /// The plane in the second slot, when two are shown.
    pub second: Option<usize>,
    /// Window (centre, width) per plane, set by right-dragging in its pane; absent: the
    /// image's own 1st to 99th percentile.
    pub windows: std::collections::HashMap<usize, (f32, f32)>,
    /// The image each slot sends to the GPU (the wgpu renderer).
    gpu: [Option<Arc<ImageData>>; 2],
}

type TextureKey = (u64, usize, usize, Option<(i32, i32)>);

impl LaxPane {
    /// The long-axis phase (0-based) last drawn in the first slot.
    pub fn shown_phase(&self) -> Option<usize> {
        self.gpu[0].as_ref().map(|d| d.key.phase).or_else(|| {
            self.textures[0]
                .as_ref()
                .map(|((_, _, phase, _), _)| *phase)
        })
    }
}

/// The short-axis slice line colour: the current slice, slices with contours, the rest.
pub const CURRENT_LINE: Color32 = Color32::from_rgb(255, 220, 40);
pub const CONTOURED_LINE: Color32 = Color32::from_rgb(40, 210, 70);
pub const OTHER_LINE: Color32 = Color32::from_rgb(150, 150, 150);
/// The long-axis planes drawn on the short-axis view (first and second pane).
pub const PLANE_LINE: Color32 = Color32::from_rgb(80, 200, 255);
pub const SECOND_PLANE_LINE: Color32 = Color32::from_rgb(230, 120, 255);

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

/// The image's own window: (centre, width) from its 1st to its 99th percentile.
fn auto_window(img: &[f32]) -> (f32, f32) {
    let mut sorted: Vec<f32> = img.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f32::total_cmp);
    let at = |q: f64| {
        sorted
            .get(((sorted.len().saturating_sub(1)) as f64 * q) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let (lo, hi) = (at(0.01), at(0.99));
    (0.5 * (lo + hi), (hi - lo).max(1e-3))
}

/// The image as grey levels through the window (centre, width).
fn grey(img: &[f32], columns: usize, rows: usize, window: (f32, f32)) -> egui::ColorImage {
    let (lo, hi) = (window.0 - 0.5 * window.1, window.0 + 0.5 * window.1);
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
    app.doc.current.as_ref().map_or_else(Vec::new, |c| {
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

/// The pane: view buttons, then one or two long-axis cines.
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
    if !list.iter().any(|(i, _)| *i == app.doc.views.lax.selected) {
        app.doc.views.lax.selected = first;
    }
    ui.horizontal_wrapped(|ui| {
        ui.label("Long axis");
        for (i, name) in &list {
            ui.selectable_value(&mut app.doc.views.lax.selected, *i, name.as_str());
        }
        if list.len() > 1 {
            ui.checkbox(&mut app.doc.views.lax.two, "two");
        }
    });
    // The second slot shows the next view after the selected one.
    let second = if app.doc.views.lax.two && list.len() > 1 {
        let at = list
            .iter()
            .position(|(i, _)| *i == app.doc.views.lax.selected)
            .unwrap_or(0);
        Some(list[(at + 1) % list.len()].0)
    } else {
        None
    };
    let rect = ui.available_rect_before_wrap();
    match second {
        Some(other) => {
            let (top, bottom) = rect.split_top_bottom_at_fraction(0.5);
            let selected = app.doc.views.lax.selected;
            app.doc.views.lax.map = pane(app, ui, top.shrink(1.0), selected, 0);
            app.doc.views.lax.second_map = pane(app, ui, bottom.shrink(1.0), other, 1);
            app.doc.views.lax.second = Some(other);
        }
        None => {
            let selected = app.doc.views.lax.selected;
            app.doc.views.lax.map = pane(app, ui, rect, selected, 0);
            app.doc.views.lax.second_map = None;
            app.doc.views.lax.second = None;
        }
    }
}

/// One long-axis cine in `rect`: the image at the phase matching the short axis's, the
/// short-axis slices' lines, a click on a line to go to that slice, right-drag for its
/// window. Returns where its image sits (top-left corner, points per pixel).
fn pane(
    app: &mut App,
    ui: &mut egui::Ui,
    rect: Rect,
    index: usize,
    slot: usize,
) -> Option<(Pos2, f32)> {
    let (Some(cur), Some(v)) = (&app.doc.current, &app.doc.views.sax) else {
        return None;
    };
    let plane = cur.study.long_axis.get(index)?;
    let d = cur.cine.dims();
    let lp = lax_phase(v.phase, d.phases, plane.images.len());
    let image = plane.images.get(lp)?;
    let chosen = app.doc.views.lax.windows.get(&index).copied();
    let window = chosen.unwrap_or_else(|| auto_window(image));
    let key = (
        cur.id,
        index,
        lp,
        chosen.map(|(c, w)| (c.round() as i32, w.round() as i32)),
    );
    let resp = ui.allocate_rect(rect, Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, Color32::BLACK);
    let (min, scale) = fit(rect, plane.columns, plane.rows);
    if app.wgpu {
        // Through our WGSL pipeline, with this pane's own GPU resources.
        let ikey = ImageKey {
            study: cur.id,
            phase: lp,
            slice: index,
            labels_version: 0,
        };
        if app.doc.views.lax.gpu[slot]
            .as_ref()
            .is_none_or(|d| d.key != ikey)
        {
            app.doc.views.lax.gpu[slot] = Some(Arc::new(ImageData {
                key: ikey,
                columns: plane.columns as u32,
                rows: plane.rows as u32,
                intensity: Arc::new(image.clone()),
                labels: Arc::new(vec![0; image.len()]),
            }));
        }
        if let Some(data) = &app.doc.views.lax.gpu[slot] {
            let uniforms = SliceUniforms {
                panel_size_pt: [rect.width(), rect.height()],
                origin_pt: [min.x - rect.min.x, min.y - rect.min.y],
                image_size: [plane.columns as f32, plane.rows as f32],
                scale_pt: scale,
                window_center: window.0,
                window_width: window.1,
                label_opacity: 0.0,
                linear: true,
                show_labels: false,
            };
            painter.add(eframe::egui_wgpu::Callback::new_paint_callback(
                rect,
                SliceCallback {
                    view: ViewId::LongAxis(slot as u8),
                    image: data.clone(),
                    uniforms,
                },
            ));
        }
    } else {
        if app.doc.views.lax.textures[slot]
            .as_ref()
            .is_none_or(|(k, _)| *k != key)
        {
            let img = grey(image, plane.columns, plane.rows, window);
            let tex = ui.ctx().load_texture(
                format!("systole-long-axis-{slot}"),
                img,
                egui::TextureOptions::LINEAR,
            );
            app.doc.views.lax.textures[slot] = Some((key, tex));
        }
        if let Some((_, tex)) = &app.doc.views.lax.textures[slot] {
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
            .doc
            .review
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
            "{}  phase {} of {}  W {:.0} L {:.0}{}",
            plane.view.name(),
            lp + 1,
            plane.images.len(),
            window.1,
            window.0,
            plane
                .description
                .as_deref()
                .map_or(String::new(), |d| format!("\n{d}"))
        ),
        egui::FontId::monospace(11.0),
        // The colour of this plane's line on the short-axis view.
        if slot == 0 {
            PLANE_LINE
        } else {
            SECOND_PLANE_LINE
        },
    );
    // Right-drag: window (horizontal) and level (vertical), as in the short-axis view.
    if resp.dragged_by(egui::PointerButton::Secondary) {
        let dd = resp.drag_delta();
        let (c, w) = window;
        let step = w.max(1.0) / 200.0;
        app.doc
            .views
            .lax
            .windows
            .insert(index, (c - dd.y * step, (w + dd.x * step).max(1.0)));
    }
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
    Some((min, scale))
}

/// Where the selected long-axis plane crosses short-axis slice `slice`, in that slice's
/// pixel coordinates.
pub fn plane_on_slice(app: &App, slice: usize) -> Option<([f64; 2], [f64; 2])> {
    crossing_of(app, app.doc.views.lax.selected, slice)
}

/// The lines of every long-axis plane on show on short-axis slice `slice`, with their
/// colours.
pub fn planes_on_slice(app: &App, slice: usize) -> Vec<(Color32, [f64; 2], [f64; 2])> {
    [
        Some((app.doc.views.lax.selected, PLANE_LINE)),
        app.doc.views.lax.second.map(|k| (k, SECOND_PLANE_LINE)),
    ]
    .into_iter()
    .flatten()
    .filter_map(|(k, colour)| crossing_of(app, k, slice).map(|(a, b)| (colour, a, b)))
    .collect()
}

fn crossing_of(app: &App, index: usize, slice: usize) -> Option<([f64; 2], [f64; 2])> {
    let cur = app.doc.current.as_ref()?;
    let plane = cur
        .study
        .long_axis
        .get(index)
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
