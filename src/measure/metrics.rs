//! Segmentation metrics: Dice, 3-D Hausdorff distance on the physical grid (the ACDC
//! challenge's definition), and the 2-D per-slice contour distances of Bai et al. 2018.
//!
//! Empty masks: Dice of two empty masks is 1 (they agree), of one empty mask 0; a
//! distance involving an empty mask is `None` (null in JSON), two empty ones give 0.

use serde::Serialize;

/// Dice overlap of `label` between two label volumes of the same shape.
pub fn dice(a: &[u8], b: &[u8], label: u8) -> f64 {
    let (mut na, mut nb, mut both) = (0u64, 0u64, 0u64);
    for (&x, &y) in a.iter().zip(b) {
        let (ia, ib) = (x == label, y == label);
        na += ia as u64;
        nb += ib as u64;
        both += (ia && ib) as u64;
    }
    if na + nb == 0 {
        1.0
    } else {
        2.0 * both as f64 / (na + nb) as f64
    }
}

/// Squared Euclidean distance transform along one line (Felzenszwalb and Huttenlocher,
/// Theory of Computing 8:415, 2012), with samples `step` mm apart.
fn edt_line(f: &mut [f64], step: f64, v: &mut Vec<usize>, z: &mut Vec<f64>, out: &mut Vec<f64>) {
    let n = f.len();
    v.clear();
    z.clear();
    out.clear();
    let x = |i: usize| i as f64 * step;
    for q in 0..n {
        if !f[q].is_finite() {
            continue;
        }
        while let Some(&p) = v.last() {
            let s = ((f[q] + x(q) * x(q)) - (f[p] + x(p) * x(p))) / (2.0 * (x(q) - x(p)));
            if z.last().is_some_and(|&zl| s <= zl) {
                v.pop();
                z.pop();
            } else {
                v.push(q);
                z.push(s);
                break;
            }
        }
        if v.is_empty() {
            v.push(q);
            z.push(f64::NEG_INFINITY);
        }
    }
    if v.is_empty() {
        return;
    }
    let mut k = 0;
    for q in 0..n {
        while k + 1 < v.len() && z[k + 1] < x(q) {
            k += 1;
        }
        let d = x(q) - x(v[k]);
        out.push(d * d + f[v[k]]);
    }
    f.copy_from_slice(out);
}

/// Distances (mm) from every voxel of a (nz, ny, nx) grid to the nearest `feature` voxel.
fn distance_map(feature: &[bool], shape: [usize; 3], spacing_mm: [f64; 3]) -> Vec<f64> {
    let [nz, ny, nx] = shape;
    let mut f: Vec<f64> = feature
        .iter()
        .map(|&b| if b { 0.0 } else { f64::INFINITY })
        .collect();
    let (mut v, mut z, mut out, mut line) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut pass = |f: &mut Vec<f64>, len: usize, stride: usize, starts: Vec<usize>, step: f64| {
        for s in starts {
            line.clear();
            line.extend((0..len).map(|i| f[s + i * stride]));
            edt_line(&mut line, step, &mut v, &mut z, &mut out);
            for (i, val) in line.iter().enumerate() {
                f[s + i * stride] = *val;
            }
        }
    };
    let x_starts = (0..nz * ny).map(|i| i * nx).collect();
    pass(&mut f, nx, 1, x_starts, spacing_mm[2]);
    let y_starts = (0..nz)
        .flat_map(|k| (0..nx).map(move |i| k * ny * nx + i))
        .collect();
    pass(&mut f, ny, nx, y_starts, spacing_mm[1]);
    let z_starts = (0..ny * nx).collect();
    pass(&mut f, nz, ny * nx, z_starts, spacing_mm[0]);
    f.iter().map(|d| d.sqrt()).collect()
}

/// Voxels of the mask with a face neighbour outside it (the grid's edge counts as outside).
fn surface(mask: &[bool], shape: [usize; 3]) -> Vec<bool> {
    let [nz, ny, nx] = shape;
    let at = |k: usize, j: usize, i: usize| mask[(k * ny + j) * nx + i];
    let mut s = vec![false; mask.len()];
    for k in 0..nz {
        for j in 0..ny {
            for i in 0..nx {
                if !at(k, j, i) {
                    continue;
                }
                let inside = |dk: isize, dj: isize, di: isize| {
                    let (kk, jj, ii) = (k as isize + dk, j as isize + dj, i as isize + di);
                    kk >= 0
                        && jj >= 0
                        && ii >= 0
                        && (kk as usize) < nz
                        && (jj as usize) < ny
                        && (ii as usize) < nx
                        && at(kk as usize, jj as usize, ii as usize)
                };
                let all = inside(-1, 0, 0)
                    && inside(1, 0, 0)
                    && inside(0, -1, 0)
                    && inside(0, 1, 0)
                    && inside(0, 0, -1)
                    && inside(0, 0, 1);
                s[(k * ny + j) * nx + i] = !all;
            }
        }
    }
    s
}

/// Largest distance from a surface voxel of `a` to the surface of `b`, and the mean.
fn directed(a: &[bool], b_distance: &[f64]) -> (f64, f64, usize) {
    let (mut max, mut sum, mut n) = (0.0f64, 0.0, 0usize);
    for (&on, &d) in a.iter().zip(b_distance) {
        if on {
            max = max.max(d);
            sum += d;
            n += 1;
        }
    }
    (max, sum, n)
}

/// Symmetric (Hausdorff, mean surface distance) between the surfaces of two masks.
fn surface_distances(
    a: &[bool],
    b: &[bool],
    shape: [usize; 3],
    spacing_mm: [f64; 3],
) -> Option<(f64, f64)> {
    let (na, nb) = (a.iter().any(|v| *v), b.iter().any(|v| *v));
    match (na, nb) {
        (false, false) => return Some((0.0, 0.0)),
        (true, true) => {}
        _ => return None,
    }
    let (sa, sb) = (surface(a, shape), surface(b, shape));
    let (da, db) = (
        distance_map(&sa, shape, spacing_mm),
        distance_map(&sb, shape, spacing_mm),
    );
    let (hab, sab, nab) = directed(&sa, &db);
    let (hba, sba, nba) = directed(&sb, &da);
    let mean = 0.5 * (sab / nab.max(1) as f64 + sba / nba.max(1) as f64);
    Some((hab.max(hba), mean))
}

/// 3-D Hausdorff distance (mm) of `label` between two label volumes shaped
/// (slices, rows, columns) with spacing (slice, row, column) in mm.
pub fn hausdorff_3d_mm(
    a: &[u8],
    b: &[u8],
    label: u8,
    shape: [usize; 3],
    spacing_mm: [f64; 3],
) -> Option<f64> {
    let ma: Vec<bool> = a.iter().map(|v| *v == label).collect();
    let mb: Vec<bool> = b.iter().map(|v| *v == label).collect();
    surface_distances(&ma, &mb, shape, spacing_mm).map(|(h, _)| h)
}

/// Bai et al.'s 2-D metrics, averaged over the slices where both masks hold the label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SliceDistances {
    pub mean_contour_distance_mm: Option<f64>,
    pub hausdorff_mm: Option<f64>,
    /// Slices compared.
    pub slices: usize,
}

/// Per-slice contour distances of `label` (volumes shaped (slices, rows, columns)).
pub fn slice_distances_2d(
    a: &[u8],
    b: &[u8],
    label: u8,
    shape: [usize; 3],
    pixel_spacing_mm: [f64; 2],
) -> SliceDistances {
    let [nz, ny, nx] = shape;
    let n = ny * nx;
    let (mut mcd, mut hd, mut k) = (0.0, 0.0, 0usize);
    for z in 0..nz {
        let ma: Vec<bool> = a[z * n..(z + 1) * n].iter().map(|v| *v == label).collect();
        let mb: Vec<bool> = b[z * n..(z + 1) * n].iter().map(|v| *v == label).collect();
        if !ma.iter().any(|v| *v) || !mb.iter().any(|v| *v) {
            continue;
        }
        let sp = [1.0, pixel_spacing_mm[0], pixel_spacing_mm[1]];
        if let Some((h, m)) = surface_distances(&ma, &mb, [1, ny, nx], sp) {
            hd += h;
            mcd += m;
            k += 1;
        }
    }
    let avg = |s: f64| (k > 0).then(|| s / k as f64);
    SliceDistances {
        mean_contour_distance_mm: avg(mcd),
        hausdorff_mm: avg(hd),
        slices: k,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dice_by_hand() {
        assert_eq!(dice(&[1, 1, 0, 0], &[1, 0, 1, 0], 1), 0.5);
        assert_eq!(dice(&[0, 0], &[0, 0], 1), 1.0);
        assert_eq!(dice(&[1, 0], &[0, 1], 1), 0.0);
        assert_eq!(dice(&[1, 0], &[0, 0], 1), 0.0);
    }

    #[test]
    fn edt_matches_brute_force_with_anisotropic_spacing() {
        let shape = [3, 5, 7];
        let sp = [4.0, 1.5, 1.0];
        let mut feat = vec![false; 105];
        for i in [3usize, 40, 77, 101] {
            feat[i] = true;
        }
        let d = distance_map(&feat, shape, sp);
        for (idx, got) in d.iter().enumerate() {
            let (k, j, i) = (idx / 35, (idx / 7) % 5, idx % 7);
            let brute = feat
                .iter()
                .enumerate()
                .filter(|(_, f)| **f)
                .map(|(f, _)| {
                    let (fk, fj, fi) = (f / 35, (f / 7) % 5, f % 7);
                    let dz = (k as f64 - fk as f64) * sp[0];
                    let dy = (j as f64 - fj as f64) * sp[1];
                    let dx = (i as f64 - fi as f64) * sp[2];
                    (dz * dz + dy * dy + dx * dx).sqrt()
                })
                .fold(f64::INFINITY, f64::min);
            assert!((got - brute).abs() < 1e-9, "voxel {idx}: {got} vs {brute}");
        }
    }

    #[test]
    fn hausdorff_of_shifted_boxes_by_hand() {
        // One slice, 1 x 10 x 10, a 4 x 4 box and the same box shifted 3 columns.
        let shape = [1, 10, 10];
        let mut a = vec![0u8; 100];
        let mut b = vec![0u8; 100];
        for j in 2..6 {
            for i in 1..5 {
                a[j * 10 + i] = 1;
                b[j * 10 + i + 3] = 1;
            }
        }
        // Column spacing 2 mm: surfaces are 3 columns apart at the far sides = 6 mm.
        assert_eq!(
            hausdorff_3d_mm(&a, &b, 1, shape, [8.0, 1.0, 2.0]),
            Some(6.0)
        );
        assert_eq!(
            hausdorff_3d_mm(&a, &a, 1, shape, [8.0, 1.0, 2.0]),
            Some(0.0)
        );
        assert_eq!(
            hausdorff_3d_mm(&a, &[0; 100], 1, shape, [8.0, 1.0, 2.0]),
            None
        );
        assert_eq!(
            hausdorff_3d_mm(&[0; 100], &[0; 100], 1, shape, [8.0, 1.0, 2.0]),
            Some(0.0)
        );
        let s = slice_distances_2d(&a, &b, 1, shape, [1.0, 2.0]);
        assert_eq!((s.slices, s.hausdorff_mm), (1, Some(6.0)));
        assert!(
            s.mean_contour_distance_mm
                .is_some_and(|m| m > 0.0 && m < 6.0)
        );
        let e = slice_distances_2d(&a, &[0; 100], 1, shape, [1.0, 2.0]);
        assert_eq!((e.slices, e.hausdorff_mm), (0, None));
    }
}
