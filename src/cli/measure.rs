//! `systole measure PATH [--json]`: ventricular measures from the study's labels.

use super::{CliError, SessionArgs, StudyArgs};
use crate::io::load_study;
use crate::measure::{BsaFormula, Context, Engine, Level, Measures};
use crate::qc::rule_checks;
use crate::study::{LabelStack, Study};
use std::fmt::Write;

#[derive(Debug, Clone, clap::Args)]
pub struct MeasureArgs {
    #[command(flatten)]
    pub study: StudyArgs,
    #[command(flatten)]
    pub session: SessionArgs,
    /// Body surface area formula.
    #[arg(long, value_enum, default_value_t = BsaArg::Mosteller)]
    pub bsa: BsaArg,
    /// Print one flat JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum BsaArg {
    Mosteller,
    Dubois,
}

impl BsaArg {
    pub fn formula(self) -> BsaFormula {
        match self {
            BsaArg::Mosteller => BsaFormula::Mosteller,
            BsaArg::Dubois => BsaFormula::DuBois,
        }
    }
}

/// Measures of `labels` on `study`'s grid, with the study's stated ED/ES, sex, height,
/// weight and heart rate.
pub fn measure_labels(
    study: &Study,
    labels: &LabelStack,
    ctx: &Context,
) -> Result<Measures, CliError> {
    let voxel_ml = study
        .cine
        .geometry
        .voxel_volume_ml()
        .filter(|v| v.is_finite() && *v > 0.0)
        .ok_or_else(|| {
            CliError::input("the study's voxel volume is unknown (no slice spacing or thickness)")
        })?;
    Ok(Engine::new(labels, voxel_ml).measures(ctx))
}

pub fn run(args: &MeasureArgs) -> Result<String, CliError> {
    let loaded =
        load_study(&args.study.path, &args.study.load_options()).map_err(CliError::input)?;
    let study = &loaded.study;
    let session = super::session::load(&args.study.path, study, &args.session)?;
    let (labels, ctx) = match session {
        // --labels names the labels to measure explicitly: they win over a session.
        Some((_, s)) if args.study.labels.is_none() => {
            let (labels, ctx) = super::session::labels_and_context(study, &s, args.bsa.formula());
            if !labels.any_annotated() {
                return Err(CliError::input(format!(
                    "the session has no contours to measure: {}",
                    args.study.path.display()
                )));
            }
            (labels, ctx)
        }
        _ => {
            let labels = study.reference_labels.clone().filter(|l| l.any_annotated()).ok_or_else(|| {
                CliError::input(format!(
                    "no labels to measure: the study has no session and no reference labels; run `systole segment PATH --out DIR --save-session` or give --labels FILE: {}",
                    args.study.path.display()
                ))
            })?;
            (labels, Context::of(study, args.bsa.formula()))
        }
    };
    let m = measure_labels(study, &labels, &ctx)?;
    let qc = rule_checks(&labels, &study.cine.geometry, &m);
    if args.json {
        let v = crate::qc::measures_document(&m, &study.warnings, &qc);
        serde_json::to_string_pretty(&v).map_err(CliError::input)
    } else {
        Ok(to_text(&m) + &crate::qc::to_text(&qc) + &warnings_text(&study.warnings))
    }
}

/// The study's load warnings, one line each ("" when there are none).
pub fn warnings_text(warnings: &[String]) -> String {
    warnings.iter().map(|w| format!("WARNING: {w}\n")).collect()
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".into(), |x| format!("{x:.digits$}"))
}

pub fn to_text(m: &Measures) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "ED phase {}  ES phase {}",
        fmt(m.ed_phase.map(|p| p as f64), 0),
        fmt(m.es_phase.map(|p| p as f64), 0)
    );
    let _ = writeln!(
        s,
        "{:<4} {:>9} {:>9} {:>9} {:>7}",
        "", "EDV mL", "ESV mL", "SV mL", "EF %"
    );
    for (name, v) in [("LV", &m.lv), ("RV", &m.rv)] {
        let _ = writeln!(
            s,
            "{name:<4} {:>9} {:>9} {:>9} {:>7}",
            fmt(v.edv_ml, 1),
            fmt(v.esv_ml, 1),
            fmt(v.sv_ml, 1),
            fmt(v.ef_pct, 1)
        );
    }
    let _ = writeln!(
        s,
        "LV mass {} g   cardiac output {} L/min   BSA {} m2",
        fmt(m.lv_mass_g, 1),
        fmt(m.lv_cardiac_output_l_min, 2),
        fmt(m.bsa_m2, 2)
    );
    for (k, v) in m.scalars().into_iter().filter(|(k, _)| k.contains("index")) {
        let _ = writeln!(s, "  {k} {}", fmt(v, 1));
    }
    for p in m.problems() {
        let _ = writeln!(s, "IMPOSSIBLE {}: {}", p.measure, p.reason);
    }
    let vols: Vec<String> = m.volumes.lv_ml.iter().map(|v| fmt(*v, 0)).collect();
    let _ = writeln!(s, "LV volume per phase (mL): {}", vols.join(" "));
    for f in &m.flags {
        let level = match f.level {
            Level::Low => "LOW",
            Level::Normal => "normal",
            Level::High => "HIGH",
        };
        let _ = writeln!(
            s,
            "  {} {:.1} {level} (range {:.1}-{:.1}; {})",
            f.measure, f.value, f.low, f.high, f.source
        );
    }
    s
}
