//! `systole eval --pred A --truth B`: segmentation metrics and clinical differences
//! between two label sources, for one study or for folders of studies matched by name.
//! `systole eval --segment --truth B`: the same for the built-in network's labels,
//! segmenting each study first (e.g. a folder of ACDC patients).

use super::measure::{BsaArg, measure_labels};
use super::{CliError, LabelOrderArg};
use crate::io::{LoadOptions, acdc, is_nifti_name, load_study, sunnybrook};
use crate::measure::{
    Agreement, Context, Measures, agreement, dice, hausdorff_3d_mm, slice_distances_2d,
};
use crate::study::{KeyPhases, Label, LabelStack, Study};
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// Predicted labels: a label NIfTI on the truth's grid, or a study with reference
    /// labels; in batch mode a folder holding NAME.nii.gz files or NAME folders.
    #[arg(long, required_unless_present = "segment", conflicts_with = "segment")]
    pub pred: Option<PathBuf>,
    /// Segment every reference study with the network instead of reading predictions.
    #[arg(long)]
    pub segment: bool,
    /// With --segment: model weights instead of the built-in model.
    #[arg(long, requires = "segment")]
    pub model: Option<PathBuf>,
    /// With --segment: keep every connected piece of each structure.
    #[arg(long, requires = "segment")]
    pub keep_all_components: bool,
    /// With --segment: whole images for every phase (no heart window).
    #[arg(long, requires = "segment")]
    pub whole_images: bool,
    /// With --segment: show the network the images only as stored (no orientation
    /// search).
    #[arg(long, requires = "segment")]
    pub keep_orientation: bool,
    /// With --segment: turn every study's images and reference labels this many quarter
    /// turns counter-clockwise before segmenting (a robustness check; headers untouched).
    #[arg(long, requires = "segment", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..4))]
    pub turn: u8,
    /// With --segment: mirror every study's images and labels left-right (after --turn).
    #[arg(long, requires = "segment")]
    pub mirror: bool,
    /// Batch mode: evaluate only the studies a split file (training/split.json) lists
    /// under "val".
    #[arg(long)]
    pub split: Option<PathBuf>,
    /// The reference: a study with reference labels (ACDC or Sunnybrook folder, ...), or
    /// a folder of such study folders (batch mode).
    #[arg(long)]
    pub truth: PathBuf,
    /// Label order of a predicted label NIfTI.
    #[arg(long, value_enum, default_value_t = LabelOrderArg::Systole)]
    pub pred_order: LabelOrderArg,
    #[arg(long, value_enum, default_value_t = BsaArg::Mosteller)]
    pub bsa: BsaArg,
    #[arg(long)]
    pub json: bool,
}

/// Metrics of one structure over the phases the reference annotates.
#[derive(Debug, Clone, Serialize)]
pub struct StructureScore {
    pub structure: Label,
    pub phases: Vec<usize>,
    pub dice: Vec<f64>,
    pub hausdorff_3d_mm: Vec<Option<f64>>,
    pub mean_contour_distance_2d_mm: Vec<Option<f64>>,
    pub hausdorff_2d_mm: Vec<Option<f64>>,
}

impl StructureScore {
    pub fn mean_dice(&self) -> Option<f64> {
        mean(self.dice.iter().map(|d| Some(*d)))
    }
    pub fn mean_hd(&self) -> Option<f64> {
        mean(self.hausdorff_3d_mm.iter().copied())
    }
}

fn mean(it: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let v: Vec<f64> = it.flatten().filter(|x| x.is_finite()).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// One study's comparison.
#[derive(Debug, Clone)]
pub struct StudyEval {
    pub name: String,
    pub group: Option<String>,
    pub scores: Vec<StructureScore>,
    pub pred: Measures,
    pub truth: Measures,
    /// With the network's predictions: every image the reference annotates, in the
    /// study's review order (most suspect first).
    pub review: Vec<ReviewedImage>,
}

/// An image of the review evaluation: its error and the network's confidence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReviewedImage {
    pub slice: usize,
    pub phase: usize,
    /// The worst structure's symmetric difference (mL).
    pub error_ml: f64,
    pub confidence: Option<f64>,
}

/// The share of the review order a cardiologist looks at first.
pub const REVIEW_SHARE: f64 = 0.2;

/// How well confidence and review order find the images with errors of at least
/// [`crate::qc::confidence::ERROR_ML`]: the AUROC of `1 - confidence` over all images, and the
/// share of those images within the first [`REVIEW_SHARE`] of each study's review order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReviewScore {
    pub images: usize,
    pub images_with_error: usize,
    pub auroc: Option<f64>,
    pub found_in_first_share: Option<f64>,
}

/// [`ReviewScore`] over the studies' reviewed images.
pub fn review_score(evals: &[StudyEval]) -> ReviewScore {
    let bad = |i: &ReviewedImage| i.error_ml >= crate::qc::confidence::ERROR_ML;
    let all: Vec<&ReviewedImage> = evals.iter().flat_map(|e| e.review.iter()).collect();
    let n_bad = all.iter().filter(|i| bad(i)).count();
    let scored: Vec<(f64, bool)> = all
        .iter()
        .filter_map(|i| i.confidence.map(|c| (1.0 - c, bad(i))))
        .collect();
    let found: usize = evals
        .iter()
        .map(|e| {
            let first = (REVIEW_SHARE * e.review.len() as f64).ceil() as usize;
            e.review.iter().take(first).filter(|i| bad(i)).count()
        })
        .sum();
    ReviewScore {
        images: all.len(),
        images_with_error: n_bad,
        auroc: crate::measure::auroc(&scored),
        found_in_first_share: (n_bad > 0).then(|| found as f64 / n_bad as f64),
    }
}

/// The measures compared clinically.
const CLINICAL: [&str; 8] = [
    "lv_edv_ml",
    "lv_esv_ml",
    "lv_ef_pct",
    "lv_mass_g",
    "rv_edv_ml",
    "rv_esv_ml",
    "rv_ef_pct",
    "lv_sv_ml",
];

fn scalar(m: &Measures, name: &str) -> Option<f64> {
    m.scalars()
        .into_iter()
        .find(|(k, _)| *k == name)
        .and_then(|(_, v)| v)
}

/// Compares `pred` with the study's reference labels.
pub fn evaluate(
    name: &str,
    study: &Study,
    truth: &LabelStack,
    pred: &LabelStack,
    ctx: &Context,
) -> Result<StudyEval, CliError> {
    let d = study.cine.dims();
    let g = &study.cine.geometry;
    let spacing = [
        g.slice_spacing_mm().unwrap_or(1.0),
        g.pixel_spacing_mm[0],
        g.pixel_spacing_mm[1],
    ];
    let shape = [d.slices, d.rows, d.columns];
    let n = d.slices * d.pixels_per_image();
    let mut scores = Vec::new();
    for label in Label::STRUCTURES {
        let phases: Vec<usize> = (0..d.phases)
            .filter(|&p| (0..d.slices).any(|s| truth.annotated(p, s).contains(label)))
            .collect();
        let mut sc = StructureScore {
            structure: label,
            phases: phases.clone(),
            dice: Vec::new(),
            hausdorff_3d_mm: Vec::new(),
            mean_contour_distance_2d_mm: Vec::new(),
            hausdorff_2d_mm: Vec::new(),
        };
        for p in phases {
            // Only the slices the reference annotates for this structure count (Sunnybrook
            // contours cover some slices only); the others are blanked in both.
            let npx = d.pixels_per_image();
            let mut a = pred.data()[p * n..(p + 1) * n].to_vec();
            let mut b = truth.data()[p * n..(p + 1) * n].to_vec();
            for s in 0..d.slices {
                if !truth.annotated(p, s).contains(label) {
                    a[s * npx..(s + 1) * npx].fill(0);
                    b[s * npx..(s + 1) * npx].fill(0);
                }
            }
            let (a, b) = (&a[..], &b[..]);
            let v = label as u8;
            sc.dice.push(dice(a, b, v));
            sc.hausdorff_3d_mm
                .push(hausdorff_3d_mm(a, b, v, shape, spacing));
            let s2 = slice_distances_2d(a, b, v, shape, g.pixel_spacing_mm);
            sc.mean_contour_distance_2d_mm
                .push(s2.mean_contour_distance_mm);
            sc.hausdorff_2d_mm.push(s2.hausdorff_mm);
        }
        if !sc.phases.is_empty() {
            scores.push(sc);
        }
    }
    let truth_m = measure_labels(study, truth, ctx)?;
    // The prediction is measured at the reference's ED and ES phases.
    let pred_ctx = Context {
        stated: KeyPhases {
            ed: truth_m.ed_phase,
            es: truth_m.es_phase,
        },
        ..*ctx
    };
    let pred_m = measure_labels(study, pred, &pred_ctx)?;
    Ok(StudyEval {
        name: name.to_string(),
        group: study.group.clone(),
        scores,
        pred: pred_m,
        truth: truth_m,
        review: Vec::new(),
    })
}

/// One image's error: per structure (LV blood pool, myocardium, RV), the volume (mL) of
/// the symmetric difference between prediction and reference on that image (`None`
/// where the reference does not annotate the structure there).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ImageError {
    pub slice: usize,
    pub phase: usize,
    pub error_ml: [Option<f64>; 3],
}

impl ImageError {
    /// The error of the worst structure (mL).
    pub fn worst_ml(&self) -> f64 {
        self.error_ml.iter().flatten().fold(0.0, |a, &b| a.max(b))
    }
}

/// The error of every image the reference annotates (any structure), phase by phase.
pub fn image_errors(study: &Study, truth: &LabelStack, pred: &LabelStack) -> Vec<ImageError> {
    let d = study.cine.dims();
    let g = &study.cine.geometry;
    let voxel_ml = g.voxel_volume_ml().unwrap_or(0.0);
    let mut out = Vec::new();
    for p in 0..d.phases {
        for s in 0..d.slices {
            let annotated = truth.annotated(p, s);
            if annotated.is_empty() {
                continue;
            }
            let (a, b) = (pred.image(p, s), truth.image(p, s));
            let error_ml = std::array::from_fn(|i| {
                let label = Label::STRUCTURES[i];
                annotated.contains(label).then(|| {
                    let v = label as u8;
                    let n = a
                        .iter()
                        .zip(b)
                        .filter(|&(&x, &y)| (x == v) != (y == v))
                        .count();
                    n as f64 * voxel_ml
                })
            });
            out.push(ImageError {
                slice: s,
                phase: p,
                error_ml,
            });
        }
    }
    out
}

fn reference_labels(study: &Study, path: &Path) -> Result<LabelStack, CliError> {
    study
        .reference_labels
        .clone()
        .filter(|l| l.any_annotated())
        .ok_or_else(|| CliError::input(format!("no reference labels: {}", path.display())))
}

/// Loads the prediction for a truth study: a label NIfTI on its grid, or a study.
fn load_pred(pred: &Path, truth_study: &Study, args: &EvalArgs) -> Result<LabelStack, CliError> {
    if pred.is_file() && is_nifti_name(pred) {
        crate::io::load_labels(pred, truth_study.cine.dims(), args.pred_order.into())
            .map_err(CliError::input)
    } else {
        let p = load_study(pred, &LoadOptions::default()).map_err(CliError::input)?;
        if p.study.cine.dims() != truth_study.cine.dims() {
            return Err(CliError::input(format!(
                "prediction grid differs from the reference: {}",
                pred.display()
            )));
        }
        reference_labels(&p.study, pred)
    }
}

/// Where predictions come from.
enum Source<'a> {
    Path(&'a Path),
    Network(&'a crate::segment::Segmenter),
}

fn one(name: &str, truth: &Path, pred: Source<'_>, args: &EvalArgs) -> Result<StudyEval, CliError> {
    let mut t = load_study(truth, &LoadOptions::default()).map_err(CliError::input)?;
    let mut truth_labels = reference_labels(&t.study, truth)?;
    let turn = crate::pipeline::Orientation {
        quarter_turns: args.turn,
        mirror: args.mirror,
    };
    if turn != crate::pipeline::Orientation::IDENTITY {
        t.study.cine = turn.apply_cine(&t.study.cine).map_err(CliError::input)?;
        truth_labels = turn_labels(turn, &truth_labels, t.study.cine.dims());
        t.study.reference_labels = Some(truth_labels.clone());
    }
    let mut segmentation = None;
    let pred_labels = match pred {
        Source::Path(p) => load_pred(p, &t.study, args)?,
        Source::Network(seg) => {
            let opts = crate::segment::SegmentOptions {
                largest_component: !args.keep_all_components,
                heart_margin_px: if args.whole_images {
                    None
                } else {
                    Some(crate::segment::DEFAULT_HEART_MARGIN_PX)
                },
                find_orientation: !args.keep_orientation,
                ..Default::default()
            };
            let s = super::segment::segment_study(&t.study, seg, false, &opts, &mut |_| {})?.0;
            let labels = s.labels.clone();
            segmentation = Some(s);
            labels
        }
    };
    let mut e = evaluate(
        name,
        &t.study,
        &truth_labels,
        &pred_labels,
        &Context::of(&t.study, args.bsa.formula()),
    )?;
    if let Some(seg) = &segmentation {
        e.review = review(&t.study, &truth_labels, seg, &e.pred);
    }
    Ok(e)
}

/// The images the reference annotates in the review order of the network's QC (rule
/// checks on its labels, its confidence), each with its true error.
fn review(
    study: &Study,
    truth: &LabelStack,
    seg: &crate::pipeline::Segmentation,
    pred_measures: &Measures,
) -> Vec<ReviewedImage> {
    let g = &study.cine.geometry;
    let errors = image_errors(study, truth, &seg.labels);
    let flags = crate::qc::rule_checks(&seg.labels, g, pred_measures);
    let mut phases: Vec<usize> = errors.iter().map(|e| e.phase).collect();
    phases.dedup();
    let images: Vec<crate::qc::ImageQc> = crate::qc::segmentation_images(seg, g, &phases)
        .into_iter()
        .filter(|i| {
            errors
                .iter()
                .any(|e| (e.slice, e.phase) == (i.slice, i.phase))
        })
        .collect();
    crate::qc::review_order(&flags, &images)
        .into_iter()
        .filter_map(|(s, p)| {
            let e = errors.iter().find(|e| (e.slice, e.phase) == (s, p))?;
            let c = images.iter().find(|i| (i.slice, i.phase) == (s, p))?;
            Some(ReviewedImage {
                slice: s,
                phase: p,
                error_ml: e.worst_ml(),
                confidence: c.confidence,
            })
        })
        .collect()
}

/// `labels` turned: `dims` are the turned grid's.
fn turn_labels(
    turn: crate::pipeline::Orientation,
    labels: &LabelStack,
    dims: crate::study::Dims,
) -> LabelStack {
    let d = labels.dims();
    let mut out = LabelStack::empty(dims);
    for p in 0..d.phases {
        for s in 0..d.slices {
            let img = turn.apply(labels.image(p, s), d.rows, d.columns);
            if let Some(o) = out.image_mut(p, s) {
                o.copy_from_slice(&img);
            }
            out.set_annotated(p, s, labels.annotated(p, s));
        }
    }
    out
}

/// The "val" list of a split file.
fn split_names(path: &Path) -> Result<Vec<String>, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::input(format!("cannot read {}: {e}", path.display())))?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| CliError::input(format!("{} is not JSON: {e}", path.display())))?;
    v["val"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .ok_or_else(|| CliError::input(format!("{} has no \"val\" list", path.display())))
}

/// Study folders directly under `dir`, by name (batch mode), or empty.
fn study_children(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<(String, PathBuf)> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| acdc::is_patient_folder(p) || sunnybrook::is_patient_folder(p))
        .filter_map(|p| Some((p.file_name()?.to_string_lossy().into_owned(), p)))
        .collect();
    v.sort();
    v
}

/// The prediction for study `name` inside the batch folder `pred`.
fn pred_for(pred: &Path, name: &str) -> Option<PathBuf> {
    ["nii.gz", "nii"]
        .iter()
        .map(|ext| pred.join(format!("{name}.{ext}")))
        .chain([pred.join(name)])
        .find(|p| p.exists())
}

pub fn run(args: &EvalArgs) -> Result<String, CliError> {
    let mut children = if args.truth.is_dir()
        && !acdc::is_patient_folder(&args.truth)
        && !sunnybrook::is_patient_folder(&args.truth)
    {
        study_children(&args.truth)
    } else {
        Vec::new()
    };
    if let Some(split) = &args.split {
        let names = split_names(split)?;
        children.retain(|(n, _)| names.contains(n));
        if children.is_empty() {
            return Err(CliError::input(format!(
                "no study in {} is listed in {}",
                args.truth.display(),
                split.display()
            )));
        }
    }
    let segmenter = if args.segment {
        Some(super::segment::load_segmenter(args.model.as_deref())?)
    } else {
        None
    };
    let mut evals = Vec::new();
    let mut missing = Vec::new();
    if children.is_empty() {
        let name = args
            .truth
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let pred = match (&segmenter, &args.pred) {
            (Some(seg), _) => Source::Network(seg),
            (None, Some(p)) => Source::Path(p),
            (None, None) => return Err(CliError::input("give --pred or --segment")),
        };
        evals.push(one(&name, &args.truth, pred, args)?);
    } else {
        for (name, truth) in &children {
            match (&segmenter, &args.pred) {
                (Some(seg), _) => evals.push(one(name, truth, Source::Network(seg), args)?),
                (None, Some(pred)) => match pred_for(pred, name) {
                    Some(p) => evals.push(one(name, truth, Source::Path(&p), args)?),
                    None => missing.push(name.clone()),
                },
                (None, None) => return Err(CliError::input("give --pred or --segment")),
            }
        }
        if evals.is_empty() {
            return Err(CliError::input("no prediction matches any study by name"));
        }
    }
    let summary = summarize(&evals);
    if args.json {
        let v = json!({
            "studies": evals.iter().map(study_json).collect::<Vec<_>>(),
            "summary": summary,
            "missing_predictions": missing,
        });
        serde_json::to_string_pretty(&v).map_err(CliError::input)
    } else {
        Ok(text(&evals, &summary, &missing))
    }
}

use crate::measure::json_number as num;

fn study_json(e: &StudyEval) -> Value {
    let diffs: serde_json::Map<String, Value> = CLINICAL
        .iter()
        .map(|k| {
            (
                (*k).to_string(),
                json!({"pred": num(scalar(&e.pred, k)), "truth": num(scalar(&e.truth, k)),
            "diff": num(scalar(&e.pred, k).zip(scalar(&e.truth, k)).map(|(a, b)| a - b))}),
            )
        })
        .collect();
    json!({
        "name": e.name,
        "structures": e.scores.iter().map(|s| json!({
            "structure": s.structure, "phases": s.phases, "dice": s.dice,
            "hausdorff_3d_mm": s.hausdorff_3d_mm.iter().map(|v| num(*v)).collect::<Vec<_>>(),
            "mean_contour_distance_2d_mm": s.mean_contour_distance_2d_mm.iter().map(|v| num(*v)).collect::<Vec<_>>(),
            "hausdorff_2d_mm": s.hausdorff_2d_mm.iter().map(|v| num(*v)).collect::<Vec<_>>(),
            "mean_dice": num(s.mean_dice()), "mean_hausdorff_3d_mm": num(s.mean_hd()),
        })).collect::<Vec<_>>(),
        "clinical": diffs,
        "review": e.review,
    })
}

/// Mean Dice and Hausdorff per structure, and agreement per clinical measure.
fn summarize(evals: &[StudyEval]) -> Value {
    let mut structures = serde_json::Map::new();
    for label in Label::STRUCTURES {
        let s: Vec<&StructureScore> = evals
            .iter()
            .flat_map(|e| e.scores.iter().filter(move |s| s.structure == label))
            .collect();
        if s.is_empty() {
            continue;
        }
        let dice = mean(s.iter().flat_map(|x| x.dice.iter().map(|d| Some(*d))));
        let hd = mean(s.iter().flat_map(|x| x.hausdorff_3d_mm.iter().copied()));
        let mcd = mean(
            s.iter()
                .flat_map(|x| x.mean_contour_distance_2d_mm.iter().copied()),
        );
        let hd2 = mean(s.iter().flat_map(|x| x.hausdorff_2d_mm.iter().copied()));
        structures.insert(
            format!("{label:?}"),
            json!({"dice": num(dice), "hausdorff_3d_mm": num(hd),
            "mean_contour_distance_2d_mm": num(mcd), "hausdorff_2d_mm": num(hd2)}),
        );
    }
    let clinical: serde_json::Map<String, Value> = CLINICAL
        .iter()
        .map(|k| {
            let pairs: Vec<(Option<f64>, Option<f64>)> = evals.iter().map(|e| (scalar(&e.pred, k), scalar(&e.truth, k))).collect();
            let a: Agreement = agreement(&pairs);
            ((*k).to_string(), json!({"n": a.n, "bias": num(a.bias), "sd": num(a.sd), "mean_abs_diff": num(a.mean_abs_diff), "r": num(a.r)}))
        })
        .collect();
    // Mean Dice per structure within each group the studies state (ACDC's diagnoses).
    let mut groups = serde_json::Map::new();
    let mut names: Vec<&str> = evals.iter().filter_map(|e| e.group.as_deref()).collect();
    names.sort();
    names.dedup();
    for g in names {
        let per: serde_json::Map<String, Value> = Label::STRUCTURES
            .iter()
            .map(|&label| {
                let d = mean(
                    evals
                        .iter()
                        .filter(|e| e.group.as_deref() == Some(g))
                        .flat_map(|e| e.scores.iter().filter(move |s| s.structure == label))
                        .flat_map(|x| x.dice.iter().map(|d| Some(*d))),
                );
                (format!("{label:?}"), num(d))
            })
            .collect();
        groups.insert(g.to_string(), Value::Object(per));
    }
    let review = evals
        .iter()
        .any(|e| !e.review.is_empty())
        .then(|| review_score(evals));
    json!({"studies": evals.len(), "structures": structures, "clinical": clinical,
        "dice_per_group": groups, "review": review})
}

fn text(evals: &[StudyEval], summary: &Value, missing: &[String]) -> String {
    let f = |v: &Value, d: usize| v.as_f64().map_or("-".into(), |x| format!("{x:.d$}"));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<14} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "study", "LV Dice", "Myo Dice", "RV Dice", "LV HD", "Myo HD", "RV HD"
    );
    for e in evals {
        let get = |l: Label| e.scores.iter().find(|x| x.structure == l);
        let d = |l| {
            get(l)
                .and_then(StructureScore::mean_dice)
                .map_or("-".into(), |x| format!("{x:.3}"))
        };
        let h = |l| {
            get(l)
                .and_then(StructureScore::mean_hd)
                .map_or("-".into(), |x| format!("{x:.1}"))
        };
        let _ = writeln!(
            s,
            "{:<14} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            e.name,
            d(Label::LvBloodPool),
            d(Label::Myocardium),
            d(Label::RvBloodPool),
            h(Label::LvBloodPool),
            h(Label::Myocardium),
            h(Label::RvBloodPool)
        );
    }
    let _ = writeln!(
        s,
        "\nSummary over {} studies (Dice; 3-D Hausdorff mm; 2-D mean contour distance mm):",
        evals.len()
    );
    if let Some(st) = summary["structures"].as_object() {
        for (k, v) in st {
            let _ = writeln!(
                s,
                "  {k:<12} Dice {}  HD {}  MCD {}",
                f(&v["dice"], 3),
                f(&v["hausdorff_3d_mm"], 1),
                f(&v["mean_contour_distance_2d_mm"], 2)
            );
        }
    }
    if let Some(g) = summary["dice_per_group"]
        .as_object()
        .filter(|g| !g.is_empty())
    {
        let _ = writeln!(s, "Dice per group (LV, Myo, RV):");
        for (k, v) in g {
            let _ = writeln!(
                s,
                "  {k:<12} {} {} {}",
                f(&v["LvBloodPool"], 3),
                f(&v["Myocardium"], 3),
                f(&v["RvBloodPool"], 3)
            );
        }
    }
    let _ = writeln!(
        s,
        "Clinical agreement (prediction - reference): bias, SD, mean |diff|, r, n"
    );
    if let Some(c) = summary["clinical"].as_object() {
        for (k, v) in c {
            let _ = writeln!(
                s,
                "  {k:<12} {:>7} {:>7} {:>7} {:>6} {}",
                f(&v["bias"], 1),
                f(&v["sd"], 1),
                f(&v["mean_abs_diff"], 1),
                f(&v["r"], 3),
                v["n"]
            );
        }
    }
    if summary["review"].is_object() {
        let r = &summary["review"];
        let _ = writeln!(
            s,
            "Review queue: {} of {} images off by {} mL or more (worst structure); AUROC of 1 - confidence {}; {} of them in the first {:.0} % of the review order",
            r["images_with_error"],
            r["images"],
            crate::qc::confidence::ERROR_ML,
            f(&r["auroc"], 3),
            r["found_in_first_share"]
                .as_f64()
                .map_or("-".into(), |x| format!("{:.0} %", 100.0 * x)),
            100.0 * REVIEW_SHARE
        );
    }
    if !missing.is_empty() {
        let _ = writeln!(s, "No prediction for: {}", missing.join(", "));
    }
    s
}
