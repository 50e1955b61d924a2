//! The `systole` binary as a user runs it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

fn systole(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_systole"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn info_json_describes_a_real_dicom_cine() {
    let dir = common::shared_data().join("sunnybrook/SCD0000201");
    let out = systole(&["info", dir.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["slices"], 13);
    assert_eq!(v["phases"], 20);
    assert_eq!(v["rows"], 256);
    assert_eq!(v["columns"], 256);
    assert!((v["slice_spacing_mm"].as_f64().unwrap() - 10.0).abs() < 0.01);
    assert!((v["pixel_spacing_mm"][0].as_f64().unwrap() - 1.367).abs() < 0.001);
    assert_eq!(v["trigger_times_ms"].as_array().unwrap().len(), 20);
    assert_eq!(v["patient_id"], "SCD0000201");
    assert_eq!(v["has_reference_labels"], true);
    assert_eq!(v["skipped"].as_array().unwrap().len(), 0);
    let images = v["images"].as_array().unwrap();
    assert_eq!(images.len(), 260);
    // Every file appears once, at a distinct (slice, phase).
    let mut seen = std::collections::HashSet::new();
    for im in images {
        let key = (im["slice"].as_u64().unwrap(), im["phase"].as_u64().unwrap());
        assert!(key.0 < 13 && key.1 < 20 && seen.insert(key));
        let n = im["instance_number"].as_i64().unwrap();
        assert!(im["path"].as_str().unwrap().ends_with(&format!("/{n}.dcm")));
    }
}

#[test]
fn info_text_on_acdc_names_the_stated_phases() {
    let dir = common::shared_data().join("acdc/training/patient001");
    let out = systole(&["info", dir.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("10 slices x 2 phases"), "{text}");
    assert!(text.contains("Source frames: 1 12"), "{text}");
    assert!(text.contains("Group: DCM"), "{text}");
}

#[test]
fn unusable_input_exits_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.txt"), "not dicom").unwrap();
    for path in [dir.path().join("missing"), dir.path().to_path_buf()] {
        let out = systole(&["info", path.to_str().unwrap(), "--json"]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(path.to_str().unwrap()), "{err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn nifti_with_a_label_file_in_acdc_order() {
    let dir = common::shared_data().join("acdc/training/patient001");
    let img = dir.join("patient001_frame01.nii.gz");
    let gt = dir.join("patient001_frame01_gt.nii.gz");
    let out = systole(&[
        "info",
        img.to_str().unwrap(),
        "--labels",
        gt.to_str().unwrap(),
        "--label-order",
        "acdc",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["slices"].as_u64(), v["phases"].as_u64()),
        (Some(10), Some(1))
    );
    assert_eq!(v["has_reference_labels"], true);
    // A label file on another grid is refused with exit 2.
    let other = common::shared_data().join("acdc/training/patient002/patient002_frame01_gt.nii.gz");
    let out = systole(&[
        "info",
        img.to_str().unwrap(),
        "--labels",
        other.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn demo_study_writes_a_phantom_that_measures_to_its_analytic_volumes() {
    let dir = tempfile::tempdir().unwrap();
    let out = systole(&[
        "demo-study",
        "--out",
        dir.path().to_str().unwrap(),
        "--ef",
        "45",
        "--phases",
        "20",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let img = dir.path().join("demo_cine.nii.gz");
    let lab = dir.path().join("demo_labels.nii.gz");
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("demo_volumes.json")).unwrap())
            .unwrap();
    let out = systole(&[
        "measure",
        img.to_str().unwrap(),
        "--labels",
        lab.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lv = m["lv_volume_ml"].as_array().unwrap();
    let exact = truth["analytic_lv_volume_ml"].as_array().unwrap();
    assert_eq!(lv.len(), 20);
    for (g, e) in lv.iter().zip(exact) {
        let (g, e) = (g.as_f64().unwrap(), e.as_f64().unwrap());
        assert!((g - e).abs() < 0.02 * e, "{g} vs {e}");
    }
    assert!((m["lv_ef_pct"].as_f64().unwrap() - 45.0).abs() < 1.0);
    // Out-of-range input is refused with exit 2.
    let bad = systole(&[
        "demo-study",
        "--out",
        dir.path().to_str().unwrap(),
        "--ef",
        "99",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn measure_without_labels_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = systole(&["demo-study", "--out", dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    let img = dir.path().join("demo_cine.nii.gz");
    let out = systole(&["measure", img.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--labels"));
}

/// Reads (dim[0..8], srow_x/y/z) straight from a NIfTI-1 header's bytes (gzip or not),
/// independently of Systole's reader.
fn raw_header(path: &std::path::Path) -> ([i16; 8], [f32; 12]) {
    use std::io::Read;
    let raw = std::fs::read(path).unwrap();
    let mut bytes = Vec::new();
    if raw.starts_with(&[0x1f, 0x8b]) {
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut bytes)
            .unwrap();
    } else {
        bytes = raw;
    }
    assert_eq!(
        i32::from_le_bytes(bytes[0..4].try_into().unwrap()),
        348,
        "little-endian NIfTI-1"
    );
    let mut dim = [0i16; 8];
    for (i, d) in dim.iter_mut().enumerate() {
        *d = i16::from_le_bytes(bytes[40 + 2 * i..42 + 2 * i].try_into().unwrap());
    }
    let mut srow = [0f32; 12];
    for (i, v) in srow.iter_mut().enumerate() {
        *v = f32::from_le_bytes(bytes[280 + 4 * i..284 + 4 * i].try_into().unwrap());
    }
    (dim, srow)
}

#[test]
fn segment_nifti_writes_labels_on_the_input_grid_and_the_measures_of_measure() {
    let input = common::shared_data().join("acdc/training/patient062/patient062_frame01.nii.gz");
    let out = tempfile::tempdir().unwrap();
    let o = systole(&[
        "segment",
        input.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let labels = out.path().join("labels.nii.gz");
    let (in_dim, in_srow) = raw_header(&input);
    let (l_dim, l_srow) = raw_header(&labels);
    // A 3-D input gives a 3-D label map (one phase) on exactly its grid.
    assert_eq!(&l_dim[..4], &in_dim[..4]);
    for (a, b) in l_srow.iter().zip(&in_srow) {
        assert!((a - b).abs() < 1e-3, "affine {l_srow:?} vs {in_srow:?}");
    }
    assert_eq!(summary["images"], in_dim[3] as i64);
    // The summary's confidence agrees with qc.json's per-image values.
    let qc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("qc.json")).unwrap()).unwrap();
    let c: Vec<f64> = qc["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["confidence"].as_f64().unwrap())
        .collect();
    assert_eq!(c.len(), in_dim[3] as usize);
    let least = c.iter().copied().fold(1.0, f64::min);
    let s = &summary["confidence"];
    assert!(
        (s["least"]["confidence"].as_f64().unwrap() - least).abs() < 1e-3,
        "{s}"
    );
    assert_eq!(
        s["under_0_8"].as_u64(),
        Some(c.iter().filter(|&&v| v < 0.8).count() as u64),
        "{s}"
    );
    // measures.json holds what `systole measure --json` reports for the same labels.
    let m = systole(&[
        "measure",
        out.path().join("image.nii.gz").to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
        "--json",
    ]);
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    let want: serde_json::Value = serde_json::from_slice(&m.stdout).unwrap();
    let got: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("measures.json")).unwrap()).unwrap();
    assert_eq!(got, want);
    // The ED LV volume is close to the expert's (ACDC patient062 is a validation patient).
    let truth = systole(&[
        "measure",
        common::shared_data()
            .join("acdc/training/patient062")
            .to_str()
            .unwrap(),
        "--json",
    ]);
    let truth: serde_json::Value = serde_json::from_slice(&truth.stdout).unwrap();
    let (p, t) = (
        got["lv_edv_ml"].as_f64().unwrap(),
        truth["lv_edv_ml"].as_f64().unwrap(),
    );
    assert!((p - t).abs() / t < 0.1, "LVEDV {p} vs expert {t}");
}

#[test]
fn segment_dicom_writes_a_4d_map_on_the_grid_info_describes() {
    let dir = common::shared_data().join("sunnybrook/SCD0000101");
    let out = tempfile::tempdir().unwrap();
    let o = systole(&[
        "segment",
        dir.to_str().unwrap(),
        "-o",
        out.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let info: serde_json::Value =
        serde_json::from_slice(&systole(&["info", dir.to_str().unwrap(), "--json"]).stdout)
            .unwrap();
    let (dim, _) = raw_header(&out.path().join("labels.nii.gz"));
    assert_eq!(dim[0], 4);
    let want = [
        info["columns"].as_i64().unwrap(),
        info["rows"].as_i64().unwrap(),
        info["slices"].as_i64().unwrap(),
        info["phases"].as_i64().unwrap(),
    ];
    assert_eq!(
        [dim[1] as i64, dim[2] as i64, dim[3] as i64, dim[4] as i64],
        want
    );
    let (img_dim, _) = raw_header(&out.path().join("image.nii.gz"));
    assert_eq!(img_dim[..5], dim[..5]);
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("measures.json")).unwrap()).unwrap();
    // SCD0000101 is heart failure with infarction: a dilated, poorly contracting LV.
    let ef = m["lv_ef_pct"].as_f64().unwrap();
    assert!((15.0..55.0).contains(&ef), "LVEF {ef}");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("Segmented 240 images (20 phases x 12 slices)"),
        "{text}"
    );
}

#[test]
fn segment_refuses_bad_weights_and_bad_input_with_exit_2() {
    let out = tempfile::tempdir().unwrap();
    let bogus = out.path().join("bogus.safetensors");
    std::fs::write(&bogus, b"not a model").unwrap();
    let input = common::shared_data().join("acdc/training/patient062/patient062_frame01.nii.gz");
    let o = systole(&[
        "segment",
        input.to_str().unwrap(),
        "-o",
        out.path().to_str().unwrap(),
        "--model",
        bogus.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bogus.safetensors") && err.lines().count() == 1,
        "{err}"
    );
    let o = systole(&[
        "segment",
        "/nonexistent/study",
        "-o",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    // Nothing was written for the failed runs.
    assert!(!out.path().join("labels.nii.gz").exists());
}

fn json_of(o: &std::process::Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn sessions_from_segment_drive_measure_and_bad_sessions_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let study = tmp.path().join("patient062");
    common::copy_dir(
        &common::shared_data().join("acdc/training/patient062"),
        &study,
    );
    let out = tmp.path().join("out");
    let s = study.to_str().unwrap();
    let summary = json_of(&systole(&[
        "segment",
        s,
        "-o",
        out.to_str().unwrap(),
        "--phases",
        "ed-es",
        "--save-session",
        "--json",
    ]));
    let file = study.join("systole-session.json");
    assert_eq!(summary["session"], file.display().to_string());
    let session: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(session["format"], "systole-session");
    assert!(
        session["contours"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["source"] == "auto")
    );
    // measure uses the session: the same numbers as segment's measures.json.
    let from_session = json_of(&systole(&["measure", s, "--json"]));
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("measures.json")).unwrap()).unwrap();
    assert_eq!(from_session, written);
    // --no-session measures the expert labels instead.
    let expert = json_of(&systole(&["measure", s, "--no-session", "--json"]));
    assert_ne!(expert["lv_edv_ml"], from_session["lv_edv_ml"]);
    // A hand edit in the file (the ED LV contour on one slice enlarged by 20 % about its
    // centre, marked manual) raises LVEDV; segmenting again refuses to overwrite it.
    let mut edited = session.clone();
    let ed = session["ed_phase"].as_u64().unwrap();
    let c = edited["contours"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["phase"] == ed && c["structure"] == "lv_endo")
        .unwrap();
    c["source"] = "manual".into();
    let pts = c["points"].as_array_mut().unwrap();
    let n = pts.len() as f64;
    let centre: Vec<f64> = (0..2)
        .map(|k| pts.iter().map(|p| p[k].as_f64().unwrap()).sum::<f64>() / n)
        .collect();
    for p in pts.iter_mut() {
        for k in 0..2 {
            p[k] = (centre[k] + 1.2 * (p[k].as_f64().unwrap() - centre[k])).into();
        }
    }
    std::fs::write(&file, serde_json::to_vec(&edited).unwrap()).unwrap();
    let m = json_of(&systole(&["measure", s, "--json"]));
    assert!(
        m["lv_edv_ml"].as_f64().unwrap() > from_session["lv_edv_ml"].as_f64().unwrap() + 1.0,
        "{} vs {}",
        m["lv_edv_ml"],
        from_session["lv_edv_ml"]
    );
    let o = systole(&[
        "segment",
        s,
        "-o",
        out.to_str().unwrap(),
        "--phases",
        "ed-es",
        "--save-session",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("manual"));
    // Another study's session: refused with exit 2.
    let other = tmp.path().join("patient061");
    common::copy_dir(
        &common::shared_data().join("acdc/training/patient061"),
        &other,
    );
    std::fs::copy(&file, other.join("systole-session.json")).unwrap();
    let o = systole(&["measure", other.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("another study"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A broken one: exit 2, and nothing overwrites it.
    std::fs::write(&file, b"{\"format\": \"systole-session\"").unwrap();
    let o = systole(&["measure", s]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("broken"));
    let o = systole(&[
        "segment",
        s,
        "-o",
        out.to_str().unwrap(),
        "--phases",
        "ed-es",
        "--save-session",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"{\"format\": \"systole-session\""
    );
    // --session names another file; a missing one is an error.
    let o = systole(&[
        "measure",
        s,
        "--session",
        tmp.path().join("nope.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}
