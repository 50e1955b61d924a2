//! A NIfTI volume as a study: the grid is kept as stored (i = column, j = row,
//! k = slice, t = phase), the RAS affine becomes LPS geometry.

use super::nifti::{self, NiftiVolume};
use super::{Error, LoadReport, Loaded, Result};
use crate::study::{
    CineStack, Dims, Geometry, ImageSource, KeyPhases, LabelOrder, LabelStack, PatientInfo, Phase,
    SeriesSummary, Study, StudyInfo,
};
use std::path::Path;

/// Geometry of a NIfTI volume in DICOM LPS terms.
pub(crate) fn geometry(v: &NiftiVolume) -> Geometry {
    // RAS -> LPS: negate the first two world axes.
    let a = &v.affine_ras;
    let col = |c: usize| [-a[0][c], -a[1][c], a[2][c]];
    let norm = |x: [f64; 3]| (x[0] * x[0] + x[1] * x[1] + x[2] * x[2]).sqrt();
    let unit = |x: [f64; 3]| {
        let n = norm(x);
        if n > 0.0 {
            [x[0] / n, x[1] / n, x[2] / n]
        } else {
            x
        }
    };
    let (ci, cj, ck) = (col(0), col(1), col(2));
    let origin = col(3);
    Geometry {
        pixel_spacing_mm: [norm(cj), norm(ci)],
        row_direction: unit(ci),
        column_direction: unit(cj),
        slice_positions_mm: (0..v.dims[2])
            .map(|k| {
                let k = k as f64;
                [
                    origin[0] + ck[0] * k,
                    origin[1] + ck[1] * k,
                    origin[2] + ck[2] * k,
                ]
            })
            .collect(),
        slice_thickness_mm: Some(norm(ck)),
    }
}

pub(crate) fn dims_of(v: &NiftiVolume) -> Dims {
    Dims {
        phases: v.dims[3],
        slices: v.dims[2],
        rows: v.dims[1],
        columns: v.dims[0],
    }
}

/// Opens a 3-D or 4-D NIfTI image as a single-series study.
pub fn load_nifti(path: &Path) -> Result<Loaded> {
    let vol = nifti::read(path)?;
    let dims = dims_of(&vol);
    let phases = (0..dims.phases)
        .map(|t| Phase {
            trigger_time_ms: vol.time_step_ms.map(|dt| dt * t as f64),
            source_frame: None,
        })
        .collect();
    let geometry = geometry(&vol);
    let cine = CineStack::new(dims, vol.data, geometry, phases).map_err(|source| Error::Shape {
        source,
        path: path.to_path_buf(),
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let study = Study {
        patient: PatientInfo::default(),
        info: StudyInfo::default(),
        series: vec![SeriesSummary {
            uid: name,
            number: None,
            description: None,
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
        images: image_sources(path, dims, |_| None),
        cine,
        reference_labels: None,
        key_phases: KeyPhases::default(),
        group: None,
        warnings: Vec::new(),
        long_axis: Vec::new(),
    };
    Ok(Loaded {
        study,
        report: LoadReport::default(),
    })
}

/// One [`ImageSource`] per (phase, slice), all pointing into NIfTI files.
pub(crate) fn image_sources(
    path: &Path,
    dims: Dims,
    path_of_phase: impl Fn(usize) -> Option<std::path::PathBuf>,
) -> Vec<ImageSource> {
    let mut out = Vec::with_capacity(dims.images());
    for phase in 0..dims.phases {
        let p = path_of_phase(phase).unwrap_or_else(|| path.to_path_buf());
        for slice in 0..dims.slices {
            out.push(ImageSource {
                phase,
                slice,
                path: p.clone(),
                instance_number: None,
                frame: 0,
            });
        }
    }
    out
}

/// Converts NIfTI values to label bytes, refusing anything that is not a whole 0..=255.
pub(crate) fn label_bytes(vol: &NiftiVolume, path: &Path) -> Result<Vec<u8>> {
    vol.data
        .iter()
        .map(|&v| {
            if v.fract() == 0.0 && (0.0..=255.0).contains(&v) {
                Ok(v as u8)
            } else {
                Err(Error::Nifti {
                    reason: format!("label value {v} is not a whole number 0..=255"),
                    path: path.to_path_buf(),
                })
            }
        })
        .collect()
}

/// Writes `labels` as a uint8 NIfTI on the cine's own grid (4-D when it has several
/// phases), in `order`. The file is written atomically.
pub fn write_labels(
    path: &Path,
    cine: &CineStack,
    labels: &LabelStack,
    order: LabelOrder,
) -> Result<()> {
    let d = cine.dims();
    if labels.dims() != d {
        return Err(Error::Labels {
            source: crate::study::LabelError::Shape {
                got: labels.dims(),
                want: d,
            },
            path: path.to_path_buf(),
        });
    }
    let mut lut = [0u8; 4];
    for (v, slot) in lut.iter_mut().enumerate() {
        *slot = order
            .from_systole(v as u8)
            .map_err(|source| Error::Labels {
                source,
                path: path.to_path_buf(),
            })?;
    }
    let bytes: Vec<u8> = labels
        .data()
        .iter()
        .map(|&v| lut.get(v as usize).copied().unwrap_or(0))
        .collect();
    nifti::write(
        path,
        [d.columns, d.rows, d.slices, d.phases],
        &cine.geometry.affine_ras(),
        nifti::Voxels::U8(&bytes),
    )
}

/// Reads a label NIfTI that must lie on `want`'s grid exactly, remapping from `order`.
pub fn load_labels(path: &Path, want: Dims, order: LabelOrder) -> Result<LabelStack> {
    let vol = nifti::read(path)?;
    let got = dims_of(&vol);
    if got != want {
        return Err(Error::Labels {
            source: crate::study::LabelError::Shape { got, want },
            path: path.to_path_buf(),
        });
    }
    let bytes = label_bytes(&vol, path)?;
    LabelStack::from_stored(want, bytes, order).map_err(|source| Error::Labels {
        source,
        path: path.to_path_buf(),
    })
}
