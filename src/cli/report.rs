//! `systole report PATH -o report.pdf [--labels FILE] [--anonymize] [--reviewer NAME]
//! [--conclusion TEXT] [--paper a4|letter]`: the PDF report of a study. Labels come from
//! --labels, else from the study's review session, else the built-in network segments
//! every phase first.

use super::measure::{BsaArg, measure_labels};
use super::segment::{load_segmenter, segment_study};
use super::{CliError, SessionArgs, StudyArgs};

use crate::io::load_study;
use crate::measure::Context;
use crate::report::{self, Paper, ReportOptions};
use crate::segment::SegmentOptions;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub study: StudyArgs,
    /// The PDF to write (`-` for standard output). Never an input of the command or a
    /// review session; a symlink is written through.
    #[arg(long, short)]
    pub out: PathBuf,
    #[command(flatten)]
    pub session: SessionArgs,
    /// Leave out the patient's name, ID, birth and study dates and other identifiers; black
    /// out the images' borders (where scanners burn in text).
    #[arg(long)]
    pub anonymize: bool,
    /// The reviewer's name (default: the session's).
    #[arg(long)]
    pub reviewer: Option<String>,
    /// The conclusion (default: the session's).
    #[arg(long)]
    pub conclusion: Option<String>,
    #[arg(long, value_enum, default_value_t = PaperArg::A4)]
    pub paper: PaperArg,
    #[arg(long, value_enum, default_value_t = BsaArg::Mosteller)]
    pub bsa: BsaArg,
    /// Model weights for segmenting (default: the built-in model).
    #[arg(long)]
    pub model: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PaperArg {
    A4,
    Letter,
}

pub fn run(args: &ReportArgs) -> Result<String, CliError> {
    let t0 = Instant::now();
    let loaded =
        load_study(&args.study.path, &args.study.load_options()).map_err(CliError::input)?;
    let study = &loaded.study;
    // Refused before anything is computed: writing over the study, its labels or a session.
    let mut inputs = loaded.report.inputs.clone();
    inputs.extend(args.session.session.iter().cloned());
    if let Some(p) =
        crate::io::session::find(&args.study.path, study, args.session.session.as_deref())
    {
        inputs.push(p);
    }
    crate::io::check_output(&args.out, &inputs).map_err(CliError::input)?;
    let mut reviewer = None;
    let mut conclusion = None;
    let mut age_years = None;
    let mut review = None;
    let mut model_name = report::builtin_model_name();
    let (labels, contours, ctx, source) = if args.study.labels.is_some() {
        let labels = study
            .reference_labels
            .clone()
            .filter(|l| l.any_annotated())
            .ok_or_else(|| CliError::input("the label file has no labels"))?;
        (
            labels,
            None,
            Context::of(study, args.bsa.formula()),
            "label file",
        )
    } else if let Some((path, s)) = super::session::load(&args.study.path, study, &args.session)? {
        let (labels, ctx) = super::session::labels_and_context(study, &s, args.bsa.formula());
        if !labels.any_annotated() {
            return Err(CliError::input(format!(
                "the session has no contours to report: {}",
                path.display()
            )));
        }
        reviewer = s.overrides.reviewer.clone();
        age_years = s.overrides.age_years;
        conclusion = s.overrides.conclusion.clone();
        review = Some(s.review.clone());
        let c = s.contours;
        (labels, Some(c), ctx, "session")
    } else {
        let segmenter = load_segmenter(args.model.as_deref())?;
        if let Some(m) = &args.model {
            model_name = m.file_name().map_or_else(
                || m.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
        }
        let (seg, _) = segment_study(
            study,
            &segmenter,
            false,
            &SegmentOptions::default(),
            &mut |_| {},
        )?;
        let (c, labels) = crate::pipeline::auto_contours(&seg.labels);
        (
            labels,
            Some(c),
            Context::of(study, args.bsa.formula()),
            "segmented now",
        )
    };
    let measures = measure_labels(study, &labels, &ctx)?;
    let t_report = Instant::now();
    let options = ReportOptions {
        paper: match args.paper {
            PaperArg::A4 => Paper::A4,
            PaperArg::Letter => Paper::Letter,
        },
        anonymize: args.anonymize,
        reviewer: args.reviewer.clone().or(reviewer),
        conclusion: args.conclusion.clone().or(conclusion),
        model: model_name,
        generated_secs: report::now_secs(),
        height_cm: ctx.height_cm,
        weight_kg: ctx.weight_kg,
        sex: ctx.sex,
        age_years,
        review,
    };
    let model = report::build(study, &labels, contours.as_ref(), &measures, &options)
        .map_err(CliError::input)?;
    let bytes = report::pdf::render(&model).map_err(CliError::input)?;
    let summary = |to: String| {
        format!(
            "wrote {to} ({} bytes; contours: {source}; report {:.2} s, total {:.2} s)",
            bytes.len(),
            t_report.elapsed().as_secs_f64(),
            t0.elapsed().as_secs_f64()
        )
    };
    if args.out.as_os_str() == "-" {
        // The PDF is the output; the summary goes to stderr.
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(&bytes)
            .and_then(|_| out.flush())
            .map_err(|e| {
                CliError::input(format!("cannot write the PDF to standard output: {e}"))
            })?;
        eprintln!("{}", summary("standard output".into()));
        return Ok(String::new());
    }
    crate::io::write_atomic(&args.out, &bytes).map_err(CliError::input)?;
    Ok(summary(args.out.display().to_string()))
}
