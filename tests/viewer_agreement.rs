//! The viewer gives the numbers of the command line. On real studies, Segment (S) is
//! pressed at several images; afterwards every phase has its contours, the labels equal
//! those of the library path `systole segment` takes, and the panel's measures equal
//! `systole measure --json` on the session the viewer saved. While the network runs the
//! panel says its values are provisional.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};
use systole::app::{App, LaunchOptions, ui};
use systole::io::{LoadOptions, load_study};
use systole::segment::{SegmentOptions, Segmenter};

fn harness(launch: LaunchOptions) -> Harness<'static, App> {
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

fn wait_for(
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

/// The labels the command line measures: the library's one segmentation path, then the
/// automatic contours rasterised.
fn cli_labels(study: &Path) -> systole::study::LabelStack {
    let l = load_study(study, &LoadOptions::default()).unwrap();
    let seg = Segmenter::builtin().unwrap();
    let phases: Vec<usize> = (0..l.study.cine.dims().phases).collect();
    let raw = systole::pipeline::segment_phases(
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
    systole::pipeline::auto_contours(&raw).1
}

/// Presses S at (slice, phase) of `study`; checks the labels against `want` and the
/// panel against `systole measure` on the saved session.
fn segment_from(study: &Path, slice: usize, phase: usize, want: &systole::study::LabelStack) {
    let tmp = tempfile::tempdir().unwrap();
    let session = tmp.path().join("session.json");
    let launch = LaunchOptions {
        path: Some(study.to_path_buf()),
        slice: Some(slice),
        phase: Some(phase),
        session: Some(session.clone()),
        ..Default::default()
    };
    let mut h = harness(launch);
    wait_for(
        &mut h,
        "the study to load",
        |a| a.current.is_some() && a.loading.is_none(),
        |_| {},
    );
    let v = h.state().view.clone().unwrap();
    assert_eq!((v.slice, v.phase), (slice, phase));
    h.key_press(egui::Key::S);
    h.run_steps(2);
    assert!(h.state().segmenting.is_some(), "S starts the segmentation");
    let mut saw_provisional = false;
    wait_for(
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
    let app = h.state();
    let got = app.labels.as_ref().unwrap();
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
    let m = app.measures.as_ref().unwrap();
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
    let mut h = harness(launch);
    wait_for(
        &mut h,
        "the study to load",
        |a| a.current.is_some() && a.loading.is_none(),
        |_| {},
    );
    assert!(
        h.query_by_label_contains("Expert contours").is_none(),
        "the expert's contours are what is shown before segmenting"
    );
    h.key_press(egui::Key::S);
    h.run_steps(2);
    wait_for(&mut h, "segmentation", |a| a.segmenting.is_none(), |_| {});
    // The expert's labels are untouched, and the toggle shows them over ours.
    let reference = load_study(&study, &LoadOptions::default())
        .unwrap()
        .study
        .reference_labels
        .unwrap();
    assert!(
        h.state()
            .current
            .as_ref()
            .unwrap()
            .study
            .reference_labels
            .as_ref()
            == Some(&reference)
    );
    assert!(!h.state().view.as_ref().unwrap().show_reference);
    h.get_by_label("Expert contours (white)").click();
    h.run_steps(2);
    assert!(h.state().view.as_ref().unwrap().show_reference);
    assert!(
        h.state().reference_outlines().iter().any(|s| !s.is_empty()),
        "the expert drew this image"
    );
    // The comparison on screen: Dice of the LV worked out here from the two label maps.
    let app = h.state();
    let (ours, phase) = (
        app.labels.clone().unwrap(),
        app.view.as_ref().unwrap().phase,
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
