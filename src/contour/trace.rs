//! Mask -> editable contour: marching squares at the 0.5 level between pixel centres, then
//! area-preserving (Taubin) smoothing, then Douglas-Peucker simplification.
//!
//! The unsmoothed marching-squares loop passes through the midpoints between inside and
//! outside pixel centres, so filling it with [`super::fill`] (pixel-centre rule) gives the
//! mask back exactly; smoothing moves it by a fraction of a pixel, which keeps the
//! mask -> contour -> mask round trip above 0.98 IoU on real labels (tests/contour_real.rs).

use super::{Polygon, area};
use std::collections::HashMap;

/// Smoothing passes (each a shrink step and an inflate step, Taubin 1995).
const TAUBIN_PASSES: usize = 4;
const TAUBIN_LAMBDA: f64 = 0.5;
const TAUBIN_MU: f64 = -0.53;
/// Largest distance (pixels) of a dropped vertex from the simplified contour.
const SIMPLIFY_TOLERANCE_PX: f64 = 0.2;
/// Contour coordinates are kept on a 1/100-pixel grid, so that what a session file stores
/// (decimal text) is exactly what was drawn and measured.
pub const QUANTUM_PX: f64 = 0.01;
const QUANTA_PER_PX: f64 = 100.0;

/// Rounds a point to the [`QUANTUM_PX`] grid.
pub fn quantise(p: [f64; 2]) -> [f64; 2] {
    // k / 100 is the double nearest the decimal k/100, i.e. what parsing its text gives.
    [
        (p[0] * QUANTA_PER_PX).round() / QUANTA_PER_PX,
        (p[1] * QUANTA_PER_PX).round() / QUANTA_PER_PX,
    ]
}

/// Every closed boundary loop of `mask` (row-major, `columns` wide), unsmoothed, in pixel
/// coordinates. Diagonally touching inside pixels count as connected (8-connectivity).
pub fn loops(mask: &[bool], columns: usize) -> Vec<Polygon> {
    if columns == 0 || mask.len() < columns {
        return Vec::new();
    }
    let rows = mask.len() / columns;
    let Some((r0, r1, c0, c1)) = bounds(mask, rows, columns) else {
        return Vec::new();
    };
    let inside = |r: isize, c: isize| {
        r >= 0
            && c >= 0
            && (r as usize) < rows
            && (c as usize) < columns
            && mask[r as usize * columns + c as usize]
    };
    // Points are edge midpoints in doubled integer coordinates (2 * column, 2 * row).
    let mut next: HashMap<(i32, i32), [(i32, i32); 2]> = HashMap::new();
    let mut link = |p: (i32, i32), q: (i32, i32)| {
        for (a, b) in [(p, q), (q, p)] {
            let e = next.entry(a).or_insert([(i32::MIN, i32::MIN); 2]);
            if e[0].0 == i32::MIN {
                e[0] = b;
            } else {
                e[1] = b;
            }
        }
    };
    for r in r0 - 1..=r1 {
        for c in c0 - 1..=c1 {
            let (a, b, d, e) = (
                inside(r, c),
                inside(r, c + 1),
                inside(r + 1, c + 1),
                inside(r + 1, c),
            );
            let (x, y) = (2 * c as i32, 2 * r as i32);
            let top = (x + 1, y);
            let right = (x + 2, y + 1);
            let bottom = (x + 1, y + 2);
            let left = (x, y + 1);
            let mut cross = Vec::with_capacity(4);
            if a != b {
                cross.push(top);
            }
            if b != d {
                cross.push(right);
            }
            if e != d {
                cross.push(bottom);
            }
            if a != e {
                cross.push(left);
            }
            match cross.len() {
                2 => link(cross[0], cross[1]),
                4 if a => {
                    // a and d inside: cut off the outside corners b and e.
                    link(top, right);
                    link(left, bottom);
                }
                4 => {
                    link(top, left);
                    link(right, bottom);
                }
                _ => {}
            }
        }
    }
    let mut seen: HashMap<(i32, i32), bool> = HashMap::with_capacity(next.len());
    let mut starts: Vec<(i32, i32)> = next.keys().copied().collect();
    starts.sort_unstable();
    let mut out = Vec::new();
    for start in starts {
        if seen.contains_key(&start) {
            continue;
        }
        let mut poly = Vec::new();
        let (mut prev, mut cur) = ((i32::MIN, i32::MIN), start);
        loop {
            seen.insert(cur, true);
            poly.push([cur.0 as f64 / 2.0, cur.1 as f64 / 2.0]);
            let Some(n) = next.get(&cur) else { break };
            let step = if n[0] != prev { n[0] } else { n[1] };
            prev = cur;
            cur = step;
            if cur == start || seen.contains_key(&cur) || cur.0 == i32::MIN {
                break;
            }
        }
        if poly.len() >= 3 {
            out.push(poly);
        }
    }
    out
}

fn bounds(mask: &[bool], rows: usize, columns: usize) -> Option<(isize, isize, isize, isize)> {
    let (mut r0, mut r1, mut c0, mut c1) = (usize::MAX, 0, usize::MAX, 0);
    for r in 0..rows {
        for c in 0..columns {
            if mask[r * columns + c] {
                r0 = r0.min(r);
                r1 = r1.max(r);
                c0 = c0.min(c);
                c1 = c1.max(c);
            }
        }
    }
    (r0 != usize::MAX).then_some((r0 as isize, r1 as isize, c0 as isize, c1 as isize))
}

/// Taubin smoothing of a closed polygon: alternating shrink (lambda) and inflate (mu)
/// Laplacian steps, which smooth the pixel staircase without shrinking the shape.
pub fn smooth(poly: &[[f64; 2]], passes: usize) -> Polygon {
    let n = poly.len();
    let mut p = poly.to_vec();
    if n < 4 {
        return p;
    }
    let mut q = p.clone();
    for _ in 0..passes {
        for factor in [TAUBIN_LAMBDA, TAUBIN_MU] {
            for i in 0..n {
                let a = p[(i + n - 1) % n];
                let b = p[(i + 1) % n];
                for k in 0..2 {
                    q[i][k] = p[i][k] + factor * ((a[k] + b[k]) / 2.0 - p[i][k]);
                }
            }
            std::mem::swap(&mut p, &mut q);
        }
    }
    p
}

/// Douglas-Peucker simplification of a closed polygon: drops vertices closer than
/// `tolerance` to the simplified outline.
pub fn simplify(poly: &[[f64; 2]], tolerance: f64) -> Polygon {
    let n = poly.len();
    if n < 5 {
        return poly.to_vec();
    }
    // Split the loop at its two mutually farthest-apart vertices (approximately: the
    // farthest from vertex 0, then the farthest from that).
    let far = |from: usize| {
        (0..n)
            .max_by(|&i, &j| dist2(poly[from], poly[i]).total_cmp(&dist2(poly[from], poly[j])))
            .unwrap_or(0)
    };
    let a = far(0);
    let b = far(a);
    let (a, b) = (a.min(b), a.max(b));
    if a == b {
        return poly.to_vec();
    }
    let mut keep = vec![false; n];
    keep[a] = true;
    keep[b] = true;
    let first: Vec<usize> = (a..=b).collect();
    let second: Vec<usize> = (b..n).chain(0..=a).collect();
    for part in [first, second] {
        mark(poly, &part, tolerance, &mut keep);
    }
    (0..n).filter(|&i| keep[i]).map(|i| poly[i]).collect()
}

fn mark(poly: &[[f64; 2]], idx: &[usize], tolerance: f64, keep: &mut [bool]) {
    let mut stack = vec![(0usize, idx.len() - 1)];
    while let Some((s, e)) = stack.pop() {
        if e <= s + 1 {
            continue;
        }
        let (p, q) = (poly[idx[s]], poly[idx[e]]);
        let (mut best, mut at) = (-1.0, s);
        for (k, &i) in idx.iter().enumerate().take(e).skip(s + 1) {
            let d = segment_distance(poly[i], p, q);
            if d > best {
                best = d;
                at = k;
            }
        }
        if best > tolerance {
            keep[idx[at]] = true;
            stack.push((s, at));
            stack.push((at, e));
        }
    }
}

fn dist2(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

/// Distance from `p` to the segment `a`-`b`.
pub fn segment_distance(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    dist2(p, [a[0] + t * dx, a[1] + t * dy]).sqrt()
}

/// A closed smooth contour for the cleaned-up contour of a freshly traced or user-drawn
/// loop: smoothed, simplified, quantised.
pub fn tidy(poly: &[[f64; 2]], smoothing_passes: usize) -> Polygon {
    simplify(&smooth(poly, smoothing_passes), SIMPLIFY_TOLERANCE_PX)
        .into_iter()
        .map(quantise)
        .collect()
}

/// The editable contour of `mask`: the outer boundary of its largest region (by enclosed
/// area), smoothed and simplified; `None` for an empty mask. Holes and smaller regions are
/// not represented (one contour per structure and image, as in clinical CMR software).
pub fn contour_of(mask: &[bool], columns: usize) -> Option<Polygon> {
    let outer = loops(mask, columns)
        .into_iter()
        .max_by(|a, b| area(a).total_cmp(&area(b)))?;
    let p = tidy(&outer, TAUBIN_PASSES);
    (p.len() >= 3).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contour::fill;

    fn disc(rows: usize, cols: usize, cx: f64, cy: f64, r: f64) -> Vec<bool> {
        (0..rows * cols)
            .map(|i| ((i % cols) as f64 - cx).powi(2) + ((i / cols) as f64 - cy).powi(2) <= r * r)
            .collect()
    }

    #[test]
    fn unsmoothed_loops_fill_back_to_the_exact_mask() {
        // Two blobs, one touching the image border, one with a diagonal-only neighbour.
        let (rows, cols) = (20, 24);
        let mut m = disc(rows, cols, 6.0, 6.0, 4.5);
        for (r, c) in [(15, 20), (16, 21), (17, 22), (0, 23), (1, 23), (19, 0)] {
            m[r * cols + c] = true;
        }
        let ls = loops(&m, cols);
        let mut back = vec![false; rows * cols];
        for l in &ls {
            for (b, v) in back.iter_mut().zip(fill(l, rows, cols)) {
                *b ^= v;
            }
        }
        assert_eq!(back, m);
    }

    #[test]
    fn a_single_pixel_is_a_diamond_and_a_block_loses_its_corners() {
        let mut m = vec![false; 25];
        m[12] = true;
        let ls = loops(&m, 5);
        assert_eq!(ls.len(), 1);
        assert_eq!(ls[0].len(), 4);
        assert!((area(&ls[0]) - 0.5).abs() < 1e-12);
        // A 3 x 3 block: area 9 minus four corner triangles of 1/8.
        let m: Vec<bool> = (0..49)
            .map(|i| (2..5).contains(&(i % 7)) && (2..5).contains(&(i / 7)))
            .collect();
        let ls = loops(&m, 7);
        assert!((area(&ls[0]) - 8.5).abs() < 1e-12);
    }

    #[test]
    fn a_disc_contour_is_smooth_short_and_keeps_its_area() {
        let (rows, cols, rad) = (64, 64, 14.0);
        let m = disc(rows, cols, 31.3, 30.6, rad);
        let p = contour_of(&m, cols).unwrap_or_default();
        let pixels = m.iter().filter(|v| **v).count() as f64;
        assert!(
            (area(&p) - pixels).abs() / pixels < 0.02,
            "{} vs {pixels}",
            area(&p)
        );
        assert!(p.len() >= 12 && p.len() <= 60, "{} vertices", p.len());
        let back = fill(&p, rows, cols);
        let inter = back.iter().zip(&m).filter(|(a, b)| **a && **b).count() as f64;
        let union = back.iter().zip(&m).filter(|(a, b)| **a || **b).count() as f64;
        assert!(inter / union > 0.97, "IoU {}", inter / union);
        for v in &p {
            assert_eq!(quantise(*v), *v);
        }
    }

    #[test]
    fn the_largest_region_wins_and_empty_masks_have_no_contour() {
        let mut m = disc(40, 40, 10.0, 10.0, 3.0);
        for (v, w) in m.iter_mut().zip(disc(40, 40, 28.0, 28.0, 7.0)) {
            *v |= w;
        }
        let p = contour_of(&m, 40).unwrap_or_default();
        let cx = p.iter().map(|v| v[0]).sum::<f64>() / p.len() as f64;
        assert!((cx - 28.0).abs() < 1.0);
        assert!(contour_of(&[false; 16], 4).is_none());
        assert!(contour_of(&[], 0).is_none());
    }

    #[test]
    fn simplification_keeps_every_corner_of_a_square() {
        let mut sq = Vec::new();
        for i in 0..10 {
            sq.push([i as f64, 0.0]);
        }
        for i in 0..10 {
            sq.push([10.0, i as f64]);
        }
        for i in 0..10 {
            sq.push([10.0 - i as f64, 10.0]);
        }
        for i in 0..10 {
            sq.push([0.0, 10.0 - i as f64]);
        }
        let s = simplify(&sq, 0.1);
        assert_eq!(s.len(), 4);
        assert!((area(&s) - 100.0).abs() < 1e-9);
    }
}
