//! Measures on real data against volumes computed here independently: voxel counts read
//! straight from ACDC's NIfTI, and summation of discs over Sunnybrook's contour polygons.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;
use std::process::Command;

fn systole_json(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_systole"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (voxel volume mL, counts of values 0..=3) of an ACDC ground-truth file.
fn gt_counts(path: &Path) -> (f64, [u64; 4]) {
    let mut b = Vec::new();
    GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut b)
        .unwrap();
    let f32at = |o: usize| f32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]) as f64;
    let voxel_ml = f32at(80) * f32at(84) * f32at(88) / 1000.0;
    let mut c = [0u64; 4];
    for v in &b[f32at(108) as usize..] {
        c[*v as usize] += 1;
    }
    (voxel_ml, c)
}

fn close(a: &serde_json::Value, b: f64, what: &str) {
    let a = a.as_f64().unwrap_or_else(|| panic!("{what} is {a}"));
    assert!(
        (a - b).abs() < 1e-6 * b.abs().max(1.0),
        "{what}: {a} vs {b}"
    );
}

#[test]
fn every_acdc_patient_matches_independent_voxel_counting() {
    let root = common::shared_data().join("acdc/training");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 80);
    for dir in dirs {
        let id = dir.file_name().unwrap().to_string_lossy().into_owned();
        let cfg = std::fs::read_to_string(dir.join("Info.cfg")).unwrap();
        let field = |k: &str| -> f64 {
            cfg.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}:")))
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        };
        let (ed, es) = (field("ED") as u32, field("ES") as u32);
        let (vml, ced) = gt_counts(&dir.join(format!("{id}_frame{ed:02}_gt.nii.gz")));
        let (_, ces) = gt_counts(&dir.join(format!("{id}_frame{es:02}_gt.nii.gz")));
        // ACDC order: 1 RV, 2 myocardium, 3 LV.
        let (lv_ed, lv_es) = (ced[3] as f64 * vml, ces[3] as f64 * vml);
        let (rv_ed, rv_es) = (ced[1] as f64 * vml, ces[1] as f64 * vml);
        let mass = ced[2] as f64 * vml * 1.05;
        let bsa = (field("Height") * field("Weight") / 3600.0).sqrt();
        let m = systole_json(&["measure", dir.to_str().unwrap(), "--json"]);
        assert_eq!(
            (m["ed_phase"].as_u64(), m["es_phase"].as_u64()),
            (Some(0), Some(1)),
            "{id}"
        );
        close(&m["lv_edv_ml"], lv_ed, &format!("{id} LVEDV"));
        close(&m["lv_esv_ml"], lv_es, &format!("{id} LVESV"));
        close(&m["lv_sv_ml"], lv_ed - lv_es, &format!("{id} LVSV"));
        close(
            &m["lv_ef_pct"],
            100.0 * (lv_ed - lv_es) / lv_ed,
            &format!("{id} LVEF"),
        );
        close(&m["rv_edv_ml"], rv_ed, &format!("{id} RVEDV"));
        close(
            &m["rv_ef_pct"],
            100.0 * (rv_ed - rv_es) / rv_ed,
            &format!("{id} RVEF"),
        );
        close(&m["lv_mass_g"], mass, &format!("{id} LV mass"));
        close(&m["bsa_m2"], bsa, &format!("{id} BSA"));
        close(
            &m["lv_edv_ml_m2_index"],
            lv_ed / bsa,
            &format!("{id} LVEDVi"),
        );
        assert_eq!(m["lv_volume_ml"].as_array().unwrap().len(), 2);
        // ACDC has no heart rate: no cardiac output.
        assert!(m["lv_cardiac_output_l_min"].is_null());
    }
}

#[test]
fn sunnybrook_voxel_volumes_agree_with_summation_of_discs_over_the_contours() {
    for id in ["SCD0000101", "SCD0000201"] {
        let root = common::shared_data().join("sunnybrook").join(id);
        let info = systole_json(&["info", root.to_str().unwrap(), "--json"]);
        let m = systole_json(&["measure", root.to_str().unwrap(), "--json"]);
        let px = info["pixel_spacing_mm"][0].as_f64().unwrap()
            * info["pixel_spacing_mm"][1].as_f64().unwrap();
        let dz = info["slice_spacing_mm"].as_f64().unwrap();
        let phase_of: std::collections::HashMap<i64, u64> = info["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["instance_number"].as_i64().unwrap(),
                    i["phase"].as_u64().unwrap(),
                )
            })
            .collect();
        // Sum of i-contour areas (shoelace, pixel units) per phase.
        let mut area: std::collections::HashMap<u64, f64> = Default::default();
        for e in std::fs::read_dir(root.join("contours/i-contours")).unwrap() {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let k: i64 = name.split('-').nth(2).unwrap().parse().unwrap();
            let pts: Vec<(f64, f64)> = std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .map(|l| {
                    let mut it = l.split_whitespace().map(|x| x.parse::<f64>().unwrap());
                    (it.next().unwrap(), it.next().unwrap())
                })
                .collect();
            let a: f64 = (0..pts.len())
                .map(|i| {
                    let (p, q) = (pts[i], pts[(i + 1) % pts.len()]);
                    p.0 * q.1 - q.0 * p.1
                })
                .sum::<f64>()
                .abs()
                / 2.0;
            *area.entry(phase_of[&k]).or_default() += a;
        }
        assert_eq!(area.len(), 2, "{id}: ED and ES contours");
        for (phase, a) in area {
            let discs_ml = a * px * dz / 1000.0;
            let voxels_ml = m["lv_volume_ml"][phase as usize].as_f64().unwrap();
            // Rasterisation at pixel centres: the difference stays within a few percent.
            let rel = (voxels_ml - discs_ml).abs() / discs_ml;
            assert!(
                rel < 0.03,
                "{id} phase {phase}: voxels {voxels_ml:.2} mL vs discs {discs_ml:.2} mL"
            );
        }
        // ED is the phase with epicardial contours, ES the other; EF is physiological.
        let ef = m["lv_ef_pct"].as_f64().unwrap();
        assert!(
            m["lv_edv_ml"].as_f64().unwrap() > m["lv_esv_ml"].as_f64().unwrap()
                && ef > 5.0
                && ef < 80.0,
            "{id}: EF {ef}"
        );
        assert!(m["lv_mass_g"].as_f64().unwrap() > 50.0, "{id}");
        assert!(
            m["rv_edv_ml"].is_null(),
            "{id}: Sunnybrook has no RV annotation"
        );
        let unmeasured = m["lv_volume_ml"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v.is_null())
            .count();
        assert_eq!(
            unmeasured, 18,
            "{id}: 18 of 20 phases have no contours and are null, not 0"
        );
    }
}
