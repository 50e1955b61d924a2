//! The viewer driven as a user would, with egui_kittest: open the phantom, step slices and
//! phases with the keys, segment (the network runs in its background job), see the
//! measures, override ED. Without wgpu the slice is drawn through the CPU fallback, so
//! these tests need no GPU.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};
use systole::app::editing::Export;
use systole::app::{App, LabelSource, LaunchOptions, ui};
use systole::contour::Structure;
use systole::contour::set::{ContourSet, Source};
use systole::io::session::{self, Session, SessionFile};
use systole::io::{LoadOptions, load_study};
use systole::measure::{BsaFormula, Context, Engine};
use systole::phantom::{PhantomConfig, phantom};
use systole::segment::{SegmentOptions, Segmenter};

fn harness() -> Harness<'static, App> {
    harness_with(LaunchOptions::default())
}

fn harness_with(launch: LaunchOptions) -> Harness<'static, App> {
    let ctx = egui::Context::default();
    let app = App::new(launch, false, &ctx);
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(
            |ui, app: &mut App| {
                app.logic(ui.ctx());
                ui::show(app, ui);
            },
            app,
        )
}

/// The text of a PDF (poppler's pdftotext).
fn pdf_text(pdf: &Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .args([pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Steps the UI until `done` holds (background jobs report through channels).
fn wait_for(h: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    wait_while(h, what, done, |_| {});
}

/// [`wait_for`], looking at the UI after every step with `during`.
fn wait_while(
    h: &mut Harness<'static, App>,
    what: &str,
    done: impl Fn(&App) -> bool,
    mut during: impl FnMut(&Harness<'static, App>),
) {
    let t0 = Instant::now();
    while !done(h.state()) {
        assert!(
            t0.elapsed() < Duration::from_secs(600),
            "timed out waiting for {what}"
        );
        h.step();
        during(h);
        std::thread::sleep(Duration::from_millis(20));
    }
    h.run_steps(2);
}

#[test]
fn opens_the_phantom_and_navigates_with_the_keys() {
    let mut h = harness();
    h.run_steps(2);
    let d = opened(h.state()).cine.dims();
    assert!(opened(h.state()).name.contains("Phantom"));
    let v0 = h.state().doc.views.sax.clone().unwrap();
    assert_eq!(v0.slice, d.slices / 2);
    h.key_press(egui::Key::ArrowDown);
    h.run_steps(2);
    assert_eq!(
        h.state().doc.views.sax.as_ref().unwrap().slice,
        v0.slice + 1
    );
    h.key_press(egui::Key::ArrowUp);
    h.key_press(egui::Key::ArrowUp);
    h.run_steps(2);
    assert_eq!(
        h.state().doc.views.sax.as_ref().unwrap().slice,
        v0.slice - 1
    );
    h.key_press(egui::Key::ArrowLeft);
    h.run_steps(2);
    assert_eq!(
        h.state().doc.views.sax.as_ref().unwrap().phase,
        d.phases - 1,
        "Left from phase 1 wraps to the last phase"
    );
    h.key_press(egui::Key::ArrowRight);
    h.key_press(egui::Key::ArrowRight);
    h.run_steps(2);
    assert_eq!(h.state().doc.views.sax.as_ref().unwrap().phase, 1);
    // The phantom's own labels give measures at once; the panel shows them.
    assert_eq!(
        h.state().doc.review.label_source,
        Some(LabelSource::Reference)
    );
    assert!(
        h.state()
            .doc
            .review
            .measures
            .as_ref()
            .and_then(|m| m.lv.edv_ml)
            .is_some()
    );
    h.get_by_label("LV EDV");
    // Help lists the shortcuts.
    h.key_press(egui::Key::F1);
    h.run_steps(2);
    h.get_by_label("play / pause the cine");
}

#[test]
fn the_review_queue_walks_the_least_sure_images_and_marks_them_reviewed() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness_at(dir.path());
    h.run_steps(2);
    h.key_press(egui::Key::S);
    h.run_steps(2);
    wait_for(&mut h, "segmentation", |a| a.segmenting.is_none());
    let app = h.state();
    let d = app.doc.current.as_ref().unwrap().cine.dims();
    for p in 0..d.phases {
        for s in 0..d.slices {
            let c = app.doc.review.status.confidence(p, s);
            assert!(
                c.is_some_and(|c| (0.0..=1.0).contains(&c)),
                "the network's confidence in slice {s} phase {p}: {c:?}"
            );
        }
    }
    // The queue is the library's review order of the same flags and confidences.
    let labels = app.doc.review.labels.clone().unwrap();
    let order = systole::qc::review_order(
        &app.doc.review.qc_flags,
        &app.doc.review.status.images(&labels),
    );
    assert_eq!(order.len(), d.images());
    let v = app.doc.views.sax.clone().unwrap();
    let first = *order.iter().find(|&&i| i != (v.slice, v.phase)).unwrap();
    h.key_press(egui::Key::Q);
    h.run_steps(2);
    let v = h.state().doc.views.sax.clone().unwrap();
    assert_eq!((v.slice, v.phase), first, "Q shows the most suspect image");
    // The panel says how sure the network is of it.
    h.get_by_label_contains("network confidence");
    h.get_by_label("Not reviewed yet");
    // M marks it reviewed (by the session's reviewer) and moves on to the next.
    h.state_mut().doc.review.session.reviewer = "Dr Queue".into();
    h.key_press(egui::Key::M);
    h.run_steps(2);
    let app = h.state();
    let mark = app
        .doc
        .review
        .status
        .mark(first.1, first.0)
        .expect("marked reviewed");
    assert_eq!(mark.by.as_deref(), Some("Dr Queue"));
    let second = *order.iter().find(|&&i| i != first).unwrap();
    let v = app.doc.views.sax.clone().unwrap();
    assert_eq!((v.slice, v.phase), second, "M goes on to the next image");
    assert_eq!(app.review_counts(), (1, d.images(), d.images() - 1));
    h.get_by_label_contains("1 of");
    // The button walks the queue too, never back to a reviewed image.
    h.get_by_label("Next to review (Q)").click();
    h.run_steps(2);
    let v = h.state().doc.views.sax.clone().unwrap();
    assert_ne!((v.slice, v.phase), first);
    assert_ne!((v.slice, v.phase), second);
    // Saved in the session: another window finds the mark.
    let mut h2 = harness_at(dir.path());
    h2.run_steps(2);
    assert!(h2.state().doc.review.status.is_reviewed(first.1, first.0));
    assert_eq!(
        h2.state().doc.review.status.confidence(first.1, first.0),
        h.state().doc.review.status.confidence(first.1, first.0)
    );
    // The report counts the reviewed image.
    let pdf = dir.path().join("report.pdf");
    h.state().export(Export::ReportPdf, &pdf).unwrap();
    let text = pdf_text(&pdf);
    assert!(
        text.contains(&format!("1 of {} images marked reviewed", d.images())),
        "{text}"
    );
}

#[test]
fn segmenting_fills_the_measures_and_ed_can_be_overridden() {
    let mut h = harness();
    h.run_steps(2);
    h.get_by_label("Segment (S)").click();
    h.run_steps(2);
    assert!(
        h.state().segmenting.is_some(),
        "segmentation runs in the background"
    );
    wait_for(&mut h, "segmentation", |a| a.segmenting.is_none());
    let app = h.state();
    assert_eq!(
        app.doc.review.label_source,
        Some(LabelSource::Automatic),
        "{:?}",
        app.error
    );
    let m = app.doc.review.measures.clone().unwrap();
    assert!(
        m.volumes.lv_ml.iter().all(Option::is_some),
        "every phase segmented"
    );
    assert!(
        app.doc
            .review
            .contours
            .as_ref()
            .unwrap()
            .iter()
            .all(|(_, c)| c.source == Source::Auto)
    );
    let (edv, ef) = (m.lv.edv_ml.unwrap(), m.lv.ef_pct.unwrap());
    assert!(edv > 0.0 && (0.0..100.0).contains(&ef));
    // Override ED through the panel's ED selector: the measures follow at once.
    let auto_ed = m.ed_phase.unwrap();
    let other = if auto_ed == 2 { 3 } else { 2 };
    h.get_by_label("ED phase").click();
    h.run_steps(2);
    h.get_by_label(&format!("phase {}", other + 1)).click();
    h.run_steps(2);
    let m2 = h.state().doc.review.measures.clone().unwrap();
    assert_eq!(m2.ed_phase, Some(other));
    assert_ne!(m2.lv.edv_ml, m.lv.edv_ml);
}

/// Screen position of image pixel coordinates, as the viewport last drew the image.
/// The study on show.
fn opened(app: &App) -> &systole::app::OpenStudy {
    app.doc.current.as_ref().unwrap()
}

/// The LV EDV the panel shows (mL).
fn lv_edv_ml(app: &App) -> f64 {
    app.doc.review.measures.as_ref().unwrap().lv.edv_ml.unwrap()
}

fn screen_of(app: &App, p: [f64; 2]) -> egui::Pos2 {
    let (min, scale) = app.doc.views.viewport_map.expect("the viewport was drawn");
    egui::pos2(
        min.x + (p[0] as f32 + 0.5) * scale,
        min.y + (p[1] as f32 + 0.5) * scale,
    )
}

/// Drags with the left button from `from` to `to` in a few steps, as a hand would.
fn drag(h: &mut Harness<'static, App>, from: egui::Pos2, to: egui::Pos2) {
    h.hover_at(from);
    h.run_steps(1);
    h.drag_at(from);
    h.run_steps(1);
    for k in 1..=4 {
        h.hover_at(from + (to - from) * (k as f32 / 4.0));
        h.run_steps(1);
    }
    h.drop_at(to);
    h.run_steps(2);
}

/// Puts the phantom's reference labels in as automatic contours, at ED, and picks the
/// Nudge tool through the panel. Returns the LV endocardium's rightmost point.
fn ready_to_nudge(h: &mut Harness<'static, App>) -> [f64; 2] {
    h.run_steps(2);
    let labels = h.state().doc.review.labels.clone().unwrap();
    h.state_mut()
        .set_contours(ContourSet::from_labels(&labels, Source::Auto));
    let ed = h
        .state()
        .doc
        .review
        .measures
        .as_ref()
        .unwrap()
        .ed_phase
        .unwrap();
    let slice = h.state().doc.views.sax.as_ref().unwrap().slice;
    h.state_mut()
        .commands
        .push(systole::app::Command::Go { phase: ed, slice });
    h.run_steps(2);
    h.get_by_label("Nudge").click();
    h.run_steps(2);
    let set = h.state().doc.review.contours.as_ref().unwrap();
    let c = set
        .get((ed, slice, Structure::LvEndo))
        .expect("an LV contour at ED on the mid slice");
    c.points
        .iter()
        .copied()
        .max_by(|a, b| a[0].total_cmp(&b[0]))
        .unwrap()
}

#[test]
fn a_drag_back_to_its_start_adds_no_undo_step_and_the_endocardium_stays_inside_the_epicardium() {
    let mut h = harness();
    let right = ready_to_nudge(&mut h);
    let (phase, slice) = {
        let v = h.state().doc.views.sax.as_ref().unwrap();
        (v.phase, v.slice)
    };
    let from = screen_of(h.state(), right);
    let scale = h.state().doc.views.viewport_map.unwrap().1;
    // Out and back to where the button went down: the contour is as before, no undo step.
    h.hover_at(from);
    h.run_steps(1);
    h.drag_at(from);
    h.run_steps(1);
    h.hover_at(from + egui::vec2(6.0 * scale, 0.0));
    h.run_steps(1);
    h.hover_at(from);
    h.run_steps(1);
    h.drop_at(from);
    h.run_steps(2);
    assert!(
        !h.state().doc.review.edit.history.can_undo(),
        "a drag that moved nothing is no undo step"
    );
    // Far outwards, past the epicardium: when the drag ends the endocardium is clipped to it.
    drag(&mut h, from, from + egui::vec2(25.0 * scale, 0.0));
    let app = h.state();
    assert!(app.doc.review.edit.history.can_undo());
    let d = app.doc.current.as_ref().unwrap().cine.dims();
    let set = app.doc.review.contours.as_ref().unwrap();
    let endo = systole::contour::fill(
        &set.get((phase, slice, Structure::LvEndo)).unwrap().points,
        d.rows,
        d.columns,
    );
    let epi = systole::contour::fill(
        &set.get((phase, slice, Structure::LvEpi)).unwrap().points,
        d.rows,
        d.columns,
    );
    let outside = endo.iter().zip(&epi).filter(|(e, p)| **e && !**p).count();
    assert_eq!(outside, 0, "LV endocardium pixels outside the epicardium");
    // The nudge reached the epicardium (the clip did something).
    let right_after = set
        .get((phase, slice, Structure::LvEndo))
        .unwrap()
        .points
        .iter()
        .map(|p| p[0])
        .fold(f64::MIN, f64::max);
    assert!(
        right_after > right[0] + 2.0,
        "{} -> {right_after}",
        right[0]
    );
}

#[test]
fn dragging_the_lv_contour_outwards_raises_lvedv_in_the_panel_and_undo_restores_it() {
    let mut h = harness();
    let right = ready_to_nudge(&mut h);
    let edv0 = lv_edv_ml(h.state());
    h.get_by_label(&format!("{edv0:.1}"));
    let from = screen_of(h.state(), right);
    let scale = h.state().doc.views.viewport_map.unwrap().1;
    drag(&mut h, from, from + egui::vec2(4.0 * scale, 0.0));
    let app = h.state();
    let edv1 = app.doc.review.measures.as_ref().unwrap().lv.edv_ml.unwrap();
    assert!(edv1 > edv0 + 0.1, "LVEDV {edv0} -> {edv1}");
    h.get_by_label(&format!("{edv1:.1}"));
    let v = app.doc.views.sax.as_ref().unwrap();
    assert!(
        app.doc
            .review
            .contours
            .as_ref()
            .unwrap()
            .edited(v.phase, v.slice),
        "the image is marked as edited"
    );
    // The live measures equal a full recount of the labels rasterised from the contours.
    let full = app.doc.review.contours.as_ref().unwrap().to_labels();
    assert_eq!(&full, app.doc.review.labels.as_ref().unwrap());
    // Ctrl+Z undoes the whole drag; Ctrl+Shift+Z redoes it.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    assert_eq!(
        h.state().doc.review.measures.as_ref().unwrap().lv.edv_ml,
        Some(edv0)
    );
    h.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::Z,
    );
    h.run_steps(2);
    assert_eq!(
        h.state().doc.review.measures.as_ref().unwrap().lv.edv_ml,
        Some(edv1)
    );
}

fn harness_at(dir: &std::path::Path) -> Harness<'static, App> {
    let mut h = harness();
    let study = phantom(&PhantomConfig::default()).study;
    h.state_mut().open_study_at(study, dir.to_path_buf());
    h
}

#[test]
fn edits_are_saved_at_once_and_restored_when_the_study_is_opened_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness_at(dir.path());
    let right = ready_to_nudge(&mut h);
    let from = screen_of(h.state(), right);
    let scale = h.state().doc.views.viewport_map.unwrap().1;
    drag(&mut h, from, from + egui::vec2(-3.0 * scale, 0.0));
    let edited = h.state().doc.review.contours.clone().unwrap();
    let edv = h.state().doc.review.measures.as_ref().unwrap().lv.edv_ml;
    let v = h.state().doc.views.sax.clone().unwrap();
    assert!(
        h.state().doc.review.status.is_reviewed(v.phase, v.slice),
        "an edited image counts as reviewed"
    );
    // The writer thread has it on disk once it is idle; flushing waits for that.
    assert!(h.state_mut().flush_saves(), "the last edit is written");
    let file = dir.path().join("systole-session.json");
    assert!(file.exists(), "autosaved to {}", file.display());
    // A second window on the same study finds everything as it was.
    let mut h2 = harness_at(dir.path());
    h2.run_steps(2);
    assert_eq!(h2.state().doc.review.contours.as_ref(), Some(&edited));
    assert!(h2.state().doc.review.status.is_reviewed(v.phase, v.slice));
    assert_eq!(
        h2.state().doc.review.measures.as_ref().unwrap().lv.edv_ml,
        edv
    );
    assert!(h2.state().doc.review.session.blocked.is_none());
}

#[test]
fn another_studys_or_a_broken_session_is_refused_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("systole-session.json");
    for (what, text) in [
        (
            "broken",
            "{\"format\": \"systole-session\", \"version\": 1, \"contours\": [".to_string(),
        ),
        ("foreign", {
            let other = phantom(&PhantomConfig {
                seed: 99,
                ..PhantomConfig::default()
            })
            .study;
            let s = Session {
                contours: ContourSet::new(other.cine.dims()),
                overrides: Default::default(),
                review: Default::default(),
            };
            session::to_text(&SessionFile::new(&other, &s, (None, None))).unwrap()
        }),
    ] {
        std::fs::write(&file, &text).unwrap();
        let mut h = harness_at(dir.path());
        let right = ready_to_nudge(&mut h);
        assert!(
            h.state().doc.review.session.blocked.is_some(),
            "{what}: saving is blocked"
        );
        assert!(
            h.state()
                .error
                .as_deref()
                .unwrap_or("")
                .contains(if what == "broken" {
                    "broken"
                } else {
                    "another study"
                }),
            "{what}: {:?}",
            h.state().error
        );
        let from = screen_of(h.state(), right);
        drag(&mut h, from, from + egui::vec2(20.0, 0.0));
        h.state_mut().flush_saves();
        assert!(
            h.state()
                .doc
                .review
                .contours
                .as_ref()
                .unwrap()
                .iter()
                .any(|(_, c)| c.source == Source::Manual),
            "{what}: editing still works"
        );
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            text,
            "{what}: the file is untouched"
        );
    }
}

/// The child half of the SIGKILL test (run by it, not on its own): edits, prints the new
/// LVEDV, then waits to be killed.
#[test]
#[ignore = "run by edit_survives_sigkill"]
fn sigkill_child() {
    let Some(dir) = std::env::var_os("SYSTOLE_SIGKILL_DIR") else {
        return;
    };
    let mut h = harness_at(std::path::Path::new(&dir));
    let right = ready_to_nudge(&mut h);
    let from = screen_of(h.state(), right);
    let scale = h.state().doc.views.viewport_map.unwrap().1;
    drag(&mut h, from, from + egui::vec2(5.0 * scale, 0.0));
    let edv = lv_edv_ml(h.state());
    // On disk once the writer thread is done (the status line says "Saved to ...").
    assert!(h.state_mut().flush_saves());
    println!("EDITED {edv}");
    use std::io::Write;
    std::io::stdout().flush().unwrap();
    std::thread::sleep(Duration::from_secs(120));
}

#[test]
fn edit_survives_sigkill() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "sigkill_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SYSTOLE_SIGKILL_DIR", dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut edv = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        // libtest may print "test sigkill_child ... " on the same line first.
        if let Some(v) = line.split("EDITED ").nth(1) {
            edv = Some(v.trim().parse::<f64>().unwrap());
            // SIGKILL at once: no destructor, no exit handler runs.
            child.kill().unwrap();
            break;
        }
    }
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(9),
        "the child was killed, not finished"
    );
    let edv = edv.expect("the child reported its edit");
    let study = phantom(&PhantomConfig::default()).study;
    let s = session::read(&dir.path().join("systole-session.json"), &study).unwrap();
    assert!(
        s.contours.iter().any(|(_, c)| c.source == Source::Manual),
        "the manual contour is on disk"
    );
    let labels = s.contours.to_labels();
    let voxel_ml = study.cine.geometry.voxel_volume_ml().unwrap();
    let m = Engine::new(&labels, voxel_ml).measures(&Context::of(&study, BsaFormula::Mosteller));
    assert!(
        (m.lv.edv_ml.unwrap() - edv).abs() < 1e-9,
        "measures from the saved session {:?} equal what was on screen {edv}",
        m.lv.edv_ml
    );
}

#[test]
fn file_export_writes_labels_contours_and_the_report_with_the_reviewer() {
    let mut h = harness();
    ready_to_nudge(&mut h);
    h.state_mut().doc.review.session.reviewer = "Dr Export Test".into();
    h.state_mut().doc.review.session.conclusion = "Exported from the viewer.".into();
    let dir = tempfile::tempdir().unwrap();
    let app = h.state();
    for kind in [
        Export::LabelsNifti,
        Export::ContoursCsv,
        Export::ContoursJson,
        Export::ReportPdf,
    ] {
        let path = dir.path().join(kind.default_name().0);
        app.export(kind, &path)
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    }
    let set = app.doc.review.contours.as_ref().unwrap();
    let vertices: usize = set.iter().map(|(_, c)| c.points.len()).sum();
    let csv = std::fs::read_to_string(dir.path().join("contours.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        vertices + 1,
        "a header and one row per vertex"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("contours.json")).unwrap()).unwrap();
    assert_eq!(json["contours"].as_array().unwrap().len(), set.len());
    let nii = std::fs::read(dir.path().join("labels.nii.gz")).unwrap();
    assert_eq!(&nii[..2], &[0x1f, 0x8b], "gzip-compressed NIfTI");
    let pdf = dir.path().join("report.pdf");
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    let text = pdf_text(&pdf);
    assert!(
        text.contains("Dr Export Test") && text.contains("Exported from the viewer."),
        "{text}"
    );
    let edv = app.doc.review.measures.as_ref().unwrap().lv.edv_ml.unwrap();
    assert!(
        text.contains(&format!("{edv:.1}")),
        "the report shows the viewer's LVEDV {edv:.1}"
    );
}

#[test]
fn rapid_key_presses_are_all_counted() {
    let mut h = harness();
    h.run_steps(2);
    let v0 = h.state().doc.views.sax.clone().unwrap();
    let d = opened(h.state()).cine.dims();
    assert!(v0.slice >= 3 && d.phases > 5);
    // Three Up and five Right presses arrive within one frame.
    for _ in 0..3 {
        h.key_press(egui::Key::ArrowUp);
    }
    for _ in 0..5 {
        h.key_press(egui::Key::ArrowRight);
    }
    h.run_steps(2);
    let v = h.state().doc.views.sax.clone().unwrap();
    assert_eq!((v.slice, v.phase), (v0.slice - 3, v0.phase + 5));
}

#[test]
fn impossible_values_are_shown_as_a_problem_not_as_a_measurement() {
    let mut h = harness();
    h.run_steps(2);
    h.key_press(egui::Key::S);
    h.run_steps(2);
    wait_for(&mut h, "segmentation", |a| a.segmenting.is_none());
    let m = h.state().doc.review.measures.clone().unwrap();
    let (ed, es) = (m.ed_phase.unwrap(), m.es_phase.unwrap());
    assert!(h.query_by_label("IMPOSSIBLE").is_none());
    // The reader swaps ED and ES by mistake: ESV > EDV.
    h.state_mut().doc.review.key_override = systole::study::KeyPhases {
        ed: Some(es),
        es: Some(ed),
    };
    h.state_mut()
        .commands
        .push(systole::app::Command::OverridesChanged);
    h.run_steps(3);
    let m = h.state().doc.review.measures.clone().unwrap();
    assert!(m.lv.sv_ml.unwrap() < 0.0);
    assert!(
        h.query_all_by_label("IMPOSSIBLE").count() >= 2,
        "LV SV and EF are marked"
    );
    // The reason is spelled out (the RV's stroke volume turns negative too).
    h.get_by_label_contains("LV stroke volume");
    assert!(h.query_all_by_label_contains("is negative").count() >= 1);
    assert!(
        !m.flags
            .iter()
            .any(|f| f.measure.starts_with("lv_sv") || f.measure == "lv_ef_pct"),
        "no reference-range rating of an impossible value"
    );
}

// The viewer gives the numbers of the command line. On real studies, Segment (S) is
// pressed at several images; afterwards every phase has its contours, the labels equal
// those of the library path `systole segment` takes, and the panel's measures equal
// `systole measure --json` on the session the viewer saved. While the network runs the
// panel says its values are provisional.

/// What the command line has: the labels it measures (the library's one segmentation
/// path, then the automatic contours rasterised) and the network's confidence per image
/// (phase-major), as `systole segment` writes them to qc.json.
struct Cli {
    labels: systole::study::LabelStack,
    confidence: Vec<Option<f64>>,
}

fn cli_labels(study: &Path) -> Cli {
    let l = load_study(study, &LoadOptions::default()).unwrap();
    let seg = Segmenter::builtin().unwrap();
    let phases: Vec<usize> = (0..l.study.cine.dims().phases).collect();
    let raw = systole::pipeline::segment_phases_oriented(
        &seg,
        &l.study.cine,
        &phases,
        None,
        &SegmentOptions::default(),
        &mut |_| {},
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    let confidence = systole::qc::segmentation_images(&raw, &l.study.cine.geometry, &phases)
        .iter()
        .map(|i| i.confidence)
        .collect();
    Cli {
        labels: systole::pipeline::auto_contours(&raw.labels).1,
        confidence,
    }
}

/// Presses S at (slice, phase) of `study`; checks the labels against `want` and the
/// panel against `systole measure` on the saved session.
fn segment_from(study: &Path, slice: usize, phase: usize, cli: &Cli) {
    let want = &cli.labels;
    let tmp = tempfile::tempdir().unwrap();
    let session = tmp.path().join("session.json");
    let launch = LaunchOptions {
        path: Some(study.to_path_buf()),
        slice: Some(slice),
        phase: Some(phase),
        session: Some(session.clone()),
        ..Default::default()
    };
    let mut h = harness_with(launch);
    wait_while(
        &mut h,
        "the study to load",
        |a| a.doc.current.is_some() && a.loading.is_none(),
        |_| {},
    );
    let v = h.state().doc.views.sax.clone().unwrap();
    assert_eq!((v.slice, v.phase), (slice, phase));
    h.key_press(egui::Key::S);
    h.run_steps(2);
    assert!(h.state().segmenting.is_some(), "S starts the segmentation");
    let mut saw_provisional = false;
    wait_while(
        &mut h,
        "segmentation",
        |a| a.segmenting.is_none(),
        |h| {
            saw_provisional |= h.query_by_label_contains("PROVISIONAL").is_some();
        },
    );
    assert!(
        saw_provisional,
        "the panel marks values provisional while phases are missing"
    );
    assert!(
        h.query_by_label_contains("PROVISIONAL").is_none(),
        "no longer provisional once every phase is done"
    );
    assert!(h.state_mut().flush_saves(), "the session is written");
    let app = h.state();
    let got = app.doc.review.labels.as_ref().unwrap();
    let d = got.dims();
    // Every image of every phase: what the command line has, pixel for pixel.
    for p in 0..d.phases {
        for s in 0..d.slices {
            assert_eq!(
                got.annotated(p, s),
                want.annotated(p, s),
                "annotation of slice {s} phase {p} (start {slice}, {phase})"
            );
            assert!(
                got.image(p, s) == want.image(p, s),
                "labels of slice {s} phase {p} differ (start {slice}, {phase})"
            );
        }
    }
    // The review queue's confidences are qc.json's.
    let confidence: Vec<Option<f64>> = (0..d.phases)
        .flat_map(|p| (0..d.slices).map(move |s| (p, s)))
        .map(|(p, s)| app.doc.review.status.confidence(p, s))
        .collect();
    assert_eq!(confidence, cli.confidence, "start {slice}, {phase}");
    let m = app.doc.review.measures.as_ref().unwrap();
    assert!(
        m.volumes.lv_ml.iter().all(Option::is_some),
        "every phase measured: {:?}",
        m.volumes.lv_ml
    );
    // The panel's measures, as `--measures-json` writes them, equal `systole measure`.
    let panel = tmp.path().join("panel.json");
    app.write_measures_json(&panel).unwrap();
    assert!(session.exists(), "the viewer saved its session");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_systole"))
        .args([
            "measure",
            study.to_str().unwrap(),
            "--session",
            session.to_str().unwrap(),
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let viewer: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&panel).unwrap()).unwrap();
    assert_eq!(
        viewer, cli,
        "viewer and `systole measure` disagree (start {slice}, {phase})"
    );
}

#[test]
fn scd0000101_from_several_start_images_matches_the_command_line() {
    let study = common::shared_data().join("sunnybrook/SCD0000101");
    let want = cli_labels(&study);
    // The starts of the bug report: slice 7 phase 1 and slice 6 phase 19 (1-based).
    for (slice, phase) in [(6, 0), (5, 18)] {
        segment_from(&study, slice, phase, &want);
    }
}

#[test]
fn scd0000201_from_the_reported_start_matches_the_command_line() {
    let study = common::shared_data().join("sunnybrook/SCD0000201");
    let want = cli_labels(&study);
    segment_from(&study, 7, 6, &want);
}

#[test]
fn expert_contours_stay_a_layer_of_their_own_after_segmenting() {
    let study = common::shared_data().join("acdc/training/patient001");
    let tmp = tempfile::tempdir().unwrap();
    let launch = LaunchOptions {
        path: Some(study.clone()),
        session: Some(tmp.path().join("s.json")),
        ..Default::default()
    };
    let mut h = harness_with(launch);
    wait_while(
        &mut h,
        "the study to load",
        |a| a.doc.current.is_some() && a.loading.is_none(),
        |_| {},
    );
    assert!(
        h.query_by_label_contains("Expert contours").is_none(),
        "the expert's contours are what is shown before segmenting"
    );
    h.key_press(egui::Key::S);
    h.run_steps(2);
    wait_while(&mut h, "segmentation", |a| a.segmenting.is_none(), |_| {});
    // The expert's labels are untouched, and the toggle shows them over ours.
    let reference = load_study(&study, &LoadOptions::default())
        .unwrap()
        .study
        .reference_labels
        .unwrap();
    assert!(opened(h.state()).study.reference_labels.as_ref() == Some(&reference));
    assert!(!h.state().doc.views.sax.as_ref().unwrap().show_reference);
    h.get_by_label("Expert contours (white)").click();
    h.run_steps(2);
    assert!(h.state().doc.views.sax.as_ref().unwrap().show_reference);
    assert!(
        h.state().reference_outlines().iter().any(|s| !s.is_empty()),
        "the expert drew this image"
    );
    // The comparison on screen: Dice of the LV worked out here from the two label maps.
    let app = h.state();
    let (ours, phase) = (
        app.doc.review.labels.clone().unwrap(),
        app.doc.views.sax.as_ref().unwrap().phase,
    );
    let d = ours.dims();
    let (mut a, mut b, mut both) = (0usize, 0usize, 0usize);
    for s in 0..d.slices {
        for (&x, &y) in ours.image(phase, s).iter().zip(reference.image(phase, s)) {
            a += (x == 1) as usize;
            b += (y == 1) as usize;
            both += (x == 1 && y == 1) as usize;
        }
    }
    let dice = 2.0 * both as f64 / (a + b) as f64;
    assert!(dice > 0.85, "{dice}");
    h.get_by_label_contains("Compared with the expert").click();
    h.run_steps(2);
    h.get_by_label_contains(&format!("Dice  LV {dice:.3}"));
}

#[test]
fn a_dicom_stack_is_listed_base_to_apex_and_down_moves_towards_the_apex() {
    // Sunnybrook stores its stacks apex first: each next slice lies further to the
    // patient's right, posterior and superior, away from where the LV apex points (left,
    // anterior, inferior). (Checked by hand on SCD0000201's segmentation: the RV, which
    // stops short of the apex, is absent from its five lowest slices while the LV goes on.)
    // Here the slice positions are read straight from the files with dicom-object.
    let study = common::shared_data().join("sunnybrook/SCD0000101");
    let position = |n: u32| -> [f64; 3] {
        let obj = dicom_object::OpenFileOptions::new()
            .read_until(dicom_dictionary_std::tags::PIXEL_DATA)
            .open_file(study.join(format!("dicom/{n}.dcm")))
            .unwrap();
        let v = obj
            .element(dicom_dictionary_std::tags::IMAGE_POSITION_PATIENT)
            .unwrap()
            .to_multi_float64()
            .unwrap();
        [v[0], v[1], v[2]]
    };
    // The loader's first slice holds instances 221-240, its last 1-20 (`info --json`).
    let (first, last) = (position(221), position(1));
    let towards_apex = (last[0] - first[0]) - (last[1] - first[1]) - (last[2] - first[2]);
    assert!(
        towards_apex < 0.0,
        "the stack runs from the apex to the base"
    );
    let tmp = tempfile::tempdir().unwrap();
    let launch = LaunchOptions {
        path: Some(study.clone()),
        slice: Some(5),
        session: Some(tmp.path().join("s.json")),
        ..Default::default()
    };
    let mut h = harness_with(launch);
    wait_for(&mut h, "the study to load", |a| {
        a.doc.current.is_some() && a.loading.is_none()
    });
    let d = opened(h.state()).cine.dims();
    let order = h
        .state()
        .doc
        .views
        .sax
        .as_ref()
        .unwrap()
        .slice_order
        .clone();
    assert_eq!(
        order,
        (0..d.slices).rev().collect::<Vec<_>>(),
        "listed base (last slice) to apex (first)"
    );
    h.get_by_label("listed base to apex");
    h.key_press(egui::Key::ArrowDown);
    h.run_steps(2);
    assert_eq!(
        h.state().doc.views.sax.as_ref().unwrap().slice,
        4,
        "Down: one slice towards the apex"
    );
}

#[test]
fn when_no_system_dialog_answers_the_path_field_opens_and_exports() {
    use systole::app::dialogs::{Pending, Purpose};
    let mut h = harness();
    h.run_steps(2);
    // What rfd does on a machine without an xdg portal or zenity: the dialog's thread
    // answers "nothing chosen" at once.
    let answer_at_once = |purpose| {
        let (tx, rx) = std::sync::mpsc::channel();
        tx.send(None).unwrap();
        Pending {
            purpose,
            rx,
            started: Instant::now(),
            fallback: String::new(),
        }
    };
    h.state_mut().dialog = Some(answer_at_once(Purpose::Export(Export::ReportPdf)));
    h.run_steps(3);
    h.get_by_label_contains("No system file dialog answered");
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("from the path field.pdf");
    h.state_mut().path_prompt.as_mut().unwrap().text = pdf.display().to_string();
    h.run_steps(1);
    h.get_by_label("Export").click();
    h.run_steps(3);
    assert!(h.state().path_prompt.is_none());
    assert!(pdf.is_file(), "no report at {}", pdf.display());
    let notice = h.state().notice.clone().unwrap_or_default();
    assert!(notice.contains(&pdf.display().to_string()), "{notice}");
    h.get_by_label_contains("Exported");
    // The next export is offered in that folder, named after the study.
    assert_eq!(h.state().last_export_dir.as_deref(), Some(dir.path()));
    // Opening a study the same way.
    h.state_mut().dialog = Some(answer_at_once(Purpose::Open));
    h.run_steps(3);
    h.get_by_label_contains("No system file dialog answered");
    let study = common::shared_data().join("sunnybrook/SCD0000101");
    h.state_mut().path_prompt.as_mut().unwrap().text = study.display().to_string();
    h.run_steps(1);
    h.get_by_label("Open").click();
    wait_for(&mut h, "the study typed into the path field", |app| {
        app.doc.review.session.study_path.as_deref() == Some(study.as_path())
            && app.doc.current.is_some()
    });
    assert_eq!(opened(h.state()).cine.dims().slices, 12);
}

#[test]
fn the_long_axis_pane_plays_in_step_and_a_click_on_a_line_goes_to_that_slice() {
    use systole::app::long_axis::lax_phase;
    use systole::phantom::exam::{ExamOptions, write_exam};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("exam");
    write_exam(&PhantomConfig::default(), &dir, &ExamOptions::default()).unwrap();
    let launch = LaunchOptions {
        path: Some(dir.clone()),
        session: Some(tmp.path().join("s.json")),
        ..Default::default()
    };
    let mut h = harness_with(launch);
    wait_for(&mut h, "the exam", |app| app.doc.current.is_some());
    h.run_steps(3);
    // The pane lists the three long-axis cines; the 4-chamber one is shown first.
    h.get_by_label("4ch #200");
    h.get_by_label("2ch #202");
    h.get_by_label("lax #204");
    // The series browser marks the twelve per-slice series the stack was assembled from;
    // the repeated slice's first acquisition, left out of the stack, can be shown alone.
    let members = h.query_all_by_label_contains("+ SAX   1 x 25").count();
    assert_eq!(members, 12);
    assert_eq!(h.query_all_by_label_contains("  SAX   1 x 25").count(), 1);
    let lines = {
        let cur = opened(h.state());
        assert_eq!(cur.study.long_axis.len(), 3);
        cur.study.long_axis[h.state().doc.views.lax.selected].sax_lines(&cur.cine.geometry)
    };
    assert_eq!(lines.len(), 12);
    // Click the middle of slice 3's line (0-based 2): the short-axis view goes there.
    for target in [2usize, 9] {
        let line = lines.iter().find(|l| l.slice == target).unwrap();
        let (min, scale) = h.state().doc.views.lax.map.unwrap();
        let mid = [
            0.5 * (line.from[0] + line.to[0]),
            0.5 * (line.from[1] + line.to[1]),
        ];
        let at = egui::Pos2::new(
            min.x + (mid[0] as f32 + 0.5) * scale,
            min.y + (mid[1] as f32 + 0.5) * scale,
        );
        h.event(egui::Event::PointerMoved(at));
        h.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Primary,
            pressed: true,
            modifiers: egui::Modifiers::NONE,
        });
        h.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Primary,
            pressed: false,
            modifiers: egui::Modifiers::NONE,
        });
        h.run_steps(3);
        assert_eq!(h.state().doc.views.sax.as_ref().unwrap().slice, target);
    }
    // In step by phase: the long-axis cine has as many phases here, so the same index.
    h.state_mut().doc.views.sax.as_mut().unwrap().phase = 7;
    h.run_steps(2);
    assert_eq!(
        h.state().doc.views.lax.shown_phase(),
        Some(lax_phase(7, 25, 25))
    );
    assert_eq!(lax_phase(7, 25, 25), 7);
    // Another view.
    h.get_by_label("2ch #202").click();
    h.run_steps(2);
    assert_eq!(h.state().doc.views.lax.selected, 1);
    // The short-axis view draws the long-axis plane: it crosses the current slice.
    let slice = h.state().doc.views.sax.as_ref().unwrap().slice;
    assert!(systole::app::long_axis::plane_on_slice(h.state(), slice).is_some());
}

#[test]
fn another_stack_is_chosen_in_the_series_browser_and_keeps_a_session_of_its_own() {
    // An exam folder holding two short-axis stacks: Sunnybrook SCD0000201 (13 positions,
    // the one the loader picks) and SCD0000101 (12 positions).
    let sb = common::shared_data().join("sunnybrook");
    let tmp = tempfile::tempdir().unwrap();
    let exam = tmp.path().join("exam");
    common::copy_dir(&sb.join("SCD0000201/dicom"), &exam.join("a"));
    common::copy_dir(&sb.join("SCD0000101/dicom"), &exam.join("b"));
    let alone = |id: &str| {
        load_study(&sb.join(id).join("dicom"), &LoadOptions::default())
            .unwrap()
            .study
    };
    let (big, small) = (alone("SCD0000201"), alone("SCD0000101"));
    let uid_of = |s: &systole::study::Study| s.series[s.chosen_series].uid.clone();
    // Asking for the stack the loader would pick anyway is no alternative stack.
    for (want, alternative) in [(uid_of(&big), None), (uid_of(&small), Some(uid_of(&small)))] {
        let options = LoadOptions {
            series: Some(want),
            ..LoadOptions::default()
        };
        let s = load_study(&exam, &options).unwrap().study;
        assert_eq!(s.alternative_stack().map(str::to_string), alternative);
    }
    let launch = LaunchOptions {
        path: Some(exam.clone()),
        ..Default::default()
    };
    let mut h = harness_with(launch);
    let showing = |uid: String| {
        move |a: &App| {
            a.loading.is_none()
                && a.doc
                    .current
                    .as_ref()
                    .is_some_and(|c| c.study.series[c.study.chosen_series].uid == uid)
        }
    };
    wait_for(&mut h, "the exam", showing(uid_of(&big)));
    assert!(h.state().error.is_none(), "{:?}", h.state().error);
    // The default stack gets a session (a height typed in).
    let set_height = |h: &mut Harness<'static, App>, cm: f64| {
        h.state_mut().doc.review.height_cm = Some(cm);
        h.state_mut()
            .commands
            .push(systole::app::Command::OverridesChanged);
        h.run_steps(2);
        assert!(h.state_mut().flush_saves());
    };
    set_height(&mut h, 175.0);
    let default_session = exam.join("systole-session.json");
    assert!(default_session.is_file());
    // The browser lists both; the one not on show is a link.
    h.get_by_label_contains("> SAX  13 x 20");
    h.get_by_label_contains("  SAX  12 x 20").click();
    wait_for(&mut h, "the other stack", showing(uid_of(&small)));
    {
        let cur = opened(h.state());
        assert_eq!(cur.cine.dims(), small.cine.dims());
        for p in 0..small.cine.dims().phases {
            for s in 0..small.cine.dims().slices {
                assert_eq!(
                    cur.cine.image(p, s),
                    small.cine.image(p, s),
                    "phase {p} slice {s}"
                );
            }
        }
        assert_eq!(cur.study.alternative_stack(), Some(uid_of(&small).as_str()));
    }
    // Nothing of the first stack's review survives the switch, and its session is
    // neither read (it is another study's) nor blocks saving.
    assert_eq!(h.state().doc.review.height_cm, None);
    assert!(h.state().doc.review.session.blocked.is_none());
    assert!(h.state().error.is_none(), "{:?}", h.state().error);
    // Contours (an LV disc whose radius follows the cycle, in slices 3-8) and a height
    // for this stack are saved in a file of its own.
    let d = small.cine.dims();
    let mut labels = systole::study::LabelStack::empty(d);
    for p in 0..d.phases {
        let r = 18.0 - 7.0 * (std::f64::consts::PI * p as f64 / d.phases as f64).sin();
        for s in 3..9 {
            let img = labels.image_mut(p, s).unwrap();
            for (i, v) in img.iter_mut().enumerate() {
                let (y, x) = ((i / d.columns) as f64, (i % d.columns) as f64);
                if (x - 128.0).hypot(y - 120.0) < r {
                    *v = 1;
                }
            }
            let lv = systole::study::Structures::NONE.with(systole::study::Label::LvBloodPool);
            labels.set_annotated(p, s, lv);
        }
    }
    h.state_mut()
        .set_contours(ContourSet::from_labels(&labels, Source::Manual));
    set_height(&mut h, 181.0);
    let own = session::default_path(&exam, Some(&uid_of(&small)));
    assert!(own.is_file(), "no session at {}", own.display());
    // `systole measure` on that stack finds the same session and measures what the panel
    // shows.
    let panel = tmp.path().join("panel.json");
    h.state().write_measures_json(&panel).unwrap();
    let small_uid = uid_of(&small);
    let cli = common::systole_json([
        "measure",
        exam.to_str().unwrap(),
        "--series",
        &small_uid,
        "--json",
    ]);
    let viewer: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&panel).unwrap()).unwrap();
    assert!(viewer["lv_edv_ml"].as_f64().unwrap() > 1.0, "{viewer}");
    assert_eq!(
        viewer, cli,
        "viewer and `systole measure --series` disagree"
    );
    let first = session::read(&default_session, &big).unwrap();
    assert_eq!(first.overrides.height_cm, Some(175.0));
    // Back to the default stack: its own session.
    h.state_mut()
        .commands
        .push(systole::app::Command::Open(exam.clone()));
    wait_for(&mut h, "the default stack again", showing(uid_of(&big)));
    assert_eq!(h.state().doc.review.height_cm, Some(175.0));
    assert!(h.state().doc.review.session.blocked.is_none());
    // And the chosen stack again: its session comes back.
    h.state_mut()
        .commands
        .push(systole::app::Command::OpenSeries(uid_of(&small)));
    wait_for(&mut h, "the chosen stack again", showing(uid_of(&small)));
    assert_eq!(h.state().doc.review.height_cm, Some(181.0));
    assert!(h.state().doc.review.session.blocked.is_none());
    assert_eq!(
        h.state().doc.review.session.saved_to.as_deref(),
        Some(own.as_path())
    );
    // `systole EXAM --series UID` opens the same stack with the same session.
    let launch = LaunchOptions {
        path: Some(exam.clone()),
        series: Some(small_uid.clone()),
        ..Default::default()
    };
    let mut h2 = harness_with(launch);
    wait_for(&mut h2, "the stack asked for", showing(uid_of(&small)));
    assert_eq!(h2.state().doc.review.height_cm, Some(181.0));
    assert_eq!(
        h2.state().doc.review.contours,
        h.state().doc.review.contours
    );
}
