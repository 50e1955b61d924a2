//! Command-line adapters: one file per subcommand, each a thin layer over the library.
//! They return text to print or a [`CliError`]; `main` prints and sets the exit code.

pub mod demo;
pub mod eval;
pub mod info;
pub mod measure;
pub mod report;
pub mod segment;
pub mod session;

use crate::io::LoadOptions;
use crate::study::LabelOrder;
use std::path::PathBuf;

/// A failure the user can act on: one line for stderr, and the exit code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    pub message: String,
    pub exit_code: i32,
}

impl CliError {
    /// Unusable input (missing path, nothing readable, no cine): exit code 2.
    pub fn input(e: impl std::fmt::Display) -> Self {
        CliError {
            message: e.to_string().replace('\n', " "),
            exit_code: 2,
        }
    }
}

/// The study-selection flags shared by subcommands that open a study.
#[derive(Debug, Clone, clap::Args)]
pub struct StudyArgs {
    /// A DICOM folder or file, an ACDC or Sunnybrook patient folder, or a NIfTI file.
    pub path: PathBuf,
    /// Series to use instead of the default cine: SeriesInstanceUID, SeriesNumber or index.
    #[arg(long)]
    pub series: Option<String>,
    /// Reference labels: a NIfTI label map on the study's voxel grid.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Label order of --labels.
    #[arg(long, value_enum, default_value_t = LabelOrderArg::Systole)]
    pub label_order: LabelOrderArg,
    /// Pixel size (mm) to assume for a DICOM series where no image states a usable
    /// PixelSpacing (otherwise such a study has no areas or volumes).
    #[arg(long)]
    pub assume_pixel_mm: Option<f64>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LabelOrderArg {
    /// 1 LV blood pool, 2 myocardium, 3 RV blood pool (UK Biobank).
    Systole,
    /// 1 RV blood pool, 2 myocardium, 3 LV blood pool (ACDC).
    Acdc,
}

impl From<LabelOrderArg> for LabelOrder {
    fn from(a: LabelOrderArg) -> LabelOrder {
        match a {
            LabelOrderArg::Systole => LabelOrder::Systole,
            LabelOrderArg::Acdc => LabelOrder::Acdc,
        }
    }
}

/// The session flags of subcommands that read a study's review session.
#[derive(Debug, Clone, clap::Args)]
pub struct SessionArgs {
    /// The session file to use instead of the study's own (PATH/systole-session.json, or
    /// PATH.systole-session.json beside a single file).
    #[arg(long, conflicts_with = "no_session")]
    pub session: Option<PathBuf>,
    /// Ignore the study's session file: measure the study's labels as loaded.
    #[arg(long)]
    pub no_session: bool,
}

impl StudyArgs {
    pub fn load_options(&self) -> LoadOptions {
        LoadOptions {
            series: self.series.clone(),
            labels: self.labels.clone(),
            label_order: self.label_order.into(),
            progress: None,
            assume_pixel_mm: self.assume_pixel_mm,
            long_axis_images: false,
        }
    }
}
