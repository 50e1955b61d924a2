//! Agreement of contours with an expert's on one phase: Dice per structure and the
//! volume per slice, over the images the expert annotated.

use crate::study::{Label, LabelStack};
use serde::Serialize;

/// One slice's blood-pool volumes (mL): ours, then the expert's; `None` where the expert
/// did not annotate that structure on the slice.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SliceVolumes {
    pub slice: usize,
    pub lv_ml: Option<(f64, f64)>,
    pub rv_ml: Option<(f64, f64)>,
}

/// The comparison of one phase.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseComparison {
    pub phase: usize,
    /// Dice of LV blood pool, myocardium, RV blood pool over the slices where the expert
    /// annotated that structure; `None` where the expert annotated it nowhere in the phase
    /// or neither side has any of it.
    pub dice: [Option<f64>; 3],
    pub slices: Vec<SliceVolumes>,
}

/// Compares `ours` with `reference` on `phase`; `None` when the expert annotated nothing
/// there (or the grids differ).
pub fn compare_phase(
    ours: &LabelStack,
    reference: &LabelStack,
    phase: usize,
    voxel_ml: f64,
) -> Option<PhaseComparison> {
    let d = ours.dims();
    if reference.dims() != d || phase >= d.phases {
        return None;
    }
    let annotated: Vec<usize> = (0..d.slices)
        .filter(|&s| !reference.annotated(phase, s).is_empty())
        .collect();
    if annotated.is_empty() {
        return None;
    }
    let structures = [Label::LvBloodPool, Label::Myocardium, Label::RvBloodPool];
    let dice = structures.map(|label| {
        let (mut a, mut b, mut both) = (0u64, 0u64, 0u64);
        let mut any = false;
        for &s in &annotated {
            if !reference.annotated(phase, s).contains(label) {
                continue;
            }
            any = true;
            for (&x, &y) in ours.image(phase, s).iter().zip(reference.image(phase, s)) {
                let (ix, iy) = (x == label as u8, y == label as u8);
                a += ix as u64;
                b += iy as u64;
                both += (ix && iy) as u64;
            }
        }
        (any && a + b > 0).then(|| 2.0 * both as f64 / (a + b) as f64)
    });
    let volume = |labels: &LabelStack, s: usize, label: Label| {
        labels
            .image(phase, s)
            .iter()
            .filter(|&&v| v == label as u8)
            .count() as f64
            * voxel_ml
    };
    let pair = |s: usize, label: Label| {
        reference
            .annotated(phase, s)
            .contains(label)
            .then(|| (volume(ours, s, label), volume(reference, s, label)))
    };
    let slices = annotated
        .iter()
        .map(|&s| SliceVolumes {
            slice: s,
            lv_ml: pair(s, Label::LvBloodPool),
            rv_ml: pair(s, Label::RvBloodPool),
        })
        .collect();
    Some(PhaseComparison {
        phase,
        dice,
        slices,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::study::{Dims, Structures};

    #[test]
    fn by_hand() {
        // One phase, two slices of 2 x 3 pixels; the expert annotated slice 0 only.
        let d = Dims {
            phases: 1,
            slices: 2,
            rows: 2,
            columns: 3,
        };
        let mut ours = LabelStack::empty(d);
        let mut reference = LabelStack::empty(d);
        ours.image_mut(0, 0)
            .unwrap()
            .copy_from_slice(&[1, 1, 1, 2, 3, 0]);
        reference
            .image_mut(0, 0)
            .unwrap()
            .copy_from_slice(&[1, 1, 0, 2, 2, 0]);
        ours.image_mut(0, 1)
            .unwrap()
            .copy_from_slice(&[1, 1, 1, 1, 1, 1]);
        reference.set_annotated(
            0,
            0,
            Structures::NONE
                .with(Label::LvBloodPool)
                .with(Label::Myocardium),
        );
        let c = compare_phase(&ours, &reference, 0, 0.5).unwrap();
        // LV: ours 3, expert 2, both 2 -> 4/5. Myo: ours 1, expert 2, both 1 -> 2/3.
        assert_eq!(c.dice[0], Some(0.8));
        assert!((c.dice[1].unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(c.dice[2], None, "the expert did not annotate the RV");
        assert_eq!(
            c.slices,
            vec![SliceVolumes {
                slice: 0,
                lv_ml: Some((1.5, 1.0)),
                rv_ml: None
            }]
        );
        assert_eq!(compare_phase(&ours, &LabelStack::empty(d), 0, 0.5), None);
    }
}
