//! All 80 ACDC training patients: grid, spacing and label remapping, checked against the
//! NIfTI headers and voxels read here independently of Systole's reader.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;
use systole::io::{LoadOptions, load_study};
use systole::study::Label;

/// (dims x y z, pixdim x y z, raw voxel bytes) of a gzipped little-endian uint8/int16 NIfTI.
fn raw_nifti(path: &Path) -> ([usize; 3], [f64; 3], Vec<u8>, i16) {
    let mut b = Vec::new();
    GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut b)
        .unwrap();
    let i16at = |o: usize| i16::from_le_bytes([b[o], b[o + 1]]);
    let f32at = |o: usize| f32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let dims = [i16at(42) as usize, i16at(44) as usize, i16at(46) as usize];
    let pix = [f32at(80) as f64, f32at(84) as f64, f32at(88) as f64];
    let off = f32at(108) as usize;
    (dims, pix, b[off..].to_vec(), i16at(70))
}

fn cfg_value(text: &str, key: &str) -> u32 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn all_80_patients_load_with_spacing_and_remapped_labels() {
    let root = common::shared_data().join("acdc").join("training");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    assert_eq!(
        dirs.len(),
        80,
        "expected 80 ACDC patients in {}",
        root.display()
    );
    for dir in dirs {
        let id = dir.file_name().unwrap().to_string_lossy().into_owned();
        let cfg = std::fs::read_to_string(dir.join("Info.cfg")).unwrap();
        let (ed, es) = (cfg_value(&cfg, "ED"), cfg_value(&cfg, "ES"));
        let l = load_study(&dir, &LoadOptions::default()).unwrap_or_else(|e| panic!("{id}: {e}"));
        let st = &l.study;
        let d = st.cine.dims();
        assert_eq!(d.phases, 2, "{id}");
        assert_eq!(
            st.cine
                .phases
                .iter()
                .map(|p| p.source_frame.unwrap())
                .collect::<Vec<_>>(),
            vec![ed, es],
            "{id}"
        );
        assert_eq!(
            (st.key_phases.ed, st.key_phases.es),
            (Some(0), Some(1)),
            "{id}"
        );
        let labels = st.reference_labels.as_ref().unwrap();
        for (phase, frame) in [(0usize, ed), (1, es)] {
            let gt = dir.join(format!("{id}_frame{frame:02}_gt.nii.gz"));
            let (dims, pix, raw, dtype) = raw_nifti(&gt);
            assert_eq!(dtype, 2, "{id}: ground truth should be uint8");
            assert_eq!([d.columns, d.rows, d.slices], dims, "{id}");
            let g = &st.cine.geometry;
            assert!(
                (g.pixel_spacing_mm[0] - pix[1]).abs() < 1e-4
                    && (g.pixel_spacing_mm[1] - pix[0]).abs() < 1e-4,
                "{id}"
            );
            assert!(
                (g.slice_spacing_mm().unwrap() - pix[2]).abs() < 1e-4,
                "{id}"
            );
            // ACDC 1 RV, 2 Myo, 3 LV  ->  Systole 1 LV, 2 Myo, 3 RV, voxel for voxel.
            let n = dims.iter().product::<usize>();
            let mine = &labels.data()[phase * n..(phase + 1) * n];
            for (i, (&a, &m)) in raw[..n].iter().zip(mine).enumerate() {
                let want = match a {
                    1 => 3,
                    3 => 1,
                    v => v,
                };
                assert_eq!(m, want, "{id} phase {phase} voxel {i}");
            }
            assert!(
                labels.count(phase, Label::LvBloodPool) > 0
                    && labels.count(phase, Label::RvBloodPool) > 0,
                "{id}"
            );
        }
    }
}

#[test]
fn patient001_end_diastolic_lv_blood_pool_is_295_5_ml() {
    let dir = common::shared_data().join("acdc/training/patient001");
    let l = load_study(&dir, &LoadOptions::default()).unwrap();
    let labels = l.study.reference_labels.as_ref().unwrap();
    let ed = l.study.key_phases.ed.unwrap();
    let voxel_ml = l.study.cine.geometry.voxel_volume_ml().unwrap();
    let ml = |lab| labels.count(ed, lab) as f64 * voxel_ml;
    // Reference values from the shared data README (voxel counting).
    assert!(
        (ml(Label::LvBloodPool) - 295.5).abs() < 0.05,
        "{}",
        ml(Label::LvBloodPool)
    );
    assert!((ml(Label::RvBloodPool) - 139.7).abs() < 0.05);
    assert!((ml(Label::Myocardium) - 164.3).abs() < 0.05);
    assert_eq!(l.study.patient.height_cm, Some(184.0));
    assert_eq!(l.study.group.as_deref(), Some("DCM"));
}
