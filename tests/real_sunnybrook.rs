//! The two Sunnybrook patients (real GE DICOM cine with expert LV contours).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use dicom_dictionary_std::tags;
use dicom_object::OpenFileOptions;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use systole::io::{LoadOptions, load_study};
use systole::study::Label;

/// Slice count, phase count, slice spacing and pixel spacing read straight from the
/// headers with dicom-object, independently of Systole's loader.
fn independent_grid(dir: &Path) -> (usize, usize, f64, [f64; 2]) {
    let mut dist = Vec::new();
    let mut spacing = [0.0; 2];
    let mut files = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let obj = OpenFileOptions::new()
            .read_until(tags::PIXEL_DATA)
            .open_file(e.unwrap().path())
            .unwrap();
        let f = |t| obj.element(t).unwrap().to_multi_float64().unwrap();
        let (p, o) = (
            f(tags::IMAGE_POSITION_PATIENT),
            f(tags::IMAGE_ORIENTATION_PATIENT),
        );
        let n = [
            o[1] * o[5] - o[2] * o[4],
            o[2] * o[3] - o[0] * o[5],
            o[0] * o[4] - o[1] * o[3],
        ];
        dist.push(p[0] * n[0] + p[1] * n[1] + p[2] * n[2]);
        let s = f(tags::PIXEL_SPACING);
        spacing = [s[0], s[1]];
        files += 1;
    }
    let positions: BTreeSet<i64> = dist.iter().map(|d| (d * 100.0).round() as i64).collect();
    let positions: Vec<f64> = positions.into_iter().map(|d| d as f64 / 100.0).collect();
    let step = (positions[positions.len() - 1] - positions[0]) / (positions.len() - 1) as f64;
    (positions.len(), files / positions.len(), step, spacing)
}

/// Checks one patient; returns its series UID as loaded.
fn check_patient(id: &str, slices: usize, phases: usize) -> String {
    let root = common::shared_data().join("sunnybrook").join(id);
    let (s, p, step, px) = independent_grid(&root.join("dicom"));
    assert_eq!((s, p), (slices, phases), "independent count for {id}");
    assert!(
        (step - 10.0).abs() < 0.05 && (px[0] - 1.367).abs() < 0.001,
        "{step} {px:?}"
    );

    let l = load_study(&root, &LoadOptions::default()).unwrap();
    let st = &l.study;
    let d = st.cine.dims();
    assert_eq!((d.slices, d.phases, d.rows, d.columns), (s, p, 256, 256));
    let g = &st.cine.geometry;
    assert!((g.slice_spacing_mm().unwrap() - step).abs() < 0.01);
    assert!(
        (g.pixel_spacing_mm[0] - px[0]).abs() < 1e-9
            && (g.pixel_spacing_mm[1] - px[1]).abs() < 1e-9
    );
    assert!(l.report.skipped.is_empty(), "{:?}", l.report.skipped);
    // The UID is kept as written, leading-zero component and all (SCD0000101's has one,
    // which strict parsers reject).
    let one = OpenFileOptions::new()
        .read_until(tags::PIXEL_DATA)
        .open_file(root.join("dicom/1.dcm"))
        .unwrap();
    let uid = one
        .element(tags::SERIES_INSTANCE_UID)
        .unwrap()
        .to_str()
        .unwrap()
        .trim_end_matches('\0')
        .to_string();
    assert_eq!(st.info.series_instance_uid.as_deref(), Some(uid.as_str()));
    assert_eq!(st.series[st.chosen_series].uid, uid);
    // Phases are in increasing trigger time.
    let t: Vec<f64> = st
        .cine
        .trigger_times_ms()
        .into_iter()
        .map(|t| t.unwrap())
        .collect();
    assert!(t.windows(2).all(|w| w[1] > w[0]), "{t:?}");

    // Contours land on the image whose InstanceNumber their file names.
    let labels = st.reference_labels.as_ref().unwrap();
    let at: HashMap<i32, (usize, usize)> = st
        .images
        .iter()
        .map(|i| (i.instance_number.unwrap(), (i.phase, i.slice)))
        .collect();
    let mut endo_phases = BTreeSet::new();
    let mut epi_phases = BTreeSet::new();
    let mut checked = 0;
    for kind in ["i-contours", "o-contours"] {
        for e in std::fs::read_dir(root.join("contours").join(kind)).unwrap() {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let instance: i32 = name.split('-').nth(2).unwrap().parse().unwrap();
            let (ph, sl) = at[&instance];
            let pts: Vec<[f64; 2]> = std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .map(|l| {
                    let v: Vec<f64> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
                    [v[0], v[1]]
                })
                .collect();
            let area = systole::contour::area(&pts);
            let img = labels.image(ph, sl);
            let lv = img
                .iter()
                .filter(|v| **v == Label::LvBloodPool as u8)
                .count() as f64;
            let myo = img
                .iter()
                .filter(|v| **v == Label::Myocardium as u8)
                .count() as f64;
            if kind == "i-contours" {
                endo_phases.insert(ph);
                assert!(labels.annotated(ph, sl).contains(Label::LvBloodPool));
                assert!(
                    (lv - area).abs() < 0.06 * area + 10.0,
                    "{name}: {lv} pixels vs area {area}"
                );
            } else {
                epi_phases.insert(ph);
                assert!(labels.annotated(ph, sl).contains(Label::Myocardium));
                assert!(
                    (lv + myo - area).abs() < 0.06 * area + 10.0,
                    "{name}: {} pixels vs area {area}",
                    lv + myo
                );
                // Bright blood inside, darker myocardium around it (SSFP cine).
                let cine = st.cine.image(ph, sl);
                let mean = |l: Label| {
                    let v: Vec<f32> = cine
                        .iter()
                        .zip(img)
                        .filter(|(_, m)| **m == l as u8)
                        .map(|(c, _)| *c)
                        .collect();
                    v.iter().sum::<f32>() / v.len() as f32
                };
                assert!(
                    mean(Label::LvBloodPool) > 1.5 * mean(Label::Myocardium),
                    "{name}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 10);
    // Two annotated phases (ED and ES); epicardium only at one of them.
    assert_eq!(endo_phases.len(), 2, "{endo_phases:?}");
    assert_eq!(epi_phases.len(), 1);
    let ed = *epi_phases.iter().next().unwrap();
    let es = *endo_phases.iter().find(|p| **p != ed).unwrap();
    assert!(labels.count(ed, Label::LvBloodPool) > labels.count(es, Label::LvBloodPool));
    // No contour, no label: unannotated images stay background and are marked so.
    for ph in (0..d.phases).filter(|p| !endo_phases.contains(p)) {
        for sl in 0..d.slices {
            assert!(labels.annotated(ph, sl).is_empty());
            assert!(labels.image(ph, sl).iter().all(|v| *v == 0));
        }
    }
    uid
}

#[test]
fn scd0000101_loads_with_contours() {
    let uid = check_patient("SCD0000101", 12, 20);
    assert!(
        uid.split('.').any(|c| c.len() > 1 && c.starts_with('0')),
        "{uid}"
    );
}

#[test]
fn scd0000201_loads_with_contours() {
    check_patient("SCD0000201", 13, 20);
}

#[test]
fn loading_reports_progress_over_files_scanned_and_images_decoded() {
    let root = common::shared_data().join("sunnybrook/SCD0000201/dicom");
    let files = walk_count(&root);
    let progress = std::sync::Arc::new(systole::io::LoadProgress::default());
    let opts = LoadOptions {
        progress: Some(progress.clone()),
        ..LoadOptions::default()
    };
    let l = load_study(&root, &opts).unwrap();
    let images = l.study.cine.dims().images();
    let ord = std::sync::atomic::Ordering::Relaxed;
    // Every file is scanned once and every image of the cine decoded once.
    assert_eq!(progress.total.load(ord), files + images);
    assert_eq!(progress.done.load(ord), files + images);
    assert_eq!(progress.fraction(), 1.0);
}

fn walk_count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| if p.is_dir() { walk_count(&p) } else { 1 })
        .sum()
}
