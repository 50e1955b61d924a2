//! ACDC patient folders (Bernard et al., IEEE TMI 2018): Info.cfg, one NIfTI per stored
//! frame (patientNNN_frameFF.nii.gz) and optional ground truth (_gt) in ACDC label order.

use super::nifti_study::{dims_of, geometry, image_sources, label_bytes};
use super::{Error, LoadReport, Loaded, Result, Skipped, is_nifti_name, nifti};
use crate::study::{
    CineStack, Dims, ImageSource, KeyPhases, LabelOrder, LabelStack, PatientInfo, Phase,
    SeriesSummary, Study, StudyInfo,
};
use std::path::{Path, PathBuf};

/// The fields of ACDC's Info.cfg.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AcdcInfo {
    /// 1-based frame numbers.
    pub ed_frame: Option<u32>,
    pub es_frame: Option<u32>,
    pub group: Option<String>,
    pub height_cm: Option<f64>,
    pub weight_kg: Option<f64>,
    pub frames: Option<u32>,
}

/// Parses Info.cfg ("Key: value" lines). Unknown keys are ignored.
pub fn parse_info(text: &str) -> std::result::Result<AcdcInfo, String> {
    let mut info = AcdcInfo::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        let num = |what: &str| {
            value
                .parse::<f64>()
                .map_err(|_| format!("{what} {value:?} is not a number"))
        };
        let frame = |what: &str| {
            value
                .parse::<u32>()
                .map_err(|_| format!("{what} {value:?} is not a frame number"))
        };
        match key.trim() {
            "ED" => info.ed_frame = Some(frame("ED")?),
            "ES" => info.es_frame = Some(frame("ES")?),
            "Group" => info.group = Some(value.to_string()),
            "Height" => info.height_cm = Some(num("Height")?),
            "Weight" => info.weight_kg = Some(num("Weight")?),
            "NbFrame" => info.frames = Some(frame("NbFrame")?),
            _ => {}
        }
    }
    Ok(info)
}

/// A folder with Info.cfg and at least one patientNNN_frameFF NIfTI.
pub fn is_patient_folder(dir: &Path) -> bool {
    dir.join("Info.cfg").is_file() && !frame_files(dir).is_empty()
}

/// (frame number, image path, ground-truth path if present), in frame order.
fn frame_files(dir: &Path) -> Vec<(u32, PathBuf, Option<PathBuf>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(u32, PathBuf, Option<PathBuf>)> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_nifti_name(p))
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            let stem = name.trim_end_matches(".gz").trim_end_matches(".nii");
            let (_, frame) = stem.split_once("_frame")?;
            let n: u32 = frame.parse().ok()?;
            let gt = p.with_file_name(format!("{stem}_gt{}", &name[stem.len()..]));
            let gt = gt.is_file().then_some(gt);
            Some((n, p, gt))
        })
        .collect();
    out.sort_by_key(|(n, _, _)| *n);
    out
}

/// Opens an ACDC patient folder: phases are the stored frames in frame order.
pub fn load(dir: &Path) -> Result<Loaded> {
    let cfg = dir.join("Info.cfg");
    let text = std::fs::read_to_string(&cfg).map_err(|e| Error::io(&cfg, e))?;
    let info = parse_info(&text).map_err(|reason| Error::AcdcInfo {
        reason,
        path: cfg.clone(),
    })?;
    let frames = frame_files(dir);
    let mut report = LoadReport::default();
    let mut dims: Option<Dims> = None;
    let mut first = None;
    let mut data = Vec::new();
    let mut kept: Vec<(u32, PathBuf, Option<PathBuf>)> = Vec::new();
    for (n, path, gt) in frames {
        let vol = match nifti::read(&path) {
            Ok(v) => v,
            Err(e) => {
                report.skipped.push(Skipped {
                    path: path.clone(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let d = dims_of(&vol);
        if d.phases != 1 {
            report.skipped.push(Skipped {
                path,
                reason: "frame file is not 3-D".into(),
            });
            continue;
        }
        match (&dims, &first) {
            (Some(want), Some(g)) if (*want != d || geometry(&vol) != *g) => {
                report.skipped.push(Skipped {
                    path,
                    reason: format!("grid {d:?} differs from the first frame's"),
                });
                continue;
            }
            (None, _) => {
                dims = Some(d);
                first = Some(geometry(&vol));
            }
            _ => {}
        }
        data.extend_from_slice(&vol.data);
        kept.push((n, path, gt));
    }
    let (Some(d1), Some(geometry)) = (dims, first) else {
        return Err(Error::NothingReadable {
            files: report.skipped.len(),
            first: report
                .skipped
                .first()
                .map(|s| s.reason.clone())
                .unwrap_or_else(|| "no frame files".into()),
            path: dir.to_path_buf(),
        });
    };
    let dims = Dims {
        phases: kept.len(),
        ..d1
    };
    let phases = kept
        .iter()
        .map(|(n, _, _)| Phase {
            trigger_time_ms: None,
            source_frame: Some(*n),
        })
        .collect();
    let cine = CineStack::new(dims, data, geometry, phases).map_err(|source| Error::Shape {
        source,
        path: dir.to_path_buf(),
    })?;
    let labels = load_ground_truth(&kept, dims, &mut report)?;
    let phase_of =
        |frame: Option<u32>| frame.and_then(|f| kept.iter().position(|(n, _, _)| *n == f));
    let key_phases = KeyPhases {
        ed: phase_of(info.ed_frame),
        es: phase_of(info.es_frame),
    };
    let patient_id = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    let images: Vec<ImageSource> =
        image_sources(dir, dims, |p| kept.get(p).map(|(_, path, _)| path.clone()));
    let study = Study {
        patient: PatientInfo {
            id: patient_id,
            height_cm: info.height_cm,
            weight_kg: info.weight_kg,
            ..Default::default()
        },
        info: StudyInfo::default(),
        series: vec![SeriesSummary {
            uid: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            number: None,
            description: Some("ACDC short-axis cine (stored frames only)".into()),
            images: dims.images(),
            positions: dims.slices,
            phases: dims.phases,
            is_cine: dims.phases > 1,
            sources: Vec::new(),
            kind: crate::study::SeriesKind::ShortAxisCine,
            view: None,
        }],
        chosen_series: 0,
        default_series: 0,
        cine,
        images,
        reference_labels: labels,
        key_phases,
        group: info.group,
        warnings: Vec::new(),
        long_axis: Vec::new(),
    };
    Ok(Loaded { study, report })
}

/// Ground truth for the frames that have it; frames without a _gt file are not annotated.
fn load_ground_truth(
    kept: &[(u32, PathBuf, Option<PathBuf>)],
    dims: Dims,
    report: &mut LoadReport,
) -> Result<Option<LabelStack>> {
    if kept.iter().all(|(_, _, gt)| gt.is_none()) {
        return Ok(None);
    }
    let per_phase = Dims { phases: 1, ..dims };
    let mut raw = Vec::with_capacity(dims.len());
    let mut missing = Vec::new();
    for (phase, (_, _, gt)) in kept.iter().enumerate() {
        let bytes = match gt {
            Some(p) => {
                let vol = nifti::read(p)?;
                if dims_of(&vol) != per_phase {
                    return Err(Error::Labels {
                        source: crate::study::LabelError::Shape {
                            got: dims_of(&vol),
                            want: per_phase,
                        },
                        path: p.clone(),
                    });
                }
                label_bytes(&vol, p)?
            }
            None => {
                missing.push(phase);
                vec![0; per_phase.len()]
            }
        };
        raw.extend_from_slice(&bytes);
    }
    let gt_path = kept
        .iter()
        .find_map(|(_, _, gt)| gt.clone())
        .unwrap_or_default();
    let mut stack =
        LabelStack::from_stored(dims, raw, LabelOrder::Acdc).map_err(|source| Error::Labels {
            source,
            path: gt_path,
        })?;
    for phase in missing {
        stack.clear_phase_annotation(phase);
        report
            .warnings
            .push(format!("frame {} has no ground truth", kept[phase].0));
    }
    Ok(Some(stack))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_cfg_fields() {
        let i = parse_info("ED: 1\nES: 12\nGroup: DCM\nHeight: 184.0\nNbFrame: 30\nWeight: 95.0\n");
        let i = i.unwrap_or_default();
        assert_eq!(i.ed_frame, Some(1));
        assert_eq!(i.es_frame, Some(12));
        assert_eq!(i.group.as_deref(), Some("DCM"));
        assert_eq!(i.height_cm, Some(184.0));
        assert_eq!(i.weight_kg, Some(95.0));
        assert_eq!(i.frames, Some(30));
    }

    #[test]
    fn bad_numbers_are_reported() {
        assert!(parse_info("ED: one").is_err());
        assert!(parse_info("Height: tall").is_err());
        assert_eq!(parse_info("junk line\n").map(|i| i.ed_frame), Ok(None));
    }
}
