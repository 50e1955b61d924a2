//! Per-image confidence from the segmentation itself, at no extra network cost.
//!
//! While it segments, the network's class probabilities say how sure it is of every
//! pixel. Per structure, [`crate::segment::Uncertainty`] sums them into the area where
//! the network expects its own answer to be wrong; times the slice spacing that is an
//! expected error volume, the same unit as the error a cardiologist cares about (how
//! many millilitres a contour adds or misses). Softmax probabilities are over-confident,
//! above all where base and apex are decided, so the expected error of the worst
//! structure and the image's place in its phase's run of labelled slices are mapped to a
//! probability by logistic regression fitted on the images of the 65 ACDC training
//! patients of `training/split.json` (`training/fit_confidence.py` on the table of
//! `examples/confidence_study.rs`): `confidence` is the estimated probability that the
//! image's worst structure is off by less than [`ERROR_ML`].

use crate::study::Geometry;

/// The error (mL, symmetric difference of the worst structure on one image) that counts
/// as worth a cardiologist's look (issue 14's evaluation threshold).
pub const ERROR_ML: f64 = 5.0;

/// Added to the expected error before the logarithm (mL), so a fully sure image has a
/// finite score.
pub const FLOOR_ML: f64 = 0.01;

/// Weights of `confidence = 1 / (1 + exp(-(w . x)))` with
/// `x = (1, ln(e + FLOOR_ML), [end slice], [next to the end slice], [no label])`:
/// `e` the worst structure's expected error (mL); "end slice" the first or last slice of
/// its phase with any label (where base and apex are decided, and where most large
/// errors are); "no label" a slice outside that run. Fitted on the training split (see
/// the module's documentation).
pub const WEIGHTS: [f64; 5] = [4.0153, -2.3778, -1.1815, -0.9336, -7.7539];

/// The worst structure's expected error volume (mL) of an image whose per-structure
/// expected error areas are `uncertainty_mm2`, for slices `slice_mm` apart.
pub fn expected_error_ml(uncertainty_mm2: [f64; 3], slice_mm: f64) -> f64 {
    let worst = uncertainty_mm2.iter().copied().fold(0.0, f64::max);
    worst * slice_mm / 1000.0
}

/// The calibrated confidence (0..1, higher = more trustworthy) of one image.
/// `from_end`: how many slices the image lies from the nearer end of its phase's run of
/// labelled slices (0: the end slice itself), `None` outside that run.
pub fn confidence(uncertainty_mm2: [f64; 3], slice_mm: f64, from_end: Option<usize>) -> f64 {
    let e = expected_error_ml(uncertainty_mm2, slice_mm);
    if !(e.is_finite() && uncertainty_mm2.iter().all(|v| v.is_finite())) {
        return 0.0;
    }
    let x = [
        1.0,
        (e + FLOOR_ML).ln(),
        f64::from(from_end == Some(0)),
        f64::from(from_end == Some(1)),
        f64::from(from_end.is_none()),
    ];
    let z: f64 = WEIGHTS.iter().zip(x).map(|(w, v)| w * v).sum();
    1.0 / (1.0 + (-z).exp())
}

/// The confidence of every slice of one phase: `uncertainty_mm2` and `labelled` (whether
/// the network labelled anything there) in slice order; `None` where the network did not
/// run or the slice spacing is unknown.
pub fn phase_confidences(
    uncertainty_mm2: &[Option<[f64; 3]>],
    labelled: &[bool],
    slice_mm: Option<f64>,
) -> Vec<Option<f64>> {
    let first = labelled.iter().position(|&l| l);
    let last = labelled.iter().rposition(|&l| l);
    let slice_mm = slice_mm.filter(|v| v.is_finite() && *v > 0.0);
    uncertainty_mm2
        .iter()
        .enumerate()
        .map(|(s, u)| {
            let from_end = match (first, last) {
                (Some(lo), Some(hi)) if (lo..=hi).contains(&s) => Some((s - lo).min(hi - s)),
                _ => None,
            };
            Some(confidence((*u)?, slice_mm?, from_end))
        })
        .collect()
}

/// The confidence of every image of `phases` of a segmentation, phase-major, as
/// [`ImageQc`](super::ImageQc) entries.
pub fn segmentation_images(
    seg: &crate::pipeline::Segmentation,
    geometry: &Geometry,
    phases: &[usize],
) -> Vec<super::ImageQc> {
    let d = seg.labels.dims();
    let slice_mm = geometry.slice_spacing_mm();
    phases
        .iter()
        .filter(|&&p| p < d.phases)
        .flat_map(|&phase| {
            let labelled: Vec<bool> = (0..d.slices)
                .map(|s| seg.labels.image(phase, s).iter().any(|&v| v != 0))
                .collect();
            phase_confidences(&seg.uncertainty.phase(phase), &labelled, slice_mm)
                .into_iter()
                .enumerate()
                .map(move |(slice, confidence)| super::ImageQc {
                    slice,
                    phase,
                    confidence,
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sure_images_score_high_and_doubt_lowers_the_score() {
        // 10 mm slices: 100 mm² of doubt is 1 mL, 1000 mm² is 10 mL.
        let mid = Some(3);
        let sure = confidence([0.0; 3], 10.0, mid);
        let some = confidence([100.0, 20.0, 0.0], 10.0, mid);
        let much = confidence([0.0, 0.0, 1000.0], 10.0, mid);
        assert!(sure > some && some > much, "{sure} {some} {much}");
        assert!((0.0..=1.0).contains(&much) && (0.0..=1.0).contains(&sure));
        // The end of the stack is where the network is wrong with conviction.
        assert!(confidence([100.0; 3], 10.0, Some(0)) < some);
        // The worst structure decides.
        assert_eq!(expected_error_ml([100.0, 300.0, 200.0], 8.0), 2.4);
        assert_eq!(confidence([f64::NAN; 3], 10.0, mid), 0.0);
    }

    #[test]
    fn a_phase_knows_its_end_slices() {
        let u = vec![Some([100.0; 3]); 5];
        let c = phase_confidences(&u, &[false, true, true, true, false], Some(10.0));
        // Slices 1 and 3 are the ends of the labelled run, 2 is next to both.
        assert_eq!(c[1], c[3]);
        assert_eq!(c[2], Some(confidence([100.0; 3], 10.0, Some(1))));
        assert_eq!(c[0], Some(confidence([100.0; 3], 10.0, None)));
        assert!(c[1] < c[2]);
        assert_eq!(phase_confidences(&u, &[true; 5], None), vec![None; 5]);
    }
}
