//! Synthetic DICOM series written by the test itself: ordering, geometry, metadata,
//! compression, multi-frame objects and the handling of broken files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Img, write_multiframe, write_rle};
use std::path::Path;
use systole::io::{Error, LoadOptions, load_study};

const ROWS: u16 = 6;
const COLS: u16 = 8;

/// Pixel pattern that identifies (slice, phase) and catches transposed images.
fn pattern(slice: usize, phase: usize) -> Vec<u16> {
    (0..ROWS as usize * COLS as usize)
        .map(|i| {
            (1000 + 100 * slice + 10 * phase + (i % COLS as usize) + 3 * (i / COLS as usize)) as u16
        })
        .collect()
}

fn unit(v: [f64; 3]) -> [f64; 3] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    [v[0] / n, v[1] / n, v[2] / n]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// An oblique plane like a short-axis view: rows along u, columns along v.
fn oblique() -> ([f64; 3], [f64; 3], [f64; 3]) {
    let u = unit([0.7, 0.6, -0.2]);
    let w = unit([-0.3, 0.5, 0.8]);
    let v = unit(cross(w, u));
    let n = cross(u, v);
    (u, v, n)
}

/// Writes `slices` x `phases` single-frame images; returns the written paths by (slice, phase).
fn write_series(
    dir: &Path,
    slices: usize,
    phases: usize,
    step_mm: f64,
    uid: &str,
    number: i32,
    tag: &str,
) -> Vec<Vec<std::path::PathBuf>> {
    let (u, v, n) = oblique();
    let mut paths = vec![Vec::new(); slices];
    // Instance numbers deliberately do not follow time: phases must be ordered by TriggerTime.
    let mut k = 0;
    for (s, slice_paths) in paths.iter_mut().enumerate() {
        for p in 0..phases {
            let mut img = Img::new(ROWS, COLS);
            img.pixels = pattern(s, p);
            // Slices step along the normal and also slide in-plane (only the normal counts).
            let t = step_mm * s as f64;
            let slide = 2.0 * s as f64;
            img.position = [
                12.0 + n[0] * t + u[0] * slide,
                -40.0 + n[1] * t + u[1] * slide,
                7.0 + n[2] * t + u[2] * slide,
            ];
            img.orientation = [u[0], u[1], u[2], v[0], v[1], v[2]];
            img.spacing = [1.4, 1.3];
            img.trigger_ms = Some(35.0 * p as f64 + 0.4 * s as f64);
            img.instance = (1 + s * phases + (phases - 1 - p)) as i32;
            img.series_uid = uid.into();
            img.series_number = number;
            // Names in an order unrelated to slice or phase.
            k += 1;
            let name = format!("{tag}{:03}.dcm", (k * 37) % 211);
            let path = dir.join(name);
            img.write(&path);
            slice_paths.push(path);
        }
    }
    paths
}

fn check_pattern(study: &systole::study::Study) {
    let d = study.cine.dims();
    for p in 0..d.phases {
        for s in 0..d.slices {
            let want: Vec<f32> = pattern(s, p).iter().map(|v| *v as f32).collect();
            assert_eq!(
                study.cine.image(p, s),
                want.as_slice(),
                "image at phase {p}, slice {s}"
            );
        }
    }
}

#[test]
fn shuffled_oblique_series_is_ordered_by_position_and_time() {
    let dir = tempfile::tempdir().unwrap();
    write_series(dir.path(), 4, 5, 7.5, "1.2.3.4.100", 3, "x");
    let loaded = load_study(dir.path(), &LoadOptions::default()).unwrap();
    let st = &loaded.study;
    let d = st.cine.dims();
    assert_eq!(
        (d.slices, d.phases, d.rows, d.columns),
        (4, 5, ROWS as usize, COLS as usize)
    );
    check_pattern(st);
    let g = &st.cine.geometry;
    let sp = g.slice_spacing_mm().unwrap();
    assert!((sp - 7.5).abs() < 1e-6, "{sp}");
    assert_eq!(g.pixel_spacing_mm, [1.4, 1.3]);
    let (u, v, _) = oblique();
    for i in 0..3 {
        assert!(
            (g.row_direction[i] - u[i]).abs() < 1e-5 && (g.column_direction[i] - v[i]).abs() < 1e-5
        );
    }
    let dist = g.slice_distances_mm();
    assert!(
        dist.windows(2).all(|w| (w[1] - w[0] - 7.5).abs() < 1e-6),
        "{dist:?}"
    );
    let times: Vec<f64> = st
        .cine
        .trigger_times_ms()
        .into_iter()
        .map(|t| t.unwrap())
        .collect();
    for (p, t) in times.iter().enumerate() {
        assert!((t - (35.0 * p as f64 + 0.6)).abs() < 1e-9, "{times:?}");
    }
    assert!(
        loaded.report.skipped.is_empty(),
        "{:?}",
        loaded.report.skipped
    );
    // Metadata travels from the headers.
    let pt = &st.patient;
    assert_eq!(pt.id.as_deref(), Some("SYN001"));
    assert_eq!(pt.name.as_deref(), Some("Test Patient"));
    assert_eq!(pt.sex, Some(systole::study::Sex::Female));
    assert_eq!(pt.age_years, Some(52.0));
    assert!((pt.height_cm.unwrap() - 168.0).abs() < 1e-9);
    assert_eq!(pt.weight_kg, Some(61.0));
    assert_eq!(st.info.heart_rate(), Some(64.0));
    assert_eq!(st.info.field_strength_t, Some(1.5));
    assert_eq!(st.info.series_instance_uid.as_deref(), Some("1.2.3.4.100"));
    // Every image is traced to its file and instance number.
    assert_eq!(st.images.len(), 20);
    for im in &st.images {
        assert_eq!(
            im.instance_number,
            Some((1 + im.slice * 5 + (4 - im.phase)) as i32)
        );
    }
}

#[test]
fn interleaved_series_default_to_the_largest_cine_and_can_be_picked() {
    let dir = tempfile::tempdir().unwrap();
    write_series(dir.path(), 3, 4, 8.0, "1.2.3.4.200", 5, "a");
    write_series(dir.path(), 1, 6, 8.0, "1.2.3.4.300", 6, "b");
    let l = load_study(dir.path(), &LoadOptions::default()).unwrap();
    assert_eq!(l.study.series.len(), 2);
    assert_eq!(l.study.series[l.study.chosen_series].uid, "1.2.3.4.200");
    assert_eq!(
        (l.study.cine.dims().slices, l.study.cine.dims().phases),
        (3, 4)
    );
    for pick in ["1.2.3.4.300", "6"] {
        let opts = LoadOptions {
            series: Some(pick.into()),
            ..Default::default()
        };
        let l = load_study(dir.path(), &opts).unwrap();
        assert_eq!(
            (l.study.cine.dims().slices, l.study.cine.dims().phases),
            (1, 6),
            "pick {pick}"
        );
        check_pattern(&l.study);
    }
    let opts = LoadOptions {
        series: Some("9.9.9".into()),
        ..Default::default()
    };
    assert!(matches!(
        load_study(dir.path(), &opts),
        Err(Error::NoSuchSeries { .. })
    ));
}

#[test]
fn broken_and_foreign_files_are_skipped_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_series(dir.path(), 3, 3, 10.0, "1.2.3.4.400", 1, "c");
    // Cut one file inside its pixel data: the header scan passes, decoding fails.
    let victim = &paths[1][2];
    let bytes = std::fs::read(victim).unwrap();
    std::fs::write(victim, &bytes[..bytes.len() - 20]).unwrap();
    // A file cut inside its header, and a file that is not DICOM at all.
    let cut = dir.path().join("sub").join("cut.dcm");
    std::fs::create_dir_all(cut.parent().unwrap()).unwrap();
    std::fs::write(&cut, &bytes[..200]).unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "scanner export notes\n").unwrap();

    let l = load_study(dir.path(), &LoadOptions::default()).unwrap();
    let d = l.study.cine.dims();
    // The slice that lost a phase is left out whole; the others keep their data.
    assert_eq!((d.slices, d.phases), (2, 3));
    assert_eq!(
        l.study.cine.image(0, 0),
        pattern(0, 0)
            .iter()
            .map(|v| *v as f32)
            .collect::<Vec<_>>()
            .as_slice()
    );
    assert_eq!(
        l.study.cine.image(2, 1),
        pattern(2, 2)
            .iter()
            .map(|v| *v as f32)
            .collect::<Vec<_>>()
            .as_slice()
    );
    let reason = |p: &Path| {
        l.report
            .skipped
            .iter()
            .find(|s| s.path == p)
            .map(|s| s.reason.clone())
    };
    assert!(
        reason(victim).is_some_and(|r| r.contains("PixelData")),
        "{:?}",
        l.report.skipped
    );
    assert!(reason(&cut).is_some(), "{:?}", l.report.skipped);
    assert!(
        reason(&notes).is_some_and(|r| r.contains("DICOM")),
        "{:?}",
        l.report.skipped
    );
    for other in &paths[1][..2] {
        assert!(
            reason(other).is_some_and(|r| r.contains("phases")),
            "{:?}",
            l.report.skipped
        );
    }
}

/// Axial `slices` x `phases` images with the identifying pattern, `step_mm` apart and
/// `dt_ms` between phases, as (slice, phase, image).
fn axial_grid(slices: usize, phases: usize, step_mm: f64, dt_ms: f64) -> Vec<(usize, usize, Img)> {
    let mut out = Vec::new();
    for s in 0..slices {
        for p in 0..phases {
            let mut img = Img::new(ROWS, COLS);
            img.pixels = pattern(s, p);
            img.position = [0.0, 0.0, step_mm * s as f64];
            img.trigger_ms = Some(dt_ms * p as f64);
            img.instance = (s * phases + p + 1) as i32;
            out.push((s, p, img));
        }
    }
    out
}

#[test]
fn monochrome1_is_inverted_before_the_rescale() {
    let dir = tempfile::tempdir().unwrap();
    for (s, p, mut img) in axial_grid(2, 2, 6.0, 50.0) {
        img.photometric = "MONOCHROME1";
        img.rescale = Some((2.0, -100.0));
        img.write(&dir.path().join(format!("{s}{p}.dcm")));
    }
    let l = load_study(dir.path(), &LoadOptions::default()).unwrap();
    for s in 0..2 {
        for p in 0..2 {
            // 12 bits stored: MONOCHROME1 value v shows as 4095 - v.
            let want: Vec<f32> = pattern(s, p)
                .iter()
                .map(|v| (4095.0 - *v as f32) * 2.0 - 100.0)
                .collect();
            assert_eq!(l.study.cine.image(p, s), want.as_slice());
        }
    }
}

#[test]
fn stored_bits_are_masked_and_signed_values_sign_extended() {
    use dicom_core::{DataElement, PrimitiveValue, VR};
    use dicom_dictionary_std::tags;
    let dir = tempfile::tempdir().unwrap();
    // 12 bits stored in 16: 0x0FFB is -5 when signed; 0xF123 has junk above bit 11.
    let stored: Vec<u16> = vec![0x0FFB, 0x0800, 0x07FF, 0xF123, 0x0001, 0x0000];
    for (signed, want) in [
        (1u16, vec![-5.0f32, -2048.0, 2047.0, 0x123 as f32, 1.0, 0.0]),
        (0, vec![4091.0, 2048.0, 2047.0, 291.0, 1.0, 0.0]),
    ] {
        let sub = dir.path().join(format!("s{signed}"));
        std::fs::create_dir_all(&sub).unwrap();
        for p in 0..2 {
            let mut img = Img::new(2, 3);
            img.pixels = stored.clone();
            img.trigger_ms = Some(p as f64 * 20.0);
            img.instance = p + 1;
            let mut o = img.object();
            o.put(DataElement::new(
                tags::PIXEL_REPRESENTATION,
                VR::US,
                PrimitiveValue::from(signed),
            ));
            common::write_object(o, &sub.join(format!("{p}.dcm")), "1.2.840.10008.1.2.1");
        }
        let l = load_study(&sub, &LoadOptions::default()).unwrap();
        assert_eq!(
            l.study.cine.image(1, 0),
            want.as_slice(),
            "signed = {signed}"
        );
    }
}

#[test]
fn enhanced_multiframe_object_is_laid_out_from_functional_groups() {
    let dir = tempfile::tempdir().unwrap();
    let base = Img::new(ROWS, COLS);
    // Frames stored in a scrambled order: (slice, phase).
    let order = [(1, 2), (0, 0), (1, 0), (0, 2), (0, 1), (1, 1)];
    let frames: Vec<([f64; 3], f64, Vec<u16>)> = order
        .iter()
        .map(|&(s, p)| {
            (
                [5.0, 3.0, -20.0 + 9.0 * s as f64],
                60.0 * p as f64,
                pattern(s, p),
            )
        })
        .collect();
    let path = dir.path().join("enhanced.dcm");
    write_multiframe(&path, &base, &frames);
    let l = load_study(&path, &LoadOptions::default()).unwrap();
    let d = l.study.cine.dims();
    assert_eq!((d.slices, d.phases), (2, 3));
    check_pattern(&l.study);
    assert!((l.study.cine.geometry.slice_spacing_mm().unwrap() - 9.0).abs() < 1e-9);
    assert_eq!(
        l.study.cine.trigger_times_ms(),
        vec![Some(0.0), Some(60.0), Some(120.0)]
    );
    let im = l
        .study
        .images
        .iter()
        .find(|i| i.slice == 1 && i.phase == 2)
        .unwrap();
    assert_eq!(im.frame, 0);
}

#[test]
fn rle_compressed_series_decodes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    for (s, p, img) in axial_grid(2, 3, 8.0, 30.0) {
        write_rle(&img, &dir.path().join(format!("rle{s}{p}.dcm")));
    }
    let l = load_study(dir.path(), &LoadOptions::default()).unwrap();
    assert!(l.report.skipped.is_empty(), "{:?}", l.report.skipped);
    check_pattern(&l.study);
}

#[test]
fn undecodable_pixel_data_leaves_out_only_its_slice() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = None;
    for (s, p, img) in axial_grid(2, 3, 8.0, 30.0) {
        let path = dir.path().join(format!("rle{s}{p}.dcm"));
        write_rle(&img, &path);
        if (s, p) == (0, 1) {
            bad = Some(path);
        }
    }
    // Structurally sound file, broken codec stream: the RLE header claims 9 segments.
    let bad = bad.unwrap();
    let mut bytes = std::fs::read(&bad).unwrap();
    let at = bytes
        .windows(8)
        .position(|w| w == [2, 0, 0, 0, 64, 0, 0, 0])
        .unwrap();
    bytes[at] = 9;
    std::fs::write(&bad, bytes).unwrap();
    let l = load_study(dir.path(), &LoadOptions::default()).unwrap();
    let d = l.study.cine.dims();
    assert_eq!((d.slices, d.phases), (1, 3));
    assert_eq!(
        l.study.cine.image(2, 0),
        pattern(1, 2)
            .iter()
            .map(|v| *v as f32)
            .collect::<Vec<_>>()
            .as_slice()
    );
    let reason = l
        .report
        .skipped
        .iter()
        .find(|s| s.path == bad)
        .map(|s| s.reason.clone());
    assert!(
        reason.is_some_and(|r| r.contains("decode")),
        "{:?}",
        l.report.skipped
    );
}

#[test]
fn a_codec_panic_costs_only_its_file() {
    use dicom_core::value::{PixelFragmentSequence, Value};
    use dicom_core::{DataElement, VR};
    use dicom_dictionary_std::tags;
    let dir = tempfile::tempdir().unwrap();
    let mut bad = None;
    for (s, p, img) in axial_grid(2, 3, 8.0, 30.0) {
        let path = dir.path().join(format!("rle{s}{p}.dcm"));
        if (s, p) == (1, 0) {
            // The high-byte segment decodes to 5 bytes instead of rows x columns:
            // dicom-transfer-syntax-registry 0.10.1 panics on this.
            let mut frag = common::rle_encode_u16(&img.pixels);
            let low_at = u32::from_le_bytes(frag[8..12].try_into().unwrap()) as usize;
            let low = frag[low_at..].to_vec();
            frag.truncate(64);
            frag.extend_from_slice(&[4, 1, 2, 3, 4, 5, 0]);
            frag[8..12].copy_from_slice(&(64u32 + 7).to_le_bytes());
            frag.extend_from_slice(&low);
            if frag.len() % 2 == 1 {
                frag.push(0);
            }
            let mut o = img.object();
            let seq = Value::from(PixelFragmentSequence::new(vec![], vec![frag]));
            o.put(DataElement::new(tags::PIXEL_DATA, VR::OB, seq));
            common::write_object(o, &path, "1.2.840.10008.1.2.5");
            bad = Some(path);
        } else {
            write_rle(&img, &path);
        }
    }
    let l = load_study(dir.path(), &LoadOptions::default()).unwrap();
    assert_eq!(
        (l.study.cine.dims().slices, l.study.cine.dims().phases),
        (1, 3)
    );
    check_pattern(&l.study);
    let bad = bad.unwrap();
    let reason = l
        .report
        .skipped
        .iter()
        .find(|s| s.path == bad)
        .map(|s| s.reason.clone());
    assert!(
        reason.is_some_and(|r| r.contains("decode")),
        "{:?}",
        l.report.skipped
    );
    // The binary keeps the caught panic off stderr: the reason is in `skipped` instead.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_systole"))
        .args(["info", dir.path().to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("the codec failed"));
}

#[test]
fn odd_paths_are_reported_never_a_panic_or_a_hang() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    for (s, p, img) in axial_grid(1, 3, 8.0, 30.0) {
        // One file name that is not UTF-8.
        let name = if p == 1 {
            std::ffi::OsStr::from_bytes(b"image\xff.dcm").to_os_string()
        } else {
            format!("i{s}{p}.dcm").into()
        };
        img.write(&dir.path().join(name));
    }
    // A folder inside that cannot be read (as root it can: then only the rest is checked).
    let locked = dir.path().join("lost+found");
    std::fs::create_dir(&locked).unwrap();
    std::fs::write(locked.join("x"), b"x").unwrap();
    let exe = env!("CARGO_BIN_EXE_systole");
    let mode = |m: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(m)).unwrap();
    };
    mode(0o000);
    let unreadable = std::fs::read_dir(&locked).is_err();
    let out = std::process::Command::new(exe)
        .args(["info", dir.path().to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    mode(0o755);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    if unreadable {
        let skipped = v["skipped"].to_string();
        assert!(
            skipped.contains("lost+found") && skipped.contains("not readable"),
            "{skipped}"
        );
    }
    assert_eq!(v["phases"], 3);
    assert!(
        v["images"]
            .as_array()
            .unwrap()
            .iter()
            .any(|im| im["path"].as_str().unwrap().contains('\u{fffd}')),
        "lossy name shown"
    );
    // A FIFO as the study: a clear error at once, not a hang.
    let fifo = dir.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let out = std::process::Command::new("timeout")
        .args(["20", exe, "info"])
        .arg(&fifo)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a file or folder"));
}

#[test]
fn unusable_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "hello").unwrap();
    assert!(matches!(
        load_study(dir.path(), &LoadOptions::default()),
        Err(Error::NothingReadable { .. })
    ));
    // A single still image is not a cine.
    let mut img = Img::new(ROWS, COLS);
    img.pixels = pattern(0, 0);
    img.write(&dir.path().join("still.dcm"));
    assert!(matches!(
        load_study(dir.path(), &LoadOptions::default()),
        Err(Error::NoCine(_))
    ));
    assert!(matches!(
        load_study(&dir.path().join("missing"), &LoadOptions::default()),
        Err(Error::NotFound(_))
    ));
}

/// Smooth 8-bit images (JPEG baseline is 8-bit), 32 x 32 so the DCT has room.
fn smooth(s: usize, p: usize) -> Vec<u8> {
    (0..32 * 32)
        .map(|i| (40 + 20 * s + 15 * p + (i % 32) * 2 + (i / 32)) as u8)
        .collect()
}

/// Writes a JPEG baseline series of `slices` x `phases` 32 x 32 images ([`smooth`]);
/// returns the paths by (slice, phase).
fn write_jpeg_series(
    dir: &Path,
    slices: usize,
    phases: usize,
    uid: &str,
    number: i32,
) -> Vec<Vec<std::path::PathBuf>> {
    use dicom_core::{DataElement, PrimitiveValue, VR};
    use dicom_dictionary_std::tags;
    use dicom_pixeldata::Transcode;
    let mut paths = vec![Vec::new(); slices];
    for (s, slice_paths) in paths.iter_mut().enumerate() {
        for p in 0..phases {
            let mut img = Img::new(32, 32);
            img.position = [0.0, 0.0, 10.0 * s as f64];
            img.trigger_ms = Some(40.0 * p as f64);
            img.instance = (s * phases + p + 1) as i32;
            img.series_uid = uid.into();
            img.series_number = number;
            let mut o = img.object();
            for (tag, v) in [
                (tags::BITS_ALLOCATED, 8u16),
                (tags::BITS_STORED, 8),
                (tags::HIGH_BIT, 7),
            ] {
                o.put(DataElement::new(tag, VR::US, PrimitiveValue::from(v)));
            }
            o.put(DataElement::new(
                tags::PIXEL_DATA,
                VR::OB,
                PrimitiveValue::U8(smooth(s, p).into()),
            ));
            let mut f = o
                .with_meta(
                    dicom_object::FileMetaTableBuilder::new()
                        .transfer_syntax("1.2.840.10008.1.2.1"),
                )
                .unwrap();
            f.transcode(&dicom_transfer_syntax_registry::entries::JPEG_BASELINE.erased())
                .unwrap();
            assert_eq!(
                f.meta().transfer_syntax().trim_end_matches('\0'),
                "1.2.840.10008.1.2.4.50"
            );
            let path = dir.join(format!("j{number}_{s}{p}.dcm"));
            f.write_to_file(&path).unwrap();
            slice_paths.push(path);
        }
    }
    paths
}

/// Rewrites the first JPEG frame header (SOF0) of a file: `edit` gets the marker code
/// and the segment's bytes from the sample precision on (C0, Lf, Lf, P, Y, X, Nf).
fn patch_sof(path: &Path, edit: impl Fn(&mut [u8])) {
    let mut b = std::fs::read(path).unwrap();
    let at = b
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a SOF0 marker");
    edit(&mut b[at + 1..at + 10]);
    std::fs::write(path, b).unwrap();
}

#[test]
fn jpeg_baseline_series_decodes_within_lossy_tolerance() {
    let dir = tempfile::tempdir().unwrap();
    write_jpeg_series(dir.path(), 2, 2, "1.2.826.0.1.3680043.9.7433.50", 1);
    let l = load_study(dir.path(), &LoadOptions::default()).unwrap();
    assert!(l.report.skipped.is_empty(), "{:?}", l.report.skipped);
    for s in 0..2 {
        for p in 0..2 {
            let got = l.study.cine.image(p, s);
            let want = smooth(s, p);
            let err = got
                .iter()
                .zip(&want)
                .map(|(g, w)| (g - *w as f32).abs())
                .sum::<f32>()
                / want.len() as f32;
            assert!(err < 3.0, "mean abs error {err} at slice {s} phase {p}");
        }
    }
}

#[test]
fn a_rescale_stored_with_vr_un_is_read_by_its_dictionary_vr_and_a_modality_lut_is_refused() {
    use dicom_core::value::DataSetSequence;
    use dicom_core::{DataElement, PrimitiveValue, VR};
    use dicom_dictionary_std::tags;
    // The same 1 x 3 cine twice: rescale 2 / -10 as DS, and as UN (raw text bytes).
    let ds_dir = tempfile::tempdir().unwrap();
    let un_dir = tempfile::tempdir().unwrap();
    for (s, p, mut img) in axial_grid(1, 3, 8.0, 30.0) {
        img.rescale = Some((2.0, -10.0));
        img.write(&ds_dir.path().join(format!("i{s}{p}.dcm")));
        img.rescale = None;
        let mut o = img.object();
        o.put(DataElement::new(
            tags::RESCALE_SLOPE,
            VR::UN,
            PrimitiveValue::from(b"2 ".to_vec()),
        ));
        o.put(DataElement::new(
            tags::RESCALE_INTERCEPT,
            VR::UN,
            PrimitiveValue::from(b"-10 ".to_vec()),
        ));
        common::write_object(
            o,
            &un_dir.path().join(format!("i{s}{p}.dcm")),
            "1.2.840.10008.1.2.1",
        );
    }
    let want = load_study(ds_dir.path(), &LoadOptions::default()).unwrap();
    let got = load_study(un_dir.path(), &LoadOptions::default()).unwrap();
    assert_eq!(got.study.cine.data(), want.study.cine.data());
    // The rescale really applies: stored values doubled, minus 10.
    let raw = pattern(0, 0);
    assert_eq!(got.study.cine.image(0, 0)[5], 2.0 * raw[5] as f32 - 10.0);
    // A Modality LUT Sequence: the image is refused with the reason, not shown unmapped.
    let lut_dir = tempfile::tempdir().unwrap();
    for (s, p, img) in axial_grid(1, 3, 8.0, 30.0) {
        let mut o = img.object();
        if p == 1 {
            o.put(DataElement::new(
                tags::MODALITY_LUT_SEQUENCE,
                VR::SQ,
                DataSetSequence::from(vec![dicom_object::InMemDicomObject::new_empty()]),
            ));
        }
        common::write_object(
            o,
            &lut_dir.path().join(format!("i{s}{p}.dcm")),
            "1.2.840.10008.1.2.1",
        );
    }
    let e = load_study(lut_dir.path(), &LoadOptions::default());
    let skipped = match e {
        Ok(l) => l.report.skipped,
        Err(e) => panic!("{e}"),
    };
    assert!(
        skipped.iter().any(|s| s.reason.contains("Modality LUT")),
        "{skipped:?}"
    );
}

#[test]
fn a_codec_frame_header_that_claims_another_size_is_refused_before_decoding() {
    // The case: a JPEG frame header claiming 65535 x 65535 made the codec ask for
    // 17 GB and abort the process. Now only that file is skipped, with the reason.
    let dir = tempfile::tempdir().unwrap();
    let paths = write_jpeg_series(dir.path(), 2, 2, "1.2.826.0.1.3680043.9.7433.51", 1);
    patch_sof(&paths[1][0], |sof| sof[4..8].copy_from_slice(&[0xFF; 4]));
    let l = load_study(dir.path(), &LoadOptions::default()).unwrap();
    let skip = l
        .report
        .skipped
        .iter()
        .find(|s| s.path == paths[1][0])
        .expect("the lying file is skipped");
    assert!(
        skip.reason.contains("65535 x 65535") && skip.reason.contains("32 x 32"),
        "{}",
        skip.reason
    );
    // Its slice lacks a phase: left out whole, and said so.
    assert_eq!(l.study.cine.dims().slices, 1);
    assert!(!l.report.warnings.is_empty());
}

#[test]
fn a_cine_that_cannot_be_decoded_gives_way_to_the_next_with_the_first_files_reason() {
    // Series 3: 3 x 2 JPEG images whose frame headers say 12-bit samples (JPEG extended,
    // which the pure-Rust decoder does not decode); series 9: a 2 x 2 uncompressed cine.
    let dir = tempfile::tempdir().unwrap();
    let jpeg = write_jpeg_series(dir.path(), 3, 2, "1.2.826.0.1.3680043.9.7433.52", 3);
    for p in jpeg.iter().flatten() {
        // SOF1 (extended sequential DCT) with 12-bit samples.
        patch_sof(p, |sof| {
            sof[0] = 0xC1;
            sof[3] = 12;
        });
    }
    write_series(
        dir.path(),
        2,
        2,
        6.0,
        "1.2.826.0.1.3680043.9.7433.53",
        9,
        "u",
    );
    let l = load_study(dir.path(), &LoadOptions::default()).unwrap();
    assert_eq!(l.study.cine.dims().slices, 2);
    assert_eq!(l.study.series[l.study.chosen_series].number, Some(9));
    check_pattern(&l.study);
    let w = l
        .report
        .warnings
        .iter()
        .find(|w| w.contains("could not be decoded"))
        .expect("a warning says why series 3 was not used");
    assert!(
        w.contains("#3") && w.contains("SamplePrecision(12)") && w.contains("#9"),
        "{w}"
    );
    // Asked for by the user, the series is an error with the codec's reason.
    let picked = LoadOptions {
        series: Some("3".into()),
        ..LoadOptions::default()
    };
    match load_study(dir.path(), &picked) {
        Err(e @ Error::Undecodable { .. }) => {
            assert!(e.to_string().contains("SamplePrecision(12)"), "{e}")
        }
        other => panic!("expected Undecodable, got {:?}", other.map(|l| l.report)),
    }
}

#[test]
fn a_bare_data_set_without_preamble_or_meta_group_opens() {
    // Old ACR-NEMA style exports: the data set from byte 0, implicit VR little endian.
    use dicom_encoding::TransferSyntaxIndex;
    let dir = tempfile::tempdir().unwrap();
    let paths = write_series(
        dir.path(),
        3,
        2,
        6.0,
        "1.2.826.0.1.3680043.9.7433.54",
        4,
        "b",
    );
    let ts = dicom_transfer_syntax_registry::TransferSyntaxRegistry
        .get("1.2.840.10008.1.2")
        .unwrap();
    for p in paths.iter().flatten() {
        let obj = dicom_object::OpenFileOptions::new().open_file(p).unwrap();
        let mut out = Vec::new();
        obj.into_inner()
            .write_dataset_with_ts(&mut out, ts)
            .unwrap();
        assert_ne!(&out[..2], b"\0\0");
        std::fs::write(p, out).unwrap();
    }
    let l = load_study(dir.path(), &LoadOptions::default()).unwrap();
    assert!(l.report.skipped.is_empty(), "{:?}", l.report.skipped);
    assert_eq!(l.study.cine.dims().slices, 3);
    check_pattern(&l.study);
}

#[test]
fn images_of_two_patients_in_one_series_are_warned() {
    use dicom_core::{DataElement, VR};
    use dicom_dictionary_std::tags;
    let dir = tempfile::tempdir().unwrap();
    let paths = write_series(
        dir.path(),
        2,
        2,
        6.0,
        "1.2.826.0.1.3680043.9.7433.55",
        5,
        "m",
    );
    let one = &paths[1][1];
    let mut obj = dicom_object::OpenFileOptions::new().open_file(one).unwrap();
    obj.put(DataElement::new(tags::PATIENT_ID, VR::LO, "OTHER9"));
    obj.write_to_file(one).unwrap();
    let l = load_study(dir.path(), &LoadOptions::default()).unwrap();
    assert!(
        l.report
            .warnings
            .iter()
            .any(|w| w.contains("2 different PatientIDs") && w.contains("OTHER9")),
        "{:?}",
        l.report.warnings
    );
}

/// A small deterministic generator (xorshift64*), so that a failing mutation can be
/// replayed from its iteration number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One structure-aware mutation, as the fuzzers that found Systole's parser bugs made
/// them: flipped bits, bytes set to boundary values, 16- and 32-bit length fields set to
/// boundary or huge values, bytes inserted, removed or repeated, truncation.
fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        if b.is_empty() {
            break;
        }
        let at = rng.below(b.len());
        match rng.below(7) {
            0 => b[at] ^= 1 << rng.below(8),
            1 => b[at] = [0u8, 1, 0x7F, 0x80, 0xFE, 0xFF][rng.below(6)],
            2 => {
                let v: u32 = [
                    0,
                    1,
                    0xFFFF,
                    0x1_0000,
                    0x7FFF_FFFF,
                    0xFFFF_FFFE,
                    0xFFFF_FFFF,
                ][rng.below(7)];
                overwrite(&mut b, at, &v.to_le_bytes());
            }
            3 => {
                let v = [0u16, 1, 0x7FFF, 0xFFFF][rng.below(4)];
                overwrite(&mut b, at, &v.to_le_bytes());
            }
            4 => {
                let n = 1 + rng.below(16);
                let fill = rng.next() as u8;
                b.splice(at..at, std::iter::repeat_n(fill, n));
            }
            5 => {
                let end = (at + 1 + rng.below(64)).min(b.len());
                b.drain(at..end);
            }
            _ => b.truncate(at),
        }
    }
    b
}

/// Writes `bytes` over `b` from `at`, as far as `b` reaches.
fn overwrite(b: &mut [u8], at: usize, bytes: &[u8]) {
    for (x, byte) in b.iter_mut().skip(at).zip(bytes) {
        *x = *byte;
    }
}

#[test]
fn mutated_real_and_synthetic_files_never_panic_or_abort() {
    // The CI's bounded fuzzing run (issue 17): every seed mutated SYSTOLE_FUZZ_ITERS times
    // (default 4000) through the same entry points as the cargo-fuzz targets in fuzz/.
    // Codec panics are contained by the reader itself; any other panic, an abort on a
    // huge allocation or a hang fails this test.
    use systole::io::dicom::{layout, read_image_bytes};
    let iters: usize = std::env::var("SYSTOLE_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut img = Img::new(ROWS, COLS);
    img.pixels = pattern(1, 2);
    img.trigger_ms = Some(35.0);
    img.write(&d.join("plain.dcm"));
    write_rle(&img, &d.join("rle.dcm"));
    let frames: Vec<([f64; 3], f64, Vec<u16>)> = (0..4)
        .map(|k| {
            (
                [0.0, 0.0, 6.0 * (k / 2) as f64],
                35.0 * (k % 2) as f64,
                pattern(k / 2, k % 2),
            )
        })
        .collect();
    write_multiframe(&d.join("multi.dcm"), &img, &frames);
    write_jpeg_series(d, 1, 1, "1.2.826.0.1.3680043.9.7433.56", 1);
    {
        use dicom_encoding::TransferSyntaxIndex;
        let explicit = dicom_transfer_syntax_registry::TransferSyntaxRegistry
            .get("1.2.840.10008.1.2.1")
            .unwrap();
        let obj = dicom_object::OpenFileOptions::new()
            .open_file(d.join("plain.dcm"))
            .unwrap()
            .into_inner();
        let mut raw = Vec::new();
        obj.write_dataset_with_ts(&mut raw, explicit).unwrap();
        common::write_deflated(
            &d.join("deflated.dcm"),
            "1.2.840.10008.5.1.4.1.1.4",
            "2.25.7",
            &raw,
        );
        std::fs::write(d.join("bare.dcm"), &raw).unwrap();
    }
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (p.display().to_string(), std::fs::read(&p).unwrap())
        })
        .collect();
    seeds.sort();
    let real = common::shared_data().join("sunnybrook/SCD0000101/dicom/1.dcm");
    seeds.push((real.display().to_string(), std::fs::read(&real).unwrap()));
    for (name, seed) in &seeds {
        // Every seed must be a valid file to begin with, or its mutations test nothing.
        assert!(read_image_bytes(seed).is_ok(), "seed {name} does not read");
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed.len() as u64);
        for i in 0..iters {
            let data = mutate(seed, &mut rng);
            let run = std::panic::catch_unwind(|| {
                if let Ok((header, _)) = read_image_bytes(&data) {
                    let members: Vec<(usize, usize)> =
                        (0..header.frames.len()).map(|f| (0, f)).collect();
                    let _ = layout(&[header], &members);
                }
            });
            assert!(run.is_ok(), "{name}: mutation {i} panicked");
        }
    }
    // NIfTI: the parser the .nii/.nii.gz reader streams through.
    let vox: Vec<i16> = (0..4 * 5 * 3 * 2).map(|v| v as i16).collect();
    let affine = [
        [1.5, 0.0, 0.0, 0.0],
        [0.0, 1.5, 0.0, 0.0],
        [0.0, 0.0, 8.0, 0.0],
    ];
    let nii =
        systole::io::nifti::encode([4, 5, 3, 2], &affine, systole::io::nifti::Voxels::I16(&vox))
            .unwrap();
    assert!(systole::io::nifti::parse(&nii).is_ok());
    let mut rng = Rng(7);
    for i in 0..iters * 4 {
        let data = mutate(&nii, &mut rng);
        let run = std::panic::catch_unwind(|| systole::io::nifti::parse(&data).map(|_| ()));
        assert!(run.is_ok(), "NIfTI mutation {i} panicked");
    }
}
