//! Files to study types and back. The only code that knows file formats.
//!
//! [`load_study`] looks at a path and picks the loader: an ACDC patient folder, a
//! Sunnybrook patient folder, a NIfTI file, or DICOM (a folder searched recursively, or
//! one file). Problems with single files never stop a load: they are reported in
//! [`LoadReport::skipped`] with path and reason.

pub mod acdc;
pub mod dicom;
pub mod export;
pub mod nifti;
mod nifti_study;
pub mod session;
pub mod sunnybrook;

pub use nifti_study::{load_labels, load_nifti, write_labels};

use crate::study::{LabelError, LabelOrder, ShapeError, Study};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("no such file or folder: {}", .0.display())]
    NotFound(PathBuf),
    #[error("{source}: {}", path.display())]
    Io {
        source: std::io::Error,
        path: PathBuf,
    },
    #[error("not a usable NIfTI file ({reason}): {}", path.display())]
    Nifti { reason: String, path: PathBuf },
    #[error("bad ACDC Info.cfg ({reason}): {}", path.display())]
    AcdcInfo { reason: String, path: PathBuf },
    #[error("bad Sunnybrook contour ({reason}): {}", path.display())]
    Contour { reason: String, path: PathBuf },
    #[error("no readable DICOM image in {} file(s) (first problem: {first}): {}", files, path.display())]
    NothingReadable {
        files: usize,
        first: String,
        path: PathBuf,
    },
    #[error("no cine series (several phases per slice position) found: {}", .0.display())]
    NoCine(PathBuf),
    #[error("the images of series {series} could not be decoded ({reason}): {}", path.display())]
    Undecodable {
        series: String,
        reason: String,
        path: PathBuf,
    },
    #[error("series {wanted:?} not found; available: {available}")]
    NoSuchSeries { wanted: String, available: String },
    #[error("images do not fit one grid ({reason}): {}", path.display())]
    Inconsistent { reason: String, path: PathBuf },
    #[error("labels: {source}: {}", path.display())]
    Labels { source: LabelError, path: PathBuf },
    #[error("{source}: {}", path.display())]
    Shape { source: ShapeError, path: PathBuf },
    #[error("not a file or folder (a pipe, socket or device cannot be a study): {}", .0.display())]
    NotAStudy(PathBuf),
    #[error("refusing to write over {what}: {}", path.display())]
    WouldOverwrite { what: &'static str, path: PathBuf },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound(path.to_path_buf())
        } else {
            Error::Io {
                source,
                path: path.to_path_buf(),
            }
        }
    }
}

/// Caller's choices for a load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Pick this series instead of the default cine: a SeriesInstanceUID, or a
    /// SeriesNumber, or a 0-based index into the series list.
    pub series: Option<String>,
    /// A label NIfTI on the study's voxel grid, used as the reference labels.
    pub labels: Option<PathBuf>,
    /// The label order of `labels`.
    pub label_order: LabelOrder,
    /// Counters the load advances (DICOM: files scanned, then images decoded), for a
    /// progress bar in another thread.
    pub progress: Option<std::sync::Arc<LoadProgress>>,
    /// Pixel size (mm) to assume when no image states a usable PixelSpacing; without it
    /// such a study has no areas or volumes.
    pub assume_pixel_mm: Option<f64>,
    /// Also decode the long-axis cines' images (the viewer shows them; the command line
    /// needs only their planes).
    pub long_axis_images: bool,
}

/// Work done and work known so far in a load; `total` grows as the loader learns more.
#[derive(Debug, Default)]
pub struct LoadProgress {
    pub done: std::sync::atomic::AtomicUsize,
    pub total: std::sync::atomic::AtomicUsize,
}

impl LoadProgress {
    pub fn add_total(&self, n: usize) {
        self.total
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn add_done(&self, n: usize) {
        self.done.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// Fraction done in [0, 1] (0 while nothing is known).
    pub fn fraction(&self) -> f32 {
        let t = self.total.load(std::sync::atomic::Ordering::Relaxed);
        let d = self.done.load(std::sync::atomic::Ordering::Relaxed);
        if t == 0 {
            0.0
        } else {
            (d as f32 / t as f32).min(1.0)
        }
    }
}

/// A file that was left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    /// In JSON as text (a name that is not UTF-8 gets replacement characters).
    #[serde(serialize_with = "lossy_path")]
    pub path: PathBuf,
    pub reason: String,
}

fn lossy_path<S: serde::Serializer>(p: &Path, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

/// What a load left out or doubts; never fatal.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LoadReport {
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<String>,
    /// Every file the study is made of (DICOM files of any series, NIfTI images and
    /// labels, ACDC's Info.cfg, Sunnybrook's contours): no output may replace one.
    #[serde(skip)]
    pub inputs: Vec<PathBuf>,
}

/// A loaded study and what the loader has to say about it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub study: Study,
    pub report: LoadReport,
}

/// Opens whatever `path` holds as a study. See the module docs for what is recognised.
pub fn load_study(path: &Path, options: &LoadOptions) -> Result<Loaded> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    // A FIFO, socket or device would block or never end: only files and folders are read.
    if !meta.is_dir() && !meta.is_file() {
        return Err(Error::NotAStudy(path.to_path_buf()));
    }
    let mut loaded = if meta.is_dir() {
        if acdc::is_patient_folder(path) {
            acdc::load(path)?
        } else if sunnybrook::is_patient_folder(path) {
            sunnybrook::load(path, options)?
        } else {
            dicom::load_folder(path, options)?
        }
    } else if is_nifti_name(path) {
        load_nifti(path)?
    } else {
        dicom::load_files(&[path.to_path_buf()], path, options)?
    };
    if let Some(labels) = &options.labels {
        let stack =
            nifti_study::load_labels(labels, loaded.study.cine.dims(), options.label_order)?;
        loaded.study.reference_labels = Some(stack);
    }
    // A pixel size no MR image has (a NIfTI pixdim of 0.01 or 100 mm) is a broken header:
    // no area or volume is computed from it unless the user says what to assume.
    let sp = loaded.study.cine.geometry.pixel_spacing_mm;
    if sp.iter().all(|v| v.is_finite()) && !sp.iter().all(|v| crate::study::plausible_pixel_mm(*v))
    {
        let assumed = options
            .assume_pixel_mm
            .filter(|a| crate::study::plausible_pixel_mm(*a));
        loaded.report.warnings.push(match assumed {
            Some(a) => format!("the stated pixel size {:.4} x {:.4} mm is not possible for an MR image; {a} mm assumed as asked (--assume-pixel-mm)", sp[0], sp[1]),
            None => format!("the stated pixel size {:.4} x {:.4} mm is not possible for an MR image (0.1-10 mm): areas and volumes cannot be measured (give --assume-pixel-mm to assume one)", sp[0], sp[1]),
        });
        loaded.study.cine.geometry.pixel_spacing_mm = assumed.map_or([f64::NAN; 2], |a| [a, a]);
    }
    loaded.study.warnings = loaded.report.warnings.clone();
    loaded.report.inputs.push(path.to_path_buf());
    loaded.report.inputs.extend(options.labels.iter().cloned());
    if meta.is_dir() && (acdc::is_patient_folder(path) || sunnybrook::is_patient_folder(path)) {
        // Their images, labels, Info.cfg and contour files.
        loaded
            .report
            .inputs
            .extend(dicom::list_files(path).unwrap_or_default());
    }
    Ok(loaded)
}

/// Checks, before any work, that writing `out` destroys no input: not one of `inputs`
/// (the files of the study, a label file, the session in use), not any review session,
/// and that `out` is not a folder. A symlink is judged by its target.
pub fn check_output(out: &Path, inputs: &[PathBuf]) -> Result<()> {
    if out.as_os_str() == "-" {
        return Ok(());
    }
    if out.is_dir() {
        return Err(Error::WouldOverwrite {
            what: "a folder",
            path: out.to_path_buf(),
        });
    }
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.ends_with("systole-session.json") {
        return Err(Error::WouldOverwrite {
            what: "a review session",
            path: out.to_path_buf(),
        });
    }
    let resolved = resolve(out);
    if inputs.iter().any(|i| resolve(i) == resolved) {
        return Err(Error::WouldOverwrite {
            what: "an input of this command",
            path: out.to_path_buf(),
        });
    }
    Ok(())
}

/// `path` with symlinks and `..` resolved as far as it exists (an output may not exist yet).
fn resolve(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            std::fs::canonicalize(dir).map_or_else(|_| path.to_path_buf(), |d| d.join(name))
        }
        _ => path.to_path_buf(),
    }
}

/// Whether a file name looks like NIfTI (.nii or .nii.gz).
pub fn is_nifti_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.ends_with(".nii") || name.ends_with(".nii.gz")
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so
/// that readers see either the old file or the complete new one, never a half-written one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    // A symlink is written through (its target replaced), never replaced by a file; a
    // FIFO or device is written to as it is.
    let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let target = if link {
        std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?
    } else {
        path.to_path_buf()
    };
    if std::fs::metadata(&target).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&target)
            .map_err(|e| Error::io(path, e))?;
        return f.write_all(bytes).map_err(|e| Error::io(path, e));
    }
    let path = target.as_path();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}
