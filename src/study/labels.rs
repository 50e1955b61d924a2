//! Label maps on the cine's grid and the one place where label orders are converted.

use super::Dims;
use serde::Serialize;

/// Systole's label values, the order of UK Biobank and Bai et al. (JCMR 2018).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[repr(u8)]
pub enum Label {
    Background = 0,
    LvBloodPool = 1,
    Myocardium = 2,
    RvBloodPool = 3,
}

impl Label {
    pub const STRUCTURES: [Label; 3] = [Label::LvBloodPool, Label::Myocardium, Label::RvBloodPool];

    pub fn from_u8(v: u8) -> Option<Label> {
        match v {
            0 => Some(Label::Background),
            1 => Some(Label::LvBloodPool),
            2 => Some(Label::Myocardium),
            3 => Some(Label::RvBloodPool),
            _ => None,
        }
    }
}

/// The label order a file uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum LabelOrder {
    /// 0 background, 1 LV blood pool, 2 myocardium, 3 RV blood pool (also UK Biobank, M&Ms).
    #[default]
    Systole,
    /// ACDC (Bernard et al., IEEE TMI 2018) and nnU-Net's ACDC conversion:
    /// 0 background, 1 RV blood pool, 2 myocardium, 3 LV blood pool.
    Acdc,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LabelError {
    #[error("label value {value} is not one of 0..=3 ({order:?} order)")]
    UnknownValue { value: u8, order: LabelOrder },
    #[error("label map shape {got:?} does not match the cine {want:?}")]
    Shape { got: Dims, want: Dims },
}

impl LabelOrder {
    /// Converts one stored value to Systole's order.
    pub fn to_systole(self, value: u8) -> Result<u8, LabelError> {
        let mapped = match (self, value) {
            (_, 0) => 0,
            (LabelOrder::Systole, 1..=3) => value,
            (LabelOrder::Acdc, 1) => Label::RvBloodPool as u8,
            (LabelOrder::Acdc, 2) => Label::Myocardium as u8,
            (LabelOrder::Acdc, 3) => Label::LvBloodPool as u8,
            _ => return Err(LabelError::UnknownValue { value, order: self }),
        };
        Ok(mapped)
    }

    /// Converts one Systole value back to this order (for writing files).
    pub fn from_systole(self, value: u8) -> Result<u8, LabelError> {
        // Both mappings are involutions on 0..=3.
        self.to_systole(value)
    }
}

/// Which structures an expert annotated on one image (a small bit set). An image with
/// LV blood pool annotated but not myocardium (Sunnybrook at end-systole) must not be
/// read as "no myocardium".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Structures(u8);

impl Structures {
    pub const NONE: Structures = Structures(0);
    pub const ALL: Structures = Structures(0b111);

    fn bit(label: Label) -> u8 {
        match label {
            Label::Background => 0,
            Label::LvBloodPool => 1,
            Label::Myocardium => 2,
            Label::RvBloodPool => 4,
        }
    }
    pub fn with(self, label: Label) -> Structures {
        Structures(self.0 | Self::bit(label))
    }
    pub fn contains(self, label: Label) -> bool {
        let b = Self::bit(label);
        b != 0 && self.0 & b == b
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// Labels for every (phase, slice) of a cine, in Systole's order, plus which structures
/// were annotated on each image.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelStack {
    dims: Dims,
    data: Vec<u8>,
    annotated: Vec<Structures>,
}

impl LabelStack {
    /// All background, nothing annotated.
    pub fn empty(dims: Dims) -> Self {
        LabelStack {
            dims,
            data: vec![0; dims.len()],
            annotated: vec![Structures::NONE; dims.images()],
        }
    }

    /// Builds a stack from stored values in `order`, remapping to Systole's order.
    /// Every image counts as annotated for all structures unless marked otherwise later.
    pub fn from_stored(
        dims: Dims,
        mut data: Vec<u8>,
        order: LabelOrder,
    ) -> Result<Self, LabelError> {
        if data.len() != dims.len() {
            return Err(LabelError::Shape {
                got: dims,
                want: dims,
            });
        }
        let mut lut = [0u8; 256];
        for (v, slot) in lut.iter_mut().enumerate().take(4) {
            *slot = order.to_systole(v as u8)?;
        }
        for v in data.iter_mut() {
            if *v > 3 {
                return Err(LabelError::UnknownValue { value: *v, order });
            }
            *v = lut[*v as usize];
        }
        Ok(LabelStack {
            dims,
            data,
            annotated: vec![Structures::ALL; dims.images()],
        })
    }

    pub fn dims(&self) -> Dims {
        self.dims
    }
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The label image at (phase, slice); empty if out of range.
    pub fn image(&self, phase: usize, slice: usize) -> &[u8] {
        if phase >= self.dims.phases || slice >= self.dims.slices {
            return &[];
        }
        let o = self.dims.image_offset(phase, slice);
        &self.data[o..o + self.dims.pixels_per_image()]
    }

    /// Mutable label image at (phase, slice); `None` if out of range.
    pub fn image_mut(&mut self, phase: usize, slice: usize) -> Option<&mut [u8]> {
        if phase >= self.dims.phases || slice >= self.dims.slices {
            return None;
        }
        let o = self.dims.image_offset(phase, slice);
        let n = self.dims.pixels_per_image();
        Some(&mut self.data[o..o + n])
    }

    pub fn annotated(&self, phase: usize, slice: usize) -> Structures {
        if phase >= self.dims.phases || slice >= self.dims.slices {
            return Structures::NONE;
        }
        self.annotated[phase * self.dims.slices + slice]
    }

    pub fn set_annotated(&mut self, phase: usize, slice: usize, s: Structures) {
        if phase < self.dims.phases && slice < self.dims.slices {
            self.annotated[phase * self.dims.slices + slice] = s;
        }
    }

    /// Marks every image of a phase as not annotated (a phase without reference labels).
    pub fn clear_phase_annotation(&mut self, phase: usize) {
        for s in 0..self.dims.slices {
            self.set_annotated(phase, s, Structures::NONE);
        }
    }

    /// Number of voxels with `label` in one phase.
    pub fn count(&self, phase: usize, label: Label) -> usize {
        if phase >= self.dims.phases {
            return 0;
        }
        let n = self.dims.slices * self.dims.pixels_per_image();
        let o = phase * n;
        self.data[o..o + n]
            .iter()
            .filter(|&&v| v == label as u8)
            .count()
    }

    /// Whether any image carries an annotation.
    pub fn any_annotated(&self) -> bool {
        self.annotated.iter().any(|s| !s.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Dims = Dims {
        phases: 1,
        slices: 1,
        rows: 2,
        columns: 2,
    };

    #[test]
    fn acdc_values_are_remapped() {
        let s = LabelStack::from_stored(D, vec![0, 1, 2, 3], LabelOrder::Acdc);
        let s = s.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.data(), &[0, 3, 2, 1]);
        assert_eq!(s.count(0, Label::RvBloodPool), 1);
    }

    #[test]
    fn systole_values_pass_through() {
        let s = LabelStack::from_stored(D, vec![0, 1, 2, 3], LabelOrder::Systole);
        assert_eq!(s.map(|s| s.data().to_vec()), Ok(vec![0, 1, 2, 3]));
    }

    #[test]
    fn out_of_range_values_are_rejected() {
        let e = LabelStack::from_stored(D, vec![0, 1, 7, 3], LabelOrder::Acdc);
        assert_eq!(
            e.err(),
            Some(LabelError::UnknownValue {
                value: 7,
                order: LabelOrder::Acdc
            })
        );
        assert!(LabelStack::from_stored(D, vec![0], LabelOrder::Acdc).is_err());
    }

    #[test]
    fn mapping_is_an_involution() {
        for v in 0..4u8 {
            let m = LabelOrder::Acdc.to_systole(v).unwrap_or(99);
            assert_eq!(LabelOrder::Acdc.from_systole(m), Ok(v));
        }
    }

    #[test]
    fn structure_sets() {
        let s = Structures::NONE.with(Label::LvBloodPool);
        assert!(s.contains(Label::LvBloodPool));
        assert!(!s.contains(Label::Myocardium));
        assert!(!s.contains(Label::Background));
        assert!(Structures::ALL.contains(Label::RvBloodPool));
    }
}
