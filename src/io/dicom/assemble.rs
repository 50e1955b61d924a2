//! From loose frame headers to an ordered (slice, phase) grid: pure logic, no I/O.
//!
//! Slices are ordered by their position projected on the slice normal (never by
//! SliceLocation, which Sunnybrook gets wrong); phases by TriggerTime, then
//! InstanceNumber, then frame index.

use super::header::{FileHeader, FrameInfo};
use crate::io::Skipped;
use crate::study::geometry::{cross, dot, normalize};
use std::collections::HashMap;

/// Frames closer than this along the normal share a slice position (mm).
const SAME_POSITION_MM: f64 = 0.1;

/// A frame of a file: (index into the header list, index into its frames).
pub type FrameRef = (usize, usize);

/// A series laid out as slices x phases.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `grid[slice][phase]`, slices in increasing distance along the normal.
    pub grid: Vec<Vec<FrameRef>>,
    /// Row direction, then column direction.
    pub orientation: [f64; 6],
    pub rows: usize,
    pub columns: usize,
    /// Frames of the series that do not fit the grid, with the reason.
    pub dropped: Vec<Skipped>,
    /// Slice positions left out of the grid, one sentence each for the study's warnings.
    pub left_out: Vec<String>,
}

impl Layout {
    pub fn slices(&self) -> usize {
        self.grid.len()
    }
    pub fn phases(&self) -> usize {
        self.grid.first().map_or(0, Vec::len)
    }
    pub fn normal(&self) -> [f64; 3] {
        let o = self.orientation;
        normalize(cross([o[0], o[1], o[2]], [o[3], o[4], o[5]])).unwrap_or([0.0, 0.0, 1.0])
    }
}

fn frame(headers: &[FileHeader], r: FrameRef) -> &FrameInfo {
    &headers[r.0].frames[r.1]
}

fn drop_reason(headers: &[FileHeader], r: FrameRef, reason: impl Into<String>) -> Skipped {
    let h = &headers[r.0];
    let reason = reason.into();
    let reason = if h.frames.len() > 1 {
        format!("frame {}: {reason}", r.1)
    } else {
        reason
    };
    Skipped {
        path: h.path.clone(),
        reason,
    }
}

/// Lays out the frames of one series. Errors when nothing usable remains.
pub fn layout(headers: &[FileHeader], members: &[FrameRef]) -> Result<Layout, String> {
    layout_with(headers, members, false)
}

/// [`layout`]; with `parallel` the frames are known to lie in parallel planes (a stack
/// assembled from several series, whose orientations may differ in the last digits), so
/// only the image size must agree.
pub fn layout_with(
    headers: &[FileHeader],
    members: &[FrameRef],
    parallel: bool,
) -> Result<Layout, String> {
    let mut dropped = Vec::new();
    // 1. Frames without geometry cannot be placed.
    let placed: Vec<FrameRef> = members
        .iter()
        .copied()
        .filter(|&r| {
            let f = frame(headers, r);
            let ok = f.position.is_some()
                && f.orientation.is_some_and(|o| {
                    normalize([o[0], o[1], o[2]]).is_some()
                        && normalize([o[3], o[4], o[5]]).is_some()
                });
            if !ok {
                dropped.push(drop_reason(
                    headers,
                    r,
                    "no usable ImagePositionPatient/ImageOrientationPatient",
                ));
            }
            ok
        })
        .collect();
    // 2. Keep the most common (size, orientation); a series may hold a stray localiser.
    let key = |r: FrameRef| {
        let o = frame(headers, r).orientation.unwrap_or_default();
        let h = &headers[r.0];
        let o = if parallel { [0.0; 6] } else { o };
        (h.rows, h.columns, o.map(|v| (v * 1000.0).round() as i64))
    };
    let mut counts: HashMap<_, usize> = HashMap::new();
    for &r in &placed {
        *counts.entry(key(r)).or_default() += 1;
    }
    let Some(main) = counts
        .iter()
        .max_by_key(|(k, n)| (**n, std::cmp::Reverse(**k)))
        .map(|(k, _)| *k)
    else {
        return Err("no frame with usable geometry".into());
    };
    let mut kept = Vec::with_capacity(placed.len());
    for r in placed {
        if key(r) == main {
            kept.push(r);
        } else {
            dropped.push(drop_reason(
                headers,
                r,
                "size or orientation differs from the rest of the series",
            ));
        }
    }
    let orientation = frame(headers, kept[0]).orientation.unwrap_or_default();
    let normal = normalize(cross(
        [orientation[0], orientation[1], orientation[2]],
        [orientation[3], orientation[4], orientation[5]],
    ))
    .unwrap_or([0.0, 0.0, 1.0]);
    let distance = |r: FrameRef| dot(frame(headers, r).position.unwrap_or_default(), normal);
    // 3. Group by position along the normal.
    kept.sort_by(|&a, &b| distance(a).total_cmp(&distance(b)));
    let mut groups: Vec<Vec<FrameRef>> = Vec::new();
    let mut last = f64::NEG_INFINITY;
    for r in kept {
        let d = distance(r);
        match groups.last_mut() {
            Some(g) if d - last <= SAME_POSITION_MM => g.push(r),
            _ => groups.push(vec![r]),
        }
        last = d;
    }
    // 4. Order phases within each position.
    for g in &mut groups {
        g.sort_by(|&a, &b| {
            let (fa, fb) = (frame(headers, a), frame(headers, b));
            let t = |f: &FrameInfo| f.trigger_time_ms.unwrap_or(f64::INFINITY);
            t(fa)
                .total_cmp(&t(fb))
                .then(
                    headers[a.0]
                        .instance_number
                        .cmp(&headers[b.0].instance_number),
                )
                .then(a.1.cmp(&b.1))
                .then(headers[a.0].path.cmp(&headers[b.0].path))
        });
    }
    // 5. The phase count is the most common group size (ties: the larger); positions with
    //    another count (a repeated or aborted acquisition) are left out, with a reason.
    let mut sizes: HashMap<usize, usize> = HashMap::new();
    for g in &groups {
        *sizes.entry(g.len()).or_default() += 1;
    }
    let phases = sizes
        .iter()
        .max_by_key(|(size, n)| (**n, **size))
        .map_or(0, |(s, _)| *s);
    let mut grid = Vec::with_capacity(groups.len());
    let mut odd = Vec::new();
    for g in groups {
        if g.len() == phases {
            grid.push(g);
        } else {
            let d = distance(g[0]);
            for r in g.iter() {
                let why = format!(
                    "the slice at {d:.2} mm has {} images while the cine has {phases} phases",
                    g.len()
                );
                dropped.push(drop_reason(headers, *r, why));
            }
            odd.push((d, g.len()));
        }
    }
    // Say which slices are missing and what that does to the numbers.
    let kept: Vec<f64> = grid.iter().map(|g| distance(g[0])).collect();
    let (lo, hi) = (
        kept.first().copied().unwrap_or(0.0),
        kept.last().copied().unwrap_or(0.0),
    );
    let left_out = odd
        .into_iter()
        .map(|(d, n)| {
            let effect = if d > lo && d < hi {
                "it lies between kept slices, so volumes and mass miss that slice and are too small"
            } else {
                "it lies beyond the kept slices, so volumes miss whatever it would have held"
            };
            format!("slice at {d:.1} mm left out: {n} images where the cine has {phases} phases (a missing, unreadable or extra file); {effect}")
        })
        .collect();
    let (rows, columns) = (main.0, main.1);
    Ok(Layout {
        grid,
        orientation,
        rows,
        columns,
        dropped,
        left_out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::Arc;

    fn header(i: usize, pos: [f64; 3], t: f64, instance: i32) -> FileHeader {
        FileHeader {
            path: PathBuf::from(format!("f{i}")),
            series_uid: "1.2".into(),
            series_number: None,
            series_description: None,
            image_type: None,
            instance_number: Some(instance),
            sop_instance_uid: Some(format!("1.2.{i}")),
            frame_of_reference_uid: None,
            acquisition_time: None,
            rows: 4,
            columns: 4,
            frames: vec![FrameInfo {
                frame: 0,
                position: Some(pos),
                orientation: Some([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]),
                pixel_spacing: Some([1.0, 1.0]),
                slice_thickness: None,
                trigger_time_ms: Some(t),
                rescale: (1.0, 0.0),
            }],
            meta: Arc::default(),
        }
    }

    #[test]
    fn orders_by_position_and_time_and_drops_odd_slices() {
        // 3 slices x 2 phases given in scrambled order, plus a slice with only one phase.
        let spec = [
            (2.0, 40.0),
            (0.0, 0.0),
            (1.0, 40.0),
            (2.0, 0.0),
            (0.0, 40.0),
            (1.0, 0.0),
            (9.0, 0.0),
        ];
        let headers: Vec<FileHeader> = spec
            .iter()
            .enumerate()
            .map(|(i, (z, t))| header(i, [0.0, 0.0, *z * 10.0], *t, i as i32))
            .collect();
        let members: Vec<FrameRef> = (0..headers.len()).map(|i| (i, 0)).collect();
        let l = layout(&headers, &members).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((l.slices(), l.phases()), (3, 2));
        let order: Vec<Vec<usize>> = l
            .grid
            .iter()
            .map(|g| g.iter().map(|r| r.0).collect())
            .collect();
        assert_eq!(order, vec![vec![1, 4], vec![5, 2], vec![3, 0]]);
        assert_eq!(l.dropped.len(), 1);
        assert_eq!(l.dropped[0].path, PathBuf::from("f6"));
    }

    #[test]
    fn frames_without_geometry_are_dropped() {
        let mut h = header(0, [0.0; 3], 0.0, 1);
        h.frames[0].position = None;
        let e = layout(&[h], &[(0, 0)]);
        assert!(e.is_err());
    }
}
