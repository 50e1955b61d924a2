//! `systole eval` on real labels: identity, a known perturbation, and batch mode.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use systole::io::{LoadOptions, load_study, write_labels};
use systole::study::{Label, LabelOrder};

fn eval_json(pred: &Path, truth: &Path) -> serde_json::Value {
    common::systole_json([
        std::ffi::OsStr::new("eval"),
        "--pred".as_ref(),
        pred.as_os_str(),
        "--truth".as_ref(),
        truth.as_os_str(),
        "--json".as_ref(),
    ])
}

#[test]
fn identical_labels_score_perfectly_and_a_shift_scores_as_counted() {
    let truth = common::shared_data().join("acdc/training/patient001");
    let l = load_study(&truth, &LoadOptions::default()).unwrap();
    let labels = l.study.reference_labels.clone().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let same = dir.path().join("same.nii.gz");
    write_labels(&same, &l.study.cine, &labels, LabelOrder::Systole).unwrap();
    let v = eval_json(&same, &truth);
    let s = &v["studies"][0];
    for st in s["structures"].as_array().unwrap() {
        assert_eq!(st["mean_dice"], 1.0, "{st}");
        assert_eq!(st["mean_hausdorff_3d_mm"], 0.0, "{st}");
    }
    assert_eq!(s["clinical"]["lv_ef_pct"]["diff"], 0.0);

    // Move the LV blood pool one column right at ED: the overlap is counted here.
    let d = labels.dims();
    let mut shifted = labels.clone();
    let (mut both, mut n) = (0u64, 0u64);
    for sl in 0..d.slices {
        let src = labels.image(0, sl).to_vec();
        let img = shifted.image_mut(0, sl).unwrap();
        for r in 0..d.rows {
            for c in (1..d.columns).rev() {
                let lv = |x: u8| x == Label::LvBloodPool as u8;
                let was = lv(src[r * d.columns + c - 1]);
                let new = if was {
                    Label::LvBloodPool as u8
                } else if lv(src[r * d.columns + c]) {
                    0
                } else {
                    src[r * d.columns + c]
                };
                img[r * d.columns + c] = new;
            }
            let lv0 = src[r * d.columns] == Label::LvBloodPool as u8;
            if lv0 {
                img[r * d.columns] = 0;
            }
        }
        let lvs = |im: &[u8]| {
            im.iter()
                .map(|x| *x == Label::LvBloodPool as u8)
                .collect::<Vec<_>>()
        };
        let (a, b) = (lvs(&src), lvs(shifted.image(0, sl)));
        both += a.iter().zip(&b).filter(|(x, y)| **x && **y).count() as u64;
        n += (a.iter().filter(|x| **x).count() + b.iter().filter(|x| **x).count()) as u64;
    }
    let moved = dir.path().join("moved.nii.gz");
    write_labels(&moved, &l.study.cine, &shifted, LabelOrder::Systole).unwrap();
    let v = eval_json(&moved, &truth);
    let lv = v["studies"][0]["structures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["structure"] == "LvBloodPool")
        .unwrap()
        .clone();
    let want = 2.0 * both as f64 / n as f64;
    assert!(
        (lv["dice"][0].as_f64().unwrap() - want).abs() < 1e-12,
        "{} vs {want}",
        lv["dice"][0]
    );
    assert_eq!(lv["dice"][1], 1.0, "ES untouched");
    // A one-column shift moves the surface by at most one pixel (1.5625 mm) in-plane.
    let hd = lv["hausdorff_3d_mm"][0].as_f64().unwrap();
    assert!(hd > 0.0 && hd <= 1.5625 + 1e-9, "{hd}");
}

#[test]
fn batch_mode_matches_studies_by_name() {
    let data = common::shared_data().join("acdc/training");
    let truth = tempfile::tempdir().unwrap();
    let pred = tempfile::tempdir().unwrap();
    for id in ["patient001", "patient002", "patient003"] {
        std::os::unix::fs::symlink(data.join(id), truth.path().join(id)).unwrap();
        if id != "patient003" {
            let l = load_study(&data.join(id), &LoadOptions::default()).unwrap();
            let labels = l.study.reference_labels.as_ref().unwrap();
            write_labels(
                &pred.path().join(format!("{id}.nii.gz")),
                &l.study.cine,
                labels,
                LabelOrder::Systole,
            )
            .unwrap();
        }
    }
    let v = eval_json(pred.path(), truth.path());
    assert_eq!(v["summary"]["studies"], 2);
    assert_eq!(v["missing_predictions"], serde_json::json!(["patient003"]));
    let c = &v["summary"]["clinical"]["lv_edv_ml"];
    assert_eq!(
        (c["n"].as_u64(), c["bias"].as_f64(), c["sd"].as_f64()),
        (Some(2), Some(0.0), Some(0.0))
    );
    assert_eq!(v["summary"]["structures"]["Myocardium"]["dice"], 1.0);
}
