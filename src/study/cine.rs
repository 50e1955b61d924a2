//! The short-axis cine: f32 intensities indexed (phase, slice, row, column).

use super::Geometry;
use serde::Serialize;

/// Shape of a cine or label stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Dims {
    pub phases: usize,
    pub slices: usize,
    pub rows: usize,
    pub columns: usize,
}

impl Dims {
    pub fn pixels_per_image(&self) -> usize {
        self.rows * self.columns
    }
    pub fn images(&self) -> usize {
        self.phases * self.slices
    }
    pub fn len(&self) -> usize {
        self.images() * self.pixels_per_image()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Offset of the first pixel of image (phase, slice).
    pub fn image_offset(&self, phase: usize, slice: usize) -> usize {
        (phase * self.slices + slice) * self.pixels_per_image()
    }
}

/// Per-phase timing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Phase {
    /// Time after the R wave in ms (DICOM TriggerTime), mean over the slices.
    pub trigger_time_ms: Option<f64>,
    /// Frame number in the source sequence where the phases are a subset
    /// (ACDC stores only its ED and ES frames; 1-based as in Info.cfg).
    pub source_frame: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cine data has {got} values, but {dims:?} needs {want}")]
pub struct ShapeError {
    pub dims: Dims,
    pub got: usize,
    pub want: usize,
}

/// A stack of 2-D images over slice position and cardiac phase.
#[derive(Debug, Clone, PartialEq)]
pub struct CineStack {
    dims: Dims,
    data: Vec<f32>,
    pub geometry: Geometry,
    pub phases: Vec<Phase>,
}

impl CineStack {
    /// `data` is laid out phase-major, then slice, row, column (column fastest).
    pub fn new(
        dims: Dims,
        data: Vec<f32>,
        geometry: Geometry,
        phases: Vec<Phase>,
    ) -> Result<Self, ShapeError> {
        if data.len() != dims.len() {
            return Err(ShapeError {
                dims,
                got: data.len(),
                want: dims.len(),
            });
        }
        if geometry.slice_positions_mm.len() != dims.slices {
            return Err(ShapeError {
                dims,
                got: geometry.slice_positions_mm.len(),
                want: dims.slices,
            });
        }
        if phases.len() != dims.phases {
            return Err(ShapeError {
                dims,
                got: phases.len(),
                want: dims.phases,
            });
        }
        Ok(CineStack {
            dims,
            data,
            geometry,
            phases,
        })
    }

    pub fn dims(&self) -> Dims {
        self.dims
    }

    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The image at (phase, slice), rows x columns, row-major. Panics never: out of
    /// range indices give an empty slice.
    pub fn image(&self, phase: usize, slice: usize) -> &[f32] {
        if phase >= self.dims.phases || slice >= self.dims.slices {
            return &[];
        }
        let o = self.dims.image_offset(phase, slice);
        &self.data[o..o + self.dims.pixels_per_image()]
    }

    /// Trigger times per phase (ms), `None` where unknown.
    pub fn trigger_times_ms(&self) -> Vec<Option<f64>> {
        self.phases.iter().map(|p| p.trigger_time_ms).collect()
    }
}
