//! Quality control of short-axis labels: rule checks that say which contours a
//! cardiologist should look at, and why.
//!
//! Pure functions of a label stack, its geometry and the measures taken from it: no
//! network, so they run on the network's labels, on hand-edited contours and on label
//! files from elsewhere alike. Each flag has a `code`, a `severity` and a message; flags
//! that concern one image name its slice and phase.
//!
//! Sources of the thresholds:
//! - 10 pixels as the least area of a structure that counts as present, a slice gap in the
//!   LV, and LV and RV required on the mid-cavity slice: the quality-control rules of
//!   W. Bai et al.'s ukbb_cardiac code for "Automated cardiovascular magnetic resonance
//!   image analysis with fully convolutional networks", JCMR 20:65 (2018).
//! - Volumes, wall thickness, coverage: fitted on the expert labels of the 65 ACDC training
//!   patients of `training/split.json` (ED frames; O. Bernard et al., IEEE TMI 2018): the
//!   smallest end-diastolic volumes there are LV 51 mL and RV 47 mL, the largest LV 374 mL
//!   and RV 295 mL; the thickest equivalent-annulus myocardium on a slice 17.2 mm; the
//!   largest LV cavity on the most apical labelled slice 0.42 of the stack's largest;
//!   no expert LV blood pool touches background or RV. The limits below keep a margin
//!   beyond those values, so expert labels of adults raise no errors.

pub mod confidence;
mod image;
pub mod review;

use crate::measure::Measures;
use crate::study::{Geometry, Label, LabelStack};
use image::ImageStats;
use serde::Serialize;

pub use confidence::{confidence, phase_confidences, segmentation_images};
pub use review::Review;

/// How much a flag matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The numbers are wrong unless the contours are corrected.
    Error,
    /// Check the contours; the finding may be real (disease, anatomy).
    Warning,
    /// Worth knowing; no action needed.
    Info,
}

/// One finding of the rule checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QcFlag {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The slice (stack index) the flag concerns, when it concerns one image.
    pub slice: Option<usize>,
    pub phase: Option<usize>,
}

impl QcFlag {
    fn study(code: &'static str, severity: Severity, message: String) -> QcFlag {
        QcFlag {
            code,
            severity,
            message,
            slice: None,
            phase: None,
        }
    }

    fn image(
        code: &'static str,
        severity: Severity,
        slice: usize,
        phase: usize,
        message: String,
    ) -> QcFlag {
        QcFlag {
            code,
            severity,
            message,
            slice: Some(slice),
            phase: Some(phase),
        }
    }

    /// " [slice S, phase P]" (or " [phase P]", or ""), numbered from `base` (0 for the
    /// command line and JSON, 1 for the report).
    pub fn place(&self, base: usize) -> String {
        match (self.slice, self.phase) {
            (Some(s), Some(p)) => format!(" [slice {}, phase {}]", s + base, p + base),
            (Some(s), None) => format!(" [slice {}]", s + base),
            (None, Some(p)) => format!(" [phase {}]", p + base),
            (None, None) => String::new(),
        }
    }

    /// Whether the flag concerns the whole study rather than one image.
    pub fn is_study_flag(&self) -> bool {
        self.slice.is_none()
    }
}

/// Least pixels of a structure that count as present (Bai et al.'s ukbb_cardiac QC).
pub const MIN_PIXELS: u32 = 10;
/// End-diastolic volumes below this are not an adult ventricle (mL): under 2/3 of the
/// smallest expert EDV of the training split (RV 47 mL, LV 51 mL).
pub const MIN_ADULT_EDV_ML: f64 = 30.0;
/// End-diastolic volumes above these are beyond any expert label of the training split
/// by half (LV 374 mL, RV 295 mL).
pub const MAX_LV_EDV_ML: f64 = 560.0;
pub const MAX_RV_EDV_ML: f64 = 440.0;
/// Myocardium thicker than this (equivalent annulus, mm) on a slice: 1.3 x the thickest of
/// the training split's expert labels (17.2 mm).
pub const MAX_WALL_MM: f64 = 22.0;
/// Share of the LV blood pool's border that may touch background or RV before the
/// myocardium counts as not enclosing it (expert labels: none).
pub const MAX_OPEN_BORDER: f64 = 0.10;
/// The most apical labelled slice's LV cavity, as a share of the largest slice's, above
/// which the stack stops short of the apex (training split: at most 0.42).
pub const MAX_APICAL_SHARE: f64 = 0.5;
/// LV/RV stroke volume ratio range outside which the two disagree more than valve
/// regurgitation or a shunt usually explains (the project's RV plausibility range).
pub const SV_RATIO: (f64, f64) = (0.6, 1.6);
/// Relative LV cavity area change between neighbouring phases of one slice above which
/// a contour has jumped; only for cines of at least [`AREA_JUMP_MIN_PHASES`] phases, and
/// only for cavities of at least [`AREA_JUMP_MIN_MM2`] (apical slices are noisy).
pub const AREA_JUMP: f64 = 0.5;
pub const AREA_JUMP_MIN_PHASES: usize = 10;
pub const AREA_JUMP_MIN_MM2: f64 = 200.0;
/// ED should be the phase of largest LV volume and ES of the smallest, within this share.
pub const KEY_PHASE_TOLERANCE: f64 = 0.05;

fn name(label: Label) -> &'static str {
    match label {
        Label::LvBloodPool => "LV blood pool",
        Label::Myocardium => "LV myocardium",
        Label::RvBloodPool => "RV blood pool",
        Label::Background => "background",
    }
}

/// Every rule check on `labels` (the images that carry annotations) and the measures
/// taken from them. Flags are ordered: study flags first, most severe first, then image
/// flags by phase and slice.
pub fn rule_checks(labels: &LabelStack, geometry: &Geometry, measures: &Measures) -> Vec<QcFlag> {
    Checker::new(labels).checks(labels, geometry, measures)
}

/// The rule checks kept up to date while contours are edited: what each image
/// contributes (pixel counts, pieces, the LV border) is computed once and again only for
/// the images that change, so that checking after an edit costs little more than the
/// study-wide rules. [`Checker::checks`] gives exactly [`rule_checks`]' flags.
#[derive(Debug, Clone)]
pub struct Checker {
    dims: crate::study::Dims,
    stats: Vec<Option<ImageStats>>,
}

impl Checker {
    pub fn new(labels: &LabelStack) -> Checker {
        let d = labels.dims();
        let stats = (0..d.phases)
            .flat_map(|p| (0..d.slices).map(move |s| (p, s)))
            .map(|(p, s)| stats_of(labels, p, s))
            .collect();
        Checker { dims: d, stats }
    }

    /// Image (phase, slice) of `labels` changed.
    pub fn update(&mut self, labels: &LabelStack, phase: usize, slice: usize) {
        let d = labels.dims();
        if d != self.dims {
            *self = Checker::new(labels);
            return;
        }
        if phase < d.phases && slice < d.slices {
            self.stats[phase * d.slices + slice] = stats_of(labels, phase, slice);
        }
    }

    /// Every rule check on `labels` (as last updated) and `measures`.
    pub fn checks(
        &self,
        labels: &LabelStack,
        geometry: &Geometry,
        measures: &Measures,
    ) -> Vec<QcFlag> {
        if labels.dims() != self.dims {
            return Checker::new(labels).checks(labels, geometry, measures);
        }
        checks_with(labels, &self.stats, geometry, measures)
    }
}

/// What the checks need of one image; `None` for an image without annotations.
fn stats_of(labels: &LabelStack, phase: usize, slice: usize) -> Option<ImageStats> {
    let d = labels.dims();
    (!labels.annotated(phase, slice).is_empty())
        .then(|| ImageStats::of(labels.image(phase, slice), d.rows, d.columns))
}

fn checks_with(
    labels: &LabelStack,
    stats: &[Option<ImageStats>],
    geometry: &Geometry,
    measures: &Measures,
) -> Vec<QcFlag> {
    let d = labels.dims();
    let at = |p: usize, s: usize| stats[p * d.slices + s].as_ref();
    let px_mm2 = geometry.pixel_spacing_mm[0] * geometry.pixel_spacing_mm[1];
    let area_ok = px_mm2.is_finite() && px_mm2 > 0.0;
    let measured: Vec<usize> = (0..d.phases)
        .filter(|&p| (0..d.slices).any(|s| at(p, s).is_some()))
        .collect();

    let mut flags = Vec::new();
    study_volumes(measures, &mut flags);

    // Structures missing from a whole phase.
    for label in Label::STRUCTURES {
        let missing: Vec<usize> = measured
            .iter()
            .copied()
            .filter(|&p| {
                let annotated = (0..d.slices).any(|s| labels.annotated(p, s).contains(label));
                let n: u32 = (0..d.slices)
                    .filter_map(|s| at(p, s))
                    .map(|st| st.count[label as usize])
                    .sum();
                annotated && n < MIN_PIXELS
            })
            .collect();
        if !missing.is_empty() {
            let (phase, which) = match missing.as_slice() {
                [p] => (Some(*p), "the phase".to_string()),
                ps => (
                    None,
                    format!("{} of {} segmented phases", ps.len(), measured.len()),
                ),
            };
            flags.push(QcFlag {
                code: "missing_structure",
                severity: Severity::Error,
                message: format!(
                    "No {} anywhere in {which}: the structure is missing from the whole heart",
                    name(label)
                ),
                slice: None,
                phase,
            });
        }
    }

    // Myocardium only where it was drawn: Sunnybrook's experts, for one, outline only
    // the LV cavity at end-systole.
    let has_myo = |p: usize, s: usize| labels.annotated(p, s).contains(Label::Myocardium);
    for &p in &measured {
        let lv = |s: usize| {
            at(p, s).is_some_and(|st| {
                st.count[Label::LvBloodPool as usize] >= MIN_PIXELS
                    && (!has_myo(p, s) || st.count[Label::Myocardium as usize] >= MIN_PIXELS)
            })
        };
        let with_lv: Vec<usize> = (0..d.slices).filter(|&s| lv(s)).collect();
        let (Some(&lo), Some(&hi)) = (with_lv.first(), with_lv.last()) else {
            continue;
        };
        for s in lo..=hi {
            if !lv(s) && at(p, s).is_some() {
                flags.push(QcFlag::image(
                    "slice_gap",
                    Severity::Error,
                    s,
                    p,
                    "No LV on this slice between slices that have it".into(),
                ));
            }
        }
        // The mid-cavity slice (the LV's centre of mass along the stack) must show the RV.
        let (mut w, mut sw) = (0.0, 0.0);
        for s in lo..=hi {
            let n = at(p, s).map_or(0, |st| st.count[Label::LvBloodPool as usize]) as f64;
            w += n * s as f64;
            sw += n;
        }
        if sw > 0.0 {
            let mid = (w / sw).round() as usize;
            if let Some(st) = at(p, mid)
                && labels.annotated(p, mid).contains(Label::RvBloodPool)
                && st.count[Label::RvBloodPool as usize] < MIN_PIXELS
            {
                flags.push(QcFlag::image(
                    "missing_structure",
                    Severity::Error,
                    mid,
                    p,
                    "No RV on the mid-ventricular slice".into(),
                ));
            }
        }
    }

    if let Some(ed) = measures.ed_phase {
        coverage(labels.dims().slices, ed, geometry, &at, &mut flags);
    }

    for &p in &measured {
        for s in 0..d.slices {
            let Some(st) = at(p, s) else { continue };
            for label in Label::STRUCTURES {
                let parts = st.parts[label as usize];
                if parts > 1 {
                    flags.push(QcFlag::image(
                        "disconnected",
                        Severity::Warning,
                        s,
                        p,
                        format!("{} in {parts} separate pieces", name(label)),
                    ));
                }
            }
            if !has_myo(p, s) {
                continue;
            }
            if st.count[Label::LvBloodPool as usize] >= MIN_PIXELS
                && st.open_border > MAX_OPEN_BORDER
            {
                flags.push(QcFlag::image(
                    "endo_outside_epi",
                    Severity::Warning,
                    s,
                    p,
                    format!(
                        "{:.0} % of the LV blood pool's border is not covered by myocardium",
                        100.0 * st.open_border
                    ),
                ));
            }
            if area_ok
                && let Some(t) = st.wall_thickness_mm(px_mm2)
                && t > MAX_WALL_MM
            {
                flags.push(QcFlag::image(
                    "implausible_wall_thickness",
                    Severity::Warning,
                    s,
                    p,
                    format!("Mean LV wall thickness {t:.1} mm (more than {MAX_WALL_MM} mm)"),
                ));
            }
        }
    }

    if area_ok && d.phases >= AREA_JUMP_MIN_PHASES {
        for p in 0..d.phases {
            let q = (p + 1) % d.phases;
            for s in 0..d.slices {
                let (Some(a), Some(b)) = (at(p, s), at(q, s)) else {
                    continue;
                };
                let area = |st: &ImageStats| st.count[Label::LvBloodPool as usize] as f64 * px_mm2;
                let (a, b) = (area(a), area(b));
                let big = a.max(b);
                if big >= AREA_JUMP_MIN_MM2 && (a - b).abs() / big > AREA_JUMP {
                    flags.push(QcFlag::image(
                        "area_jump",
                        Severity::Warning,
                        s,
                        q,
                        format!(
                            "LV cavity area changes from {a:.0} to {b:.0} mm\u{b2} since the previous phase"
                        ),
                    ));
                }
            }
        }
    }

    ed_es_consistency(measures, &mut flags);

    flags.sort_by_key(|f| {
        let image = f.slice.is_some();
        (image, image.then_some((f.phase, f.slice)), f.severity)
    });
    flags
}

/// Volume plausibility and LV/RV agreement: the study-level checks on the measures.
fn study_volumes(m: &Measures, flags: &mut Vec<QcFlag>) {
    for p in m.problems() {
        flags.push(QcFlag::study(
            "impossible_value",
            Severity::Error,
            p.reason.clone(),
        ));
    }
    for (side, edv, max) in [
        ("LV", m.lv.edv_ml, MAX_LV_EDV_ML),
        ("RV", m.rv.edv_ml, MAX_RV_EDV_ML),
    ] {
        let Some(edv) = edv.filter(|v| v.is_finite()) else {
            continue;
        };
        if edv > 0.0 && edv < MIN_ADULT_EDV_ML {
            flags.push(QcFlag::study(
                "implausible_volume",
                Severity::Error,
                format!(
                    "{side} end-diastolic volume {edv:.0} mL is too small for an adult heart (under {MIN_ADULT_EDV_ML:.0} mL): the {side} is probably under-segmented"
                ),
            ));
        } else if edv > max {
            flags.push(QcFlag::study(
                "implausible_volume",
                Severity::Warning,
                format!("{side} end-diastolic volume {edv:.0} mL is above {max:.0} mL"),
            ));
        }
    }
    // A negative stroke volume is an impossible value, flagged above.
    if let (Some(lv), Some(rv)) = (m.lv.sv_ml, m.rv.sv_ml)
        && lv > 0.0
        && rv >= 0.0
    {
        let r = rv / lv;
        if !(SV_RATIO.0..=SV_RATIO.1).contains(&r) {
            flags.push(QcFlag::study(
                "lv_rv_stroke_volume_mismatch",
                Severity::Warning,
                format!(
                    "RV stroke volume {rv:.0} mL against LV {lv:.0} mL (ratio {r:.2}); without regurgitation or a shunt they agree"
                ),
            ));
        }
    }
}

/// Whether the stack reaches the base and apex, judged at ED on the LV cavity.
fn coverage<'a>(
    slices: usize,
    ed: usize,
    geometry: &Geometry,
    at: &dyn Fn(usize, usize) -> Option<&'a ImageStats>,
    flags: &mut Vec<QcFlag>,
) {
    let area: Vec<f64> = (0..slices)
        .map(|s| at(ed, s).map_or(0.0, |st| st.count[Label::LvBloodPool as usize] as f64))
        .collect();
    let max = area.iter().copied().fold(0.0, f64::max);
    if max < MIN_PIXELS as f64 || slices < 2 {
        return;
    }
    let (first, last) = (0, slices - 1);
    // Which end is the base: from the DICOM geometry when it says, else the end with the
    // larger cavity (the LV narrows towards the apex).
    let base_first = geometry
        .index_runs_base_to_apex()
        .unwrap_or(area[first] >= area[last]);
    let (base, apex) = if base_first {
        (first, last)
    } else {
        (last, first)
    };
    if area[apex] / max > MAX_APICAL_SHARE {
        flags.push(QcFlag::image(
            "incomplete_coverage_apex",
            Severity::Warning,
            apex,
            ed,
            format!(
                "The most apical slice still shows {:.0} % of the largest LV cavity: the stack may stop short of the apex",
                100.0 * area[apex] / max
            ),
        ));
    }
    if area[base] / max > MAX_APICAL_SHARE {
        // Expert ACDC stacks often start on a slice with a full LV cavity: worth knowing,
        // not a fault of the contours.
        flags.push(QcFlag::image(
            "incomplete_coverage_base",
            Severity::Info,
            base,
            ed,
            format!(
                "The most basal slice still shows {:.0} % of the largest LV cavity: check on the long axis that the stack covers the base",
                100.0 * area[base] / max
            ),
        ));
    }
}

/// ED should be the phase of largest LV volume and ES of the smallest among at least
/// three measured phases.
fn ed_es_consistency(m: &Measures, flags: &mut Vec<QcFlag>) {
    let vols: Vec<(usize, f64)> = m
        .volumes
        .lv_ml
        .iter()
        .enumerate()
        .filter_map(|(p, v)| v.map(|v| (p, v)))
        .collect();
    if vols.len() < 3 {
        return;
    }
    let max = vols.iter().map(|v| v.1).fold(f64::MIN, f64::max);
    let min = vols.iter().map(|v| v.1).fold(f64::MAX, f64::min);
    let tol = KEY_PHASE_TOLERANCE * max;
    if let (Some(_), Some(edv)) = (m.ed_phase, m.lv.edv_ml)
        && edv < max - tol
    {
        flags.push(QcFlag::study(
            "ed_es_inconsistent",
            Severity::Warning,
            format!(
                "The ED phase ({edv:.0} mL) is not the phase of largest LV volume ({max:.0} mL)"
            ),
        ));
    }
    if let (Some(_), Some(esv)) = (m.es_phase, m.lv.esv_ml)
        && esv > min + tol
    {
        flags.push(QcFlag::study(
            "ed_es_inconsistent",
            Severity::Warning,
            format!(
                "The ES phase ({esv:.0} mL) is not the phase of smallest LV volume ({min:.0} mL)"
            ),
        ));
    }
}

/// The flags as text, one line each, most severe first ("" when there are none).
pub fn to_text(flags: &[QcFlag]) -> String {
    let mut sorted: Vec<&QcFlag> = flags.iter().collect();
    sorted.sort_by_key(|f| f.severity);
    sorted
        .iter()
        .map(|f| {
            let level = match f.severity {
                Severity::Error => "QC ERROR",
                Severity::Warning => "QC warning",
                Severity::Info => "QC info",
            };
            format!("{level} {}{}: {}\n", f.code, f.place(0), f.message)
        })
        .collect()
}

/// One segmented image in the review queue: where it is and how sure the network is of
/// it ([`confidence`]; `None` for labels the network did not draw here).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ImageQc {
    pub slice: usize,
    pub phase: usize,
    pub confidence: Option<f64>,
}

/// The order in which a cardiologist should look at `images`: the images with an error
/// flag first (study errors of a phase count for each of its images), then every other
/// image by confidence, least sure first (images without a confidence count as sure);
/// ties by more flags first, then by phase and slice.
pub fn review_order(flags: &[QcFlag], images: &[ImageQc]) -> Vec<(usize, usize)> {
    // (no error, confidence, fewest flags last, phase, slice) -> (slice, phase)
    type Keyed = ((bool, f64, usize, usize, usize), (usize, usize));
    let mut keyed: Vec<Keyed> = images
        .iter()
        .map(|im| {
            let (s, p) = (im.slice, im.phase);
            let mine: Vec<&QcFlag> = flags.iter().filter(|f| concerns(f, s, p)).collect();
            let error = mine.iter().any(|f| f.severity == Severity::Error);
            let c = im.confidence.filter(|c| c.is_finite()).unwrap_or(1.0);
            ((!error, c, usize::MAX - mine.len(), p, s), (s, p))
        })
        .collect();
    keyed.sort_by(|a, b| {
        let (x, y) = (a.0, b.0);
        x.0.cmp(&y.0)
            .then_with(|| x.1.total_cmp(&y.1))
            .then_with(|| (x.2, x.3, x.4).cmp(&(y.2, y.3, y.4)))
    });
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Whether `flag` concerns image (slice, phase): an image flag of it, or a study flag of
/// its phase.
pub fn concerns(flag: &QcFlag, slice: usize, phase: usize) -> bool {
    match (flag.slice, flag.phase) {
        (Some(s), Some(p)) => s == slice && p == phase,
        (None, Some(p)) => p == phase,
        _ => false,
    }
}

/// The `qc.json` document (docs/qc-format.md): study flags, one entry per segmented image
/// with its confidence and its flags' codes, and the review order.
pub fn document(flags: &[QcFlag], images: &[ImageQc]) -> serde_json::Value {
    let study: Vec<&QcFlag> = flags.iter().filter(|f| f.is_study_flag()).collect();
    let entries: Vec<serde_json::Value> = images
        .iter()
        .map(|im| {
            let codes: Vec<&str> = flags
                .iter()
                .filter(|f| !f.is_study_flag() && concerns(f, im.slice, im.phase))
                .map(|f| f.code)
                .collect();
            serde_json::json!({"slice": im.slice, "phase": im.phase,
                "confidence": im.confidence.map(|c| (c * 1000.0).round() / 1000.0),
                "flags": codes})
        })
        .collect();
    let order: Vec<[usize; 2]> = review_order(flags, images)
        .into_iter()
        .map(|(s, p)| [s, p])
        .collect();
    serde_json::json!({
        "study_flags": study,
        "image_flags": flags.iter().filter(|f| !f.is_study_flag()).collect::<Vec<_>>(),
        "images": entries,
        "review_order": order,
    })
}

/// The `systole measure --json` document: the measures, the load warnings (`warnings`)
/// and the rule checks (`qc_flags`). Every command and the viewer write this form.
pub fn measures_document(m: &Measures, warnings: &[String], flags: &[QcFlag]) -> serde_json::Value {
    let mut v = m.to_json_with_warnings(warnings);
    if let serde_json::Value::Object(o) = &mut v {
        o.insert("qc_flags".into(), serde_json::json!(flags));
    }
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::measure::{Context, Engine};
    use crate::study::{Dims, Structures};

    const N: usize = 64;

    /// A stack of `phases` x 5 slices of 64 x 64 images (2 mm pixels, 10 mm slices): on
    /// every slice an LV disc of radius `lv_r(phase, slice)` px in a 4 px myocardial ring
    /// and a 10 px high RV block beside it, `rv_w` px wide at phase 0, half as wide at
    /// phase 6. Slice 0 is the base (the stack runs towards the patient's left, anterior
    /// and inferior).
    fn heart(phases: usize, lv_r: impl Fn(usize, usize) -> f64, rv_w: usize) -> LabelStack {
        let d = Dims {
            phases,
            slices: 5,
            rows: N,
            columns: N,
        };
        let mut l = LabelStack::empty(d);
        for p in 0..phases {
            for s in 0..5 {
                let r = lv_r(p, s);
                let squeeze = 1.0 - 0.5 * (std::f64::consts::PI * p as f64 / 12.0).sin();
                let w = (rv_w as f64 * squeeze).round() as usize;
                let img = l.image_mut(p, s).unwrap();
                for y in 0..N {
                    for x in 0..N {
                        let dist = ((y as f64 - 32.0).powi(2) + (x as f64 - 40.0).powi(2)).sqrt();
                        img[y * N + x] = if r > 0.0 && dist <= r {
                            1
                        } else if r > 0.0 && dist <= r + 4.0 {
                            2
                        } else if (27..37).contains(&y) && x >= 4 && x < 4 + w {
                            3
                        } else {
                            0
                        };
                    }
                }
                l.set_annotated(p, s, Structures::ALL);
            }
        }
        l
    }

    fn geometry() -> Geometry {
        Geometry {
            pixel_spacing_mm: [2.0, 2.0],
            row_direction: [1.0, 0.0, 0.0],
            column_direction: [0.0, 1.0, 0.0],
            slice_positions_mm: (0..5).map(|s| [0.0, 0.0, -10.0 * s as f64]).collect(),
            slice_thickness_mm: Some(10.0),
        }
    }

    fn flags(l: &LabelStack) -> Vec<QcFlag> {
        let g = geometry();
        let m = Engine::new(l, g.voxel_volume_ml().unwrap()).measures(&Context::default());
        rule_checks(l, &g, &m)
    }

    fn codes(f: &[QcFlag]) -> Vec<&'static str> {
        f.iter().map(|f| f.code).collect()
    }

    /// LV radius: 10 px at ED (phase 0) down to 7 at ES (phase 6), smaller at the apex
    /// (slice 4); a 20 px wide RV.
    fn beating(p: usize, s: usize) -> f64 {
        let phase = 10.0 - 3.0 * (std::f64::consts::PI * p as f64 / 12.0).sin();
        phase * [1.0, 1.0, 0.95, 0.8, 0.45][s]
    }

    #[test]
    fn a_plausible_heart_raises_no_error_or_warning() {
        let l = heart(12, beating, 20);
        let f = flags(&l);
        assert!(f.iter().all(|f| f.severity == Severity::Info), "{f:#?}");
    }

    #[test]
    fn each_rule_fires_on_its_fault() {
        // A tiny RV: under 30 mL at ED (10 x 3 px x 4 mm^2 x 5 slices = 2.4 mL).
        let f = flags(&heart(12, beating, 3));
        assert!(f.iter().any(|f| f.code == "implausible_volume"
            && f.severity == Severity::Error
            && f.message.contains("RV")));
        assert!(codes(&f).contains(&"lv_rv_stroke_volume_mismatch"));
        // No RV at all: missing from every phase, a study error.
        let f = flags(&heart(12, beating, 0));
        assert!(
            f.iter()
                .any(|f| f.code == "missing_structure" && f.is_study_flag())
        );
        // The LV cut from slice 2 of phase 3: a gap on that image.
        let mut l = heart(12, beating, 20);
        for v in l.image_mut(3, 2).unwrap() {
            if *v == 1 || *v == 2 {
                *v = 0;
            }
        }
        let f = flags(&l);
        assert!(f.iter().any(|f| f.code == "slice_gap"
            && f.slice == Some(2)
            && f.phase == Some(3)
            && f.severity == Severity::Error));
        // The LV collapsing in one phase on one slice: an area jump into and out of it.
        let jumpy = |p: usize, s: usize| if p == 8 && s == 1 { 4.0 } else { beating(p, s) };
        let f = flags(&heart(12, jumpy, 20));
        assert!(
            f.iter()
                .any(|f| f.code == "area_jump" && f.slice == Some(1) && f.phase == Some(8)),
            "{f:#?}"
        );
        // ED not the largest: phase 0 made the smallest while the study states ED = 0.
        let mut l = heart(12, beating, 20);
        let small = heart(1, |_, s| 5.0 * [1.0, 1.0, 0.95, 0.8, 0.45][s], 20);
        for s in 0..5 {
            l.image_mut(0, s)
                .unwrap()
                .copy_from_slice(small.image(0, s));
        }
        let g = geometry();
        let ctx = Context {
            stated: crate::study::KeyPhases {
                ed: Some(0),
                es: Some(6),
            },
            ..Context::default()
        };
        let m = Engine::new(&l, g.voxel_volume_ml().unwrap()).measures(&ctx);
        let f = rule_checks(&l, &g, &m);
        assert!(codes(&f).contains(&"ed_es_inconsistent"), "{f:#?}");
        // A cavity at the apex as large as at the base: the stack stops short.
        let f = flags(&heart(12, |p, _| beating(p, 0), 20));
        assert!(codes(&f).contains(&"incomplete_coverage_apex"), "{f:#?}");
        // Myocardium opened to the background on a third of the border.
        let mut l = heart(12, beating, 20);
        for y in 0..N {
            for x in 44..N {
                let v = &mut l.image_mut(5, 2).unwrap()[y * N + x];
                if *v == 2 {
                    *v = 0;
                }
            }
        }
        let f = flags(&l);
        assert!(
            f.iter()
                .any(|f| f.code == "endo_outside_epi" && f.slice == Some(2) && f.phase == Some(5)),
            "{f:#?}"
        );
    }

    #[test]
    fn the_checker_kept_up_to_date_gives_the_flags_of_a_full_check() {
        let mut l = heart(12, beating, 20);
        let geometry = geometry();
        let mut checker = Checker::new(&l);
        // Cut the LV from a mid slice: a slice gap appears, through the update alone.
        for v in l.image_mut(4, 2).unwrap() {
            if *v == 1 || *v == 2 {
                *v = 0;
            }
        }
        checker.update(&l, 4, 2);
        let m = Engine::new(&l, geometry.voxel_volume_ml().unwrap()).measures(&Context::default());
        let full = rule_checks(&l, &geometry, &m);
        assert!(full.iter().any(|f| f.code == "slice_gap"), "{full:#?}");
        assert_eq!(checker.checks(&l, &geometry, &m), full);
    }

    #[test]
    fn review_order_puts_errors_first_and_lists_every_image_once() {
        let mut l = heart(2, beating, 20);
        for v in l.image_mut(1, 2).unwrap() {
            if *v == 1 || *v == 2 {
                *v = 0;
            }
        }
        let f = flags(&l);
        // Slice 4 of phase 0 is the least sure image.
        let images: Vec<ImageQc> = (0..2)
            .flat_map(|p| (0..5).map(move |s| (s, p)))
            .map(|(slice, phase)| ImageQc {
                slice,
                phase,
                confidence: Some(if (slice, phase) == (4, 0) { 0.2 } else { 0.9 }),
            })
            .collect();
        let order = review_order(&f, &images);
        assert_eq!(order.len(), images.len());
        assert_eq!(order[0], (2, 1));
        assert_eq!(order[1], (4, 0));
        let mut all = order.clone();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), images.len());
        let doc = document(&f, &images);
        assert_eq!(doc["images"].as_array().map(Vec::len), Some(10));
        assert_eq!(doc["review_order"][0], serde_json::json!([2, 1]));
        assert!(to_text(&f).contains("QC ERROR slice_gap [slice 2, phase 1]"));
    }
}
