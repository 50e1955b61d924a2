//! `systole demo-study --out DIR`: writes the synthetic phantom as NIfTI image + labels,
//! or with `--dicom-exam` as a whole synthetic DICOM exam (phantom::exam).

use super::CliError;
use crate::io::{nifti, write_labels};
use crate::phantom::{PhantomConfig, phantom};
use crate::study::LabelOrder;
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Folder to write demo_cine.nii.gz, demo_labels.nii.gz and demo_volumes.json into.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Cardiac phases (20-30 is typical of a clinical cine).
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u16).range(2..=60))]
    pub phases: u16,
    /// LV ejection fraction the phantom contracts to, in %.
    #[arg(long, default_value_t = 60.0)]
    pub ef: f64,
    /// Write a whole DICOM exam instead: the short axis one series per slice (one slice
    /// acquired twice), 2- and 4-chamber long-axis cines, a localiser.
    #[arg(long)]
    pub dicom_exam: bool,
}

pub fn run(args: &DemoArgs) -> Result<String, CliError> {
    if !(5.0..=85.0).contains(&args.ef) {
        return Err(CliError::input(format!(
            "--ef {} is outside 5..85 %",
            args.ef
        )));
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CliError::input(format!("{e}: {}", args.out.display())))?;
    let cfg = PhantomConfig {
        seed: args.seed,
        phases: args.phases as usize,
        lv_ef_pct: args.ef,
        ..Default::default()
    };
    if args.dicom_exam {
        if std::fs::read_dir(&args.out)
            .map_err(|e| CliError::input(format!("{e}: {}", args.out.display())))?
            .next()
            .is_some()
        {
            return Err(CliError::input(format!(
                "--dicom-exam writes into an empty folder; {} is not empty",
                args.out.display()
            )));
        }
        let exam = crate::phantom::exam::write_exam(&cfg, &args.out, &Default::default())
            .map_err(|e| CliError::input(format!("{e}: {}", args.out.display())))?;
        return Ok(format!(
            "wrote a synthetic DICOM exam of {} files into {}\nlook at it with: systole info {}",
            exam.files.len(),
            args.out.display(),
            args.out.display()
        ));
    }
    let p = phantom(&cfg);
    let cine = &p.study.cine;
    let d = cine.dims();
    let image = args.out.join("demo_cine.nii.gz");
    let labels = args.out.join("demo_labels.nii.gz");
    let volumes = args.out.join("demo_volumes.json");
    nifti::write(
        &image,
        [d.columns, d.rows, d.slices, d.phases],
        &cine.geometry.affine_ras(),
        nifti::Voxels::F32(cine.data()),
    )
    .map_err(CliError::input)?;
    if let Some(l) = &p.study.reference_labels {
        write_labels(&labels, cine, l, LabelOrder::Systole).map_err(CliError::input)?;
    }
    let v = json!({
        "seed": args.seed, "phases": d.phases, "slices": d.slices,
        "lv_ef_pct_requested": args.ef,
        "analytic_lv_volume_ml": p.volumes.lv_ml, "analytic_myo_volume_ml": p.volumes.myo_ml,
        "analytic_rv_volume_ml": p.volumes.rv_ml,
        "note": "per-phase volumes of the sampled slices (exact slice areas x slice spacing)",
    });
    let text = serde_json::to_string_pretty(&v).map_err(CliError::input)?;
    crate::io::write_atomic(&volumes, text.as_bytes()).map_err(CliError::input)?;
    Ok(format!(
        "wrote {}, {} and {}\nmeasure it with: systole measure {} --labels {}",
        image.display(),
        labels.display(),
        volumes.display(),
        image.display(),
        labels.display()
    ))
}
