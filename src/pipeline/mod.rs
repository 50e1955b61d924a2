//! The one path from a study to results. The command line (`segment`, `report`, `eval`),
//! the batch runner and the viewer's background job all segment through
//! [`segment_phases`]; nothing else orders segmentation work, so the viewer and the
//! command line give the same labels for the same study, whatever image the viewer
//! started from.

pub mod orientation;
mod segment;

pub use orientation::Orientation;
pub use segment::{
    PhaseLabels, Segmentation, auto_contours, phase_order, segment_phases, segment_phases_oriented,
};
