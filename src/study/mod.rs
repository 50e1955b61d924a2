//! The domain model: a study, its short-axis cine and optional label maps.
//!
//! No I/O, no GUI, no network code lives here. Every loader in [`crate::io`] produces a
//! [`Study`]; every later stage (segmentation, measures, viewer, report) consumes one.
//!
//! Conventions:
//! - Intensities are indexed (phase, slice, row, column), column fastest.
//! - Patient coordinates are DICOM LPS, in millimetres.
//! - Pixel coordinates are (column, row) from the centre of the top-left pixel.
//! - Labels follow UK Biobank and Bai et al. 2018: 0 background, 1 LV blood pool,
//!   2 LV myocardium, 3 RV blood pool (see [`Label`]).

mod cine;
pub mod exam;
pub(crate) mod geometry;
mod labels;
pub(crate) mod metadata;

pub use cine::{CineStack, Dims, Phase, ShapeError};
pub use exam::{LaxView, LongAxisPlane, SaxLine, SeriesKind};
pub use geometry::{Geometry, PLAUSIBLE_PIXEL_MM, plausible_pixel_mm};
pub use labels::{Label, LabelError, LabelOrder, LabelStack, Structures};
pub use metadata::{PatientInfo, Sex, StudyInfo, display_date};

/// One series found in the input, whether or not it was chosen as the cine.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SeriesSummary {
    /// SeriesInstanceUID for DICOM; the file name for NIfTI inputs.
    pub uid: String,
    pub number: Option<i32>,
    pub description: Option<String>,
    /// Number of images (frames) in the series.
    pub images: usize,
    /// Distinct slice positions along the slice normal.
    pub positions: usize,
    /// Phases per position (the most common count), 1 for still images.
    pub phases: usize,
    /// Whether it has several phases at several positions (a cine stack).
    pub is_cine: bool,
    /// For a stack assembled from several series (one breath-hold each, as UK Biobank
    /// stores the short axis): their SeriesInstanceUIDs, in slice order of first use.
    /// Empty for a series as stored.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// What the series is in the exam.
    pub kind: SeriesKind,
    /// For a long-axis cine: its view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<LaxView>,
}

/// Where one image of the cine came from, so that files can be traced back.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ImageSource {
    pub phase: usize,
    pub slice: usize,
    pub path: std::path::PathBuf,
    /// DICOM InstanceNumber, when the source is DICOM and states it.
    pub instance_number: Option<i32>,
    /// Frame index inside a multi-frame file (0 for single-frame files).
    pub frame: u32,
}

/// End-diastolic and end-systolic phases as stated by the source (ACDC's Info.cfg), 0-based
/// phase indices of the cine. `None` where the source says nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct KeyPhases {
    pub ed: Option<usize>,
    pub es: Option<usize>,
}

/// A loaded study: metadata, the chosen short-axis cine and optional reference labels.
#[derive(Debug, Clone)]
pub struct Study {
    pub patient: PatientInfo,
    pub info: StudyInfo,
    /// Every series the loader recognised, the chosen one included.
    pub series: Vec<SeriesSummary>,
    /// Index into `series` of the cine below.
    pub chosen_series: usize,
    /// Index into `series` of the stack the loader picks when none is asked for; differs
    /// from `chosen_series` when the user chose another stack (`--series`, the viewer's
    /// series browser), which then keeps a session of its own.
    pub default_series: usize,
    pub cine: CineStack,
    /// One entry per image of the cine, in (phase, slice) order.
    pub images: Vec<ImageSource>,
    /// Expert labels on the cine's grid (ACDC ground truth, Sunnybrook contours, a label file).
    pub reference_labels: Option<LabelStack>,
    pub key_phases: KeyPhases,
    /// Free-form diagnostic group where the source states one (ACDC: DCM, HCM, MINF, NOR, RV).
    pub group: Option<String>,
    /// What the loader doubts about this study (slices left out, assumed pixel spacing,
    /// inconsistent headers): carried to every output that shows a number.
    pub warnings: Vec<String>,
    /// The exam's long-axis cines (planes only, no pixels), in series order.
    pub long_axis: Vec<LongAxisPlane>,
}

impl Study {
    /// The SeriesInstanceUID (or assembled stack id) of the stack on show when it is not
    /// the one the loader picks by itself: sessions of such a stack are kept apart.
    pub fn alternative_stack(&self) -> Option<&str> {
        (self.chosen_series != self.default_series)
            .then(|| self.series.get(self.chosen_series))
            .flatten()
            .map(|s| s.uid.as_str())
    }
}
