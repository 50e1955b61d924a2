//! The segmenter on real data: ACDC validation patients (never trained on) against their
//! expert labels, Sunnybrook (another site and vendor) against its expert LV contours, and
//! the `Segmenter` API's order, progress, cancellation and heart window.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use systole::io::{LoadOptions, load_study};
use systole::measure::dice;
use systole::segment::{Progress, SegmentError, SegmentOptions, Segmenter};
use systole::study::{Label, LabelStack, Study};

fn load(rel: &str) -> Study {
    load_study(&common::shared_data().join(rel), &LoadOptions::default())
        .unwrap()
        .study
}

/// Mean 3-D Dice per structure over the phases and slices the reference annotates.
fn dice_vs_reference(study: &Study, pred: &LabelStack) -> [Option<f64>; 3] {
    let truth = study.reference_labels.as_ref().unwrap();
    let d = study.cine.dims();
    let npx = d.pixels_per_image();
    let mut out = [None; 3];
    for (k, label) in Label::STRUCTURES.into_iter().enumerate() {
        let mut scores = Vec::new();
        for p in 0..d.phases {
            let slices: Vec<usize> = (0..d.slices)
                .filter(|&s| truth.annotated(p, s).contains(label))
                .collect();
            if slices.is_empty() {
                continue;
            }
            let a: Vec<u8> = slices
                .iter()
                .flat_map(|&s| pred.image(p, s).to_vec())
                .collect();
            let b: Vec<u8> = slices
                .iter()
                .flat_map(|&s| truth.image(p, s).to_vec())
                .collect();
            assert_eq!(a.len(), slices.len() * npx);
            scores.push(dice(&a, &b, label as u8));
        }
        if !scores.is_empty() {
            out[k] = Some(scores.iter().sum::<f64>() / scores.len() as f64);
        }
    }
    out
}

/// The phases the reference annotates, all slices.
fn annotated_order(study: &Study) -> Vec<(usize, usize)> {
    let truth = study.reference_labels.as_ref().unwrap();
    let d = study.cine.dims();
    (0..d.phases)
        .filter(|&p| (0..d.slices).any(|s| !truth.annotated(p, s).is_empty()))
        .flat_map(|p| (0..d.slices).map(move |s| (p, s)))
        .collect()
}

fn segment(
    seg: &Segmenter,
    study: &Study,
    order: &[(usize, usize)],
    opts: &SegmentOptions,
) -> LabelStack {
    let mut labels = LabelStack::empty(study.cine.dims());
    seg.segment_into(
        &study.cine,
        order,
        opts,
        &mut labels,
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    labels
}

/// One validation patient per ACDC diagnostic group (training/split.json "val"), ED and ES.
#[test]
fn acdc_validation_patients_match_expert_labels() {
    let seg = Segmenter::builtin().unwrap();
    let mut all = Vec::new();
    for name in [
        "patient004",
        "patient023",
        "patient043",
        "patient062",
        "patient083",
    ] {
        let study = load(&format!("acdc/training/{name}"));
        let order = annotated_order(&study);
        let pred = segment(&seg, &study, &order, &SegmentOptions::default());
        let d = dice_vs_reference(&study, &pred);
        eprintln!("{name} ({:?}): Dice LV/Myo/RV {d:?}", study.group);
        all.push(d.map(|x| x.unwrap()));
    }
    let mean = |k: usize| all.iter().map(|d| d[k]).sum::<f64>() / all.len() as f64;
    let (lv, myo, rv) = (mean(0), mean(1), mean(2));
    eprintln!("mean Dice LV {lv:.3} Myo {myo:.3} RV {rv:.3}");
    // Bounds a little under the model card's validation figures (15 patients) for these 5.
    assert!(lv >= 0.90, "LV {lv}");
    assert!(myo >= 0.82, "Myo {myo}");
    assert!(rv >= 0.80, "RV {rv}");
    for d in &all {
        assert!(d[0] >= 0.80, "a patient's LV Dice is {}", d[0]);
    }
}

/// Sunnybrook (GE scanner, another site than ACDC's): the LV blood pool and myocardium
/// against the expert contours on the images they cover.
#[test]
fn sunnybrook_lv_matches_expert_contours() {
    let seg = Segmenter::builtin().unwrap();
    let study = load("sunnybrook/SCD0000201");
    let order = annotated_order(&study);
    let pred = segment(&seg, &study, &order, &SegmentOptions::default());
    let [lv, myo, rv] = dice_vs_reference(&study, &pred);
    eprintln!("SCD0000201: Dice LV {lv:?} Myo {myo:?}");
    assert!(rv.is_none(), "Sunnybrook has no RV contours");
    assert!(lv.unwrap() >= 0.88, "LV {lv:?}");
    assert!(myo.unwrap() >= 0.62, "Myo {myo:?}");
}

#[test]
fn heart_window_changes_almost_nothing() {
    let seg = Segmenter::builtin().unwrap();
    let study = load("acdc/training/patient047");
    let order = annotated_order(&study);
    let whole = segment(
        &seg,
        &study,
        &order,
        &SegmentOptions {
            heart_margin_px: None,
            ..Default::default()
        },
    );
    let windowed = segment(&seg, &study, &order, &SegmentOptions::default());
    for label in Label::STRUCTURES {
        let d = dice(whole.data(), windowed.data(), label as u8);
        assert!(d >= 0.98, "{label:?}: whole vs windowed Dice {d}");
    }
}

#[test]
fn order_progress_and_cancel() {
    let seg = Segmenter::builtin().unwrap();
    let study = load("acdc/training/patient009");
    let d = study.cine.dims();
    // The "current" image first, as the viewer asks.
    let mut order = vec![(1, d.slices / 2)];
    order.extend(
        (0..d.phases)
            .flat_map(|p| (0..d.slices).map(move |s| (p, s)))
            .filter(|&o| o != (1, d.slices / 2)),
    );
    let cancel = AtomicBool::new(false);
    let mut labels = LabelStack::empty(d);
    let mut seen = Vec::new();
    let opts = SegmentOptions {
        batch: 1,
        ..Default::default()
    };
    let r = seg.segment_into(
        &study.cine,
        &order,
        &opts,
        &mut labels,
        &mut |p: Progress| {
            seen.push(p);
            if p.done == 3 {
                cancel.store(true, Ordering::Relaxed);
            }
        },
        &cancel,
    );
    match r {
        Err(SegmentError::Cancelled { done: 3, total }) => assert_eq!(total, order.len()),
        other => panic!("expected cancellation after 3 images, got {other:?}"),
    }
    assert_eq!(
        seen.iter().map(|p| p.done).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    // Exactly the first three images are done, the current one among them: the images of
    // the first image's phase come first (they locate the heart), then the rest, each
    // group in the order given.
    let (mut effective, rest): (Vec<_>, Vec<_>) = order.iter().partition(|o| o.0 == 1);
    effective.extend(rest);
    for (i, &(p, s)) in effective.iter().enumerate() {
        assert_eq!(
            !labels.annotated(p, s).is_empty(),
            i < 3,
            "image {i} ({p}, {s})"
        );
    }
    assert!(
        labels
            .image(1, d.slices / 2)
            .contains(&(Label::LvBloodPool as u8))
    );
    // Bad requests are errors, not panics.
    let bad = seg.segment_into(
        &study.cine,
        &[(d.phases, 0)],
        &opts,
        &mut labels,
        &mut |_| {},
        &AtomicBool::new(false),
    );
    assert!(matches!(bad, Err(SegmentError::OutOfRange { .. })));
    // The shipped network works at a fixed pixel size: a cine without a usable pixel
    // spacing is an error that says so, and nothing is written.
    assert_eq!(seg.net().pixel_mm(), Some(1.25));
    let mut cine = study.cine.clone();
    for sp in [[f64::NAN, 1.5], [0.0, 0.0], [1.5, -1.0]] {
        cine.geometry.pixel_spacing_mm = sp;
        let mut fresh = LabelStack::empty(d);
        let e = seg.segment_into(
            &cine,
            &[(0, 0)],
            &opts,
            &mut fresh,
            &mut |_| {},
            &AtomicBool::new(false),
        );
        match e {
            Err(e @ SegmentError::Spacing(..)) => assert!(e.to_string().contains("1.25 mm"), "{e}"),
            other => panic!("expected a spacing error for {sp:?}, got {other:?}"),
        }
        assert!(fresh.annotated(0, 0).is_empty());
    }
}
