//! Where the cine's voxels lie in the patient, in DICOM LPS millimetres.

use serde::Serialize;

/// Geometry of a stack of parallel 2-D slices.
///
/// `row_direction` is the unit vector along a row (the direction of increasing column
/// index, DICOM ImageOrientationPatient's first triplet); `column_direction` is along a
/// column (increasing row index). The slice normal is `row_direction x column_direction`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Geometry {
    /// (row spacing, column spacing) in mm, as DICOM PixelSpacing: the distance between
    /// the centres of adjacent rows, then of adjacent columns.
    pub pixel_spacing_mm: [f64; 2],
    pub row_direction: [f64; 3],
    pub column_direction: [f64; 3],
    /// Centre of pixel (column 0, row 0) of each slice, LPS mm, in slice order.
    pub slice_positions_mm: Vec<[f64; 3]>,
    /// Nominal slice thickness as stated by the source.
    pub slice_thickness_mm: Option<f64>,
}

pub(crate) fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub(crate) fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

pub(crate) fn normalize(a: [f64; 3]) -> Option<[f64; 3]> {
    let n = dot(a, a).sqrt();
    (n.is_finite() && n > 1e-9).then(|| [a[0] / n, a[1] / n, a[2] / n])
}

impl Geometry {
    /// Unit normal of the slices (row direction x column direction).
    pub fn normal(&self) -> [f64; 3] {
        normalize(cross(self.row_direction, self.column_direction)).unwrap_or([0.0, 0.0, 1.0])
    }

    /// Each slice's signed distance along the normal, in mm.
    pub fn slice_distances_mm(&self) -> Vec<f64> {
        let n = self.normal();
        self.slice_positions_mm.iter().map(|p| dot(*p, n)).collect()
    }

    /// Whether the slice index runs from base to apex (`Some(true)`) or from apex to base,
    /// judged from patient coordinates (DICOM LPS): the LV's long axis points from the base
    /// towards the patient's left, anterior and inferior, (+x, -y, -z). `None` when the
    /// stack runs nearly across that direction (not a short-axis stack) or has one slice.
    /// Only meaningful for geometry read from DICOM headers.
    pub fn index_runs_base_to_apex(&self) -> Option<bool> {
        let (first, last) = (
            self.slice_positions_mm.first()?,
            self.slice_positions_mm.last()?,
        );
        let step = normalize([last[0] - first[0], last[1] - first[1], last[2] - first[2]])?;
        let apex = 1.0 / 3f64.sqrt();
        let along = dot(step, [apex, -apex, -apex]);
        (along.abs() > 0.3).then_some(along > 0.0)
    }

    /// Distance between adjacent slice centres, from the positions (median of the
    /// steps along the normal). SliceLocation and SpacingBetweenSlices are not trusted:
    /// Sunnybrook's SliceLocation steps 6.72 mm while its slices are 10 mm apart.
    /// Falls back to the slice thickness for a single slice.
    pub fn slice_spacing_mm(&self) -> Option<f64> {
        let d = self.slice_distances_mm();
        let mut steps: Vec<f64> = d.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
        if steps.is_empty() {
            return self.slice_thickness_mm;
        }
        steps.sort_by(f64::total_cmp);
        Some(steps[steps.len() / 2])
    }

    /// Volume of one voxel in mL (pixel area x slice spacing).
    pub fn voxel_volume_ml(&self) -> Option<f64> {
        let dz = self.slice_spacing_mm()?;
        Some(self.pixel_spacing_mm[0] * self.pixel_spacing_mm[1] * dz / 1000.0)
    }

    /// The NIfTI voxel-to-world affine (RAS mm, 3 rows of 4) of this grid, with voxel
    /// index i = column, j = row, k = slice: the inverse of how NIfTI input is read, so a
    /// label map written with it lands on the input's voxels.
    pub fn affine_ras(&self) -> [[f64; 4]; 3] {
        let (dr, dc) = (self.pixel_spacing_mm[0], self.pixel_spacing_mm[1]);
        let ci = self.row_direction.map(|v| v * dc);
        let cj = self.column_direction.map(|v| v * dr);
        let p = &self.slice_positions_mm;
        let origin = p.first().copied().unwrap_or_default();
        let ck = match p.get(1) {
            Some(p1) => [p1[0] - origin[0], p1[1] - origin[1], p1[2] - origin[2]],
            None => self
                .normal()
                .map(|v| v * self.slice_thickness_mm.unwrap_or(1.0)),
        };
        // LPS -> RAS: negate the first two world axes.
        let sign = [-1.0, -1.0, 1.0];
        std::array::from_fn(|r| {
            [
                sign[r] * ci[r],
                sign[r] * cj[r],
                sign[r] * ck[r],
                sign[r] * origin[r],
            ]
        })
    }

    /// Patient coordinates (LPS mm) of pixel (column, row) of a slice.
    pub fn pixel_to_patient(&self, slice: usize, column: f64, row: f64) -> Option<[f64; 3]> {
        let o = self.slice_positions_mm.get(slice)?;
        let (dr, dc) = (self.pixel_spacing_mm[0], self.pixel_spacing_mm[1]);
        let (u, v) = (self.row_direction, self.column_direction);
        Some([
            o[0] + u[0] * dc * column + v[0] * dr * row,
            o[1] + u[1] * dc * column + v[1] * dr * row,
            o[2] + u[2] * dc * column + v[2] * dr * row,
        ])
    }
}

/// Pixel sizes an MR image can have, mm: cardiac cines use about 0.5-3 mm; anything
/// outside 0.1-10 mm is a broken header, never a real image.
pub const PLAUSIBLE_PIXEL_MM: std::ops::RangeInclusive<f64> = 0.1..=10.0;

/// Whether `mm` is a pixel size an MR image can have (see [`PLAUSIBLE_PIXEL_MM`]).
pub fn plausible_pixel_mm(mm: f64) -> bool {
    mm.is_finite() && PLAUSIBLE_PIXEL_MM.contains(&mm)
}

#[cfg(test)]
mod tests {

    #[test]
    fn which_end_of_a_short_axis_stack_is_the_base() {
        // SCD0000101's first and last slice centres (LPS mm): each step goes to the
        // patient's right, posterior and superior, i.e. towards the base.
        let mut g = Geometry {
            pixel_spacing_mm: [1.37, 1.37],
            row_direction: [1.0, 0.0, 0.0],
            column_direction: [0.0, 1.0, 0.0],
            slice_positions_mm: vec![[236.6, -37.7, 108.9], [162.7, 35.6, 144.5]],
            slice_thickness_mm: None,
        };
        assert_eq!(g.index_runs_base_to_apex(), Some(false));
        g.slice_positions_mm.reverse();
        assert_eq!(g.index_runs_base_to_apex(), Some(true));
        // A stack running anterior and superior lies across the long axis: no answer.
        g.slice_positions_mm = vec![[0.0, 0.0, 0.0], [0.0, -10.0, 10.0]];
        assert_eq!(g.index_runs_base_to_apex(), None);
        g.slice_positions_mm.truncate(1);
        assert_eq!(g.index_runs_base_to_apex(), None);
    }

    use super::*;

    fn oblique(n: usize, step: f64) -> Geometry {
        // Rotated 30 degrees about z, then tilted: an oblique short-axis-like plane.
        let (s, c) = (30f64.to_radians().sin(), 30f64.to_radians().cos());
        let u = [c, s, 0.0];
        let v = normalize([-s * 0.8, c * 0.8, 0.6]).unwrap_or([0.0, 1.0, 0.0]);
        let nrm = normalize(cross(u, v)).unwrap_or([0.0, 0.0, 1.0]);
        let o = [10.0, -20.0, 30.0];
        Geometry {
            pixel_spacing_mm: [1.5, 1.25],
            row_direction: u,
            column_direction: v,
            slice_positions_mm: (0..n)
                .map(|k| {
                    let t = step * k as f64;
                    // Slide sideways in-plane too: only the normal component counts.
                    [
                        o[0] + nrm[0] * t + u[0] * 3.0,
                        o[1] + nrm[1] * t + u[1] * 3.0,
                        o[2] + nrm[2] * t,
                    ]
                })
                .collect(),
            slice_thickness_mm: Some(6.0),
        }
    }

    #[test]
    fn spacing_is_the_step_along_the_normal() {
        let g = oblique(5, 8.0);
        let s = g.slice_spacing_mm().unwrap_or(f64::NAN);
        assert!((s - 8.0).abs() < 1e-9, "{s}");
        assert!((g.voxel_volume_ml().unwrap_or(0.0) - 1.5 * 1.25 * 8.0 / 1000.0).abs() < 1e-12);
    }

    #[test]
    fn single_slice_falls_back_to_thickness() {
        assert_eq!(oblique(1, 8.0).slice_spacing_mm(), Some(6.0));
    }

    #[test]
    fn pixel_to_patient_moves_along_rows_and_columns() {
        let g = oblique(2, 8.0);
        let a = g.pixel_to_patient(0, 0.0, 0.0).unwrap_or_default();
        let b = g.pixel_to_patient(0, 2.0, 0.0).unwrap_or_default();
        let d = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2) + (b[2] - a[2]).powi(2)).sqrt();
        assert!((d - 2.5).abs() < 1e-9);
        assert!(g.pixel_to_patient(5, 0.0, 0.0).is_none());
    }
}
