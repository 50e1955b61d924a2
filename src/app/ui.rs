//! The panels: menu, study panel (left), measures and volume curve (right), slice x phase
//! matrix (bottom), the viewport (centre) and the help window. UI code reads the app's
//! state and queues [`Command`]s; it never loads files or runs the network itself.

use super::render::{SliceCallback, SliceUniforms, cpu_image};
use super::{App, Command, LabelSource, SegEnd};
use crate::contour::outline::Structure;
use crate::measure::{Level, Measures};
use egui::{Color32, Key, Pos2, Rect, Sense, Stroke, Vec2};

pub const LV_ENDO: Color32 = Color32::from_rgb(230, 40, 40);
pub const LV_EPI: Color32 = Color32::from_rgb(40, 210, 70);
pub const RV_ENDO: Color32 = Color32::from_rgb(240, 215, 30);
/// Marks images with hand-edited contours in the matrix.
pub const EDITED: Color32 = Color32::from_rgb(255, 140, 0);
/// Marks images reviewed in the matrix and the review panel.
pub const REVIEWED: Color32 = Color32::from_rgb(120, 200, 255);
/// Confidence under which an image counts as doubtful in the matrix (red below
/// [`DOUBTFUL`], amber below [`UNSURE`]).
pub const DOUBTFUL: f64 = 0.5;
pub const UNSURE: f64 = 0.8;

/// The shortcuts, as the Help window lists them.
pub const SHORTCUTS: [(&str, &str); 13] = [
    ("Mouse wheel, Up / Down", "previous / next slice"),
    ("Left / Right", "previous / next phase"),
    ("Space", "play / pause the cine"),
    ("Right-drag", "window (horizontal) and level (vertical)"),
    ("Ctrl + wheel", "zoom"),
    ("Middle-drag", "pan"),
    ("R", "reset zoom, pan and window"),
    ("S", "segment the study"),
    ("Q", "next image to review (most suspect first)"),
    ("M", "mark this image reviewed and go to the next"),
    ("L", "labels overlay on / off"),
    ("C", "contours on / off"),
    ("F1 or H", "this help"),
];

pub fn show(app: &mut App, ui: &mut egui::Ui) {
    super::tools::keyboard(app, ui.ctx());
    keyboard(app, ui.ctx());
    menu(app, ui);
    egui::Panel::left("study")
        .default_size(230.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| study_panel(app, ui));
        });
    egui::Panel::right("measures")
        .default_size(330.0)
        .show(ui, |ui| {
            review_panel(app, ui);
            measures_panel(app, ui);
            ui.separator();
            curve(app, ui);
        });
    // Tall enough for every slice's row of thumbnails, at most 320 points (then it scrolls).
    let rows = app.doc.current.as_ref().map_or(0, |c| c.cine.dims().slices) as f32;
    let matrix_h = (24.0 + (THUMB as f32 + 1.0) * rows).min(320.0);
    egui::Panel::bottom("matrix")
        .resizable(true)
        .min_size(matrix_h)
        .show(ui, |ui| {
            egui::ScrollArea::both()
                .max_height(320.0)
                .show(ui, |ui| matrix(app, ui));
        });
    if super::long_axis::has_long_axis(app) {
        egui::Panel::right("long_axis")
            .default_size(360.0)
            .resizable(true)
            .show(ui, |ui| super::long_axis::show(app, ui));
    }
    egui::CentralPanel::no_frame().show(ui, |ui| viewport(app, ui));
    if app.show_help {
        let mut open = true;
        egui::Window::new("Help")
            .open(&mut open)
            .show(ui.ctx(), |ui| {
                egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                    for &(k, v) in SHORTCUTS.iter().chain(super::tools::SHORTCUTS.iter()) {
                        ui.strong(k);
                        ui.label(v);
                        ui.end_row();
                    }
                });
            });
        app.show_help = open;
    }
    app.path_prompt_window(ui.ctx());
    if let Some(e) = app.error.clone() {
        let mut open = true;
        egui::Window::new("Problem")
            .open(&mut open)
            .show(ui.ctx(), |ui| {
                ui.label(e);
            });
        if !open {
            app.error = None;
        }
    }
}

fn keyboard(app: &mut App, ctx: &egui::Context) {
    if ctx.egui_wants_keyboard_input() {
        return;
    }
    let (Some(cur), Some(v)) = (&app.doc.current, &mut app.doc.views.sax) else {
        return;
    };
    let d = cur.cine.dims();
    ctx.input(|i| {
        // Every press counts, however many arrive in one frame.
        let steps = |k: Key| i.num_presses(k) as isize;
        let slices = steps(Key::ArrowDown) - steps(Key::ArrowUp);
        if slices != 0 {
            v.step_slice(slices, d.slices);
        }
        let phases = steps(Key::ArrowRight) - steps(Key::ArrowLeft);
        if phases != 0 {
            v.step_phase(phases, d.phases);
        }
        if i.key_pressed(Key::Space) {
            v.playing = !v.playing;
        }
        if i.key_pressed(Key::R) {
            v.reset();
        }
        if i.key_pressed(Key::L) {
            v.show_labels = !v.show_labels;
        }
        if i.key_pressed(Key::C) {
            v.show_contours = !v.show_contours;
        }
        if i.key_pressed(Key::S) {
            app.commands.push(Command::Segment);
        }
        if i.key_pressed(Key::Q) {
            app.commands.push(Command::NextToReview);
        }
        if i.key_pressed(Key::M) {
            app.commands.push(Command::MarkReviewed {
                reviewed: true,
                then_next: true,
            });
        }
        if i.key_pressed(Key::F1) || i.key_pressed(Key::H) {
            app.show_help = !app.show_help;
        }
    });
}

fn menu(app: &mut App, ui: &mut egui::Ui) {
    egui::Panel::top("menu").show(ui, |ui| {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open folder...").clicked() {
                    app.commands.push(Command::OpenDialog { folder: true });
                }
                if ui.button("Open file...").clicked() {
                    app.commands.push(Command::OpenDialog { folder: false });
                }
                if ui
                    .button("Open path...")
                    .on_hover_text("Type or paste the path of a folder or file")
                    .clicked()
                {
                    app.commands.push(Command::OpenPath);
                }
                if ui.button("Open the phantom").clicked() {
                    app.commands.push(Command::OpenPhantom);
                }
                ui.separator();
                for (label, kind) in [
                    (
                        "Export labels (NIfTI)...",
                        super::editing::Export::LabelsNifti,
                    ),
                    (
                        "Export contours (CSV)...",
                        super::editing::Export::ContoursCsv,
                    ),
                    (
                        "Export contours (JSON)...",
                        super::editing::Export::ContoursJson,
                    ),
                    ("Export report (PDF)...", super::editing::Export::ReportPdf),
                ] {
                    if ui.button(label).clicked() {
                        app.commands.push(Command::ExportDialog(kind));
                    }
                }
                ui.menu_button("Export to path", |ui| {
                    for kind in [
                        super::editing::Export::LabelsNifti,
                        super::editing::Export::ContoursCsv,
                        super::editing::Export::ContoursJson,
                        super::editing::Export::ReportPdf,
                    ] {
                        if ui.button(kind.title()).clicked() {
                            app.commands.push(Command::ExportPath(kind));
                        }
                    }
                });
                ui.separator();
                ui.menu_button("Recent", |ui| {
                    if app.recent.paths.is_empty() {
                        ui.label("(none yet)");
                    }
                    for p in app.recent.paths.clone() {
                        if ui.button(p.display().to_string()).clicked() {
                            app.commands.push(Command::Open(p));
                        }
                    }
                });
            });
            ui.menu_button("View", |ui| {
                if let Some(v) = &mut app.doc.views.sax {
                    ui.checkbox(&mut v.show_labels, "Labels overlay (L)");
                    ui.checkbox(&mut v.show_contours, "Contours (C)");
                    ui.checkbox(&mut v.linear, "Linear interpolation");
                    ui.add(
                        egui::Slider::new(&mut v.label_opacity, 0.0..=1.0).text("overlay opacity"),
                    );
                    if ui.button("Reset view (R)").clicked() {
                        v.reset();
                    }
                }
            });
            if ui.button("Help").clicked() {
                app.show_help = true;
            }
            if let Some(n) = app.notice.clone() {
                ui.separator();
                ui.colored_label(Color32::from_rgb(120, 220, 120), n);
                if ui.small_button("x").on_hover_text("Dismiss").clicked() {
                    app.notice = None;
                }
            }
        });
    });
    // Files dropped on the window open like File -> Open.
    let dropped: Vec<std::path::PathBuf> = ui.ctx().input(|i| {
        i.raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_path_buf())
            .collect()
    });
    if let Some(p) = dropped.into_iter().next() {
        app.commands.push(Command::Open(p));
    }
}

fn study_panel(app: &mut App, ui: &mut egui::Ui) {
    ui.heading("Study");
    if let Some((path, _)) = &app.loading {
        ui.label(format!("Loading {}", path.display()));
        let f = app.load_progress.fraction();
        let text = if f > 0.0 {
            format!("{:.0} %", 100.0 * f)
        } else {
            "reading...".into()
        };
        ui.add(egui::ProgressBar::new(f).text(text).animate(true));
        // The counters move in another thread: keep repainting while loading.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(100));
    }
    let Some(cur) = &app.doc.current else {
        ui.label("No study open.");
        return;
    };
    let s = &cur.study;
    let d = cur.cine.dims();
    egui::Grid::new("study-info").num_columns(2).show(ui, |ui| {
        let mut row = |k: &str, v: String| {
            ui.label(k);
            ui.label(v);
            ui.end_row();
        };
        row("Name", cur.name.clone());
        row(
            "Patient",
            s.patient.name.clone().unwrap_or_else(|| "-".into()),
        );
        row("ID", s.patient.id.clone().unwrap_or_else(|| "-".into()));
        row(
            "Date",
            s.info
                .study_date
                .as_deref()
                .map_or_else(|| "-".into(), crate::study::display_date),
        );
        row("Cine", format!("{} slices x {} phases", d.slices, d.phases));
        row("Matrix", format!("{} x {}", d.columns, d.rows));
        let g = &cur.cine.geometry;
        row(
            "Pixel",
            format!(
                "{:.2} x {:.2} mm",
                g.pixel_spacing_mm[1], g.pixel_spacing_mm[0]
            ),
        );
        row(
            "Slice gap",
            g.slice_spacing_mm()
                .map_or("-".into(), |v| format!("{v:.1} mm")),
        );
        let listed = match (
            s.info.series_instance_uid.is_some(),
            g.index_runs_base_to_apex(),
        ) {
            (true, Some(_)) => "base to apex",
            _ => "in stack order",
        };
        row("Slices", format!("listed {listed}"));
    });
    ui.separator();
    // The series browser: every series of the exam with its kind and size; a long-axis
    // cine's row shows it in the long-axis pane.
    let mut show_lax: Option<usize> = None;
    let mut open_stack: Option<String> = None;
    let can_reopen = app.doc.review.session.study_path.is_some() && app.loading.is_none();
    // The series the stack on show was assembled from (`+` in the list).
    let member = |uid: &str| {
        s.series
            .get(s.chosen_series)
            .is_some_and(|c| c.sources.len() > 1 && c.sources.iter().any(|m| m == uid))
    };
    egui::CollapsingHeader::new(format!("Series ({})", s.series.len()))
        .default_open(true)
        .show(ui, |ui| {
            for (i, ser) in s.series.iter().enumerate() {
                let name = ser
                    .description
                    .clone()
                    .or_else(|| ser.number.map(|n| format!("series #{n}")))
                    .unwrap_or_else(|| format!("series {}", i + 1));
                let kind = match (ser.kind, ser.view) {
                    (_, Some(v)) => v.name().to_string(),
                    (crate::study::SeriesKind::ShortAxisCine, _) => "SAX".into(),
                    (crate::study::SeriesKind::LongAxisCine, None) => "LAX".into(),
                    (crate::study::SeriesKind::Localiser, _) => "loc".into(),
                    (crate::study::SeriesKind::Other, _) => "-".into(),
                };
                let text = format!(
                    "{}{kind:<4}{:>3} x {:<3} {name}",
                    if i == s.chosen_series {
                        "> "
                    } else if member(&ser.uid) {
                        "+ "
                    } else {
                        "  "
                    },
                    ser.positions,
                    ser.phases,
                );
                let label = egui::RichText::new(text).monospace().size(11.0);
                let lax = s.long_axis.iter().position(|l| l.uid == ser.uid);
                // Another cine that is not a long-axis view can be the stack on show.
                let stack = i != s.chosen_series
                    && !member(&ser.uid)
                    && lax.is_none()
                    && ser.phases > 1
                    && !matches!(
                        ser.kind,
                        crate::study::SeriesKind::Localiser | crate::study::SeriesKind::LongAxisCine
                    );
                match lax {
                    Some(k) => {
                        let link = ui
                            .add(egui::Link::new(label))
                            .on_hover_text(format!("show in the long-axis pane\n{}", ser.uid));
                        if link.clicked() {
                            show_lax = Some(k);
                        }
                    }
                    None if stack && can_reopen => {
                        let link = ui.add(egui::Link::new(label)).on_hover_text(format!(
                            "show this series as the short-axis stack (contours and session are kept per stack)\n{}",
                            ser.uid
                        ));
                        if link.clicked() {
                            open_stack = Some(ser.uid.clone());
                        }
                    }
                    None => {
                        ui.add(egui::Label::new(label).truncate())
                            .on_hover_text(&ser.uid);
                    }
                }
            }
        });
    if let Some(k) = show_lax {
        app.doc.views.lax.selected = k;
    }
    if let Some(uid) = open_stack {
        app.commands.push(Command::OpenSeries(uid));
    }
    if !cur.skipped.is_empty() {
        ui.collapsing(format!("{} files skipped", cur.skipped.len()), |ui| {
            egui::ScrollArea::vertical()
                .max_height(200.0)
                .show(ui, |ui| {
                    for s in &cur.skipped {
                        ui.label(s);
                    }
                });
        });
    }
    ui.separator();
    ui.heading("Contours");
    let src = match (app.doc.review.label_source, &app.doc.review.contours) {
        (Some(LabelSource::Automatic), Some(set)) => {
            let manual = set
                .iter()
                .filter(|(_, c)| c.source == crate::contour::set::Source::Manual)
                .count();
            format!("editable: {} contours, {manual} manual", set.len())
        }
        (Some(LabelSource::Reference), _) => "reference (from the study)".to_string(),
        _ => "none".to_string(),
    };
    ui.label(format!("Shown: {src}"));
    reference_section(app, ui);
    match &app.segmenting {
        Some(job) => {
            ui.add(
                egui::ProgressBar::new(job.fraction())
                    .show_percentage()
                    .text("segmenting"),
            );
            if ui.button("Cancel").clicked() {
                app.commands.push(Command::CancelSegment);
            }
        }
        None => {
            if ui
                .button("Segment (S)")
                .on_hover_text("Automatic contours; manual contours are kept")
                .clicked()
            {
                app.commands.push(Command::Segment);
            }
        }
    }
    ui.separator();
    ui.heading("Edit");
    super::tools::panel(app, ui);
    if let Some(v) = &mut app.doc.views.sax {
        ui.separator();
        ui.horizontal(|ui| {
            if ui
                .button(if v.playing { "Pause" } else { "Play" })
                .clicked()
            {
                v.playing = !v.playing;
            }
            ui.add(egui::Slider::new(&mut v.speed, 0.25..=4.0).text("speed"));
        });
        ui.label(format!(
            "Slice {} / {}   Phase {} / {}",
            v.slice + 1,
            d.slices,
            v.phase + 1,
            d.phases
        ));
    }
}

/// The expert's contours as a layer of their own once automatic or edited contours are
/// shown: a toggle, and their agreement on the phase on screen.
fn reference_section(app: &mut App, ui: &mut egui::Ui) {
    if app.doc.review.label_source != Some(LabelSource::Automatic) {
        return;
    }
    let (Some(cur), Some(v), Some(ours)) = (
        &app.doc.current,
        &mut app.doc.views.sax,
        &app.doc.review.labels,
    ) else {
        return;
    };
    let Some(reference) = cur
        .study
        .reference_labels
        .as_ref()
        .filter(|l| l.any_annotated())
    else {
        return;
    };
    ui.checkbox(&mut v.show_reference, "Expert contours (white)")
        .on_hover_text("The study's own contours, kept beside the automatic and edited ones");
    let Some(voxel_ml) = cur
        .cine
        .geometry
        .voxel_volume_ml()
        .filter(|x| x.is_finite() && *x > 0.0)
    else {
        return;
    };
    let phase = v.phase;
    if (0..reference.dims().slices).all(|s| reference.annotated(phase, s).is_empty()) {
        ui.label(format!("No expert contours on phase {}.", phase + 1));
        return;
    }
    ui.collapsing(
        format!("Compared with the expert, phase {}", phase + 1),
        |ui| {
            // Every pixel of the phase is compared: only while the section is open.
            let Some(c) = crate::measure::compare_phase(ours, reference, phase, voxel_ml) else {
                return;
            };
            let dice = |x: Option<f64>| x.map_or("-".into(), |d| format!("{d:.3}"));
            ui.label(format!(
                "Dice  LV {}  Myo {}  RV {}",
                dice(c.dice[0]),
                dice(c.dice[1]),
                dice(c.dice[2])
            ));
            egui::Grid::new("expert-slices")
                .striped(true)
                .num_columns(3)
                .show(ui, |ui| {
                    ui.label("slice");
                    ui.label("LV mL (ours - expert)");
                    ui.label("RV mL (ours - expert)");
                    ui.end_row();
                    let diff = |x: Option<(f64, f64)>| {
                        x.map_or("-".into(), |(a, b)| {
                            format!("{a:.1} - {b:.1} = {:+.1}", a - b)
                        })
                    };
                    for sv in &c.slices {
                        ui.label(format!("{}", sv.slice + 1));
                        ui.monospace(diff(sv.lv_ml));
                        ui.monospace(diff(sv.rv_ml));
                        ui.end_row();
                    }
                });
        },
    );
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".into(), |x| format!("{x:.digits$}"))
}

fn measures_panel(app: &mut App, ui: &mut egui::Ui) {
    ui.heading("Measures");
    let mut changed = false;
    ui.horizontal(|ui| {
        let l = ui.label("Height cm");
        let mut h = app.doc.review.height_cm.unwrap_or(0.0);
        if ui
            .add(
                egui::DragValue::new(&mut h)
                    .range(0.0..=250.0)
                    .speed(0.5)
                    .custom_formatter(unknown_as_dash),
            )
            .labelled_by(l.id)
            .changed()
        {
            app.doc.review.height_cm = (h > 0.0).then_some(h);
            changed = true;
        }
        let l = ui.label("Weight kg");
        let mut w = app.doc.review.weight_kg.unwrap_or(0.0);
        if ui
            .add(
                egui::DragValue::new(&mut w)
                    .range(0.0..=400.0)
                    .speed(0.5)
                    .custom_formatter(unknown_as_dash),
            )
            .labelled_by(l.id)
            .changed()
        {
            app.doc.review.weight_kg = (w > 0.0).then_some(w);
            changed = true;
        }
    });
    ui.horizontal(|ui| {
        use crate::study::Sex;
        let l = ui.label("Sex");
        let name = |s: Option<Sex>| match s {
            Some(Sex::Female) => "female",
            Some(Sex::Male) => "male",
            Some(Sex::Other) => "other",
            None => "-",
        };
        egui::ComboBox::from_id_salt("sex")
            .selected_text(name(app.doc.review.sex))
            .show_ui(ui, |ui| {
                for s in [None, Some(Sex::Female), Some(Sex::Male), Some(Sex::Other)] {
                    if ui
                        .selectable_label(app.doc.review.sex == s, name(s))
                        .clicked()
                        && app.doc.review.sex != s
                    {
                        app.doc.review.sex = s;
                        changed = true;
                    }
                }
            })
            .response
            .labelled_by(l.id)
            .on_hover_text("Selects the reference ranges (Petersen et al. 2017 give them by sex)");
        let l = ui.label("Age y");
        let mut a = app.doc.review.age_years.unwrap_or(0.0);
        if ui
            .add(
                egui::DragValue::new(&mut a)
                    .range(0.0..=120.0)
                    .speed(0.5)
                    .custom_formatter(unknown_as_dash),
            )
            .labelled_by(l.id)
            .changed()
        {
            app.doc.review.age_years = (a > 0.0).then_some(a);
            changed = true;
        }
    });
    if let Some(cur) = &app.doc.current {
        let phases = cur.cine.dims().phases;
        let m = app.doc.review.measures.as_ref();
        ui.horizontal(|ui| {
            for (name, is_ed) in [("ED phase", true), ("ES phase", false)] {
                let auto = if is_ed {
                    m.and_then(|m| m.ed_phase)
                } else {
                    m.and_then(|m| m.es_phase)
                };
                let slot = if is_ed {
                    &mut app.doc.review.key_override.ed
                } else {
                    &mut app.doc.review.key_override.es
                };
                let label = match (*slot, auto) {
                    (Some(p), _) => format!("{} (set)", p + 1),
                    (None, Some(p)) => format!("{} (auto)", p + 1),
                    (None, None) => "-".to_string(),
                };
                let caption = ui.label(name);
                egui::ComboBox::from_id_salt(name)
                    .selected_text(label)
                    .show_ui(ui, |ui| {
                        if ui.selectable_label(slot.is_none(), "automatic").clicked() {
                            *slot = None;
                            changed = true;
                        }
                        for p in 0..phases {
                            if ui
                                .selectable_label(*slot == Some(p), format!("phase {}", p + 1))
                                .clicked()
                            {
                                *slot = Some(p);
                                changed = true;
                            }
                        }
                    })
                    .response
                    .labelled_by(caption.id);
            }
        });
    }
    if changed {
        app.commands.push(Command::OverridesChanged);
    }
    let Some(m) = &app.doc.review.measures else {
        ui.label("No contours yet: press Segment (S).");
        return;
    };
    let partial = app.doc.review.seg_run.as_ref().filter(|r| r.incomplete()).map(|r| {
        let (done, n) = (r.done(), r.phases_done.len());
        match r.ended {
            None => format!("PROVISIONAL: segmentation running, {done} of {n} phases done; ED, ES and every value below may still change"),
            Some(SegEnd::Cancelled) => format!("INCOMPLETE: segmentation cancelled after {done} of {n} phases; values use those phases only"),
            Some(_) => format!("INCOMPLETE: segmentation failed after {done} of {n} phases; values use those phases only"),
        }
    });
    if let Some(text) = &partial {
        ui.colored_label(Color32::from_rgb(255, 190, 60), text);
    }
    // What the loader doubts about the input stays beside the numbers it affects.
    if let Some(cur) = &app.doc.current {
        for w in &cur.study.warnings {
            ui.colored_label(Color32::from_rgb(255, 190, 60), format!("Warning: {w}"));
        }
    }
    measures_table(m, partial.is_some(), ui);
    checks(app, ui);
    slice_table(app, ui);
}

/// The review queue beside the image: the image's confidence and the reasons to look at
/// it, "mark reviewed", "next to review" and how far the review is.
fn review_panel(app: &mut App, ui: &mut egui::Ui) {
    let (Some(v), Some(_)) = (&app.doc.views.sax, &app.doc.review.labels) else {
        return;
    };
    let (slice, phase) = (v.slice, v.phase);
    ui.heading("Review");
    let (reviewed, all, left) = app.review_counts();
    ui.label(format!(
        "Image: slice {}, phase {}{}",
        slice + 1,
        phase + 1,
        app.doc
            .review
            .status
            .confidence(phase, slice)
            .map_or(String::new(), |c| format!(
                "; network confidence {:.0} %",
                100.0 * c
            ))
    ));
    for f in app
        .doc
        .review
        .qc_flags
        .iter()
        .filter(|f| crate::qc::concerns(f, slice, phase))
    {
        ui.colored_label(
            severity_colour(f.severity),
            format!("{}: {}", f.code, f.message),
        );
    }
    match app.doc.review.status.mark(phase, slice) {
        Some(m) => {
            ui.colored_label(
                REVIEWED,
                format!(
                    "Reviewed{}{}",
                    m.by.as_deref()
                        .map_or(String::new(), |b| format!(" by {b}")),
                    if app.doc.review.edited(phase, slice) {
                        " (corrected)"
                    } else {
                        ""
                    }
                ),
            );
        }
        None => {
            ui.label("Not reviewed yet");
        }
    }
    let marked = app.doc.review.status.is_reviewed(phase, slice);
    ui.horizontal(|ui| {
        if !marked
            && ui
                .button("Mark reviewed (M)")
                .on_hover_text("Mark this image reviewed and show the next one to review")
                .clicked()
        {
            app.commands.push(Command::MarkReviewed {
                reviewed: true,
                then_next: true,
            });
        }
        if marked && ui.button("Unmark").clicked() {
            app.commands.push(Command::MarkReviewed {
                reviewed: false,
                then_next: false,
            });
        }
        // The queue holds an image other than this one (this one is in it unless marked).
        let others = left.saturating_sub(usize::from(!marked));
        if ui
            .add_enabled(others > 0, egui::Button::new("Next to review (Q)"))
            .clicked()
        {
            app.commands.push(Command::NextToReview);
        }
    });
    ui.small(format!(
        "{reviewed} of {all} images reviewed; {left} left in the queue"
    ));
    ui.separator();
}

/// Errors red, warnings amber, info grey.
fn severity_colour(s: crate::qc::Severity) -> Color32 {
    match s {
        crate::qc::Severity::Error => Color32::from_rgb(255, 90, 90),
        crate::qc::Severity::Warning => Color32::from_rgb(255, 190, 60),
        crate::qc::Severity::Info => Color32::from_gray(170),
    }
}

/// The rule checks beside the numbers: study flags, then the current image's, then how
/// many other images are flagged. Errors in red: the numbers are wrong until corrected.
fn checks(app: &App, ui: &mut egui::Ui) {
    use crate::qc::Severity;
    // Impossible values are already marked IMPOSSIBLE, with their reason, in the table.
    let flags: Vec<&crate::qc::QcFlag> = app
        .doc
        .review
        .qc_flags
        .iter()
        .filter(|f| f.severity != Severity::Info && f.code != "impossible_value")
        .collect();
    let here = app.doc.views.sax.as_ref().map(|v| (v.slice, v.phase));
    let colour = severity_colour;
    let word = |s: Severity| match s {
        Severity::Error => "CHECK",
        _ => "Check",
    };
    if flags.is_empty() {
        ui.small("Checks: nothing flagged");
        return;
    }
    for f in flags.iter().filter(|f| f.is_study_flag()) {
        ui.colored_label(
            colour(f.severity),
            format!("{}{}: {}", word(f.severity), f.place(1), f.message),
        );
    }
    let image: Vec<&&crate::qc::QcFlag> = flags.iter().filter(|f| !f.is_study_flag()).collect();
    for f in image
        .iter()
        .filter(|f| here.is_some_and(|(s, p)| f.slice == Some(s) && f.phase == Some(p)))
    {
        ui.colored_label(
            colour(f.severity),
            format!("{} (this image): {}", word(f.severity), f.message),
        );
    }
    let mut others: Vec<(usize, usize)> = image
        .iter()
        .filter(|f| !here.is_some_and(|(s, p)| f.slice == Some(s) && f.phase == Some(p)))
        .filter_map(|f| f.slice.zip(f.phase))
        .collect();
    others.sort_unstable();
    others.dedup();
    if !others.is_empty() {
        let list: Vec<String> = others
            .iter()
            .take(6)
            .map(|(s, p)| format!("{}/{}", s + 1, p + 1))
            .collect();
        ui.small(format!(
            "{} other image(s) flagged (slice/phase): {}{}",
            others.len(),
            list.join(", "),
            if others.len() > 6 { ", ..." } else { "" }
        ));
    }
}

/// The discs behind the volumes: LV, myocardium and RV per slice at ED and ES, each
/// slice's share of the LV EDV, so that a basal slice's weight is plain to see.
fn slice_table(app: &App, ui: &mut egui::Ui) {
    let (Some(engine), Some(m), Some(cur)) = (
        &app.doc.review.engine,
        &app.doc.review.measures,
        &app.doc.current,
    ) else {
        return;
    };
    let (Some(ed), Some(es)) = (m.ed_phase, m.es_phase) else {
        return;
    };
    let (at_ed, at_es) = (engine.slice_table(ed), engine.slice_table(es));
    let positions = cur.cine.geometry.slice_distances_mm();
    let lv_edv = m.lv.edv_ml.filter(|v| *v > 0.0);
    egui::CollapsingHeader::new("Per slice at ED and ES")
        .default_open(false)
        .show(ui, |ui| {
            egui::Grid::new("slice-table")
                .striped(true)
                .num_columns(7)
                .show(ui, |ui| {
                    for h in [
                        "slice",
                        "mm",
                        "LV ED mL",
                        "LV ES mL",
                        "% LVEDV",
                        "Myo ED mL",
                        "RV ED / ES mL",
                    ] {
                        ui.small(h);
                    }
                    ui.end_row();
                    let f = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.1}"));
                    let order: Vec<usize> = app
                        .doc
                        .views
                        .sax
                        .as_ref()
                        .map_or_else(|| (0..at_ed.len()).collect(), |v| v.slice_order.clone());
                    for s in order {
                        let (Some(e), Some(x)) = (at_ed.get(s), at_es.get(s)) else {
                            continue;
                        };
                        ui.monospace(format!("{}", s + 1));
                        ui.monospace(positions.get(s).map_or("-".into(), |p| format!("{p:.0}")));
                        ui.monospace(f(e[0]));
                        ui.monospace(f(x[0]));
                        ui.monospace(
                            e[0].zip(lv_edv)
                                .map_or("-".into(), |(v, t)| format!("{:.0}", 100.0 * v / t)),
                        );
                        ui.monospace(f(e[1]));
                        ui.monospace(format!("{} / {}", f(e[2]), f(x[2])));
                        ui.end_row();
                    }
                });
        });
}

/// Height and weight fields: 0 means "not stated", shown as a dash until the user drags.
fn unknown_as_dash(v: f64, _: std::ops::RangeInclusive<usize>) -> String {
    if v > 0.0 {
        format!("{v:.1}")
    } else {
        "-".into()
    }
}

fn flag_of(m: &Measures, name: &str) -> Option<Level> {
    m.flags.iter().find(|f| f.measure == name).map(|f| f.level)
}

fn measures_table(m: &Measures, provisional: bool, ui: &mut egui::Ui) {
    let problems = m.problems();
    let rows: [(&str, &str, Option<f64>, usize, &str); 14] = [
        ("LV EDV", "lv_edv_ml", m.lv.edv_ml, 1, "mL"),
        ("LV ESV", "lv_esv_ml", m.lv.esv_ml, 1, "mL"),
        ("LV SV", "lv_sv_ml", m.lv.sv_ml, 1, "mL"),
        ("LV EF", "lv_ef_pct", m.lv.ef_pct, 1, "%"),
        ("LV mass", "lv_mass_g", m.lv_mass_g, 1, "g"),
        ("RV EDV", "rv_edv_ml", m.rv.edv_ml, 1, "mL"),
        ("RV ESV", "rv_esv_ml", m.rv.esv_ml, 1, "mL"),
        ("RV SV", "rv_sv_ml", m.rv.sv_ml, 1, "mL"),
        ("RV EF", "rv_ef_pct", m.rv.ef_pct, 1, "%"),
        (
            "CO",
            "lv_cardiac_output_l_min",
            m.lv_cardiac_output_l_min,
            2,
            "L/min",
        ),
        ("BSA", "bsa_m2", m.bsa_m2, 2, "m²"),
        (
            "LV EDV / BSA",
            "lv_edv_ml_m2_index",
            ratio(m.lv.edv_ml, m.bsa_m2),
            1,
            "mL/m²",
        ),
        (
            "RV EDV / BSA",
            "rv_edv_ml_m2_index",
            ratio(m.rv.edv_ml, m.bsa_m2),
            1,
            "mL/m²",
        ),
        (
            "LV mass / BSA",
            "lv_mass_g_m2_index",
            ratio(m.lv_mass_g, m.bsa_m2),
            1,
            "g/m²",
        ),
    ];
    egui::Grid::new("measures")
        .striped(true)
        .num_columns(5)
        .show(ui, |ui| {
            ui.small("measure");
            ui.small("value");
            ui.small("unit");
            ui.small("range");
            ui.small("flag");
            ui.end_row();
            for (label, key, value, digits, unit) in rows {
                ui.label(label);
                let text = fmt(value, digits);
                if let Some(p) = problems.iter().find(|p| p.measure == key) {
                    ui.colored_label(
                        Color32::from_rgb(255, 80, 80),
                        egui::RichText::new(text).monospace().strikethrough(),
                    )
                    .on_hover_text(&p.reason);
                    ui.small(unit);
                    ui.label("");
                    ui.colored_label(Color32::from_rgb(255, 80, 80), "IMPOSSIBLE");
                    ui.end_row();
                    continue;
                }
                if provisional {
                    ui.colored_label(
                        Color32::GRAY,
                        egui::RichText::new(text).monospace().italics(),
                    );
                } else {
                    ui.monospace(text);
                }
                ui.small(unit);
                match m.flags.iter().find(|f| f.measure == key) {
                    Some(f) => ui
                        .small(format!("{:.0}-{:.0}", f.low, f.high))
                        .on_hover_text(f.source),
                    None => ui
                        .small("-")
                        .on_hover_text("no reference range for this measure and sex"),
                };
                match flag_of(m, key) {
                    Some(Level::Low) => ui.colored_label(Color32::from_rgb(80, 150, 255), "LOW"),
                    Some(Level::High) => ui.colored_label(Color32::from_rgb(255, 110, 80), "HIGH"),
                    Some(Level::Normal) => ui.label("normal"),
                    None => ui.label(""),
                };
                ui.end_row();
            }
        });
    ui.label(format!(
        "ED phase {}  ES phase {}",
        fmt(m.ed_phase.map(|p| p as f64 + 1.0), 0),
        fmt(m.es_phase.map(|p| p as f64 + 1.0), 0)
    ));
    for p in &problems {
        ui.colored_label(Color32::from_rgb(255, 80, 80), &p.reason);
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    a.zip(b).filter(|(_, b)| *b > 0.0).map(|(a, b)| a / b)
}

fn curve(app: &mut App, ui: &mut egui::Ui) {
    use egui_plot::{Legend, Line, Plot, PlotPoints, VLine};
    let Some(m) = &app.doc.review.measures else {
        return;
    };
    let pts = |v: &[Option<f64>]| -> PlotPoints {
        v.iter()
            .enumerate()
            .filter_map(|(p, x)| x.map(|x| [p as f64 + 1.0, x]))
            .collect()
    };
    let lv = pts(&m.volumes.lv_ml);
    let rv = pts(&m.volumes.rv_ml);
    let (ed, es) = (m.ed_phase, m.es_phase);
    Plot::new("volume-curve")
        .height(180.0)
        .legend(Legend::default())
        .x_axis_label("phase")
        .y_axis_label("mL")
        .show(ui, |p| {
            p.line(Line::new("LV", lv).color(LV_ENDO));
            p.line(Line::new("RV", rv).color(RV_ENDO));
            if let Some(e) = ed {
                p.vline(VLine::new("ED", e as f64 + 1.0).color(Color32::LIGHT_BLUE));
            }
            if let Some(e) = es {
                p.vline(VLine::new("ES", e as f64 + 1.0).color(Color32::LIGHT_RED));
            }
        });
}

/// Thumbnail edge in points (and atlas pixels).
const THUMB: usize = 18;

/// Slices (rows) x phases (columns) of thumbnails; ED and ES marked above their columns, a
/// green dot where an image has contours, an orange square where they were edited by
/// hand, the current image outlined; a click goes there.
fn matrix(app: &mut App, ui: &mut egui::Ui) {
    let (Some(cur), Some(v)) = (&app.doc.current, &app.doc.views.sax) else {
        return;
    };
    let d = cur.cine.dims();
    let atlas_stale = app
        .doc
        .views
        .thumbs
        .as_ref()
        .is_none_or(|(id, _)| *id != cur.id);
    if atlas_stale {
        let img = thumbnail_atlas(&cur.cine, v.window_center, v.window_width);
        let tex = ui
            .ctx()
            .load_texture("systole-thumbnails", img, egui::TextureOptions::LINEAR);
        app.doc.views.thumbs = Some((cur.id, tex));
    }
    let Some(v) = &app.doc.views.sax else { return };
    let cell = Vec2::splat(THUMB as f32 + 1.0);
    let size = Vec2::new(
        24.0 + cell.x * d.phases as f32,
        14.0 + cell.y * d.slices as f32,
    );
    let (rect, resp) = ui.allocate_exact_size(size, Sense::click());
    let painter = ui.painter_at(rect);
    let origin = rect.min + Vec2::new(24.0, 14.0);
    let (ed, es) = app
        .doc
        .review
        .measures
        .as_ref()
        .map_or((None, None), |m| (m.ed_phase, m.es_phase));
    let tex = app.doc.views.thumbs.as_ref().map(|(_, t)| t.id());
    // Images with an error flag of their own: outlined red.
    let errors: std::collections::HashSet<(usize, usize)> = app
        .doc
        .review
        .qc_flags
        .iter()
        .filter(|f| f.severity == crate::qc::Severity::Error)
        .filter_map(|f| f.slice.zip(f.phase))
        .collect();
    for p in 0..d.phases {
        let x = origin.x + cell.x * p as f32;
        let tag = if Some(p) == ed {
            "ED"
        } else if Some(p) == es {
            "ES"
        } else {
            ""
        };
        if !tag.is_empty() {
            painter.text(
                Pos2::new(x + cell.x / 2.0, rect.min.y),
                egui::Align2::CENTER_TOP,
                tag,
                egui::FontId::proportional(10.0),
                Color32::WHITE,
            );
        }
        for s in 0..d.slices {
            let r = Rect::from_min_size(
                Pos2::new(x, origin.y + cell.y * v.row_of(s) as f32),
                Vec2::splat(THUMB as f32),
            );
            if let Some(t) = tex {
                let uv = Rect::from_min_size(
                    Pos2::new(p as f32 / d.phases as f32, s as f32 / d.slices as f32),
                    Vec2::new(1.0 / d.phases as f32, 1.0 / d.slices as f32),
                );
                painter.image(t, r, uv, Color32::WHITE);
            }
            if Some(p) == ed || Some(p) == es {
                painter.rect_stroke(
                    r,
                    0.0,
                    Stroke::new(1.0, Color32::from_gray(140)),
                    egui::StrokeKind::Inside,
                );
            }
            if p == v.phase && s == v.slice {
                painter.rect_stroke(
                    r,
                    0.0,
                    Stroke::new(2.0, Color32::from_rgb(90, 140, 230)),
                    egui::StrokeKind::Inside,
                );
            }
            if errors.contains(&(s, p)) {
                painter.rect_stroke(
                    r.shrink(1.0),
                    0.0,
                    Stroke::new(1.5, severity_colour(crate::qc::Severity::Error)),
                    egui::StrokeKind::Inside,
                );
            }
            // The network's doubt: a bar along the bottom, red or amber.
            if let Some(c) = app
                .doc
                .review
                .status
                .confidence(p, s)
                .filter(|c| *c < UNSURE)
            {
                let bar =
                    Rect::from_min_max(r.left_bottom() - Vec2::new(0.0, 3.0), r.right_bottom());
                let colour = if c < DOUBTFUL {
                    Color32::from_rgb(230, 50, 50)
                } else {
                    Color32::from_rgb(240, 170, 40)
                };
                painter.rect_filled(bar, 0.0, colour);
            }
            if app.doc.review.status.is_reviewed(p, s) {
                painter.circle_filled(r.left_top() + Vec2::new(4.0, 4.0), 2.5, REVIEWED);
            }
            let corner = r.right_top() + Vec2::new(-4.0, 4.0);
            if app.doc.review.edited(p, s) {
                painter.rect_filled(
                    Rect::from_center_size(corner, Vec2::splat(5.0)),
                    0.0,
                    EDITED,
                );
            } else if app
                .doc
                .review
                .labels
                .as_ref()
                .is_some_and(|l| !l.annotated(p, s).is_empty())
            {
                painter.circle_filled(corner, 2.0, LV_EPI);
            }
        }
    }
    for s in 0..d.slices {
        painter.text(
            Pos2::new(rect.min.x, origin.y + cell.y * (v.row_of(s) as f32 + 0.5)),
            egui::Align2::LEFT_CENTER,
            format!("{}", s + 1),
            egui::FontId::proportional(9.0),
            Color32::GRAY,
        );
    }
    if resp.clicked()
        && let Some(pos) = resp.interact_pointer_pos()
    {
        let q = (pos - origin).to_pos2();
        if q.x >= 0.0 && q.y >= 0.0 {
            let (p, row) = ((q.x / cell.x) as usize, (q.y / cell.y) as usize);
            let s = v.slice_order.get(row).copied().unwrap_or(row);
            if p < d.phases && s < d.slices {
                app.commands.push(Command::Go { phase: p, slice: s });
            }
        }
    }
}

/// One grey image holding a THUMB x THUMB thumbnail of every image (phase across, slice
/// down): the central 60 % of each image (where the heart is), box-filtered, windowed.
pub fn thumbnail_atlas(
    cine: &crate::study::CineStack,
    center: f32,
    width: f32,
) -> egui::ColorImage {
    let d = cine.dims();
    let (w, h) = (d.phases * THUMB, d.slices * THUMB);
    let mut px = vec![Color32::BLACK; w * h];
    let side = ((d.rows.min(d.columns) as f32) * 0.6).max(1.0);
    let (r0, c0) = (
        (d.rows as f32 - side) / 2.0,
        (d.columns as f32 - side) / 2.0,
    );
    let step = side / THUMB as f32;
    let lo = center - width / 2.0;
    for p in 0..d.phases {
        for s in 0..d.slices {
            let img = cine.image(p, s);
            for ty in 0..THUMB {
                for tx in 0..THUMB {
                    // Average a 2 x 2 grid of samples inside the thumbnail pixel's footprint.
                    let mut sum = 0.0;
                    for (dy, dx) in [(0.25, 0.25), (0.25, 0.75), (0.75, 0.25), (0.75, 0.75)] {
                        let r =
                            ((r0 + (ty as f32 + dy) * step) as usize).min(d.rows.saturating_sub(1));
                        let c = ((c0 + (tx as f32 + dx) * step) as usize)
                            .min(d.columns.saturating_sub(1));
                        sum += img.get(r * d.columns + c).copied().unwrap_or(0.0);
                    }
                    let g = ((sum / 4.0 - lo) / width.max(1e-6)).clamp(0.0, 1.0) * 255.0;
                    px[(s * THUMB + ty) * w + p * THUMB + tx] = Color32::from_gray(g as u8);
                }
            }
        }
    }
    egui::ColorImage::new([w, h], px)
}

/// What an empty window says: how to open a study.
fn empty_state(ui: &mut egui::Ui, rect: Rect) {
    let text = "No study open.\n\nOpen one with File -> Open folder... or Open file...,\n\
                drop a DICOM folder or a NIfTI file on this window,\n\
                or type its path with File -> Open path...\n\n\
                File -> Open the phantom shows a synthetic heart.";
    ui.painter().text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        text,
        egui::FontId::proportional(16.0),
        Color32::LIGHT_GRAY,
    );
}

fn viewport(app: &mut App, ui: &mut egui::Ui) {
    let rect = ui.max_rect();
    let resp = ui.allocate_rect(rect, Sense::click_and_drag());
    ui.painter().rect_filled(rect, 0.0, Color32::BLACK);
    if app.doc.current.is_none() && app.loading.is_none() {
        empty_state(ui, rect);
        return;
    }
    let Some(img) = app.shown_image() else { return };
    let Some(v) = app.doc.views.sax.clone() else {
        return;
    };
    let d = app.doc.current.as_ref().map(|c| c.cine.dims());
    // Interaction: wheel = slice (Ctrl: zoom), right-drag = window/level, middle-drag = pan.
    if resp.hovered() {
        // One slice per wheel event (not per scrolled point), as clinical viewers step.
        let (scroll, ctrl) = ui.ctx().input(|i| {
            let dy: f32 = i
                .events
                .iter()
                .map(|e| {
                    if let egui::Event::MouseWheel { delta, .. } = e {
                        delta.y
                    } else {
                        0.0
                    }
                })
                .sum();
            (dy, i.modifiers.ctrl || i.modifiers.command)
        });
        if let (Some(view), Some(d)) = (&mut app.doc.views.sax, d)
            && scroll != 0.0
        {
            if ctrl {
                view.zoom_by(if scroll > 0.0 { 1.1 } else { 1.0 / 1.1 });
            } else {
                view.step_slice(if scroll > 0.0 { -1 } else { 1 }, d.slices);
            }
        }
    }
    if let Some(view) = &mut app.doc.views.sax {
        if resp.dragged_by(egui::PointerButton::Secondary) {
            let dd = resp.drag_delta();
            view.drag_window(dd.x, dd.y);
        }
        if resp.dragged_by(egui::PointerButton::Middle) {
            let dd = resp.drag_delta();
            view.pan[0] += dd.x;
            view.pan[1] += dd.y;
        }
    }
    // Image placement: fit, then zoom about the centre and pan.
    let (w, h) = (img.columns as f32, img.rows as f32);
    let fit = (rect.width() / w).min(rect.height() / h);
    let scale = fit * v.zoom;
    let size = Vec2::new(w * scale, h * scale);
    let min = rect.center() - size / 2.0 + Vec2::new(v.pan[0], v.pan[1]);
    let uniforms = SliceUniforms {
        panel_size_pt: [rect.width(), rect.height()],
        origin_pt: [min.x - rect.min.x, min.y - rect.min.y],
        image_size: [w, h],
        scale_pt: scale,
        window_center: v.window_center,
        window_width: v.window_width,
        label_opacity: v.label_opacity,
        linear: v.linear,
        show_labels: v.show_labels,
    };
    if app.wgpu {
        ui.painter()
            .add(eframe::egui_wgpu::Callback::new_paint_callback(
                rect,
                SliceCallback {
                    view: super::render::ViewId::ShortAxis,
                    image: img.clone(),
                    uniforms,
                },
            ));
    } else {
        let stale = app.doc.views.cpu_texture.as_ref().is_none_or(|(k, u, _)| {
            *k != img.key
                || u.window_center != uniforms.window_center
                || u.window_width != uniforms.window_width
                || u.show_labels != uniforms.show_labels
                || u.label_opacity != uniforms.label_opacity
        });
        if stale {
            let tex = ui.ctx().load_texture(
                "systole-slice",
                cpu_image(&img, &uniforms),
                egui::TextureOptions::LINEAR,
            );
            app.doc.views.cpu_texture = Some((img.key, uniforms, tex));
        }
        if let Some((_, _, tex)) = &app.doc.views.cpu_texture {
            ui.painter_at(rect).image(
                tex.id(),
                Rect::from_min_size(min, size),
                Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
                Color32::WHITE,
            );
        }
    }
    app.doc.views.viewport_map = Some((min, scale));
    let to_image = |p: Pos2| {
        [
            ((p.x - min.x) / scale - 0.5) as f64,
            ((p.y - min.y) / scale - 0.5) as f64,
        ]
    };
    super::tools::interact(app, &resp, &to_image);
    let editable = app.doc.review.contours.is_some();
    if v.show_contours && editable {
        let to_screen = |p: [f64; 2]| {
            Pos2::new(
                min.x + (p[0] as f32 + 0.5) * scale,
                min.y + (p[1] as f32 + 0.5) * scale,
            )
        };
        super::tools::draw(
            app,
            &ui.painter_at(rect),
            &to_screen,
            scale,
            resp.hover_pos(),
        );
    }
    if v.show_contours && !editable {
        let painter = ui.painter_at(rect);
        let to_screen =
            |p: [f32; 2]| Pos2::new(min.x + (p[0] + 0.5) * scale, min.y + (p[1] + 0.5) * scale);
        for (structure, segments) in app.outlines() {
            let colour = match structure {
                Structure::LvEndo => LV_ENDO,
                Structure::LvEpi => LV_EPI,
                Structure::RvEndo => RV_ENDO,
            };
            let stroke = Stroke::new(1.5, colour);
            for s in segments {
                painter.line_segment([to_screen(s[0]), to_screen(s[1])], stroke);
            }
        }
    }
    if v.show_reference && app.doc.review.label_source == Some(LabelSource::Automatic) {
        let painter = ui.painter_at(rect);
        let to_screen =
            |p: [f32; 2]| Pos2::new(min.x + (p[0] + 0.5) * scale, min.y + (p[1] + 0.5) * scale);
        for segments in app.reference_outlines() {
            for s in segments {
                painter.line_segment(
                    [to_screen(s[0]), to_screen(s[1])],
                    Stroke::new(1.0, Color32::WHITE),
                );
            }
        }
    }
    // The long-axis panes' planes, where they cross this slice.
    for (colour, a, b) in super::long_axis::planes_on_slice(app, v.slice) {
        let to_screen = |p: [f64; 2]| {
            Pos2::new(
                min.x + (p[0] as f32 + 0.5) * scale,
                min.y + (p[1] as f32 + 0.5) * scale,
            )
        };
        ui.painter_at(rect).extend(egui::Shape::dashed_line(
            &[to_screen(a), to_screen(b)],
            Stroke::new(1.2, colour),
            6.0,
            4.0,
        ));
    }
    // Where the image lies and when: position along the slice normal, trigger time.
    let (pos, time) = app.doc.current.as_ref().map_or((None, None), |c| {
        (
            c.cine.geometry.slice_distances_mm().get(v.slice).copied(),
            c.cine.trigger_times_ms().get(v.phase).copied().flatten(),
        )
    });
    let label = format!(
        "slice {} ({})  phase {} ({})\nW {:.0} L {:.0}  zoom {:.1}x",
        v.slice + 1,
        pos.map_or("position unknown".into(), |p| format!("{p:.1} mm")),
        v.phase + 1,
        time.map_or("time unknown".into(), |t| format!("{t:.0} ms")),
        v.window_width,
        v.window_center,
        v.zoom
    );
    ui.painter_at(rect).text(
        rect.left_top() + Vec2::new(8.0, 8.0),
        egui::Align2::LEFT_TOP,
        label,
        egui::FontId::monospace(12.0),
        Color32::LIGHT_GRAY,
    );
}
