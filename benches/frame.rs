//! The CPU side of a viewer frame (UI, overlay and contour geometry) on a 256 x 256 study
//! with editable contours on every image and the thumbnail matrix, while the cine plays (the phase changes every frame, so
//! the shown image and its contours are rebuilt each time). Prints the median and 95th
//! percentile frame time and the most bytes allocated in one frame, next to the study's size.
//!
//!     cargo bench --bench frame
#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used)]

use egui_kittest::Harness;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use systole::app::{App, LaunchOptions, ui};
use systole::contour::set::{ContourSet, Source};
use systole::phantom::{PhantomConfig, phantom};

/// Counts the bytes allocated (not freed) so that per-frame allocation can be reported.
struct Counting;
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn main() {
    let p = phantom(&PhantomConfig {
        rows: 256,
        columns: 256,
        pixel_mm: 1.0,
        ..Default::default()
    });
    let study_bytes = p.study.cine.data().len() * 4;
    let ctx = egui::Context::default();
    // wgpu = true: the frame records our paint callback (the GPU work is not timed here).
    let mut app = App::new(LaunchOptions::default(), true, &ctx);
    app.open_study(p.study, "phantom 256 x 256");
    // Editable contours on every image, as after segmentation (drawn as polygons).
    let labels = app.doc.review.labels.clone().unwrap();
    app.set_contours(ContourSet::from_labels(&labels, Source::Auto));
    let phases = app.doc.current.as_ref().unwrap().cine.dims().phases;
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(
            |ui, app: &mut App| {
                app.logic(ui.ctx());
                ui::show(app, ui);
            },
            app,
        );
    for _ in 0..20 {
        h.step();
    }
    let mut times = Vec::new();
    let mut most = 0;
    for i in 0..300 {
        h.state_mut().doc.views.sax.as_mut().unwrap().phase = i % phases;
        let a0 = ALLOCATED.load(Ordering::Relaxed);
        let t0 = Instant::now();
        h.step();
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
        most = most.max(ALLOCATED.load(Ordering::Relaxed) - a0);
    }
    times.sort_by(f64::total_cmp);
    println!("frame_ms_median {:.3}", times[times.len() / 2]);
    println!("frame_ms_p95 {:.3}", times[times.len() * 95 / 100]);
    println!("max_bytes_allocated_in_a_frame {most} (study intensities: {study_bytes} bytes)");
}
