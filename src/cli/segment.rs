//! `systole segment PATH --out DIR [--phases all|ed-es] [--json]`: automatic labels for a
//! study, written as DIR/labels.nii.gz (4-D, the study's grid), DIR/image.nii.gz (the
//! image stack as loaded) and DIR/measures.json (the keys of `systole measure --json`).

use super::CliError;
use super::measure::{BsaArg, measure_labels};
use crate::io::{LoadOptions, load_study, nifti};
use crate::measure::Context;
use crate::pipeline::{Orientation, Segmentation};
use crate::segment::{Progress, SegmentOptions, Segmenter};
use crate::study::{KeyPhases, LabelOrder, Study};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

#[derive(Debug, Clone, clap::Args)]
pub struct SegmentArgs {
    /// A DICOM folder or file, an ACDC or Sunnybrook patient folder, or a NIfTI file.
    pub path: PathBuf,
    /// Output folder (created if needed).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Series to use instead of the default cine: SeriesInstanceUID, SeriesNumber or index.
    #[arg(long)]
    pub series: Option<String>,
    /// Pixel size (mm) to assume for a DICOM series where no image states a usable
    /// PixelSpacing (otherwise such a study cannot be segmented or measured).
    #[arg(long)]
    pub assume_pixel_mm: Option<f64>,
    /// Which phases to segment. ed-es needs the study to state them (ACDC does); without
    /// that, all phases are segmented and ED/ES chosen from the LV volume curve.
    #[arg(long, value_enum, default_value_t = Phases::All)]
    pub phases: Phases,
    /// Model weights (safetensors with the training code's parameter names) instead of the
    /// built-in model.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Keep every connected piece of each structure (default: only the largest, per phase).
    #[arg(long)]
    pub keep_all_components: bool,
    /// Show the network the images only as stored (default: it first picks, of the
    /// eight quarter-turn and mirror orientations, the one it is surest of on the
    /// reference phase's mid slices, and segments the images turned that way).
    #[arg(long)]
    pub keep_orientation: bool,
    /// Run the network on whole images for every phase (default: after the first phase,
    /// only around the heart it found, which is about twice as fast).
    #[arg(long)]
    pub whole_images: bool,
    #[arg(long, value_enum, default_value_t = BsaArg::Mosteller)]
    pub bsa: BsaArg,
    /// Print a JSON summary instead of text.
    #[arg(long)]
    pub json: bool,
    /// Print progress on stderr.
    #[arg(long)]
    pub progress: bool,
    /// Also write the review session (all contours automatic) where the viewer and
    /// `systole measure` find it; labels.nii.gz and measures.json then come from those
    /// contours, so every output agrees. An existing session is replaced only if it has no
    /// manual contours.
    #[arg(long)]
    pub save_session: bool,
    /// Session file to write instead of the study's default location (with --save-session).
    #[arg(long, requires = "save_session")]
    pub session: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Phases {
    All,
    EdEs,
}

/// Loads the built-in model or `path`.
pub fn load_segmenter(path: Option<&Path>) -> Result<Segmenter, CliError> {
    match path {
        Some(p) => Segmenter::from_file(p),
        None => Segmenter::builtin(),
    }
    .map_err(CliError::input)
}

/// Segments the study's phases (`ed_es`: only its stated ED and ES, where it states them).
/// Returns the segmentation and the phases segmented.
pub fn segment_study(
    study: &Study,
    segmenter: &Segmenter,
    ed_es: bool,
    options: &SegmentOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Segmentation, Vec<usize>), CliError> {
    let d = study.cine.dims();
    let phases: Vec<usize> = match (ed_es, study.key_phases) {
        (
            true,
            KeyPhases {
                ed: Some(ed),
                es: Some(es),
            },
        ) if ed < d.phases && es < d.phases => {
            let mut v = vec![ed, es];
            v.dedup();
            v
        }
        _ => (0..d.phases).collect(),
    };
    let never = AtomicBool::new(false);
    let seg = crate::pipeline::segment_phases_oriented(
        segmenter,
        &study.cine,
        &phases,
        None,
        options,
        &mut |_| {},
        progress,
        &never,
    )
    .map_err(CliError::input)?;
    Ok((seg, phases))
}

pub fn run(args: &SegmentArgs) -> Result<String, CliError> {
    let t0 = Instant::now();
    let segmenter = load_segmenter(args.model.as_deref())?;
    let options = LoadOptions {
        series: args.series.clone(),
        labels: None,
        label_order: LabelOrder::Systole,
        progress: None,
        assume_pixel_mm: args.assume_pixel_mm,
        long_axis_images: false,
    };
    let loaded = load_study(&args.path, &options).map_err(CliError::input)?;
    let study = &loaded.study;
    let t_load = t0.elapsed();
    // Everything that can refuse does so before the network runs: the output folder, no
    // output over an input, a session with manual contours.
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CliError::input(format!("cannot create {}: {e}", args.out.display())))?;
    let labels_path = args.out.join("labels.nii.gz");
    let image_path = args.out.join("image.nii.gz");
    let measures_path = args.out.join("measures.json");
    let qc_path = args.out.join("qc.json");
    for p in [&labels_path, &image_path, &measures_path, &qc_path] {
        crate::io::check_output(p, &loaded.report.inputs).map_err(CliError::input)?;
    }
    let overrides = if args.save_session {
        Some(existing_overrides(args, study)?)
    } else {
        None
    };
    let opts = SegmentOptions {
        largest_component: !args.keep_all_components,
        heart_margin_px: if args.whole_images {
            None
        } else {
            Some(crate::segment::DEFAULT_HEART_MARGIN_PX)
        },
        find_orientation: !args.keep_orientation,
        ..SegmentOptions::default()
    };
    let show = args.progress;
    let mut report = |p: Progress| {
        if show {
            eprint!("\rsegmenting {}/{} images", p.done, p.total);
            if p.done == p.total {
                eprintln!();
            }
        }
    };
    let t1 = Instant::now();
    let (seg, phases) = segment_study(
        study,
        &segmenter,
        args.phases == Phases::EdEs,
        &opts,
        &mut report,
    )?;
    let t_seg = t1.elapsed();
    // What is measured and written is what the viewer shows: the automatic contours.
    let orientation = seg.orientation;
    let (contours, labels) = crate::pipeline::auto_contours(&seg.labels);
    let ctx = match &overrides {
        Some(o) => super::session::context_of(study, o, args.bsa.formula()),
        None => Context::of(study, args.bsa.formula()),
    };
    let measures = measure_labels(study, &labels, &ctx)?;
    crate::io::write_labels(&labels_path, &study.cine, &labels, LabelOrder::Systole)
        .map_err(CliError::input)?;
    let d = study.cine.dims();
    nifti::write(
        &image_path,
        [d.columns, d.rows, d.slices, d.phases],
        &study.cine.geometry.affine_ras(),
        nifti::Voxels::F32(study.cine.data()),
    )
    .map_err(CliError::input)?;
    let flags = crate::qc::rule_checks(&labels, &study.cine.geometry, &measures);
    let mj = serde_json::to_string_pretty(&crate::qc::measures_document(
        &measures,
        &study.warnings,
        &flags,
    ))
    .map_err(CliError::input)?;
    crate::io::write_atomic(&measures_path, mj.as_bytes()).map_err(CliError::input)?;
    let image_qc = crate::qc::segmentation_images(&seg, &study.cine.geometry, &phases);
    let qj = serde_json::to_string_pretty(&crate::qc::document(&flags, &image_qc))
        .map_err(CliError::input)?;
    crate::io::write_atomic(&qc_path, qj.as_bytes()).map_err(CliError::input)?;
    // The session last: a command that failed above leaves none behind.
    let session_path = match overrides {
        Some(o) => {
            // A new segmentation: the network's confidence, no image reviewed yet.
            let mut review = crate::qc::Review::default();
            for im in &image_qc {
                review.set_confidence(im.phase, im.slice, im.confidence);
            }
            Some(write_session(args, study, contours, o, review, &measures)?)
        }
        None => None,
    };

    let images = phases.len() * d.slices;
    let summary = json!({
        "study": args.path.display().to_string(),
        "model": segmenter.origin(),
        "phases_segmented": phases,
        "orientation": orientation,
        "images": images,
        "load_s": t_load.as_secs_f64(),
        "segment_s": t_seg.as_secs_f64(),
        "ms_per_image": 1000.0 * t_seg.as_secs_f64() / images.max(1) as f64,
        "labels": labels_path.display().to_string(),
        "image": image_path.display().to_string(),
        "measures": measures_path.display().to_string(),
        "qc": qc_path.display().to_string(),
        "qc_flags": {
            "error": flags.iter().filter(|f| f.severity == crate::qc::Severity::Error).count(),
            "warning": flags.iter().filter(|f| f.severity == crate::qc::Severity::Warning).count(),
            "info": flags.iter().filter(|f| f.severity == crate::qc::Severity::Info).count(),
            "study": flags.iter().filter(|f| f.is_study_flag()).map(|f| f.code).collect::<Vec<_>>(),
        },
        "confidence": confidence_summary(&image_qc),
        "skipped_files": loaded.report.skipped.len(),
        "warnings": study.warnings,
        "session": session_path.as_ref().map(|p| p.display().to_string()),
    });
    if args.json {
        return serde_json::to_string_pretty(&summary).map_err(CliError::input);
    }
    let mut s = format!(
        "Segmented {images} images ({} phases x {} slices) in {:.2} s ({:.0} ms per image; loading {:.2} s)\nwrote {}\n      {}\n      {}\n      {}\n\n",
        phases.len(),
        d.slices,
        t_seg.as_secs_f64(),
        1000.0 * t_seg.as_secs_f64() / images.max(1) as f64,
        t_load.as_secs_f64(),
        labels_path.display(),
        image_path.display(),
        measures_path.display(),
        qc_path.display()
    );
    if let Some(p) = &session_path {
        s.push_str(&format!("session {}\n\n", p.display()));
    }
    if orientation != Orientation::IDENTITY {
        s.push_str(&format!(
            "The network saw the images {} (the orientation it segments best); the labels are turned back.\n\n",
            orientation.describe()
        ));
    }
    s.push_str(&super::measure::to_text(&measures));
    s.push_str(&crate::qc::to_text(&flags));
    s.push_str(&super::measure::warnings_text(&study.warnings));
    Ok(s)
}

/// The network's confidence over the segmented images: mean, least, and how many images
/// fall under 0.8 and 0.5 (the viewer's amber and red marks).
fn confidence_summary(images: &[crate::qc::ImageQc]) -> serde_json::Value {
    let known: Vec<&crate::qc::ImageQc> =
        images.iter().filter(|i| i.confidence.is_some()).collect();
    let c = |i: &&crate::qc::ImageQc| i.confidence.unwrap_or(1.0);
    let least = known.iter().min_by(|a, b| c(a).total_cmp(&c(b)));
    json!({
        "mean": (!known.is_empty())
            .then(|| known.iter().map(c).sum::<f64>() / known.len() as f64),
        "under_0_8": known.iter().filter(|i| c(i) < 0.8).count(),
        "under_0_5": known.iter().filter(|i| c(i) < 0.5).count(),
        "least": least.map(|i| json!({"slice": i.slice, "phase": i.phase, "confidence": c(i)})),
    })
}

/// The overrides of the session `--save-session` will replace. Never replaces a
/// clinician's work: a session with manual contours, a broken one or another study's is
/// an error.
fn existing_overrides(
    args: &SegmentArgs,
    study: &Study,
) -> Result<crate::io::session::Overrides, CliError> {
    use crate::contour::set::Source;
    use crate::io::session;
    let existing = match &args.session {
        Some(p) => p.exists().then(|| p.clone()),
        None => session::find(&args.path, study, None),
    };
    let Some(p) = existing else {
        return Ok(Default::default());
    };
    let old = session::read(&p, study).map_err(CliError::input)?;
    if old.contours.iter().any(|(_, c)| c.source == Source::Manual) {
        return Err(CliError::input(format!(
            "the session has manual contours; open it in the viewer to segment again, or remove it: {}",
            p.display()
        )));
    }
    Ok(old.overrides)
}

/// Writes the session with the automatic contours and the kept overrides.
fn write_session(
    args: &SegmentArgs,
    study: &Study,
    contours: crate::contour::set::ContourSet,
    overrides: crate::io::session::Overrides,
    review: crate::qc::Review,
    m: &crate::measure::Measures,
) -> Result<PathBuf, CliError> {
    use crate::io::session::{self, Session, SessionFile};
    let s = Session {
        contours,
        overrides,
        review,
    };
    let file = SessionFile::new(study, &s, (m.ed_phase, m.es_phase));
    let default = session::default_path(&args.path, study.alternative_stack());
    session::write(&file, &default, args.session.as_deref()).map_err(CliError::input)
}
