//! The viewer driven as a user would, with egui_kittest: open the phantom, step slices and
//! phases with the keys, segment (the network runs in its background job), see the
//! measures, override ED. Without wgpu the slice is drawn through the CPU fallback, so
//! these tests need no GPU.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::time::{Duration, Instant};
use systole::app::{App, LabelSource, LaunchOptions, ui};

fn harness() -> Harness<'static, App> {
    let ctx = egui::Context::default();
    let app = App::new(LaunchOptions::default(), false, &ctx);
    Harness::builder().with_size(egui::vec2(1400.0, 900.0)).build_ui_state(
        |ui, app: &mut App| {
            app.logic(ui.ctx());
            ui::show(app, ui);
        },
        app,
    )
}

/// Steps the UI until `done` holds (background jobs report through channels).
fn wait_for(h: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    let t0 = Instant::now();
    while !done(h.state()) {
        assert!(t0.elapsed() < Duration::from_secs(300), "timed out waiting for {what}");
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    h.run_steps(2);
}

#[test]
fn opens_the_phantom_and_navigates_with_the_keys() {
    let mut h = harness();
    h.run_steps(2);
    let d = h.state().current.as_ref().unwrap().cine.dims();
    assert!(h.state().current.as_ref().unwrap().name.contains("Phantom"));
    let v0 = h.state().view.clone().unwrap();
    assert_eq!(v0.slice, d.slices / 2);
    h.key_press(egui::Key::ArrowDown);
    h.run_steps(2);
    assert_eq!(h.state().view.as_ref().unwrap().slice, v0.slice + 1);
    h.key_press(egui::Key::ArrowUp);
    h.key_press(egui::Key::ArrowUp);
    h.run_steps(2);
    assert_eq!(h.state().view.as_ref().unwrap().slice, v0.slice - 1);
    h.key_press(egui::Key::ArrowLeft);
    h.run_steps(2);
    assert_eq!(h.state().view.as_ref().unwrap().phase, d.phases - 1, "Left from phase 1 wraps to the last phase");
    h.key_press(egui::Key::ArrowRight);
    h.key_press(egui::Key::ArrowRight);
    h.run_steps(2);
    assert_eq!(h.state().view.as_ref().unwrap().phase, 1);
    // The phantom's own labels give measures at once; the panel shows them.
    assert_eq!(h.state().label_source, Some(LabelSource::Reference));
    assert!(h.state().measures.as_ref().and_then(|m| m.lv.edv_ml).is_some());
    h.get_by_label("LV EDV");
    // Help lists the shortcuts.
    h.key_press(egui::Key::F1);
    h.run_steps(2);
    h.get_by_label("play / pause the cine");
}

#[test]
fn segmenting_fills_the_measures_and_ed_can_be_overridden() {
    let mut h = harness();
    h.run_steps(2);
    h.get_by_label("Segment (S)").click();
    h.run_steps(2);
    assert!(h.state().segmenting.is_some(), "segmentation runs in the background");
    wait_for(&mut h, "segmentation", |a| a.segmenting.is_none());
    let app = h.state();
    assert_eq!(app.label_source, Some(LabelSource::Automatic), "{:?}", app.error);
    let labels = app.labels.as_ref().unwrap();
    let d = labels.dims();
    assert!((0..d.phases).all(|p| (0..d.slices).all(|s| !labels.annotated(p, s).is_empty())), "every image segmented");
    let m = app.measures.clone().unwrap();
    let (edv, ef) = (m.lv.edv_ml.unwrap(), m.lv.ef_pct.unwrap());
    assert!(edv > 0.0 && (0.0..100.0).contains(&ef));
    // Override ED through the panel's ED selector: the measures follow at once.
    let auto_ed = m.ed_phase.unwrap();
    let other = if auto_ed == 2 { 3 } else { 2 };
    h.get_by_label("ED phase").click();
    h.run_steps(2);
    h.get_by_label(&format!("phase {}", other + 1)).click();
    h.run_steps(2);
    let m2 = h.state().measures.clone().unwrap();
    assert_eq!(m2.ed_phase, Some(other));
    assert_ne!(m2.lv.edv_ml, m.lv.edv_ml);
}
