//! The viewer's live-editing path: after one slice of one phase changes, every measure
//! must update in at most 2 ms for a 30-phase x 14-slice x 256 x 256 study; the rule
//! checks, recomputed after every edit too, are timed beside it.
//! Run: cargo bench --bench measures

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use systole::measure::{BsaFormula, Context, Engine};
use systole::phantom::{PhantomConfig, phantom};

fn bench_measures(c: &mut Criterion) {
    let cfg = PhantomConfig {
        phases: 30,
        slices: 14,
        rows: 256,
        columns: 256,
        pixel_mm: 1.2,
        ..Default::default()
    };
    let p = phantom(&cfg);
    let Some(labels) = p.study.reference_labels.clone() else {
        return;
    };
    let voxel_ml = p.study.cine.geometry.voxel_volume_ml().unwrap_or(1.0);
    let ctx = Context::of(&p.study, BsaFormula::Mosteller);
    let mut engine = Engine::new(&labels, voxel_ml);
    // Two versions of one slice, alternated so every iteration is a real change.
    let a = labels.image(12, 7).to_vec();
    let mut b = a.clone();
    b.iter_mut().take(4000).for_each(|v| *v = 1);
    let ann = labels.annotated(12, 7);
    let mut flip = false;
    c.bench_function("edit_one_slice_then_all_measures_30x14x256x256", |bench| {
        bench.iter(|| {
            flip = !flip;
            engine.update_slice(12, 7, if flip { &b } else { &a }, ann);
            black_box(engine.measures(&ctx))
        })
    });
    c.bench_function("all_measures_from_scratch_30x14x256x256", |bench| {
        bench.iter(|| black_box(Engine::new(&labels, voxel_ml).measures(&ctx)))
    });
    // What the viewer also does after every edit: all rule checks on all images.
    let m = engine.measures(&ctx);
    let geometry = &p.study.cine.geometry;
    c.bench_function("all_rule_checks_from_scratch_30x14x256x256", |bench| {
        bench.iter(|| black_box(systole::qc::rule_checks(&labels, geometry, &m)))
    });
    // The viewer's path: the checker updates the edited image only.
    let mut edited = labels.clone();
    let mut checker = systole::qc::Checker::new(&edited);
    c.bench_function(
        "edit_one_slice_then_all_rule_checks_30x14x256x256",
        |bench| {
            bench.iter(|| {
                flip = !flip;
                if let Some(img) = edited.image_mut(12, 7) {
                    img.copy_from_slice(if flip { &b } else { &a });
                }
                checker.update(&edited, 12, 7);
                black_box(checker.checks(&edited, geometry, &m))
            })
        },
    );
}

criterion_group!(benches, bench_measures);
criterion_main!(benches);
