//! The PDF report of a reviewed study. [`build`] turns a study, its labels/contours and
//! measures into a [`ReportModel`] (plain data: strings, numbers, image crops); [`pdf`]
//! turns the model into PDF bytes. Only `pdf.rs` knows the PDF crate.

pub mod pdf;
mod text;

use crate::contour::set::{ContourSet, Source};
use crate::contour::{Polygon, Structure};
use crate::measure::{Level, Measures};
use crate::study::{LabelStack, Sex, Study};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
    #[error("there are no contours or labels to report")]
    NoLabels,
}

/// Paper size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    #[default]
    A4,
    Letter,
}

impl Paper {
    /// Width and height in PDF points (1/72 inch).
    pub fn size_pt(self) -> (f32, f32) {
        match self {
            Paper::A4 => (595.28, 841.89),
            Paper::Letter => (612.0, 792.0),
        }
    }
}

/// What the user chooses for a report.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    pub paper: Paper,
    /// Replace the patient's name and ID, leave out dates and other identifiers, black out
    /// the images' borders (where scanners burn in text) and keep the metadata generic.
    pub anonymize: bool,
    pub reviewer: Option<String>,
    pub conclusion: Option<String>,
    /// Model name and version (from the model card).
    pub model: String,
    /// Generation time, seconds since 1970 (UTC).
    pub generated_secs: i64,
    /// Height and weight the measures used where the user gave them (else the study's).
    pub height_cm: Option<f64>,
    pub weight_kg: Option<f64>,
    /// Sex and age the user gave (else the study's).
    pub sex: Option<Sex>,
    pub age_years: Option<f64>,
    /// Which images were marked reviewed (from the session); `None`: not recorded.
    pub review: Option<crate::qc::Review>,
}

/// One row of the measures table.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureRow {
    pub name: &'static str,
    pub unit: &'static str,
    /// The value as printed (the `systole measure --json` value rounded), "-" if unknown.
    pub value: String,
    /// Indexed to BSA, as printed, or "".
    pub indexed: String,
    /// "low-high unit" of the range that applies, or "".
    pub range: String,
    pub flag: Option<Level>,
}

/// One image panel: a crop of the cine at native resolution and the contours on it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportImage {
    pub caption: String,
    pub columns: u32,
    pub rows: u32,
    /// Windowed intensities, row-major.
    pub gray: Vec<u8>,
    /// Contours in the crop's pixel coordinates (column, row).
    pub contours: Vec<(Structure, Polygon)>,
}

/// Everything the PDF shows, as plain data.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportModel {
    pub paper: Paper,
    pub title: String,
    /// (label, value) pairs of the header.
    pub header: Vec<(String, String)>,
    pub rows: Vec<MeasureRow>,
    pub key_phases: String,
    pub images: Vec<ReportImage>,
    /// LV and RV volume per phase (mL) and the ED/ES phases, for the curve.
    pub lv_ml: Vec<Option<f64>>,
    pub rv_ml: Vec<Option<f64>>,
    pub ed_phase: Option<usize>,
    pub es_phase: Option<usize>,
    /// Which contours were edited by hand, one line per image.
    pub edited: Vec<String>,
    /// How many images were reviewed and corrected, and how many flags are open.
    pub review_status: String,
    /// The rule checks' errors and warnings and the input's load warnings, one line each
    /// (empty: none).
    pub warnings: Vec<String>,
    pub reviewer: String,
    pub conclusion: String,
    /// Software, model and generation time (the footer, before the page number).
    pub footer: String,
    /// Document title in the PDF metadata.
    pub metadata_title: String,
    /// Generation time, seconds since 1970 (UTC), for the PDF metadata.
    pub generated_secs: i64,
}

/// (name, key, unit, digits, index key) of the table, in clinical reading order.
const ROWS: [(&str, &str, &str, usize, Option<&str>); 10] = [
    (
        "LV end-diastolic volume",
        "lv_edv_ml",
        "mL",
        1,
        Some("lv_edv_ml_m2_index"),
    ),
    (
        "LV end-systolic volume",
        "lv_esv_ml",
        "mL",
        1,
        Some("lv_esv_ml_m2_index"),
    ),
    (
        "LV stroke volume",
        "lv_sv_ml",
        "mL",
        1,
        Some("lv_sv_ml_m2_index"),
    ),
    ("LV ejection fraction", "lv_ef_pct", "%", 1, None),
    ("LV mass", "lv_mass_g", "g", 1, Some("lv_mass_g_m2_index")),
    (
        "Cardiac output",
        "lv_cardiac_output_l_min",
        "L/min",
        2,
        Some("lv_cardiac_index_l_min_m2"),
    ),
    (
        "RV end-diastolic volume",
        "rv_edv_ml",
        "mL",
        1,
        Some("rv_edv_ml_m2_index"),
    ),
    (
        "RV end-systolic volume",
        "rv_esv_ml",
        "mL",
        1,
        Some("rv_esv_ml_m2_index"),
    ),
    (
        "RV stroke volume",
        "rv_sv_ml",
        "mL",
        1,
        Some("rv_sv_ml_m2_index"),
    ),
    ("RV ejection fraction", "rv_ef_pct", "%", 1, None),
];

/// How values are printed: the JSON value rounded to `digits`.
pub fn format_value(v: Option<f64>, digits: usize) -> String {
    v.filter(|x| x.is_finite())
        .map_or_else(|| "-".to_string(), |x| format!("{x:.digits$}"))
}

/// The measures table as printed.
pub fn measure_rows(m: &Measures) -> Vec<MeasureRow> {
    let scalars = m.scalars();
    let get = |k: &str| scalars.iter().find(|(n, _)| *n == k).and_then(|(_, v)| *v);
    let problems = m.problems();
    ROWS.iter()
        .map(|&(name, key, unit, digits, index)| {
            let flag_of = |k: &str| m.flags.iter().find(|f| f.measure == k);
            let flag = flag_of(key).or_else(|| index.and_then(flag_of));
            let range = flag.map_or(String::new(), |f| {
                let per = if Some(f.measure) == index {
                    format!("{unit}/m²")
                } else {
                    unit.to_string()
                };
                format!("{:.0}-{:.0} {per}", f.low, f.high)
            });
            // An impossible value is not printed as a measurement.
            let impossible = problems.iter().any(|p| p.measure == key);
            MeasureRow {
                name,
                unit,
                value: if impossible {
                    "IMPOSSIBLE".into()
                } else {
                    format_value(get(key), digits)
                },
                indexed: index.map_or(String::new(), |k| {
                    if get(k).is_some() {
                        format_value(get(k), digits)
                    } else {
                        String::new()
                    }
                }),
                range,
                flag: flag.map(|f| f.level),
            }
        })
        .collect()
}

/// What the report's Warnings block lists: the rule checks' errors (impossible values
/// among them), the input's load warnings, then the checks' warnings; flags of the same
/// kind on several images are one line. Slices and phases are numbered from 1, as
/// everywhere in the report.
fn report_warnings(study: &Study, flags: &[crate::qc::QcFlag]) -> Vec<String> {
    use crate::qc::{QcFlag, Severity};
    let lines = |severity: Severity| -> Vec<String> {
        let word = if severity == Severity::Error {
            "Check (error)"
        } else {
            "Check"
        };
        let of: Vec<&QcFlag> = flags.iter().filter(|f| f.severity == severity).collect();
        let mut out: Vec<String> = of
            .iter()
            .filter(|f| f.is_study_flag())
            .map(|f| format!("{word}{}: {}", f.place(1), f.message))
            .collect();
        let mut codes: Vec<&str> = of
            .iter()
            .filter(|f| !f.is_study_flag())
            .map(|f| f.code)
            .collect();
        codes.sort_unstable();
        codes.dedup();
        for code in codes {
            let same: Vec<&&QcFlag> = of
                .iter()
                .filter(|f| !f.is_study_flag() && f.code == code)
                .collect();
            match same.as_slice() {
                [f] => out.push(format!("{word}{}: {}", f.place(1), f.message)),
                [f, ..] => {
                    let places: Vec<String> = same
                        .iter()
                        .take(6)
                        .filter_map(|f| f.slice.zip(f.phase))
                        .map(|(s, p)| format!("{}/{}", s + 1, p + 1))
                        .collect();
                    out.push(format!(
                        "{word} on {} images (slice/phase {}{}), e.g.: {}",
                        same.len(),
                        places.join(", "),
                        if same.len() > 6 { ", ..." } else { "" },
                        f.message
                    ));
                }
                [] => {}
            }
        }
        out
    };
    let mut out = lines(Severity::Error);
    out.extend(study.warnings.iter().cloned());
    out.extend(lines(Severity::Warning));
    out
}

/// "N of M images marked reviewed; K corrected by hand; F flags open": images are those
/// of the review queue (with contours or segmented by the network), corrected ones have a contour drawn or edited by hand, and a flag is
/// open unless its image was marked reviewed (study flags stay open).
fn review_status(
    labels: &LabelStack,
    set: &ContourSet,
    flags: &[crate::qc::QcFlag],
    review: Option<&crate::qc::Review>,
) -> String {
    // The images of the review queue: those with contours or segmented by the network.
    let images: Vec<(usize, usize)> =
        crate::qc::Review::images(review.unwrap_or(&crate::qc::Review::default()), labels)
            .iter()
            .map(|i| (i.phase, i.slice))
            .collect();
    let corrected = images.iter().filter(|&&(p, s)| set.edited(p, s)).count();
    let reviewed = |p: usize, s: usize| review.is_some_and(|r| r.is_reviewed(p, s));
    let open = flags
        .iter()
        .filter(|f| f.severity != crate::qc::Severity::Info)
        .filter(|f| match (f.slice, f.phase) {
            (Some(s), Some(p)) => !reviewed(p, s),
            _ => true,
        })
        .count();
    let marked = match review {
        Some(r) => format!(
            "{} of {} images marked reviewed",
            r.reviewed_count(labels),
            images.len()
        ),
        None => format!("{} images; review marks not recorded", images.len()),
    };
    format!("{marked}; {corrected} corrected by hand; {open} flags open (errors and warnings)")
}

/// Builds the report. `contours` are the reviewed contours when there is a session or an
/// edit; otherwise contours are traced from `labels` for display.
pub fn build(
    study: &Study,
    labels: &LabelStack,
    contours: Option<&ContourSet>,
    m: &Measures,
    o: &ReportOptions,
) -> Result<ReportModel, ReportError> {
    if !labels.any_annotated() {
        return Err(ReportError::NoLabels);
    }
    let traced;
    let set = match contours {
        Some(c) => c,
        None => {
            traced = ContourSet::from_labels(labels, Source::Auto);
            &traced
        }
    };
    let p = &study.patient;
    let i = &study.info;
    let opt = |v: Option<String>| {
        v.filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "-".into())
    };
    let sex = match o.sex.or(p.sex) {
        Some(Sex::Female) => "female",
        Some(Sex::Male) => "male",
        Some(Sex::Other) => "other",
        None => "-",
    };
    let mut header = Vec::new();
    if o.anonymize {
        header.push(("Patient".into(), "Anonymised".into()));
        header.push(("Patient ID".into(), "-".into()));
    } else {
        header.push((
            "Patient".into(),
            opt(p
                .name
                .clone()
                .map(|n| n.replace('^', " ").trim().to_string())),
        ));
        header.push(("Patient ID".into(), opt(p.id.clone())));
    }
    header.push(("Sex".into(), sex.into()));
    header.push((
        "Age".into(),
        o.age_years
            .or(p.age_years)
            .map_or("-".into(), |a| format!("{a:.0} years")),
    ));
    header.push((
        "Height".into(),
        format_value(o.height_cm.or(p.height_cm), 0) + " cm",
    ));
    header.push((
        "Weight".into(),
        format_value(o.weight_kg.or(p.weight_kg), 0) + " kg",
    ));
    header.push(("BSA".into(), format_value(m.bsa_m2, 2) + " m²"));
    if !o.anonymize {
        header.push((
            "Study date".into(),
            i.study_date
                .as_deref()
                .map_or("-".into(), crate::study::display_date),
        ));
    }
    let scanner = [
        i.manufacturer.clone(),
        i.model.clone(),
        i.field_strength_t.map(|t| format!("{t:.1} T")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    header.push((
        "Scanner".into(),
        if scanner.is_empty() {
            "-".into()
        } else {
            scanner
        },
    ));
    header.push((
        "Heart rate".into(),
        format_value(m.heart_rate_bpm, 0) + " bpm",
    ));
    let d = study.cine.dims();
    let g = &study.cine.geometry;
    header.push((
        "Cine".into(),
        format!("{} slices x {} phases", d.slices, d.phases),
    ));
    header.push((
        "Voxels".into(),
        format!(
            "{:.2} x {:.2} x {} mm",
            g.pixel_spacing_mm[1],
            g.pixel_spacing_mm[0],
            g.slice_spacing_mm()
                .map_or("-".into(), |s| format!("{s:.1}"))
        ),
    ));
    let key_phases = format!(
        "End-diastole: phase {}; end-systole: phase {} (1-based). Volumes by summation of the contoured slices.",
        m.ed_phase.map_or("-".into(), |p| (p + 1).to_string()),
        m.es_phase.map_or("-".into(), |p| (p + 1).to_string())
    );
    let images = panels(study, set, m, o.anonymize);
    let edited = edited_lines(set);
    let flags = crate::qc::rule_checks(labels, &study.cine.geometry, m);
    Ok(ReportModel {
        paper: o.paper,
        title: "Cardiac MR: ventricular volumes and function".into(),
        header,
        rows: measure_rows(m),
        key_phases,
        images,
        lv_ml: m.volumes.lv_ml.clone(),
        rv_ml: m.volumes.rv_ml.clone(),
        ed_phase: m.ed_phase,
        es_phase: m.es_phase,
        edited,
        review_status: review_status(labels, set, &flags, o.review.as_ref()),
        warnings: report_warnings(study, &flags),
        reviewer: o
            .reviewer
            .clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "-".into()),
        conclusion: o
            .conclusion
            .clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "-".into()),
        footer: format!(
            "Systole {} | model {} | generated {}",
            env!("CARGO_PKG_VERSION"),
            o.model,
            format_utc(o.generated_secs)
        ),
        metadata_title: "Cardiac MR report".into(),
        generated_secs: o.generated_secs,
    })
}

fn edited_lines(set: &ContourSet) -> Vec<String> {
    let d = set.dims();
    let mut out = Vec::new();
    for p in 0..d.phases {
        for s in 0..d.slices {
            let manual: Vec<&str> = set
                .image(p, s)
                .filter(|(_, c)| c.source == Source::Manual)
                .map(|(st, _)| st.title())
                .collect();
            if !manual.is_empty() {
                out.push(format!(
                    "Slice {}, phase {}: {}",
                    s + 1,
                    p + 1,
                    manual.join(", ")
                ));
            }
        }
    }
    out
}

/// Basal, mid and apical slices (among those with an LV contour at ED) at ED and ES,
/// cropped around the heart (the same crop for all six).
fn panels(study: &Study, set: &ContourSet, m: &Measures, anonymize: bool) -> Vec<ReportImage> {
    let d = study.cine.dims();
    let (Some(ed), Some(es)) = (m.ed_phase, m.es_phase) else {
        return Vec::new();
    };
    let lv_slices: Vec<usize> = (0..d.slices)
        .filter(|&s| {
            set.get((ed, s, Structure::LvEndo)).is_some()
                || set.get((ed, s, Structure::LvEpi)).is_some()
        })
        .collect();
    let (Some(&first), Some(&last)) = (lv_slices.first(), lv_slices.last()) else {
        return Vec::new();
    };
    let area = |s: usize| {
        set.get((ed, s, Structure::LvEpi))
            .or_else(|| set.get((ed, s, Structure::LvEndo)))
            .map_or(0.0, |c| crate::contour::area(&c.points))
    };
    // The base is the end of the stack where the ventricle is wider.
    let (basal, apical) = if area(first) >= area(last) {
        (first, last)
    } else {
        (last, first)
    };
    let mid = lv_slices[lv_slices.len() / 2];
    // Crop: every contour at ED and ES, plus a margin.
    let (mut c0, mut r0, mut c1, mut r1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for ((p, _, _), c) in set.iter() {
        if *p == ed || *p == es {
            for v in &c.points {
                (c0, r0, c1, r1) = (c0.min(v[0]), r0.min(v[1]), c1.max(v[0]), r1.max(v[1]));
            }
        }
    }
    let margin = 12.0;
    let side = ((c1 - c0).max(r1 - r0) + 2.0 * margin).max(48.0);
    let (cx, cy) = ((c0 + c1) / 2.0, (r0 + r1) / 2.0);
    let clamp = |lo: f64, n: usize| {
        lo.round()
            .clamp(0.0, (n as f64 - side.min(n as f64)).max(0.0)) as usize
    };
    let (x0, y0) = (
        clamp(cx - side / 2.0, d.columns),
        clamp(cy - side / 2.0, d.rows),
    );
    let (w, h) = (
        (side as usize).min(d.columns - x0),
        (side as usize).min(d.rows - y0),
    );
    let (lo, hi) = display_window(study);
    let band_c = (d.columns as f64 * 0.1) as usize;
    let band_r = (d.rows as f64 * 0.1) as usize;
    let mut out = Vec::new();
    for (name, s) in [("Basal", basal), ("Mid", mid), ("Apical", apical)] {
        for (ph_name, p) in [("ED", ed), ("ES", es)] {
            let img = study.cine.image(p, s);
            let mut gray = Vec::with_capacity(w * h);
            for r in y0..y0 + h {
                for c in x0..x0 + w {
                    let in_band =
                        r < band_r || c < band_c || r >= d.rows - band_r || c >= d.columns - band_c;
                    let v = img.get(r * d.columns + c).copied().unwrap_or(0.0);
                    let g = if anonymize && in_band {
                        0
                    } else {
                        (((v - lo) / (hi - lo).max(1e-6)).clamp(0.0, 1.0) * 255.0).round() as u8
                    };
                    gray.push(g);
                }
            }
            let contours = set
                .image(p, s)
                .map(|(st, c)| {
                    (
                        st,
                        c.points
                            .iter()
                            .map(|v| [v[0] - x0 as f64, v[1] - y0 as f64])
                            .collect(),
                    )
                })
                .collect();
            out.push(ReportImage {
                caption: format!("{name} (slice {}), {ph_name} (phase {})", s + 1, p + 1),
                columns: w as u32,
                rows: h as u32,
                gray,
                contours,
            });
        }
    }
    out
}

/// The 1st and 99th percentiles of the cine's intensities (the viewer's default window).
fn display_window(study: &Study) -> (f32, f32) {
    let data = study.cine.data();
    let step = (data.len() / 200_000).max(1);
    let mut v: Vec<f32> = data
        .iter()
        .step_by(step)
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    if v.is_empty() {
        return (0.0, 1.0);
    }
    v.sort_by(f32::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (at(0.01), at(0.99))
}

/// Seconds since 1970, now; or SOURCE_DATE_EPOCH when set (reproducible reports, as the
/// reproducible-builds convention has it).
pub fn now_secs() -> i64 {
    if let Some(s) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
    {
        return s;
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64
}

/// Seconds since 1970 as "YYYY-MM-DD HH:MM UTC".
pub fn format_utc(secs: i64) -> String {
    let [year, month, day, hour, minute] = civil(secs);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
}

/// Seconds since 1970 as [year, month, day, hour, minute] (UTC).
pub fn civil(secs: i64) -> [i64; 5] {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    [year, month, day, rem / 3600, rem % 3600 / 60]
}

/// The built-in model's "name version" from its card.
pub fn builtin_model_name() -> String {
    let card: serde_json::Value =
        serde_json::from_str(crate::segment::BUILTIN_CARD).unwrap_or_default();
    let name = card["name"].as_str().unwrap_or("sax");
    match card["version"].as_str() {
        Some(v) => format!("{name} {v}"),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_from_epoch_seconds() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        // 2000-02-29 12:34 UTC (a leap day).
        assert_eq!(format_utc(951_827_640), "2000-02-29 12:34 UTC");
        assert_eq!(format_utc(1_796_000_000), "2026-11-30 00:53 UTC");
    }

    #[test]
    fn values_print_rounded_and_unknowns_as_a_dash() {
        assert_eq!(format_value(Some(54.449), 1), "54.4");
        assert_eq!(format_value(Some(f64::NAN), 1), "-");
        assert_eq!(format_value(None, 2), "-");
    }
}
