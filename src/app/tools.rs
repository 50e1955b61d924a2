//! The contour tools in the UI: the tool panel, the editing shortcuts, the viewport's
//! left-button interaction and the drawing of editable contours.

use super::editing::Tool;
use super::ui::{LV_ENDO, LV_EPI, RV_ENDO};
use super::{App, Command};
use crate::contour::Structure;
use crate::contour::set::Source;
use egui::{Color32, Key, Pos2, Stroke};

pub fn colour(s: Structure) -> Color32 {
    match s {
        Structure::LvEndo => LV_ENDO,
        Structure::LvEpi => LV_EPI,
        Structure::RvEndo => RV_ENDO,
    }
}

/// Editing shortcuts (the navigation keys are in ui.rs).
pub const SHORTCUTS: [(&str, &str); 9] = [
    (
        "1 / 2 / 3",
        "edit LV endocardium / LV epicardium / RV endocardium",
    ),
    ("N, D, F", "nudge, draw (click points), freehand tool"),
    ("B / E", "brush: add / erase"),
    ("Esc", "navigate tool; drop a contour being drawn"),
    ("Enter or double click", "close the contour being drawn"),
    ("[ / ]", "smaller / larger nudge and brush radius"),
    ("Delete", "delete the structure's contour on this image"),
    ("Ctrl+Z / Ctrl+Shift+Z", "undo / redo"),
    ("Left-drag", "use the tool (nudge, freehand, brush)"),
];

pub fn keyboard(app: &mut App, ctx: &egui::Context) {
    if ctx.egui_wants_keyboard_input() {
        return;
    }
    let Some(v) = app.doc.views.sax.as_ref() else {
        return;
    };
    let (phase, slice) = (v.phase, v.slice);
    let mut undo = false;
    let mut redo = false;
    let mut delete = false;
    let mut finish = false;
    ctx.input_mut(|i| {
        if i.consume_key(egui::Modifiers::COMMAND | egui::Modifiers::SHIFT, Key::Z)
            || i.consume_key(egui::Modifiers::COMMAND, Key::Y)
        {
            redo = true;
        }
        if i.consume_key(egui::Modifiers::COMMAND, Key::Z) {
            undo = true;
        }
        let plain = !i.modifiers.ctrl && !i.modifiers.command && !i.modifiers.alt;
        if !plain {
            return;
        }
        for (k, s) in [
            (Key::Num1, Structure::LvEndo),
            (Key::Num2, Structure::LvEpi),
            (Key::Num3, Structure::RvEndo),
        ] {
            if i.key_pressed(k) {
                app.doc.review.edit.structure = s;
            }
        }
        for (k, t) in [
            (Key::N, Tool::Nudge),
            (Key::D, Tool::Draw),
            (Key::F, Tool::Freehand),
            (Key::B, Tool::BrushAdd),
            (Key::E, Tool::BrushErase),
        ] {
            if i.key_pressed(k) {
                app.doc.review.edit.tool = t;
                app.doc.review.edit.draft.clear();
            }
        }
        if i.key_pressed(Key::Escape) {
            if app.doc.review.edit.draft.is_empty() {
                app.doc.review.edit.tool = Tool::Navigate;
            }
            app.doc.review.edit.draft.clear();
        }
        if i.key_pressed(Key::OpenBracket) {
            app.doc.review.edit.radius_px = (app.doc.review.edit.radius_px / 1.2).max(1.0);
        }
        if i.key_pressed(Key::CloseBracket) {
            app.doc.review.edit.radius_px = (app.doc.review.edit.radius_px * 1.2).min(60.0);
        }
        delete = i.key_pressed(Key::Delete);
        finish = i.key_pressed(Key::Enter);
    });
    if undo {
        app.commands.push(Command::Undo);
    }
    if redo {
        app.commands.push(Command::Redo);
    }
    if delete {
        app.delete_contour(phase, slice);
    }
    if finish {
        app.finish_draft(phase, slice);
    }
}

/// The tool panel: structure, tool, radius, image actions, undo/redo, session status.
pub fn panel(app: &mut App, ui: &mut egui::Ui) {
    let Some(d) = app.doc.current.as_ref().map(|c| c.cine.dims()) else {
        return;
    };
    let Some((phase, slice)) = app.doc.views.sax.as_ref().map(|v| (v.phase, v.slice)) else {
        return;
    };
    let (order, row) = app.doc.views.sax.as_ref().map_or((Vec::new(), 0), |v| {
        (v.slice_order.clone(), v.row_of(slice))
    });
    ui.horizontal_wrapped(|ui| {
        for s in Structure::ALL {
            // Selected: dark text on the structure's colour, readable in either theme.
            let selected = app.doc.review.edit.structure == s;
            let text = if selected {
                egui::RichText::new(s.title())
                    .color(Color32::BLACK)
                    .background_color(colour(s))
                    .strong()
            } else {
                egui::RichText::new(s.title()).color(colour(s))
            };
            if ui.selectable_label(selected, text).clicked() {
                app.doc.review.edit.structure = s;
            }
        }
    });
    ui.horizontal_wrapped(|ui| {
        for t in Tool::ALL {
            let selected = app.doc.review.edit.tool == t;
            let text = if selected {
                egui::RichText::new(t.title())
                    .strong()
                    .color(Color32::WHITE)
            } else {
                egui::RichText::new(t.title())
            };
            if ui.selectable_label(selected, text).clicked() {
                app.doc.review.edit.tool = t;
                app.doc.review.edit.draft.clear();
            }
        }
    });
    ui.add(
        egui::Slider::new(&mut app.doc.review.edit.radius_px, 1.0..=60.0)
            .logarithmic(true)
            .fixed_decimals(1)
            .text("radius px"),
    );
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("Delete contour")
            .on_hover_text("Remove this structure's contour on this image (Delete)")
            .clicked()
        {
            app.delete_contour(phase, slice);
        }
        let mut copy = |ui: &mut egui::Ui, label: &str, from: Option<(usize, usize)>| {
            if ui
                .add_enabled(from.is_some(), egui::Button::new(label))
                .on_hover_text("Copy all contours of that image here")
                .clicked()
                && let Some(f) = from
            {
                app.copy_image(f, (phase, slice));
            }
        };
        copy(
            ui,
            "From prev. phase",
            Some(((phase + d.phases - 1) % d.phases.max(1), slice)),
        );
        copy(
            ui,
            "From next phase",
            Some(((phase + 1) % d.phases.max(1), slice)),
        );
        // Above and below as listed (base to apex where known).
        copy(
            ui,
            "From slice above",
            row.checked_sub(1)
                .and_then(|r| order.get(r))
                .map(|&s| (phase, s)),
        );
        copy(
            ui,
            "From slice below",
            order.get(row + 1).map(|&s| (phase, s)),
        );
    });
    ui.horizontal(|ui| {
        if ui
            .add_enabled(
                app.doc.review.edit.history.can_undo(),
                egui::Button::new("Undo"),
            )
            .clicked()
        {
            app.commands.push(Command::Undo);
        }
        if ui
            .add_enabled(
                app.doc.review.edit.history.can_redo(),
                egui::Button::new("Redo"),
            )
            .clicked()
        {
            app.commands.push(Command::Redo);
        }
        if ui.button("Segment again, replacing manual").clicked() {
            app.commands.push(Command::SegmentReplacingManual);
        }
    });
    let l = ui.label("Reviewer");
    if ui
        .text_edit_singleline(&mut app.doc.review.session.reviewer)
        .labelled_by(l.id)
        .lost_focus()
    {
        app.commands.push(Command::OverridesChanged);
    }
    let l = ui.label("Conclusion");
    if ui
        .add(egui::TextEdit::multiline(&mut app.doc.review.session.conclusion).desired_rows(2))
        .labelled_by(l.id)
        .lost_focus()
    {
        app.commands.push(Command::OverridesChanged);
    }
    let status = match (
        &app.doc.review.session.blocked,
        &app.doc.review.session.saved_to,
        &app.doc.review.session.study_path,
    ) {
        (Some(_), _, _) => "Session NOT saved: its file is broken or another study's".to_string(),
        (None, _, Some(_)) if !app.saves_idle() => "Saving the session...".to_string(),
        (None, Some(p), _) => format!("Saved to {}", p.display()),
        (None, None, Some(_)) => "Session: saved after the first change".to_string(),
        (None, None, None) => "Session: not saved (built-in study)".to_string(),
    };
    ui.small(status);
}

/// Left-button interaction in the viewport for the active tool. `to_image` maps a screen
/// position to image pixel coordinates.
pub fn interact(app: &mut App, resp: &egui::Response, to_image: &dyn Fn(Pos2) -> [f64; 2]) {
    let Some((phase, slice)) = app.doc.views.sax.as_ref().map(|v| (v.phase, v.slice)) else {
        return;
    };
    let primary = egui::PointerButton::Primary;
    let pos = resp.interact_pointer_pos();
    match app.doc.review.edit.tool {
        Tool::Navigate => {}
        Tool::Nudge => {
            if resp.drag_started_by(primary) {
                app.begin_drag(phase, slice);
                // Where the button went down: the centre of the whole drag's bulge.
                app.doc.review.edit.drag_origin = resp
                    .ctx
                    .input(|i| i.pointer.press_origin())
                    .or(pos)
                    .map(to_image);
            }
            if resp.dragged_by(primary)
                && let (Some(p), Some(origin)) = (pos, app.doc.review.edit.drag_origin)
            {
                let now = to_image(p);
                app.nudge(origin, [now[0] - origin[0], now[1] - origin[1]]);
            }
        }
        Tool::Draw => {
            if resp.double_clicked() {
                app.finish_draft(phase, slice);
            } else if resp.clicked_by(primary)
                && let Some(p) = pos
            {
                app.doc.review.edit.draft.push(to_image(p));
            }
        }
        Tool::Freehand => {
            if resp.drag_started_by(primary) {
                app.doc.review.edit.draft.clear();
            }
            if resp.dragged_by(primary)
                && let Some(p) = pos
            {
                app.doc.review.edit.draft.push(to_image(p));
            }
            if resp.drag_stopped_by(primary) {
                app.finish_draft(phase, slice);
            }
        }
        Tool::BrushAdd | Tool::BrushErase => {
            let add = app.doc.review.edit.tool == Tool::BrushAdd;
            if resp.clicked_by(primary)
                && let Some(p) = pos
            {
                app.brush(phase, slice, to_image(p), add);
            }
            if resp.drag_started_by(primary) {
                app.begin_drag(phase, slice);
            }
            if resp.dragged_by(primary)
                && let Some(p) = pos
            {
                app.brush_stroke(to_image(p), add);
            }
        }
    }
    if resp.drag_stopped_by(primary) && app.dragging() {
        app.end_drag();
    }
}

/// Draws the editable contours of the shown image (manual ones thicker), the contour
/// being drawn, and the tool's radius around the pointer.
pub fn draw(
    app: &App,
    painter: &egui::Painter,
    to_screen: &dyn Fn([f64; 2]) -> Pos2,
    scale: f32,
    hover: Option<Pos2>,
) {
    let Some((phase, slice)) = app.doc.views.sax.as_ref().map(|v| (v.phase, v.slice)) else {
        return;
    };
    if let Some(set) = &app.doc.review.contours {
        for (s, c) in set.image(phase, slice) {
            let width = if c.source == Source::Manual { 2.5 } else { 1.5 };
            let pts: Vec<Pos2> = c.points.iter().map(|p| to_screen(*p)).collect();
            painter.add(egui::Shape::closed_line(pts, Stroke::new(width, colour(s))));
        }
    }
    let colour = colour(app.doc.review.edit.structure);
    if !app.doc.review.edit.draft.is_empty() {
        let pts: Vec<Pos2> = app
            .doc
            .review
            .edit
            .draft
            .iter()
            .map(|p| to_screen(*p))
            .collect();
        for p in &pts {
            painter.circle_filled(*p, 2.5, colour);
        }
        painter.add(egui::Shape::line(pts, Stroke::new(1.5, colour)));
    }
    if let Some(h) = hover
        && matches!(
            app.doc.review.edit.tool,
            Tool::Nudge | Tool::BrushAdd | Tool::BrushErase
        )
    {
        painter.circle_stroke(
            h,
            app.doc.review.edit.radius_px as f32 * scale,
            Stroke::new(1.0, colour.gamma_multiply(0.8)),
        );
    }
}
