//! Image snapshots of the viewer rendered through wgpu on Mesa's lavapipe (software
//! Vulkan; `.ci/run` installs it): our own WGSL slice shader draws the image (window/level,
//! sampling, label overlay) and egui draws the panels and contours. The reference PNGs are
//! in tests/snapshots/; `UPDATE_SNAPSHOTS=1` rewrites them (look at them before committing).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use egui_kittest::wgpu::{WgpuTestRenderer, create_render_state, default_wgpu_setup};
use systole::app::{App, LaunchOptions, render, ui};
use systole::contour::Structure;
use systole::contour::set::{ContourSet, Source};

/// The viewer on the built-in phantom, with our slice pipeline installed in the renderer.
fn harness() -> Harness<'static, App> {
    let mut h = harness_with(LaunchOptions::default(), egui::vec2(1000.0, 640.0));
    h.run_steps(3);
    h
}

/// The viewer launched with `launch` in a window of `size`, through our slice pipeline.
fn harness_with(launch: LaunchOptions, size: egui::Vec2) -> Harness<'static, App> {
    let rs = create_render_state(
        default_wgpu_setup(),
        egui_wgpu::RendererOptions::PREDICTABLE,
    );
    render::install(&rs);
    let ctx = egui::Context::default();
    let app = App::new(launch, true, &ctx);
    Harness::builder()
        .with_size(size)
        .renderer(WgpuTestRenderer::from_render_state(rs))
        .build_ui_state(
            |ui, app: &mut App| {
                app.logic(ui.ctx());
                ui::show(app, ui);
            },
            app,
        )
}

#[test]
fn phantom_with_its_reference_contours() {
    let mut h = harness();
    h.snapshot("viewer_phantom");
}

#[test]
fn zoomed_with_nearest_sampling_and_a_narrow_window() {
    let mut h = harness();
    {
        let v = h.state_mut().doc.views.sax.as_mut().unwrap();
        v.zoom = 3.0;
        v.linear = false;
        v.window_width *= 0.5;
        v.show_labels = false;
    }
    h.run_steps(2);
    h.snapshot("viewer_zoom_nearest");
}

#[test]
fn a_hand_edited_contour_is_drawn_thicker_and_marked_in_the_matrix() {
    let mut h = harness();
    let labels = h.state().doc.review.labels.clone().unwrap();
    h.state_mut()
        .set_contours(ContourSet::from_labels(&labels, Source::Auto));
    let v = h.state().doc.views.sax.clone().unwrap();
    let key = (v.phase, v.slice, Structure::RvEndo);
    let c = h
        .state()
        .doc
        .review
        .contours
        .as_ref()
        .unwrap()
        .get(key)
        .cloned()
        .unwrap();
    let moved: Vec<[f64; 2]> = c.points.iter().map(|p| [p[0] - 3.0, p[1]]).collect();
    h.state_mut().edit_contours(vec![(
        key,
        Some(systole::contour::set::Contour {
            points: moved,
            source: Source::Manual,
        }),
    )]);
    h.get_by_label("Nudge").click();
    h.run_steps(2);
    h.snapshot("viewer_edited");
}

#[test]
fn an_exam_shows_two_long_axis_cines_with_their_own_gpu_resources() {
    // The phantom written as a whole DICOM exam: the short-axis image and both long-axis
    // panes drawn through the WGSL pipeline in one frame, each view with its own uniforms
    // and textures (one buffer would draw all three with the last view's).
    use systole::phantom::PhantomConfig;
    use systole::phantom::exam::{ExamOptions, write_exam};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("exam");
    write_exam(&PhantomConfig::default(), &dir, &ExamOptions::default()).unwrap();
    let launch = LaunchOptions {
        path: Some(dir),
        session: Some(tmp.path().join("s.json")),
        slice: Some(6),
        ..Default::default()
    };
    let mut h = harness_with(launch, egui::vec2(1300.0, 760.0));
    let t0 = std::time::Instant::now();
    while h.state().doc.current.is_none() {
        assert!(t0.elapsed().as_secs() < 300, "the exam did not load");
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    h.run_steps(4);
    assert!(h.state().doc.views.lax.map.is_some() && h.state().doc.views.lax.second_map.is_some());
    h.get_by_label("4ch #200");
    h.snapshot("viewer_exam_long_axis");
}
