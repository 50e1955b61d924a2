//! Short-axis stacks split over several series: UK Biobank and many Siemens protocols store
//! each slice (one breath-hold each) as its own series. Cine series of one study (one
//! StudyInstanceUID: the patient on the table in the scanner's coordinates), in parallel
//! planes, with the same image size and pixel spacing, at distinct positions along the
//! normal form one stack. The FrameOfReferenceUID is not required to agree: GE writes a
//! new one for every breath-hold, even within one series (Sunnybrook SCD0000101 has 12,
//! one per slice). A position acquired twice is taken from
//! the later acquisition (SeriesNumber, then acquisition time); series with another phase
//! count are left out with the reason. Pure logic on headers and layouts, no I/O.

use super::assemble::{FrameRef, Layout};
use super::header::FileHeader;
use crate::io::Skipped;
use crate::study::geometry::dot;

/// Planes whose normals are closer than this angle count as parallel (degrees).
pub const PARALLEL_DEG: f64 = 2.0;
/// Slices of two series closer than this along the normal are one position (mm).
pub const SAME_POSITION_MM: f64 = 1.0;

/// One series as the assembly sees it.
pub struct SeriesInput<'a> {
    pub uid: &'a str,
    pub number: Option<i32>,
    pub layout: &'a Layout,
}

/// A stack assembled from several series.
#[derive(Debug, Clone)]
pub struct Stack {
    /// Indices into the inputs of the series used, in slice order of first use.
    pub sources: Vec<usize>,
    /// Every frame of the slices used.
    pub members: Vec<FrameRef>,
    /// Frames of the group not used, with the reason (a repeated position, another
    /// phase count).
    pub excluded: Vec<Skipped>,
}

struct Info {
    index: usize,
    study: String,
    rows: usize,
    columns: usize,
    spacing: [i64; 2],
    normal: [f64; 3],
    phases: usize,
    /// (SeriesNumber, acquisition time) for "later".
    order: (Option<i32>, Option<String>),
}

fn first_frame<'h>(headers: &'h [FileHeader], l: &Layout) -> Option<&'h FileHeader> {
    l.grid.first()?.first().map(|r| &headers[r.0])
}

/// The stacks that several of `series` form (none when every stack is one series).
pub fn stacks(headers: &[FileHeader], series: &[SeriesInput<'_>]) -> Vec<Stack> {
    let infos: Vec<Info> = series
        .iter()
        .enumerate()
        .filter(|(_, s)| s.layout.phases() >= 2 && s.layout.slices() >= 1)
        .filter_map(|(index, s)| {
            let h = first_frame(headers, s.layout)?;
            let r = s.layout.grid[0][0];
            let f = &h.frames[r.1];
            let sp = f.pixel_spacing?;
            Some(Info {
                index,
                study: h.meta.study.study_instance_uid.clone().unwrap_or_default(),
                rows: s.layout.rows,
                columns: s.layout.columns,
                spacing: sp.map(|v| (v * 1000.0).round() as i64),
                normal: s.layout.normal(),
                phases: s.layout.phases(),
                order: (h.series_number, h.acquisition_time.clone()),
            })
        })
        .collect();
    let cos = PARALLEL_DEG.to_radians().cos();
    let mut groups: Vec<Vec<&Info>> = Vec::new();
    for i in &infos {
        let fits = |g: &Vec<&Info>| {
            let a = g[0];
            a.study == i.study
                && (a.rows, a.columns, a.spacing) == (i.rows, i.columns, i.spacing)
                && dot(a.normal, i.normal).abs() >= cos
        };
        match groups.iter_mut().find(|g| fits(g)) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups
        .into_iter()
        .filter(|g| g.len() >= 2)
        .filter_map(|g| assemble(headers, series, g))
        .collect()
}

fn frames_of(headers: &[FileHeader], grid_slice: &[FrameRef], reason: &str) -> Vec<Skipped> {
    grid_slice
        .iter()
        .map(|r| Skipped {
            path: headers[r.0].path.clone(),
            reason: reason.to_string(),
        })
        .collect()
}

fn assemble(
    headers: &[FileHeader],
    series: &[SeriesInput<'_>],
    mut group: Vec<&Info>,
) -> Option<Stack> {
    let normal = group[0].normal;
    let name = |i: &Info| {
        let s = &series[i.index];
        s.number
            .map_or_else(|| s.uid.to_string(), |n| format!("series #{n}"))
    };
    // The stack's phase count: that of most slices (ties: more phases).
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for i in &group {
        let n = series[i.index].layout.slices();
        match counts.iter_mut().find(|c| c.0 == i.phases) {
            Some(c) => c.1 += n,
            None => counts.push((i.phases, n)),
        }
    }
    let phases = counts.iter().max_by_key(|c| (c.1, c.0))?.0;
    let mut excluded = Vec::new();
    group.retain(|i| {
        if i.phases == phases {
            return true;
        }
        for g in &series[i.index].layout.grid {
            excluded.extend(frames_of(
                headers,
                g,
                &format!(
                    "{} has {} phases where the short-axis stack has {phases}: left out of the stack, not resampled",
                    name(i),
                    i.phases
                ),
            ));
        }
        false
    });
    // Latest acquisition first: it wins a position acquired twice.
    group.sort_by(|a, b| b.order.cmp(&a.order).then(b.index.cmp(&a.index)));
    let mut used: Vec<(f64, usize, usize)> = Vec::new(); // (distance, group position, grid slice)
    for (gi, i) in group.iter().enumerate() {
        let l = series[i.index].layout;
        for (k, g) in l.grid.iter().enumerate() {
            let Some(pos) = headers[g[0].0].frames[g[0].1].position else {
                continue;
            };
            let d = dot(pos, normal);
            match used.iter().find(|u| (u.0 - d).abs() < SAME_POSITION_MM) {
                Some(&(_, winner, _)) => excluded.extend(frames_of(
                    headers,
                    g,
                    &format!(
                        "the slice at {d:.1} mm was acquired again in {} (later); that acquisition is used",
                        name(group[winner])
                    ),
                )),
                None => used.push((d, gi, k)),
            }
        }
    }
    let mut series_used: Vec<usize> = Vec::new();
    used.sort_by(|a, b| a.0.total_cmp(&b.0));
    for u in &used {
        let idx = group[u.1].index;
        if !series_used.contains(&idx) {
            series_used.push(idx);
        }
    }
    if series_used.len() < 2 || used.len() < 2 {
        return None;
    }
    let members = used
        .iter()
        .flat_map(|u| series[group[u.1].index].layout.grid[u.2].iter().copied())
        .collect();
    Some(Stack {
        sources: series_used,
        members,
        excluded,
    })
}
