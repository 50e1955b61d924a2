//! A 4-D NIfTI written byte by byte here (qform only, rotated, gzip-free) opens with
//! its grid kept as stored and its geometry converted from RAS to LPS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use systole::io::{LoadOptions, load_study};

/// NIfTI-1 header fields at their standard offsets (little endian).
fn header(dims: [i16; 4], pixdim: [f32; 4], quatern: [f32; 6]) -> Vec<u8> {
    let mut h = vec![0u8; 352];
    h[0..4].copy_from_slice(&348i32.to_le_bytes());
    let dim: [i16; 8] = [4, dims[0], dims[1], dims[2], dims[3], 1, 1, 1];
    for (i, d) in dim.iter().enumerate() {
        h[40 + 2 * i..42 + 2 * i].copy_from_slice(&d.to_le_bytes());
    }
    h[70..72].copy_from_slice(&16i16.to_le_bytes()); // float32
    h[72..74].copy_from_slice(&32i16.to_le_bytes());
    let pd: [f32; 8] = [
        1.0, pixdim[0], pixdim[1], pixdim[2], pixdim[3], 0.0, 0.0, 0.0,
    ];
    for (i, p) in pd.iter().enumerate() {
        h[76 + 4 * i..80 + 4 * i].copy_from_slice(&p.to_le_bytes());
    }
    h[108..112].copy_from_slice(&352f32.to_le_bytes());
    h[123] = 2 | 8; // mm, seconds
    h[252..254].copy_from_slice(&1i16.to_le_bytes()); // qform_code: scanner
    for (i, q) in quatern.iter().enumerate() {
        h[256 + 4 * i..260 + 4 * i].copy_from_slice(&q.to_le_bytes());
    }
    h[344..348].copy_from_slice(b"n+1\0");
    h
}

#[test]
fn four_d_nifti_keeps_its_grid_and_geometry() {
    let (nx, ny, nz, nt) = (4usize, 3usize, 2usize, 5usize);
    // 90 degrees about z: quaternion (b, c, d) = (0, 0, sin 45), offsets (10, 20, 30).
    let s = std::f32::consts::FRAC_1_SQRT_2;
    let mut bytes = header(
        [nx as i16, ny as i16, nz as i16, nt as i16],
        [1.5, 2.0, 8.0, 0.04],
        [0.0, 0.0, s, 10.0, 20.0, 30.0],
    );
    let voxels: Vec<f32> = (0..nx * ny * nz * nt).map(|i| i as f32 * 0.25).collect();
    voxels
        .iter()
        .for_each(|v| bytes.extend_from_slice(&v.to_le_bytes()));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cine.nii");
    std::fs::write(&path, &bytes).unwrap();

    let l = load_study(&path, &LoadOptions::default()).unwrap();
    let c = &l.study.cine;
    let d = c.dims();
    assert_eq!((d.phases, d.slices, d.rows, d.columns), (nt, nz, ny, nx));
    // Stored order is (phase, slice, row, column) = (t, k, j, i): no reordering.
    assert_eq!(c.data(), voxels.as_slice());
    let g = &c.geometry;
    assert!(
        (g.pixel_spacing_mm[0] - 2.0).abs() < 1e-6 && (g.pixel_spacing_mm[1] - 1.5).abs() < 1e-6
    );
    // RAS i-axis (0, 1, 0) is LPS (0, -1, 0); RAS j-axis (-1, 0, 0) is LPS (1, 0, 0).
    let close = |a: [f64; 3], b: [f64; 3]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6);
    assert!(
        close(g.row_direction, [0.0, -1.0, 0.0]),
        "{:?}",
        g.row_direction
    );
    assert!(
        close(g.column_direction, [1.0, 0.0, 0.0]),
        "{:?}",
        g.column_direction
    );
    assert!(close(g.slice_positions_mm[0], [-10.0, -20.0, 30.0]));
    assert!(close(g.slice_positions_mm[1], [-10.0, -20.0, 38.0]));
    assert!((g.slice_spacing_mm().unwrap() - 8.0).abs() < 1e-6);
    // pixdim[4] = 0.04 s per volume.
    let t: Vec<f64> = c
        .trigger_times_ms()
        .into_iter()
        .map(|t| t.unwrap())
        .collect();
    assert!(
        t.iter()
            .enumerate()
            .all(|(i, v)| (v - 40.0 * i as f64).abs() < 1e-3),
        "{t:?}"
    );
    assert_eq!(l.study.images.len(), nt * nz);
}

#[test]
fn truncated_nifti_is_a_clear_error() {
    let mut bytes = header([4, 3, 2, 1], [1.0, 1.0, 1.0, 0.0], [0.0; 6]);
    bytes.extend_from_slice(&[0u8; 40]); // 24 floats needed, 10 given
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short.nii.gz");
    std::fs::write(&path, &bytes).unwrap();
    let e = load_study(&path, &LoadOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("short.nii.gz") && e.contains("bytes"), "{e}");
}

#[test]
fn labels_written_back_line_up_voxel_for_voxel_with_the_input() {
    let dir = common::shared_data().join("acdc/training/patient001");
    let img = dir.join("patient001_frame01.nii.gz");
    let gt = dir.join("patient001_frame01_gt.nii.gz");
    let opts = LoadOptions {
        labels: Some(gt.clone()),
        label_order: systole::study::LabelOrder::Acdc,
        ..Default::default()
    };
    let l = load_study(&img, &opts).unwrap();
    let out = tempfile::tempdir().unwrap();
    let written = out.path().join("labels.nii.gz");
    let labels = l.study.reference_labels.as_ref().unwrap();
    systole::io::write_labels(
        &written,
        &l.study.cine,
        labels,
        systole::study::LabelOrder::Acdc,
    )
    .unwrap();
    let (a, b) = (
        systole::io::nifti::read(&gt).unwrap(),
        systole::io::nifti::read(&written).unwrap(),
    );
    assert_eq!(a.dims, b.dims);
    assert_eq!(a.data, b.data, "voxels differ");
    for r in 0..3 {
        for c in 0..4 {
            assert!(
                (a.affine_ras[r][c] - b.affine_ras[r][c]).abs() < 1e-4,
                "affine {r},{c}: {:?} vs {:?}",
                a.affine_ras,
                b.affine_ras
            );
        }
    }
    // Systole order on disk differs from ACDC's exactly by the LV/RV swap.
    let sys = out.path().join("labels_systole.nii");
    systole::io::write_labels(
        &sys,
        &l.study.cine,
        labels,
        systole::study::LabelOrder::Systole,
    )
    .unwrap();
    let c = systole::io::nifti::read(&sys).unwrap();
    assert!(a.data.iter().zip(&c.data).all(|(x, y)| (*x as u8, *y as u8)
        == match *x as u8 {
            1 => (1, 3),
            3 => (3, 1),
            v => (v, v),
        }));
}
