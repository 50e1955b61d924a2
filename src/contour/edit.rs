//! Contour edits as pure functions: polygon in, polygon out (pixel coordinates
//! (column, row)). The viewer applies them through [`super::history`] so they can be undone.

use super::trace::{contour_of, quantise, segment_distance, smooth, tidy};
use super::{Polygon, fill};

/// Longest edge (pixels) kept after a drag; longer edges get midpoints so that the next
/// drag bends the contour smoothly instead of moving a long straight edge.
const MAX_EDGE_PX: f64 = 2.0;

/// Smooth falloff of a drag: 1 at the centre, 0 at `radius` and beyond, zero slope at both.
pub fn falloff(distance: f64, radius: f64) -> f64 {
    if radius <= 0.0 || distance >= radius {
        return 0.0;
    }
    let t = distance / radius;
    (1.0 - t * t).powi(2)
}

/// Moves the vertices near `at` by `delta`, each weighted by [`falloff`] of its distance;
/// edges that grow longer than 2 px are split first so the bend stays smooth.
pub fn nudge(poly: &[[f64; 2]], at: [f64; 2], delta: [f64; 2], radius: f64) -> Polygon {
    let dense = densify(poly, MAX_EDGE_PX);
    dense
        .iter()
        .map(|&p| {
            let w = falloff(
                ((p[0] - at[0]).powi(2) + (p[1] - at[1]).powi(2)).sqrt(),
                radius,
            );
            quantise([p[0] + w * delta[0], p[1] + w * delta[1]])
        })
        .collect()
}

/// Inserts evenly spaced points so that no edge is longer than `max_edge`.
pub fn densify(poly: &[[f64; 2]], max_edge: f64) -> Polygon {
    let n = poly.len();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + 1) % n]);
        out.push(a);
        let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
        let pieces = (len / max_edge).ceil() as usize;
        for k in 1..pieces.min(10_000) {
            let t = k as f64 / pieces as f64;
            out.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]);
        }
    }
    out
}

/// A contour from points the user placed (click by click, or a freehand stroke): closed,
/// lightly smoothed when dense (freehand), simplified. `None` for fewer than 3 distinct
/// points or a stroke that encloses no area.
pub fn from_points(points: &[[f64; 2]]) -> Option<Polygon> {
    let mut pts: Vec<[f64; 2]> = Vec::with_capacity(points.len());
    for &p in points {
        if p.iter().all(|v| v.is_finite())
            && pts
                .last()
                .is_none_or(|q: &[f64; 2]| (q[0] - p[0]).abs() + (q[1] - p[1]).abs() > 0.05)
        {
            pts.push(p);
        }
    }
    if pts.len() < 3 || super::area(&pts) < 1.0 {
        return None;
    }
    let passes = if pts.len() > 20 { 2 } else { 0 };
    let p = tidy(&pts, passes);
    (p.len() >= 3).then_some(p)
}

/// Adds (`add`) or erases a disc of `radius` pixels at `at` to the region inside `poly`
/// (absent: empty) and returns the new contour of the largest region; `None` if nothing
/// is left. Works on the pixel grid of a `rows` x `columns` image, like clinical brushes.
pub fn brush(
    poly: Option<&[[f64; 2]]>,
    at: [f64; 2],
    radius: f64,
    add: bool,
    rows: usize,
    columns: usize,
) -> Option<Polygon> {
    let mut mask = match poly {
        Some(p) => fill(p, rows, columns),
        None => vec![false; rows * columns],
    };
    let r2 = radius * radius;
    for (i, m) in mask.iter_mut().enumerate() {
        let (c, r) = ((i % columns) as f64, (i / columns) as f64);
        if (c - at[0]).powi(2) + (r - at[1]).powi(2) <= r2 {
            *m = add;
        }
    }
    contour_of(&mask, columns)
}

/// Paints (`add`) or erases a disc of `radius` pixels at `at` into a pixel mask of an
/// image `columns` wide. A brush stroke accumulates its discs in one mask and traces the
/// contour from it, so the contour is never re-traced from its own smoothed self.
pub fn paint_disc(mask: &mut [bool], columns: usize, at: [f64; 2], radius: f64, add: bool) {
    if columns == 0 || !at.iter().all(|v| v.is_finite()) {
        return;
    }
    let rows = mask.len() / columns;
    let r = radius.max(0.0);
    let r0 = ((at[1] - r).floor().max(0.0) as usize).min(rows);
    let r1 = ((at[1] + r).ceil().max(0.0) as usize + 1).min(rows);
    let c0 = ((at[0] - r).floor().max(0.0) as usize).min(columns);
    let c1 = ((at[0] + r).ceil().max(0.0) as usize + 1).min(columns);
    for row in r0..r1 {
        for col in c0..c1 {
            if (col as f64 - at[0]).powi(2) + (row as f64 - at[1]).powi(2) <= r * r {
                mask[row * columns + col] = add;
            }
        }
    }
}

/// Keeps `poly` inside `outer` (an LV endocardium inside its epicardium) when
/// `inside`, or outside it (an RV contour off the LV myocardium) otherwise. Returns `None`
/// when nothing needs to change (no pixel of `poly` breaks the rule), else the contour
/// of what remains (`Some(None)`: nothing remains).
pub fn constrain(
    poly: &[[f64; 2]],
    outer: &[[f64; 2]],
    inside: bool,
    rows: usize,
    columns: usize,
) -> Option<Option<Polygon>> {
    let (a, b) = (fill(poly, rows, columns), fill(outer, rows, columns));
    let breaks = |x: bool, y: bool| x && (y != inside);
    if !a.iter().zip(&b).any(|(&x, &y)| breaks(x, y)) {
        return None;
    }
    let kept: Vec<bool> = a
        .iter()
        .zip(&b)
        .map(|(&x, &y)| x && !breaks(x, y))
        .collect();
    Some(contour_of(&kept, columns))
}

/// Distance from `p` to the nearest edge of the closed polygon.
pub fn distance_to(poly: &[[f64; 2]], p: [f64; 2]) -> f64 {
    let n = poly.len();
    (0..n)
        .map(|i| segment_distance(p, poly[i], poly[(i + 1) % n]))
        .fold(f64::INFINITY, f64::min)
}

/// A lightly re-smoothed copy (used after many nudges leave kinks).
pub fn relax(poly: &[[f64; 2]]) -> Polygon {
    smooth(poly, 1).into_iter().map(quantise).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::contour::area;

    fn circle(cx: f64, cy: f64, r: f64, n: usize) -> Polygon {
        (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                [cx + r * a.cos(), cy + r * a.sin()]
            })
            .collect()
    }

    #[test]
    fn falloff_is_one_at_the_centre_and_zero_at_the_radius() {
        assert_eq!(falloff(0.0, 5.0), 1.0);
        assert_eq!(falloff(5.0, 5.0), 0.0);
        assert_eq!(falloff(7.0, 5.0), 0.0);
        assert!((falloff(2.5, 5.0) - 0.5625).abs() < 1e-12);
        assert_eq!(falloff(1.0, 0.0), 0.0);
    }

    #[test]
    fn nudging_outwards_grows_the_area_and_leaves_far_points() {
        let c = circle(20.0, 20.0, 8.0, 40);
        let moved = nudge(&c, [28.0, 20.0], [3.0, 0.0], 5.0);
        assert!(area(&moved) > area(&c) + 5.0);
        // The far side (x = 12) does not move.
        assert!(
            moved
                .iter()
                .any(|p| (p[0] - 12.0).abs() < 1e-9 && (p[1] - 20.0).abs() < 1e-9)
        );
        // The point under the cursor moves by the full delta.
        assert!(
            moved
                .iter()
                .any(|p| (p[0] - 31.0).abs() < 1e-9 && (p[1] - 20.0).abs() < 1e-9)
        );
    }

    #[test]
    fn a_long_nudge_drag_makes_a_smooth_bulge_not_a_spike() {
        // Twenty small moves of 0.5 px, each applied to the contour at the drag's start
        // with the whole displacement so far (as the viewer does): the result is the
        // falloff-shaped bulge of one 10 px move, with no vertex pulled beyond it.
        let c = circle(30.0, 30.0, 10.0, 60);
        let at = [40.0, 30.0];
        let mut moved = c.clone();
        for k in 1..=20 {
            moved = nudge(&c, at, [0.5 * k as f64, 0.0], 8.0);
        }
        let once = nudge(&c, at, [10.0, 0.0], 8.0);
        assert_eq!(moved, once);
        let tip = moved.iter().map(|p| p[0]).fold(f64::MIN, f64::max);
        assert!((tip - 50.0).abs() < 1e-9, "{tip}");
        // Halfway out the radius the bulge still carries most of the move (falloff 0.5625
        // at 4 px): a bulge, not a spike.
        let near = moved
            .iter()
            .filter(|p| (p[1] - 26.0).abs() < 0.6 && p[0] > 35.0)
            .map(|p| p[0])
            .fold(f64::MIN, f64::max);
        assert!(near > 41.0, "{near}");
    }

    #[test]
    fn painting_and_erasing_discs_in_a_mask() {
        let mut m = vec![false; 20 * 20];
        paint_disc(&mut m, 20, [10.0, 10.0], 3.0, true);
        // 29 pixel centres lie within 3 px of (10, 10).
        assert_eq!(m.iter().filter(|v| **v).count(), 29);
        paint_disc(&mut m, 20, [10.0, 10.0], 1.0, false);
        assert_eq!(m.iter().filter(|v| **v).count(), 24);
        paint_disc(&mut m, 20, [-50.0, 400.0], 3.0, true);
        paint_disc(&mut m, 20, [f64::NAN, 1.0], 3.0, true);
        assert_eq!(
            m.iter().filter(|v| **v).count(),
            24,
            "off the image or not a number: nothing"
        );
    }

    #[test]
    fn an_endocardium_is_kept_inside_the_epicardium_and_the_rv_outside_it() {
        let epi = circle(30.0, 30.0, 12.0, 80);
        let endo_ok = circle(30.0, 30.0, 8.0, 60);
        assert_eq!(
            constrain(&endo_ok, &epi, true, 60, 60),
            None,
            "inside already: unchanged"
        );
        let endo_out = circle(38.0, 30.0, 8.0, 60);
        let clipped = constrain(&endo_out, &epi, true, 60, 60).unwrap().unwrap();
        let (c, e) = (fill(&clipped, 60, 60), fill(&epi, 60, 60));
        assert!(
            c.iter().zip(&e).all(|(&x, &y)| !x || y),
            "no pixel outside the epicardium"
        );
        assert!(area(&clipped) > 100.0);
        let rv = circle(48.0, 30.0, 10.0, 60);
        let off = constrain(&rv, &epi, false, 60, 60).unwrap().unwrap();
        assert!(
            fill(&off, 60, 60).iter().zip(&e).all(|(&x, &y)| !(x && y)),
            "RV off the LV"
        );
    }

    #[test]
    fn densify_caps_edge_length() {
        let sq = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        let d = densify(&sq, 2.0);
        assert_eq!(d.len(), 20);
        assert!((area(&d) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn drawing_needs_three_points_and_some_area() {
        assert!(from_points(&[[0.0, 0.0], [5.0, 0.0]]).is_none());
        assert!(from_points(&[[0.0, 0.0], [5.0, 0.0], [10.0, 0.0]]).is_none());
        let tri = from_points(&[[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]]).unwrap_or_default();
        assert!((area(&tri) - 50.0).abs() < 1e-9);
        let free = from_points(&circle(30.0, 30.0, 10.0, 200)).unwrap_or_default();
        assert!(free.len() < 100 && (area(&free) - 314.16).abs() < 10.0);
    }

    #[test]
    fn brushing_adds_and_erases_pixels() {
        let c = circle(20.0, 20.0, 6.0, 60);
        let before = fill(&c, 40, 40).iter().filter(|v| **v).count();
        let grown = brush(Some(&c), [26.0, 20.0], 3.0, true, 40, 40).unwrap_or_default();
        let after = fill(&grown, 40, 40).iter().filter(|v| **v).count();
        assert!(after > before + 10, "{before} -> {after}");
        let cut = brush(Some(&c), [26.0, 20.0], 3.0, false, 40, 40).unwrap_or_default();
        assert!(fill(&cut, 40, 40).iter().filter(|v| **v).count() < before);
        // Erasing everything leaves no contour; painting on nothing makes one.
        assert!(brush(Some(&c), [20.0, 20.0], 10.0, false, 40, 40).is_none());
        assert!(brush(None, [10.0, 10.0], 4.0, true, 40, 40).is_some());
        assert!(distance_to(&c, [20.0, 20.0]) > 5.5);
    }
}
