//! A short-axis stack stored one series per slice (UK Biobank's layout, many Siemens
//! protocols) opens as the whole stack: Sunnybrook SCD0000101 re-exported by the test with
//! a series per slice, a repeated slice, a localiser and a slice with a phase too few,
//! shuffled into nested folders.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::OpenFileOptions;
use std::path::{Path, PathBuf};
use systole::io::{LoadOptions, load_study};
use systole::study::{LaxView, SeriesKind};

const FOR_UID: &str = "1.2.826.0.1.3680043.8.498.777";

/// Writes `src` to `dst` with a new series (UID, number, description), a new SOP instance
/// UID and, where the file has none, a frame of reference shared by the whole exam.
fn rewrite(src: &Path, dst: &Path, series: (&str, i32, &str), sop: &str) {
    let mut obj = OpenFileOptions::new().open_file(src).unwrap();
    let put = |o: &mut dicom_object::DefaultDicomObject, tag, vr, v: &str| {
        o.put(DataElement::new(tag, vr, PrimitiveValue::from(v)));
    };
    put(&mut obj, tags::SERIES_INSTANCE_UID, VR::UI, series.0);
    put(&mut obj, tags::SERIES_NUMBER, VR::IS, &series.1.to_string());
    put(&mut obj, tags::SERIES_DESCRIPTION, VR::LO, series.2);
    put(&mut obj, tags::SOP_INSTANCE_UID, VR::UI, sop);
    if obj.element(tags::FRAME_OF_REFERENCE_UID).is_err() {
        put(&mut obj, tags::FRAME_OF_REFERENCE_UID, VR::UI, FOR_UID);
    }
    obj.meta_mut().media_storage_sop_instance_uid = sop.to_string();
    std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
    obj.write_to_file(dst).unwrap();
}

fn original() -> PathBuf {
    common::shared_data().join("sunnybrook/SCD0000101/dicom")
}

/// The exam: one series per slice (SeriesNumber 100 + slice), files spread over nested
/// folders in an order unrelated to slices. Returns the folder and the files of each slice.
fn split_exam(dir: &Path) -> Vec<Vec<PathBuf>> {
    let l = load_study(&original(), &LoadOptions::default()).unwrap();
    let d = l.study.cine.dims();
    let mut by_slice = vec![Vec::new(); d.slices];
    for (k, img) in l.study.images.iter().enumerate() {
        let folder = dir.join(format!("exam/{}/{}", k % 3, (k * 7) % 5));
        let dst = folder.join(format!("im{k:04}.dcm"));
        rewrite(
            &img.path,
            &dst,
            (
                &format!("1.2.826.0.1.3680043.8.498.1.{}", img.slice),
                100 + img.slice as i32,
                &format!("CINE_segmented_SAX_b{}", img.slice + 1),
            ),
            &format!("1.2.826.0.1.3680043.8.498.2.{k}"),
        );
        by_slice[img.slice].push(dst);
    }
    by_slice
}

#[test]
fn one_series_per_slice_opens_as_the_whole_stack() {
    let tmp = tempfile::tempdir().unwrap();
    split_exam(tmp.path());
    let tidy = load_study(&original(), &LoadOptions::default())
        .unwrap()
        .study;
    let split = load_study(&tmp.path().join("exam"), &LoadOptions::default()).unwrap();
    let s = &split.study;
    assert_eq!(s.cine.dims(), tidy.cine.dims());
    assert_eq!(
        s.cine.data(),
        tidy.cine.data(),
        "the same images in the same places"
    );
    assert_eq!(s.cine.geometry, tidy.cine.geometry);
    let chosen = &s.series[s.chosen_series];
    assert_eq!(chosen.sources.len(), 12, "{chosen:?}");
    assert_eq!(
        s.series.len(),
        13,
        "12 series as stored and the assembled stack"
    );
    assert!(
        split.report.skipped.is_empty(),
        "{:?}",
        split.report.skipped
    );
    // --series still picks a single slice's series.
    let one = load_study(
        &tmp.path().join("exam"),
        &LoadOptions {
            series: Some("105".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(one.study.cine.dims().slices, 1);
}

#[test]
fn a_repeated_slice_is_taken_from_its_later_acquisition_and_odd_series_are_left_out() {
    let tmp = tempfile::tempdir().unwrap();
    let by_slice = split_exam(tmp.path());
    let exam = tmp.path().join("exam");
    // Slice 5 acquired again later (series 200): its files must replace series 105's.
    let mut again = Vec::new();
    for (k, f) in by_slice[5].iter().enumerate() {
        let dst = exam.join(format!("repeat/r{k:02}.dcm"));
        rewrite(
            f,
            &dst,
            (
                "1.2.826.0.1.3680043.8.498.3",
                200,
                "CINE_segmented_SAX_b6_repeat",
            ),
            &format!("1.2.826.0.1.3680043.8.498.4.{k}"),
        );
        again.push(dst);
    }
    // A localiser: one image turned to another plane, a series of its own.
    let loc = exam.join("loc/loc.dcm");
    rewrite(
        &by_slice[0][0],
        &loc,
        ("1.2.826.0.1.3680043.8.498.5", 1, "localiser"),
        "1.2.826.0.1.3680043.8.498.6",
    );
    let mut obj = OpenFileOptions::new().open_file(&loc).unwrap();
    obj.put(DataElement::new(
        tags::IMAGE_ORIENTATION_PATIENT,
        VR::DS,
        PrimitiveValue::from("0\\1\\0\\0\\0\\-1"),
    ));
    obj.write_to_file(&loc).unwrap();
    // Slice 9's series loses a phase (19 where the stack has 20).
    std::fs::remove_file(&by_slice[9][3]).unwrap();
    // A tilted 4-chamber cine through the stack's centre: slice 0's files re-stated in a
    // plane holding a direction of the short-axis plane (its rows) and one 15 degrees off
    // the stack's normal (its columns).
    let tidy = load_study(&original(), &LoadOptions::default())
        .unwrap()
        .study;
    let g = &tidy.cine.geometry;
    let d0 = tidy.cine.dims();
    let (u, v) = (g.row_direction, g.column_direction);
    let n = cross(u, v);
    let a = 30f64.to_radians();
    let x_dir = unit([0, 1, 2].map(|i| a.cos() * u[i] + a.sin() * v[i]));
    let w = unit(cross(x_dir, n));
    let t = 15f64.to_radians();
    let y_dir = unit([0, 1, 2].map(|i| -t.cos() * n[i] + t.sin() * w[i]));
    let [dr, dc] = g.pixel_spacing_mm;
    let first = g.slice_positions_mm[0];
    let last = g.slice_positions_mm[d0.slices - 1];
    let centre: [f64; 3] = std::array::from_fn(|i| {
        0.5 * (first[i] + last[i])
            + 0.5 * (d0.columns - 1) as f64 * dc * u[i]
            + 0.5 * (d0.rows - 1) as f64 * dr * v[i]
    });
    let lax_origin: [f64; 3] = std::array::from_fn(|i| {
        centre[i]
            - 0.5 * (d0.columns - 1) as f64 * dc * x_dir[i]
            - 0.5 * (d0.rows - 1) as f64 * dr * y_dir[i]
    });
    let lax_uid = "1.2.826.0.1.3680043.8.498.7";
    for (k, f) in by_slice[0].iter().enumerate() {
        let dst = exam.join(format!("lax/l{k:02}.dcm"));
        rewrite(
            f,
            &dst,
            (lax_uid, 300, "CINE_segmented_LAX_4Ch"),
            &format!("1.2.826.0.1.3680043.8.498.8.{k}"),
        );
        let mut obj = OpenFileOptions::new().open_file(&dst).unwrap();
        let ds = |v: &[f64]| {
            v.iter()
                .map(|x| format!("{x:.6}"))
                .collect::<Vec<_>>()
                .join("\\")
        };
        obj.put(DataElement::new(
            tags::IMAGE_ORIENTATION_PATIENT,
            VR::DS,
            PrimitiveValue::from(ds(&[
                x_dir[0], x_dir[1], x_dir[2], y_dir[0], y_dir[1], y_dir[2],
            ])),
        ));
        obj.put(DataElement::new(
            tags::IMAGE_POSITION_PATIENT,
            VR::DS,
            PrimitiveValue::from(ds(&lax_origin)),
        ));
        obj.write_to_file(&dst).unwrap();
    }

    let l = load_study(&exam, &LoadOptions::default()).unwrap();
    let s = &l.study;
    let d = s.cine.dims();
    assert_eq!(
        (d.slices, d.phases),
        (11, 20),
        "slice 9 left out, never resampled"
    );
    // Slice 5 of the original is stack index 5 (slice 9 lies above it): its images come
    // from the repeat.
    let from_repeat = s
        .images
        .iter()
        .filter(|i| i.slice == 5)
        .all(|i| again.contains(&i.path));
    assert!(from_repeat, "the later acquisition is used");
    let reasons: Vec<&str> = l.report.skipped.iter().map(|k| k.reason.as_str()).collect();
    let repeated = l
        .report
        .skipped
        .iter()
        .filter(|k| by_slice[5].contains(&k.path))
        .count();
    assert_eq!(repeated, 20, "{reasons:?}");
    assert!(
        l.report
            .skipped
            .iter()
            .filter(|k| by_slice[5].contains(&k.path))
            .all(|k| k.reason.contains("acquired again") && k.reason.contains("#200")),
        "{reasons:?}"
    );
    assert!(
        l.report
            .skipped
            .iter()
            .filter(|k| by_slice[9].contains(&k.path))
            .all(|k| k.reason.contains("19 phases")),
        "{reasons:?}"
    );
    assert!(!s.images.iter().any(|i| i.path == loc));
    // The stack is said to be built from the slices' series, the localiser stays apart.
    let chosen = &s.series[s.chosen_series];
    assert_eq!(chosen.sources.len(), 11);
    assert!(
        chosen
            .sources
            .contains(&"1.2.826.0.1.3680043.8.498.3".to_string())
    );
    assert!(
        !chosen
            .sources
            .contains(&"1.2.826.0.1.3680043.8.498.1.5".to_string())
    );
    // The long-axis cine: listed as 4ch, not part of the stack, and each short-axis
    // slice's line where the planes truly cross. Its rows lie in the short-axis plane, so
    // slice k crosses it along the row r where n . (O + r dr Y - P_k) = 0.
    let lax = s.series.iter().find(|x| x.uid == lax_uid).unwrap();
    assert_eq!(
        (lax.kind, lax.view),
        (SeriesKind::LongAxisCine, Some(LaxView::FourChamber))
    );
    assert_eq!(s.long_axis.len(), 1);
    let lines = s.long_axis[0].sax_lines(&s.cine.geometry);
    let mut crossing = 0;
    for (k, p) in s.cine.geometry.slice_positions_mm.iter().enumerate() {
        let r = dot(n, [0, 1, 2].map(|i| p[i] - lax_origin[i])) / (dr * dot(n, y_dir));
        if !(0.0..=(d0.rows - 1) as f64).contains(&r) {
            continue;
        }
        crossing += 1;
        let line = lines.iter().find(|l| l.slice == k).unwrap();
        for end in [line.from, line.to] {
            assert!((end[1] - r).abs() < 1.0, "slice {k}: {line:?}, row {r}");
        }
        let span = (line.from[0] - line.to[0]).abs();
        assert!((span - (d0.columns - 1) as f64).abs() < 1.0, "{line:?}");
    }
    assert!(crossing >= 8, "{crossing} slices cross the long-axis image");
    assert_eq!(lines.len(), crossing);
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn unit(a: [f64; 3]) -> [f64; 3] {
    let l = dot(a, a).sqrt();
    a.map(|x| x / l)
}

/// Where the plane `z = z_s` (a short-axis slice of the phantom exam) crosses a long-axis
/// image whose row direction has no z component: the row `(O_z - z_s) / (px * -Y_z)`,
/// across every column. Computed here from the written geometry, not by Systole.
fn horizontal_crossing(plane: &systole::phantom::exam::WrittenPlane, z_s: f64) -> Option<f64> {
    assert_eq!(plane.row_direction[2], 0.0);
    let r = (plane.position_mm[2] - z_s) / (plane.pixel_mm * -plane.column_direction[2]);
    (0.0..=(plane.rows - 1) as f64).contains(&r).then_some(r)
}

#[test]
fn a_synthetic_exam_opens_as_its_stack_with_series_kinds_views_and_cross_reference_lines() {
    use systole::phantom::PhantomConfig;
    use systole::phantom::exam::{ExamOptions, write_exam};
    let tmp = tempfile::tempdir().unwrap();
    let cfg = PhantomConfig::default();
    let exam = write_exam(&cfg, &tmp.path().join("exam"), &ExamOptions::default()).unwrap();
    let single = write_exam(
        &cfg,
        &tmp.path().join("single"),
        &ExamOptions {
            split: false,
            ..ExamOptions::default()
        },
    )
    .unwrap();
    let l = load_study(&tmp.path().join("exam"), &LoadOptions::default()).unwrap();
    let one = load_study(&tmp.path().join("single"), &LoadOptions::default()).unwrap();
    assert!(one.report.skipped.is_empty(), "{:?}", one.report.skipped);
    assert_eq!(
        one.study.series[one.study.chosen_series].uid,
        single.sax_series[0]
    );
    // The stack: the single-series original, image for image, spacing for spacing.
    assert_eq!(l.study.cine.dims(), one.study.cine.dims());
    assert_eq!(l.study.cine.data(), one.study.cine.data());
    assert_eq!(
        l.study.cine.geometry.slice_spacing_mm(),
        one.study.cine.geometry.slice_spacing_mm()
    );
    assert_eq!(l.study.cine.dims().slices, cfg.slices);
    // The repeated slice's first acquisition is skipped, with the reason.
    let repeat = exam.repeat_series.clone().unwrap();
    let repeat_files: Vec<_> = l
        .report
        .skipped
        .iter()
        .filter(|s| s.reason.contains("acquired"))
        .collect();
    assert_eq!(repeat_files.len(), cfg.phases, "{:?}", l.report.skipped);
    // Kinds and views, as `info --json` lists them.
    let info = common::systole_json(["info", tmp.path().join("exam").to_str().unwrap(), "--json"]);
    let series = info["series"].as_array().unwrap();
    let kind_of = |uid: &str| {
        let s = series
            .iter()
            .find(|s| s["uid"] == uid)
            .unwrap_or_else(|| panic!("{uid} not listed"));
        (
            s["kind"].as_str().unwrap().to_string(),
            s["view"].as_str().map(String::from),
        )
    };
    for uid in &exam.sax_series {
        assert_eq!(kind_of(uid).0, "short_axis_cine");
    }
    assert_eq!(kind_of(&repeat).0, "short_axis_cine");
    assert_eq!(
        kind_of(exam.localiser_series.as_ref().unwrap()).0,
        "localiser"
    );
    let views: Vec<(String, Option<String>)> = exam
        .long_axis
        .iter()
        .map(|p| kind_of(&p.series_uid))
        .collect();
    assert_eq!(
        views,
        [("4ch", ""), ("2ch", ""), ("lax", "")]
            .map(|(v, _)| ("long_axis_cine".to_string(), Some(v.to_string())))
    );
    // The stack's sources, in slice order.
    let sax: Vec<&str> = info["sax_series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(sax, exam.sax_series);
    // Cross-reference lines within a pixel of the true intersections.
    let long_axis = info["long_axis"].as_array().unwrap();
    assert_eq!(long_axis.len(), 3);
    let positions = &l.study.cine.geometry.slice_positions_mm;
    for plane in &exam.long_axis {
        let entry = long_axis
            .iter()
            .find(|e| e["uid"] == plane.series_uid.as_str())
            .unwrap();
        assert_eq!(entry["rows"], plane.rows);
        assert_eq!(entry["columns"], plane.columns);
        assert_eq!(entry["phases"], cfg.phases);
        let lines = entry["sax_lines"].as_array().unwrap();
        let want: Vec<(usize, f64)> = positions
            .iter()
            .enumerate()
            .filter_map(|(k, p)| horizontal_crossing(plane, p[2]).map(|r| (k, r)))
            .collect();
        assert!(want.len() >= cfg.slices - 1, "{} crossings", want.len());
        assert_eq!(lines.len(), want.len(), "{}", plane.description);
        for (line, (k, r)) in lines.iter().zip(&want) {
            assert_eq!(line["slice"], *k);
            let xy = |key: &str| -> [f64; 2] {
                let v = line[key].as_array().unwrap();
                [v[0].as_f64().unwrap(), v[1].as_f64().unwrap()]
            };
            let (from, to) = (xy("from"), xy("to"));
            let (left, right) = if from[0] < to[0] {
                (from, to)
            } else {
                (to, from)
            };
            let last = (plane.columns - 1) as f64;
            assert!(
                left[0].abs() < 1.0 && (right[0] - last).abs() < 1.0,
                "{}: slice {k} spans {left:?} to {right:?}",
                plane.description
            );
            assert!(
                (left[1] - r).abs() < 1.0 && (right[1] - r).abs() < 1.0,
                "{}: slice {k} at rows {} and {}, expected {r}",
                plane.description,
                left[1],
                right[1]
            );
        }
    }
}
