//! Voxel counts per (phase, slice): the incremental core of every measure.

use crate::study::{Dims, Label, LabelStack, Structures};
use serde::Serialize;

/// Per-phase volumes in mL; `None` where the phase was not measured for that structure
/// (no slice of it carries an annotation of the structure). Never 0 for "not measured".
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PhaseVolumes {
    pub lv_ml: Vec<Option<f64>>,
    pub myo_ml: Vec<Option<f64>>,
    pub rv_ml: Vec<Option<f64>>,
}

impl PhaseVolumes {
    pub fn of(&self, label: Label) -> &[Option<f64>] {
        match label {
            Label::LvBloodPool => &self.lv_ml,
            Label::Myocardium => &self.myo_ml,
            Label::RvBloodPool => &self.rv_ml,
            Label::Background => &[],
        }
    }
}

/// Keeps, for every image, the voxel count of each label and which structures are
/// annotated. Changing one image costs one pass over its pixels; volumes then come from
/// phases x slices sums (420 for a 30 x 14 study).
#[derive(Debug, Clone, PartialEq)]
pub struct Engine {
    phases: usize,
    slices: usize,
    counts: Vec<[u32; 4]>,
    annotated: Vec<Structures>,
    voxel_ml: f64,
}

fn count(image: &[u8]) -> [u32; 4] {
    let mut c = [0u32; 4];
    for &v in image {
        if let Some(slot) = c.get_mut(v as usize) {
            *slot += 1;
        }
    }
    c
}

impl Engine {
    /// Counts every image of `labels`; `voxel_ml` is pixel area x slice spacing / 1000.
    pub fn new(labels: &LabelStack, voxel_ml: f64) -> Engine {
        let d: Dims = labels.dims();
        let mut counts = Vec::with_capacity(d.images());
        let mut annotated = Vec::with_capacity(d.images());
        for p in 0..d.phases {
            for s in 0..d.slices {
                counts.push(count(labels.image(p, s)));
                annotated.push(labels.annotated(p, s));
            }
        }
        Engine {
            phases: d.phases,
            slices: d.slices,
            counts,
            annotated,
            voxel_ml,
        }
    }

    /// Re-counts one image after an edit. Out-of-range indices are ignored.
    pub fn update_slice(
        &mut self,
        phase: usize,
        slice: usize,
        image: &[u8],
        annotated: Structures,
    ) {
        if phase < self.phases && slice < self.slices {
            let i = phase * self.slices + slice;
            self.counts[i] = count(image);
            self.annotated[i] = annotated;
        }
    }

    pub fn voxel_ml(&self) -> f64 {
        self.voxel_ml
    }

    /// Volume of `label` in `phase`, over the slices where it is annotated.
    pub fn volume_ml(&self, phase: usize, label: Label) -> Option<f64> {
        if phase >= self.phases || label == Label::Background {
            return None;
        }
        let range = phase * self.slices..(phase + 1) * self.slices;
        let mut measured = false;
        let mut voxels = 0u64;
        for i in range {
            if self.annotated[i].contains(label) {
                measured = true;
                voxels += self.counts[i][label as usize] as u64;
            }
        }
        measured.then_some(voxels as f64 * self.voxel_ml)
    }

    /// Volume of `label` on one image (mL); `None` where the image does not annotate it.
    pub fn slice_volume_ml(&self, phase: usize, slice: usize, label: Label) -> Option<f64> {
        if phase >= self.phases || slice >= self.slices || label == Label::Background {
            return None;
        }
        let i = phase * self.slices + slice;
        self.annotated[i]
            .contains(label)
            .then(|| self.counts[i][label as usize] as f64 * self.voxel_ml)
    }

    /// LV blood pool, myocardium and RV blood pool of every slice of `phase` (mL each,
    /// `None` where not annotated): the discs the volumes are summed from.
    pub fn slice_table(&self, phase: usize) -> Vec<[Option<f64>; 3]> {
        (0..self.slices)
            .map(|s| {
                [Label::LvBloodPool, Label::Myocardium, Label::RvBloodPool]
                    .map(|l| self.slice_volume_ml(phase, s, l))
            })
            .collect()
    }

    pub fn volumes(&self) -> PhaseVolumes {
        let per = |label| (0..self.phases).map(|p| self.volume_ml(p, label)).collect();
        PhaseVolumes {
            lv_ml: per(Label::LvBloodPool),
            myo_ml: per(Label::Myocardium),
            rv_ml: per(Label::RvBloodPool),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_annotated_slices_only_and_updates_one_slice() {
        let d = Dims {
            phases: 2,
            slices: 2,
            rows: 2,
            columns: 3,
        };
        // phase 0: slice 0 has 2 LV + 1 Myo, slice 1 has 1 LV + 2 RV; phase 1: nothing.
        let data = vec![
            1, 1, 2, 0, 0, 0, 1, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let mut labels = LabelStack::from_stored(d, data, crate::study::LabelOrder::Systole)
            .unwrap_or_else(|e| panic!("{e}"));
        labels.clear_phase_annotation(1);
        let mut e = Engine::new(&labels, 0.5);
        let v = e.volumes();
        assert_eq!(v.lv_ml, vec![Some(1.5), None]);
        assert_eq!(v.myo_ml, vec![Some(0.5), None]);
        assert_eq!(v.rv_ml, vec![Some(1.0), None]);
        // Annotate phase 1 slice 0 with LV only: 4 voxels.
        e.update_slice(
            1,
            0,
            &[1, 1, 1, 1, 3, 0],
            Structures::NONE.with(Label::LvBloodPool),
        );
        let v = e.volumes();
        assert_eq!(v.lv_ml[1], Some(2.0));
        // Per slice: the discs add up to the phase's volumes.
        assert_eq!(
            e.slice_table(0),
            vec![
                [Some(1.0), Some(0.5), Some(0.0)],
                [Some(0.5), Some(0.0), Some(1.0)]
            ]
        );
        assert_eq!(e.slice_table(1)[0], [Some(2.0), None, None]);
        assert_eq!(e.slice_table(1)[1], [None, None, None]);
        assert_eq!(e.slice_volume_ml(5, 0, Label::LvBloodPool), None);
        assert_eq!(v.rv_ml[1], None, "RV was not annotated in phase 1");
    }
}
