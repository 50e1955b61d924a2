//! Real studies made untidy the way real exports are (a copied file, an unreadable file, a
//! broken PixelSpacing or rescale), built by the test from the Sunnybrook data. Each must
//! give the tidy study's numbers, or numbers with a visible warning, or a refusal: never a
//! silently wrong number.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::OpenFileOptions;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use systole::io::{LoadOptions, load_study};

fn systole(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_systole"))
        .args(args)
        .output()
        .unwrap()
}

/// A copy of a Sunnybrook patient folder (DICOM and contours) to make untidy.
fn copy_patient(id: &str) -> (tempfile::TempDir, PathBuf) {
    let src = common::shared_data().join("sunnybrook").join(id);
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join(id);
    for e in walkdir(&src) {
        let rel = e.strip_prefix(&src).unwrap();
        let to = dst.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&e, &to).unwrap();
    }
    (tmp, dst)
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walkdir(&p))
        } else {
            out.push(p)
        }
    }
    out
}

/// Rewrites one element of a DICOM file in place (with dicom-object, not Systole).
fn set_element(path: &Path, tag: dicom_core::Tag, vr: VR, value: &str) {
    let mut obj = OpenFileOptions::new().open_file(path).unwrap();
    obj.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
    obj.write_to_file(path).unwrap();
}

fn measure_json(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["measure", dir.to_str().unwrap(), "--json", "--no-session"];
    args.extend_from_slice(extra);
    let out = systole(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The measures of a JSON object without its warnings.
fn numbers(v: &Value) -> Value {
    let mut v = v.clone();
    v.as_object_mut().unwrap().remove("warnings");
    v
}

fn warnings(v: &Value) -> Vec<String> {
    v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

fn original() -> Value {
    measure_json(&common::shared_data().join("sunnybrook/SCD0000101"), &[])
}

#[test]
fn a_copied_file_changes_nothing_and_is_listed_as_a_copy() {
    let (_tmp, dir) = copy_patient("SCD0000101");
    std::fs::copy(dir.join("dicom/110.dcm"), dir.join("dicom/110 - Copy.dcm")).unwrap();
    let l = load_study(&dir, &LoadOptions::default()).unwrap();
    let d = l.study.cine.dims();
    let tidy = load_study(
        &common::shared_data().join("sunnybrook/SCD0000101"),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(d, tidy.study.cine.dims(), "the copy must not cost a slice");
    assert_eq!(l.study.cine.data(), tidy.study.cine.data());
    assert_eq!(l.report.skipped.len(), 1, "{:?}", l.report.skipped);
    assert!(
        l.report.skipped[0].reason.contains("SOPInstanceUID"),
        "{:?}",
        l.report.skipped
    );
    let got = measure_json(&dir, &[]);
    let want = original();
    // LVEDV 191.4 mL, not the 164.8 mL of the stack without that slice.
    assert!(
        (want["lv_edv_ml"].as_f64().unwrap() - 191.4).abs() < 0.1,
        "{}",
        want["lv_edv_ml"]
    );
    assert_eq!(numbers(&got), numbers(&want));
    assert!(warnings(&got).is_empty(), "{:?}", warnings(&got));
}

#[test]
fn an_unreadable_file_leaves_out_its_slice_and_every_output_says_so() {
    let (_tmp, dir) = copy_patient("SCD0000101");
    // Instance 110: slice 6 of 12 (1-based), phase 10; the file keeps its name, loses its body.
    std::fs::write(dir.join("dicom/110.dcm"), b"not a DICOM file any more").unwrap();
    let l = load_study(&dir, &LoadOptions::default()).unwrap();
    assert_eq!(l.study.cine.dims().slices, 11);
    let w = &l.study.warnings;
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("left out") && w[0].contains("between kept slices"),
        "{w:?}"
    );
    // measure --json and its text carry the warning.
    let j = measure_json(&dir, &[]);
    assert_eq!(warnings(&j), *w);
    assert!(j["lv_edv_ml"].as_f64().unwrap() < original()["lv_edv_ml"].as_f64().unwrap());
    let out = systole(&["measure", dir.to_str().unwrap(), "--no-session"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("WARNING: slice at"), "{text}");
    // The PDF report prints it under the measures.
    let labels = l.study.reference_labels.clone().unwrap();
    let ctx = systole::measure::Context::of(&l.study, systole::measure::BsaFormula::Mosteller);
    let voxel = l.study.cine.geometry.voxel_volume_ml().unwrap();
    let m = systole::measure::Engine::new(&labels, voxel).measures(&ctx);
    let model = systole::report::build(
        &l.study,
        &labels,
        None,
        &m,
        &systole::report::ReportOptions::default(),
    )
    .unwrap();
    // After the rule checks' errors (none on these expert contours), before their
    // warnings.
    assert!(
        model
            .warnings
            .iter()
            .all(|x| !x.starts_with("Check (error)")),
        "{:?}",
        model.warnings
    );
    assert_eq!(model.warnings.first(), w.first(), "{:?}", model.warnings);
    let pdf = dir.join("report.pdf");
    std::fs::write(&pdf, systole::report::pdf::render(&model).unwrap()).unwrap();
    let out = Command::new("pdftotext")
        .args([pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is needed");
    let text = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains("Warnings") && text.contains("left out"),
        "{text}"
    );
}

#[test]
fn one_broken_pixel_spacing_is_outvoted_and_reported() {
    let (_tmp, dir) = copy_patient("SCD0000101");
    set_element(
        &dir.join("dicom/1.dcm"),
        tags::PIXEL_SPACING,
        VR::DS,
        "0\\0",
    );
    let got = measure_json(&dir, &[]);
    // Before: the first image's 0\0 made the whole study 1 mm pixels (LVEDV 102.4 mL).
    assert_eq!(numbers(&got), numbers(&original()));
    let w = warnings(&got);
    assert!(w.len() == 1 && w[0].contains("1 of 240 images"), "{w:?}");
}

#[test]
fn without_any_pixel_spacing_nothing_is_measured_unless_a_size_is_assumed() {
    let (_tmp, dir) = copy_patient("SCD0000201");
    for f in walkdir(&dir.join("dicom")) {
        let mut obj = OpenFileOptions::new().open_file(&f).unwrap();
        obj.remove_element(tags::PIXEL_SPACING);
        obj.write_to_file(&f).unwrap();
    }
    let out = systole(&["measure", dir.to_str().unwrap(), "--json", "--no-session"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("voxel volume is unknown"));
    // The network refuses it too, before any output is written.
    let out_dir = dir.join("out");
    let out = systole(&[
        "segment",
        dir.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!out_dir.join("measures.json").exists());
    // An explicit size gives the tidy study's numbers, with a warning that it was assumed.
    let tidy = measure_json(&common::shared_data().join("sunnybrook/SCD0000201"), &[]);
    let px = load_study(
        &common::shared_data().join("sunnybrook/SCD0000201"),
        &LoadOptions::default(),
    )
    .unwrap()
    .study
    .cine
    .geometry
    .pixel_spacing_mm[0];
    let got = measure_json(&dir, &["--assume-pixel-mm", &px.to_string()]);
    assert_eq!(numbers(&got), numbers(&tidy));
    assert!(
        warnings(&got)[0].contains("assumed"),
        "{:?}",
        warnings(&got)
    );
}

#[test]
fn an_absurd_rescale_leaves_out_that_image_with_the_reason_never_an_infinite_intensity() {
    let (_tmp, dir) = copy_patient("SCD0000101");
    set_element(
        &dir.join("dicom/27.dcm"),
        tags::RESCALE_INTERCEPT,
        VR::DS,
        "1e308",
    );
    set_element(&dir.join("dicom/27.dcm"), tags::RESCALE_SLOPE, VR::DS, "1");
    let l = load_study(&dir, &LoadOptions::default()).unwrap();
    assert!(l.study.cine.data().iter().all(|v| v.is_finite()));
    let skipped: Vec<_> = l
        .report
        .skipped
        .iter()
        .filter(|s| s.path.ends_with("27.dcm"))
        .collect();
    assert!(
        skipped.iter().any(|s| s.reason.contains("not finite")),
        "{:?}",
        l.report.skipped
    );
    assert_eq!(l.study.cine.dims().slices, 11);
    assert!(
        l.study.warnings.iter().any(|w| w.contains("left out")),
        "{:?}",
        l.study.warnings
    );
}

/// A copy of ACDC patient001's end-diastolic image under `name` in a fresh folder.
fn acdc_image_as(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join(name);
    std::fs::copy(
        common::shared_data().join("acdc/training/patient001/patient001_frame01.nii.gz"),
        &p,
    )
    .unwrap();
    (tmp, p)
}

#[test]
fn no_command_writes_over_its_input_or_a_session() {
    // report X.nii.gz -o X.nii.gz
    let (tmp, x) = acdc_image_as("X.nii.gz");
    let before = std::fs::read(&x).unwrap();
    let out = systole(&["report", x.to_str().unwrap(), "-o", x.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refusing to write over an input"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&x).unwrap(), before);
    // ... nor through a symlink to it, nor over a session file.
    let link = tmp.path().join("link.pdf");
    std::os::unix::fs::symlink(&x, &link).unwrap();
    let out = systole(&["report", x.to_str().unwrap(), "-o", link.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&x).unwrap(), before);
    let session = tmp.path().join("X.nii.gz.systole-session.json");
    std::fs::write(&session, b"{}").unwrap();
    let out = systole(&[
        "report",
        x.to_str().unwrap(),
        "--no-session",
        "-o",
        session.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&session).unwrap(), b"{}");
    // segment image.nii.gz --out its own folder: image.nii.gz would be replaced.
    let (tmp2, image) = acdc_image_as("image.nii.gz");
    let before = std::fs::read(&image).unwrap();
    let out = systole(&[
        "segment",
        image.to_str().unwrap(),
        "--out",
        tmp2.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&image).unwrap(), before);
    assert!(
        !tmp2.path().join("labels.nii.gz").exists(),
        "refused before anything was written"
    );
}

#[test]
fn a_failing_segment_writes_no_session_and_outputs_go_through_symlinks_or_to_stdout() {
    let study = common::shared_data().join("acdc/training/patient001");
    let tmp = tempfile::tempdir().unwrap();
    // An output folder that cannot be created: refused before the network, no session.
    let blocker = tmp.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let session = tmp.path().join("s.json");
    let out = systole(&[
        "segment",
        study.to_str().unwrap(),
        "--out",
        blocker.join("out").to_str().unwrap(),
        "--save-session",
        "--session",
        session.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!session.exists());
    // -o to a symlink writes the PDF to its target and keeps the link.
    let target = tmp.path().join("target.pdf");
    std::fs::write(&target, b"old").unwrap();
    let link = tmp.path().join("link.pdf");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = systole(&[
        "report",
        study.to_str().unwrap(),
        "--no-session",
        "-o",
        link.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(std::fs::read(&target).unwrap().starts_with(b"%PDF"));
    // -o - writes the PDF, and only the PDF, to standard output.
    let out = systole(&["report", study.to_str().unwrap(), "--no-session", "-o", "-"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.starts_with(b"%PDF") && out.stdout.trim_ascii_end().ends_with(b"%%EOF"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("standard output"));
}

#[test]
fn a_pixel_size_no_mr_image_has_is_refused_unless_one_is_assumed() {
    // ACDC patient001's ED image written again with 100 mm and with 0.01 mm pixels.
    let src = common::shared_data().join("acdc/training/patient001/patient001_frame01.nii.gz");
    let l = load_study(&src, &LoadOptions::default()).unwrap();
    let d = l.study.cine.dims();
    let tmp = tempfile::tempdir().unwrap();
    for px in [100.0, 0.01] {
        let path = tmp.path().join(format!("px{px}.nii"));
        let affine = [
            [px, 0.0, 0.0, 0.0],
            [0.0, px, 0.0, 0.0],
            [0.0, 0.0, 10.0, 0.0],
        ];
        systole::io::nifti::write(
            &path,
            [d.columns, d.rows, d.slices, d.phases],
            &affine,
            systole::io::nifti::Voxels::F32(l.study.cine.data()),
        )
        .unwrap();
        let p = path.to_str().unwrap();
        let loaded = load_study(&path, &LoadOptions::default()).unwrap();
        assert!(
            loaded
                .study
                .cine
                .geometry
                .voxel_volume_ml()
                .is_none_or(|v| !v.is_finite())
        );
        assert!(
            loaded
                .study
                .warnings
                .iter()
                .any(|w| w.contains("not possible for an MR image")),
            "{:?}",
            loaded.study.warnings
        );
        // segment refuses before any output (no 17 GB allocation, no LVEDV 0.0 mL).
        let out_dir = tmp.path().join(format!("out{px}"));
        let out = systole(&["segment", p, "--out", out_dir.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("pixel spacing"));
        assert!(!out_dir.join("measures.json").exists());
        // With an assumed size the study is usable, and says so.
        let assumed = load_study(
            &path,
            &LoadOptions {
                assume_pixel_mm: Some(1.5625),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            assumed.study.cine.geometry.pixel_spacing_mm,
            [1.5625, 1.5625]
        );
        assert!(assumed.study.warnings.iter().any(|w| w.contains("assumed")));
    }
}

/// Runs systole with its address space limited to `mib` MiB (bash's `ulimit -v`): an
/// allocation beyond it fails, and the process aborts.
fn systole_within(mib: u64, args: &[&str]) -> std::process::Output {
    Command::new("bash")
        .arg("-c")
        .arg(format!("ulimit -v {}; exec \"$0\" \"$@\"", mib * 1024))
        .arg(env!("CARGO_BIN_EXE_systole"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn deflated_files_give_the_same_numbers_and_a_deflate_bomb_costs_only_its_file() {
    use dicom_encoding::TransferSyntaxIndex;
    let (_tmp, dir) = copy_patient("SCD0000101");
    let ts = dicom_transfer_syntax_registry::TransferSyntaxRegistry
        .get("1.2.840.10008.1.2.1")
        .unwrap();
    let files: Vec<PathBuf> = walkdir(&dir.join("dicom"));
    for f in &files {
        let obj = OpenFileOptions::new().open_file(f).unwrap();
        let (class, instance) = (
            obj.meta()
                .media_storage_sop_class_uid()
                .trim_end_matches('\0')
                .to_string(),
            obj.meta()
                .media_storage_sop_instance_uid()
                .trim_end_matches('\0')
                .to_string(),
        );
        let mut raw = Vec::new();
        obj.into_inner()
            .write_dataset_with_ts(&mut raw, ts)
            .unwrap();
        common::write_deflated(f, &class, &instance, &raw);
    }
    // A 4 GiB PixelData claimed inside a deflated data set of a few bytes: dicom-parser
    // used to allocate it (3.8 GB for a 4.5 KB file).
    let bomb = [
        0x08, 0x00, 0x60, 0x00, b'C', b'S', 2, 0, b'M', b'R', 0xE0, 0x7F, 0x10, 0x00, b'O', b'W',
        0, 0, 0xFE, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4,
    ];
    let bomb_path = dir.join("dicom/bomb.dcm");
    common::write_deflated(&bomb_path, "1.2.840.10008.5.1.4.1.1.4", "2.25.1", &bomb);
    let out = systole_within(
        1024,
        &["measure", dir.to_str().unwrap(), "--json", "--no-session"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(numbers(&got), numbers(&original()));
    let l = load_study(&dir, &LoadOptions::default()).unwrap();
    let skip = l
        .report
        .skipped
        .iter()
        .find(|s| s.path == bomb_path)
        .expect("the bomb is skipped");
    assert!(skip.reason.contains("PixelData"), "{}", skip.reason);
    assert_eq!(l.report.skipped.len(), 1, "{:?}", l.report.skipped);
}

#[test]
fn a_nifti_that_inflates_far_beyond_its_header_costs_only_its_volume() {
    use std::io::{Read, Write};
    // ACDC patient001's ED image (216 x 256 x 10 x 1, 2 MB as int16) followed by 768 MiB
    // of zeros: a few megabytes gzipped.
    let src = common::shared_data().join("acdc/training/patient001/patient001_frame01.nii.gz");
    let mut raw = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&src).unwrap())
        .read_to_end(&mut raw)
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let bomb = tmp.path().join("bomb.nii.gz");
    let mut z = flate2::write::GzEncoder::new(
        std::fs::File::create(&bomb).unwrap(),
        flate2::Compression::fast(),
    );
    z.write_all(&raw).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..768 {
        z.write_all(&zeros).unwrap();
    }
    z.finish().unwrap();
    let size = std::fs::metadata(&bomb).unwrap().len();
    assert!(size < 16 << 20, "{size} bytes");
    // 512 MiB of address space: the binary, its threads and the 2 MB volume fit, the
    // inflated stream would not.
    let out = systole_within(512, &["info", bomb.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let want: Value =
        serde_json::from_slice(&systole(&["info", src.to_str().unwrap(), "--json"]).stdout)
            .unwrap();
    for k in ["slices", "phases", "rows", "columns", "pixel_spacing_mm"] {
        assert_eq!(v[k], want[k], "{k}");
    }
    // A header that claims more voxels than the stream holds is an error, not a hang or
    // an allocation of the claimed size.
    let short = tmp.path().join("short.nii");
    std::fs::write(&short, &raw[..raw.len() / 2]).unwrap();
    let out = systole_within(512, &["info", short.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("header needs"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_study_stored_as_bare_data_sets_without_meta_group_opens_image_for_image() {
    // Old ACR-NEMA style: no preamble, no "DICM", no meta group; implicit VR data sets.
    use dicom_encoding::TransferSyntaxIndex;
    let (_tmp, dir) = copy_patient("SCD0000101");
    let ts = dicom_transfer_syntax_registry::TransferSyntaxRegistry
        .get("1.2.840.10008.1.2")
        .unwrap();
    for f in walkdir(&dir.join("dicom")) {
        let obj = OpenFileOptions::new().open_file(&f).unwrap();
        let mut raw = Vec::new();
        obj.into_inner()
            .write_dataset_with_ts(&mut raw, ts)
            .unwrap();
        std::fs::write(&f, raw).unwrap();
    }
    let l = load_study(&dir, &LoadOptions::default()).unwrap();
    let tidy = load_study(
        &common::shared_data().join("sunnybrook/SCD0000101"),
        &LoadOptions::default(),
    )
    .unwrap();
    assert!(l.report.skipped.is_empty(), "{:?}", l.report.skipped);
    assert_eq!(l.study.cine.dims(), tidy.study.cine.dims());
    assert_eq!(l.study.cine.data(), tidy.study.cine.data());
    assert_eq!(numbers(&measure_json(&dir, &[])), numbers(&original()));
}
