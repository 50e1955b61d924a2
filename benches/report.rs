//! Writing the PDF report of a segmented study (goal: at most 1 s): Sunnybrook SCD0000101,
//! 12 slices x 20 phases, segmented once by the built-in network before timing; the timed
//! part builds the report model (crops, contours, table) and renders the PDF.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use systole::contour::set::{ContourSet, Source};
use systole::io::{LoadOptions, load_study};
use systole::measure::{BsaFormula, Context, Engine};
use systole::report::{self, ReportOptions};
use systole::segment::{SegmentOptions, Segmenter};
use systole::study::LabelStack;

fn data() -> PathBuf {
    let root = std::env::var_os("SYSTOLE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    let p = root.join("sunnybrook/SCD0000101");
    assert!(p.exists(), "the benchmark needs {}", p.display());
    p
}

fn bench(c: &mut Criterion) {
    let study = load_study(&data(), &LoadOptions::default()).unwrap().study;
    let d = study.cine.dims();
    let seg = Segmenter::builtin().unwrap();
    let order: Vec<(usize, usize)> = (0..d.phases)
        .flat_map(|p| (0..d.slices).map(move |s| (p, s)))
        .collect();
    let mut raw = LabelStack::empty(d);
    seg.segment_into(
        &study.cine,
        &order,
        &SegmentOptions::default(),
        &mut raw,
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    let contours = ContourSet::from_labels(&raw, Source::Auto);
    let labels = contours.to_labels();
    let m = Engine::new(&labels, study.cine.geometry.voxel_volume_ml().unwrap())
        .measures(&Context::of(&study, BsaFormula::Mosteller));
    let options = ReportOptions {
        model: report::builtin_model_name(),
        generated_secs: report::now_secs(),
        reviewer: Some("Dr Bench".into()),
        ..ReportOptions::default()
    };
    let out = std::env::temp_dir().join(format!("systole-bench-report-{}.pdf", std::process::id()));
    c.bench_function("report_scd0000101_build_render_write", |b| {
        b.iter(|| {
            let model = report::build(&study, &labels, Some(&contours), &m, &options).unwrap();
            let bytes = report::pdf::render(&model).unwrap();
            systole::io::write_atomic(&out, &bytes).unwrap();
        })
    });
    let _ = std::fs::remove_file(&out);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
