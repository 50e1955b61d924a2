//! Sunnybrook Cardiac Data patient folders (Radau et al., MIDAS Journal 2009):
//! `dicom/` with the cine and `contours/{i,o}-contours/IM-0001-KKKK-*contour-manual.txt`,
//! one "x y" point per line in pixel coordinates (column, row) of image KKKK
//! (InstanceNumber KKKK). i-contours outline the LV endocardium, o-contours the epicardium.

use super::{Error, LoadOptions, LoadReport, Loaded, Result, Skipped, dicom};
use crate::contour;
use crate::study::{Label, LabelStack, Structures, Study};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A folder with `dicom/` and `contours/` beside each other.
pub fn is_patient_folder(dir: &Path) -> bool {
    dir.join("dicom").is_dir() && dir.join("contours").is_dir()
}

/// Which outline a contour file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Endo,
    Epi,
}

/// Parses "IM-0001-KKKK-icontour-manual.txt" into (KKKK, kind).
fn parse_name(name: &str) -> Option<(i32, Kind)> {
    let rest = name.strip_prefix("IM-")?;
    let mut parts = rest.split('-');
    let _series = parts.next()?;
    let instance: i32 = parts.next()?.parse().ok()?;
    let kind = match parts.next()? {
        "icontour" => Kind::Endo,
        "ocontour" => Kind::Epi,
        _ => return None,
    };
    Some((instance, kind))
}

/// Parses the points of one contour file.
pub fn parse_points(text: &str) -> std::result::Result<contour::Polygon, String> {
    let mut pts = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut it = line.split_whitespace().map(str::parse::<f64>);
        match (it.next(), it.next()) {
            (Some(Ok(x)), Some(Ok(y))) if x.is_finite() && y.is_finite() => pts.push([x, y]),
            _ => return Err(format!("line {} is not two numbers", n + 1)),
        }
    }
    if pts.len() < 3 {
        return Err(format!("{} points do not make a contour", pts.len()));
    }
    Ok(pts)
}

/// Opens the cine and turns the expert contours into reference labels.
pub fn load(dir: &Path, options: &LoadOptions) -> Result<Loaded> {
    let mut loaded = dicom::load_folder(&dir.join("dicom"), options)?;
    let labels = contours_to_labels(&loaded.study, &dir.join("contours"), &mut loaded.report)?;
    loaded.study.reference_labels = Some(labels);
    Ok(loaded)
}

fn contour_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = dicom::list_files(dir)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    Ok(files)
}

fn contours_to_labels(study: &Study, dir: &Path, report: &mut LoadReport) -> Result<LabelStack> {
    let dims = study.cine.dims();
    let by_instance: HashMap<i32, (usize, usize)> = study
        .images
        .iter()
        .filter_map(|i| Some((i.instance_number?, (i.phase, i.slice))))
        .collect();
    let mut outlines: HashMap<(usize, usize), [Option<contour::Polygon>; 2]> = HashMap::new();
    for path in contour_files(dir)? {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let skip = |report: &mut LoadReport, reason: String| {
            report.skipped.push(Skipped {
                path: path.clone(),
                reason,
            })
        };
        let Some((instance, kind)) = parse_name(&name) else {
            skip(report, "not named IM-SSSS-KKKK-{i,o}contour-*.txt".into());
            continue;
        };
        let Some(&(phase, slice)) = by_instance.get(&instance) else {
            skip(
                report,
                format!("no image of the cine has InstanceNumber {instance}"),
            );
            continue;
        };
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        match parse_points(&text) {
            Ok(poly) => outlines.entry((phase, slice)).or_default()[kind as usize] = Some(poly),
            Err(reason) => skip(report, reason),
        }
    }
    let mut labels = LabelStack::empty(dims);
    for ((phase, slice), [endo, epi]) in outlines {
        let mut done = Structures::NONE;
        let Some(img) = labels.image_mut(phase, slice) else {
            continue;
        };
        if let (Some(epi), Some(_)) = (&epi, &endo) {
            for (v, inside) in img
                .iter_mut()
                .zip(contour::fill(epi, dims.rows, dims.columns))
            {
                if inside {
                    *v = Label::Myocardium as u8;
                }
            }
            done = done.with(Label::Myocardium);
        } else if epi.is_some() {
            report.warnings.push(format!(
                "phase {phase} slice {slice}: epicardium without endocardium ignored"
            ));
        }
        if let Some(endo) = &endo {
            for (v, inside) in img
                .iter_mut()
                .zip(contour::fill(endo, dims.rows, dims.columns))
            {
                if inside {
                    *v = Label::LvBloodPool as u8;
                }
            }
            done = done.with(Label::LvBloodPool);
        }
        labels.set_annotated(phase, slice, done);
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contour_names() {
        assert_eq!(
            parse_name("IM-0001-0048-icontour-manual.txt"),
            Some((48, Kind::Endo))
        );
        assert_eq!(
            parse_name("IM-0001-0059-ocontour-manual.txt"),
            Some((59, Kind::Epi))
        );
        assert_eq!(parse_name("IM-0001-00x9-ocontour-manual.txt"), None);
        assert_eq!(parse_name("readme.txt"), None);
    }

    #[test]
    fn contour_points() {
        assert_eq!(
            parse_points("1 2\n3.5 4\n5 6\n"),
            Ok(vec![[1.0, 2.0], [3.5, 4.0], [5.0, 6.0]])
        );
        assert!(parse_points("1 2\nx y\n3 4\n").is_err());
        assert!(parse_points("1 2\n").is_err());
    }
}
