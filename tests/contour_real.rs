//! Mask -> contour -> mask on real expert labels (ACDC): the editable contours Systole makes
//! from label maps must give the labels back (pooled IoU >= 0.98 per structure).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use systole::contour::set::{ContourSet, Source};
use systole::io::{LoadOptions, load_study};

#[test]
fn acdc_labels_survive_the_round_trip_through_contours() {
    let root = common::shared_data().join("acdc/training");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 80,
        "expected the 80 ACDC patients in {}",
        root.display()
    );
    // Every second patient: all five groups, 40 patients, 80 labelled volumes.
    let (mut inter, mut union) = ([0u64; 4], [0u64; 4]);
    let mut worst = (1.0f64, String::new());
    let mut vertices = Vec::new();
    for dir in dirs.iter().step_by(2) {
        let study = load_study(dir, &LoadOptions::default()).unwrap().study;
        let truth = study.reference_labels.expect("ACDC has reference labels");
        let set = ContourSet::from_labels(&truth, Source::Auto);
        vertices.extend(set.iter().map(|(_, c)| c.points.len()));
        let back = set.to_labels();
        let d = truth.dims();
        for p in 0..d.phases {
            for s in 0..d.slices {
                if truth.annotated(p, s).is_empty() {
                    assert!(back.annotated(p, s).is_empty());
                    continue;
                }
                let (a, b) = (truth.image(p, s), back.image(p, s));
                for l in 1..=3u8 {
                    let i = a
                        .iter()
                        .zip(b)
                        .filter(|(x, y)| **x == l && **y == l)
                        .count() as u64;
                    let u = a
                        .iter()
                        .zip(b)
                        .filter(|(x, y)| **x == l || **y == l)
                        .count() as u64;
                    inter[l as usize] += i;
                    union[l as usize] += u;
                    if u >= 200 && (i as f64 / u as f64) < worst.0 {
                        worst = (
                            i as f64 / u as f64,
                            format!("{} phase {p} slice {s} label {l}", dir.display()),
                        );
                    }
                }
            }
        }
    }
    let iou: Vec<f64> = (1..4).map(|l| inter[l] as f64 / union[l] as f64).collect();
    vertices.sort_unstable();
    let median_vertices = vertices[vertices.len() / 2];
    println!(
        "pooled IoU LV {:.5} myocardium {:.5} RV {:.5}; worst image (>= 200 px) {:.3} at {}; median vertices {median_vertices}",
        iou[0], iou[1], iou[2], worst.0, worst.1
    );
    for (name, v) in ["LV", "myocardium", "RV"].iter().zip(&iou) {
        assert!(*v >= 0.98, "{name} round-trip IoU {v:.4} < 0.98");
    }
    assert!(
        (8..=80).contains(&median_vertices),
        "median contour has {median_vertices} vertices"
    );
}
