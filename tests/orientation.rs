//! The network finds the heart's structures in images stored turned or mirrored
//! (pipeline::orientation): on Sunnybrook SCD0000101 (GE; its RV was nearly missed as
//! stored) and on ACDC validation patients turned by the test. Without the orientation
//! search the missed RV is an error flag in qc.json. A turned or mirrored copy of a study
//! gets exactly the contours of the study as stored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::sync::atomic::AtomicBool;
use systole::io::{LoadOptions, load_study};
use systole::measure::dice;
use systole::pipeline::{Orientation, segment_phases_oriented};
use systole::segment::{SegmentOptions, Segmenter};
use systole::study::{Label, LabelStack, Study};

fn segment_cli(study: &std::path::Path, out: &std::path::Path, extra: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_systole"))
        .arg("segment")
        .arg(study)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn scd0000101_rv_is_found_turned_and_flagged_as_stored() {
    let study = common::shared_data().join("sunnybrook/SCD0000101");
    let dir = tempfile::tempdir().unwrap();
    let (turned, stored) = (dir.path().join("turned"), dir.path().join("stored"));
    segment_cli(&study, &turned, &[]);
    let m = json(&turned.join("measures.json"));
    let (rv_edv, rv_sv, lv_sv) = (
        m["rv_edv_ml"].as_f64().unwrap(),
        m["rv_sv_ml"].as_f64().unwrap(),
        m["lv_sv_ml"].as_f64().unwrap(),
    );
    eprintln!("turned: RV EDV {rv_edv:.1} mL, RV SV {rv_sv:.1} mL, LV SV {lv_sv:.1} mL");
    // Issue 15's plausibility: RV EDV >= 50 mL, RV/LV stroke volume ratio in [0.6, 1.6].
    assert!(rv_edv >= 50.0, "RV EDV {rv_edv}");
    let ratio = rv_sv / lv_sv;
    assert!((0.6..=1.6).contains(&ratio), "RV/LV SV {ratio}");
    let qc = json(&turned.join("qc.json"));
    let errors: Vec<&serde_json::Value> = qc["study_flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");

    segment_cli(&study, &stored, &["--keep-orientation"]);
    let m = json(&stored.join("measures.json"));
    let rv_edv = m["rv_edv_ml"].as_f64().unwrap();
    eprintln!("as stored: RV EDV {rv_edv:.1} mL");
    assert!(
        rv_edv < 30.0,
        "the stored orientation no longer loses the RV: {rv_edv}"
    );
    // The failure is not shown as if it were right: an error flag in qc.json, in the
    // measures' qc_flags, and one review_order entry per image.
    let qc = json(&stored.join("qc.json"));
    assert!(
        qc["study_flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "implausible_volume"
                && f["severity"] == "error"
                && f["message"].as_str().unwrap().contains("RV")),
        "{qc}"
    );
    assert!(
        m["qc_flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "implausible_volume")
    );
    assert_eq!(qc["images"].as_array().unwrap().len(), 240);
    assert_eq!(qc["review_order"].as_array().unwrap().len(), 240);
    // Every image has the network's confidence; after the images with a QC error the
    // review order runs from the least sure to the surest.
    let confidence = |s: u64, p: u64| {
        qc["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["slice"] == s && i["phase"] == p)
            .and_then(|i| i["confidence"].as_f64())
            .unwrap()
    };
    let errors: Vec<(u64, u64)> = qc["image_flags"]
        .as_array()
        .unwrap()
        .iter()
        .chain(qc["study_flags"].as_array().unwrap())
        .filter(|f| f["severity"] == "error")
        .filter_map(|f| Some((f["slice"].as_u64()?, f["phase"].as_u64()?)))
        .collect();
    let rest: Vec<f64> = qc["review_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sp| (sp[0].as_u64().unwrap(), sp[1].as_u64().unwrap()))
        .filter(|i| !errors.contains(i))
        .map(|(s, p)| confidence(s, p))
        .collect();
    assert!(rest.iter().all(|c| (0.0..=1.0).contains(c)));
    assert!(
        rest.windows(2).all(|w| w[0] <= w[1]),
        "least sure first: {rest:?}"
    );
}

fn load(rel: &str) -> Study {
    load_study(&common::shared_data().join(rel), &LoadOptions::default())
        .unwrap()
        .study
}

fn turn_labels(o: Orientation, labels: &LabelStack, dims: systole::study::Dims) -> LabelStack {
    let d = labels.dims();
    let mut out = LabelStack::empty(dims);
    for p in 0..d.phases {
        for s in 0..d.slices {
            let img = o.apply(labels.image(p, s), d.rows, d.columns);
            out.image_mut(p, s).unwrap().copy_from_slice(&img);
            out.set_annotated(p, s, labels.annotated(p, s));
        }
    }
    out
}

/// Mean Dice per structure over `phases`.
fn dices(pred: &LabelStack, truth: &LabelStack, phases: &[usize]) -> [f64; 3] {
    let d = truth.dims();
    Label::STRUCTURES.map(|l| {
        phases
            .iter()
            .map(|&p| {
                let a: Vec<u8> = (0..d.slices)
                    .flat_map(|s| pred.image(p, s).to_vec())
                    .collect();
                let b: Vec<u8> = (0..d.slices)
                    .flat_map(|s| truth.image(p, s).to_vec())
                    .collect();
                dice(&a, &b, l as u8)
            })
            .sum::<f64>()
            / phases.len() as f64
    })
}

#[test]
fn turned_and_mirrored_acdc_patients_get_exactly_the_same_contours() {
    let seg = Segmenter::builtin().unwrap();
    let never = AtomicBool::new(false);
    // Two validation patients (never trained on), normal and abnormal RV.
    for name in ["patient062", "patient084"] {
        let study = load(&format!("acdc/training/{name}"));
        let truth = study.reference_labels.clone().unwrap();
        let d = study.cine.dims();
        // The phases the experts labelled (ED and ES).
        let phases: Vec<usize> = (0..d.phases)
            .filter(|&p| (0..d.slices).any(|s| !truth.annotated(p, s).is_empty()))
            .collect();
        assert_eq!(phases.len(), 2, "{name}");
        let run = |cine: &systole::study::CineStack| {
            segment_phases_oriented(
                &seg,
                cine,
                &phases,
                None,
                &SegmentOptions::default(),
                &mut |_| {},
                &mut |_| {},
                &never,
            )
            .map(|r| (r.labels, r.orientation))
            .unwrap()
        };
        let (base, chosen) = run(&study.cine);
        let reference = dices(&base, &truth, &phases);
        assert!(reference.iter().all(|&d| d > 0.8), "{name}: {reference:?}");
        // A small probe image to compare orientations as functions.
        let probe: Vec<u32> = (0..6).collect();
        for o in Orientation::all().into_iter().skip(1) {
            let cine = o.apply_cine(&study.cine).unwrap();
            let td = cine.dims();
            let (pred, turned_choice) = run(&cine);
            let got = dices(&pred, &turn_labels(o, &truth, td), &phases);
            eprintln!(
                "{name} {o:?}: chose {turned_choice:?}, Dice {got:?} (as stored {chosen:?}, {reference:?})"
            );
            // The same physical orientation: the turned copy's choice after the turn is
            // the stored study's choice.
            assert_eq!(
                turned_choice.apply(&o.apply(&probe, 2, 3), o.dims(2, 3).0, o.dims(2, 3).1),
                chosen.apply(&probe, 2, 3),
                "{name} {o:?}"
            );
            // Issue 15 asks at most 0.015 Dice lost per structure; the contours are the
            // stored study's, pixel for pixel.
            for &p in &phases {
                for s in 0..d.slices {
                    assert_eq!(
                        o.undo(pred.image(p, s), d.rows, d.columns),
                        base.image(p, s),
                        "{name} {o:?} phase {p} slice {s}"
                    );
                }
            }
            assert_eq!(got, reference, "{name} {o:?}");
        }
    }
}

#[test]
fn the_search_pools_probe_slices_as_if_asked_together() {
    // The staged search scores candidates on the middle slice, then pools in the others.
    let seg = Segmenter::builtin().unwrap();
    let study = load("acdc/training/patient084");
    let d = study.cine.dims();
    let (a, b) = ((0, d.slices / 2), (0, d.slices / 2 + 1));
    let together = seg.self_agreement(&study.cine, &[a, b]).unwrap();
    let pooled = seg
        .self_agreement(&study.cine, &[a])
        .unwrap()
        .pooled(&seg.self_agreement(&study.cine, &[b]).unwrap());
    for k in 0..3 {
        assert!(
            (together.soft_dice[k] - pooled.soft_dice[k]).abs() < 1e-9,
            "{together:?} {pooled:?}"
        );
        assert!((together.area_px[k] - pooled.area_px[k]).abs() < 1e-6 * together.area_px[k]);
    }
    assert!(together.mean() > 0.9, "{together:?}");
}
