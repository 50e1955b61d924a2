//! `systole info PATH [--json]`: what a study holds.

use super::{CliError, StudyArgs};
use crate::io::{LoadReport, load_study};
use crate::study::{Label, SeriesKind, Study};
use serde_json::{Value, json};
use std::fmt::Write;

#[derive(Debug, Clone, clap::Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub study: StudyArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `info`; returns what to print on stdout.
pub fn run(args: &InfoArgs) -> Result<String, CliError> {
    let loaded =
        load_study(&args.study.path, &args.study.load_options()).map_err(CliError::input)?;
    if args.json {
        let v = to_json(&loaded.study, &loaded.report);
        serde_json::to_string_pretty(&v).map_err(CliError::input)
    } else {
        Ok(to_text(&loaded.study, &loaded.report))
    }
}

use crate::measure::json_number as num;

/// Phases (0-based) that carry any reference annotation.
fn labelled_phases(study: &Study) -> Vec<usize> {
    let Some(l) = &study.reference_labels else {
        return Vec::new();
    };
    let d = l.dims();
    (0..d.phases)
        .filter(|&p| (0..d.slices).any(|s| !l.annotated(p, s).is_empty()))
        .collect()
}

pub fn to_json(study: &Study, report: &LoadReport) -> Value {
    let c = &study.cine;
    let d = c.dims();
    let g = &c.geometry;
    let p = &study.patient;
    let i = &study.info;
    json!({
        "slices": d.slices,
        "phases": d.phases,
        "rows": d.rows,
        "columns": d.columns,
        "pixel_spacing_mm": g.pixel_spacing_mm,
        "slice_spacing_mm": num(g.slice_spacing_mm()),
        "slice_thickness_mm": num(g.slice_thickness_mm),
        "slice_positions_mm": g.slice_positions_mm,
        "slice_distances_mm": g.slice_distances_mm(),
        "row_direction": g.row_direction,
        "column_direction": g.column_direction,
        "trigger_times_ms": c.phases.iter().map(|ph| num(ph.trigger_time_ms)).collect::<Vec<_>>(),
        "source_frames": c.phases.iter().map(|ph| ph.source_frame).collect::<Vec<_>>(),
        "patient_id": p.id,
        "patient": {
            "id": p.id, "name": p.name, "sex": p.sex, "birth_date": p.birth_date,
            "age_years": num(p.age_years), "height_cm": num(p.height_cm), "weight_kg": num(p.weight_kg),
        },
        "study": {
            "study_date": i.study_date, "manufacturer": i.manufacturer, "model": i.model,
            "field_strength_t": num(i.field_strength_t), "heart_rate_bpm": num(i.heart_rate()),
            "rr_interval_ms": num(i.rr_interval_ms),
            "study_instance_uid": i.study_instance_uid, "series_instance_uid": i.series_instance_uid,
        },
        "group": study.group,
        "ed_phase": study.key_phases.ed,
        "es_phase": study.key_phases.es,
        "series": study.series,
        "chosen_series": study.chosen_series,
        "sax_series": sax_series(study),
        "long_axis": study.long_axis.iter().map(|l| json!({
            "uid": l.uid, "number": l.number, "description": l.description, "view": l.view,
            "rows": l.rows, "columns": l.columns, "phases": l.phases,
            "sax_lines": l.sax_lines(&c.geometry),
        })).collect::<Vec<_>>(),
        "has_reference_labels": study.reference_labels.as_ref().is_some_and(|l| l.any_annotated()),
        "labelled_phases": labelled_phases(study),
        "skipped": report.skipped,
        "warnings": report.warnings,
        "images": study.images.iter().map(|im| json!({
            "slice": im.slice, "phase": im.phase, "instance_number": im.instance_number,
            "frame": im.frame, "path": im.path.to_string_lossy(),
        })).collect::<Vec<_>>(),
    })
}

/// The SeriesInstanceUIDs the short-axis stack was built from.
fn sax_series(study: &Study) -> Vec<String> {
    match study.series.get(study.chosen_series) {
        Some(s) if !s.sources.is_empty() => s.sources.clone(),
        Some(s) => vec![s.uid.clone()],
        None => Vec::new(),
    }
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map_or("-".into(), |x| x.to_string())
}

pub fn to_text(study: &Study, report: &LoadReport) -> String {
    let c = &study.cine;
    let d = c.dims();
    let g = &c.geometry;
    let p = &study.patient;
    let i = &study.info;
    let mut s = String::new();
    let _ = writeln!(s, "Series ({} found):", study.series.len());
    for (k, se) in study.series.iter().enumerate() {
        let mark = if k == study.chosen_series { "*" } else { " " };
        let kind = match (se.kind, se.view) {
            (_, Some(v)) => format!("long-axis {}", v.name()),
            (SeriesKind::ShortAxisCine, _) => "short-axis".into(),
            (SeriesKind::LongAxisCine, None) => "long-axis".into(),
            (SeriesKind::Localiser, _) => "localiser".into(),
            (SeriesKind::Other, _) => "other".into(),
        };
        let _ = writeln!(
            s,
            " {mark}[{k}] #{} {:<28} {:<13} {} images, {} positions x {} phases{}  {}",
            opt(&se.number),
            se.description.clone().unwrap_or_default(),
            kind,
            se.images,
            se.positions,
            se.phases,
            if se.is_cine { ", cine" } else { "" },
            se.uid
        );
    }
    let sources = sax_series(study);
    if sources.len() > 1 {
        let _ = writeln!(
            s,
            "Short-axis stack assembled from {} series (one breath-hold each; trigger times are kept per slice, phases ordered by index)",
            sources.len()
        );
    }
    for l in &study.long_axis {
        let lines = l.sax_lines(&c.geometry);
        let _ = writeln!(
            s,
            "Long-axis {} #{} ({} x {}, {} phases): {} short-axis slice(s) cross it{}",
            l.view.name(),
            opt(&l.number),
            l.columns,
            l.rows,
            l.phases,
            lines.len(),
            if lines.is_empty() { "" } else { ":" }
        );
        for line in &lines {
            let _ = writeln!(
                s,
                "  slice {} from ({:.1}, {:.1}) to ({:.1}, {:.1}) (column, row)",
                line.slice + 1,
                line.from[0],
                line.from[1],
                line.to[0],
                line.to[1]
            );
        }
    }
    let _ = writeln!(
        s,
        "Cine: {} slices x {} phases, {} x {} pixels",
        d.slices, d.phases, d.rows, d.columns
    );
    let _ = writeln!(
        s,
        "Pixel spacing: {:.3} x {:.3} mm (row, column); slice spacing {} mm; thickness {} mm",
        g.pixel_spacing_mm[0],
        g.pixel_spacing_mm[1],
        g.slice_spacing_mm()
            .map_or("-".into(), |v| format!("{v:.2}")),
        g.slice_thickness_mm
            .map_or("-".into(), |v| format!("{v:.2}")),
    );
    let times: Vec<String> = c
        .phases
        .iter()
        .map(|ph| ph.trigger_time_ms.map_or("-".into(), |t| format!("{t:.0}")))
        .collect();
    let _ = writeln!(s, "Trigger times (ms): {}", times.join(" "));
    if c.phases.iter().any(|ph| ph.source_frame.is_some()) {
        let f: Vec<String> = c.phases.iter().map(|ph| opt(&ph.source_frame)).collect();
        let _ = writeln!(s, "Source frames: {}", f.join(" "));
    }
    let _ = writeln!(
        s,
        "Patient: id {}  name {}  sex {}  birth {}  age {}  height {} cm  weight {} kg",
        opt(&p.id),
        opt(&p.name),
        p.sex.map_or("-".into(), |x| format!("{x:?}")),
        opt(&p.birth_date),
        p.age_years.map_or("-".into(), |a| format!("{a:.0}")),
        opt(&p.height_cm),
        opt(&p.weight_kg)
    );
    let _ = writeln!(
        s,
        "Study: date {}  scanner {} {}  field {} T  heart rate {}",
        opt(&i.study_date),
        opt(&i.manufacturer),
        opt(&i.model),
        opt(&i.field_strength_t),
        i.heart_rate().map_or("-".into(), |h| format!("{h:.0} bpm"))
    );
    if let Some(gr) = &study.group {
        let _ = writeln!(s, "Group: {gr}");
    }
    if study.key_phases.ed.is_some() || study.key_phases.es.is_some() {
        let _ = writeln!(
            s,
            "Stated ED phase {}  ES phase {}",
            opt(&study.key_phases.ed),
            opt(&study.key_phases.es)
        );
    }
    match &study.reference_labels {
        Some(l) if l.any_annotated() => {
            let phases = labelled_phases(study);
            let voxels: Vec<String> = Label::STRUCTURES
                .iter()
                .map(|lab| {
                    format!(
                        "{lab:?} {}",
                        phases.iter().map(|&ph| l.count(ph, *lab)).sum::<usize>()
                    )
                })
                .collect();
            let _ = writeln!(
                s,
                "Reference labels: phases {:?}; voxels {}",
                phases,
                voxels.join(", ")
            );
        }
        _ => {
            let _ = writeln!(s, "Reference labels: none");
        }
    }
    if !report.skipped.is_empty() {
        let _ = writeln!(s, "Skipped {} file(s):", report.skipped.len());
        for sk in &report.skipped {
            let _ = writeln!(s, "  {}: {}", sk.path.display(), sk.reason);
        }
    }
    for w in &report.warnings {
        let _ = writeln!(s, "Warning: {w}");
    }
    s
}
