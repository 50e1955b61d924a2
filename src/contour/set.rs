//! The editable contours of a study: at most one closed polygon per (phase, slice,
//! structure), each automatic or manual, and their exact rasterisation into label maps.

use super::trace::contour_of;
use super::{Polygon, Structure, fill};
use crate::study::{Dims, Label, LabelStack, Structures};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a contour came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Made by the network; segmenting again may replace it.
    Auto,
    /// Drawn or corrected by the user; kept unless the user asks to replace it.
    Manual,
}

/// One contour: a closed polygon in pixel coordinates (column, row) of its image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contour {
    pub points: Polygon,
    pub source: Source,
}

/// (phase, slice, structure), 0-based in the study's order.
pub type Key = (usize, usize, Structure);

/// Every contour of a study on its image grid.
#[derive(Debug, Clone, PartialEq)]
pub struct ContourSet {
    dims: Dims,
    contours: BTreeMap<Key, Contour>,
}

impl ContourSet {
    pub fn new(dims: Dims) -> ContourSet {
        ContourSet {
            dims,
            contours: BTreeMap::new(),
        }
    }

    pub fn dims(&self) -> Dims {
        self.dims
    }

    pub fn is_empty(&self) -> bool {
        self.contours.is_empty()
    }

    pub fn len(&self) -> usize {
        self.contours.len()
    }

    pub fn get(&self, key: Key) -> Option<&Contour> {
        self.contours.get(&key)
    }

    /// Sets or removes (`None`) one contour; returns what was there. Keys outside the
    /// study and polygons with fewer than 3 vertices or non-finite coordinates are refused
    /// (nothing changes, `Err` holds the contour back).
    pub fn set(
        &mut self,
        key: Key,
        contour: Option<Contour>,
    ) -> Result<Option<Contour>, Option<Contour>> {
        let (p, s, _) = key;
        if p >= self.dims.phases || s >= self.dims.slices {
            return Err(contour);
        }
        match contour {
            Some(c) if c.points.len() < 3 || c.points.iter().flatten().any(|v| !v.is_finite()) => {
                Err(Some(c))
            }
            Some(c) => Ok(self.contours.insert(key, c)),
            None => Ok(self.contours.remove(&key)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Contour)> {
        self.contours.iter()
    }

    /// The contours of one image.
    pub fn image(&self, phase: usize, slice: usize) -> impl Iterator<Item = (Structure, &Contour)> {
        Structure::ALL
            .into_iter()
            .filter_map(move |s| self.contours.get(&(phase, slice, s)).map(|c| (s, c)))
    }

    pub fn has_image(&self, phase: usize, slice: usize) -> bool {
        self.image(phase, slice).next().is_some()
    }

    /// Whether any contour of the image was drawn or corrected by hand.
    pub fn edited(&self, phase: usize, slice: usize) -> bool {
        self.image(phase, slice)
            .any(|(_, c)| c.source == Source::Manual)
    }

    /// The label image of one image: LV = inside lv_endo; myocardium = inside lv_epi and
    /// outside lv_endo; RV = inside rv_endo and outside lv_epi. An image without contours
    /// is all background.
    pub fn rasterise(&self, phase: usize, slice: usize) -> Vec<u8> {
        let (rows, cols) = (self.dims.rows, self.dims.columns);
        let mut out = vec![0u8; rows * cols];
        let mask = |s| {
            self.contours
                .get(&(phase, slice, s))
                .map(|c| fill(&c.points, rows, cols))
        };
        let (endo, epi, rv) = (
            mask(Structure::LvEndo),
            mask(Structure::LvEpi),
            mask(Structure::RvEndo),
        );
        for (i, v) in out.iter_mut().enumerate() {
            let in_endo = endo.as_ref().is_some_and(|m| m[i]);
            let in_epi = epi.as_ref().is_some_and(|m| m[i]);
            *v = if in_endo {
                Label::LvBloodPool as u8
            } else if in_epi {
                Label::Myocardium as u8
            } else if rv.as_ref().is_some_and(|m| m[i]) {
                Label::RvBloodPool as u8
            } else {
                0
            };
        }
        out
    }

    /// An image with any contour counts as annotated for all three structures: a missing
    /// contour there means "none of it on this image" (e.g. a basal slice the reader
    /// excluded), not "not looked at".
    pub fn annotated(&self, phase: usize, slice: usize) -> Structures {
        if self.has_image(phase, slice) {
            Structures::NONE
                .with(Label::LvBloodPool)
                .with(Label::Myocardium)
                .with(Label::RvBloodPool)
        } else {
            Structures::NONE
        }
    }

    /// Label maps of every image (see [`ContourSet::rasterise`]).
    pub fn to_labels(&self) -> LabelStack {
        let mut labels = LabelStack::empty(self.dims);
        self.write_labels(&mut labels);
        labels
    }

    /// Rewrites every image of `labels` from the contours.
    pub fn write_labels(&self, labels: &mut LabelStack) {
        for p in 0..self.dims.phases {
            for s in 0..self.dims.slices {
                self.write_image(labels, p, s);
            }
        }
    }

    /// Rewrites one image of `labels` from the contours.
    pub fn write_image(&self, labels: &mut LabelStack, phase: usize, slice: usize) {
        let has = self.has_image(phase, slice);
        let img = if has {
            self.rasterise(phase, slice)
        } else {
            Vec::new()
        };
        if let Some(dst) = labels.image_mut(phase, slice) {
            if has {
                dst.copy_from_slice(&img);
            } else {
                dst.fill(0);
            }
        }
        labels.set_annotated(phase, slice, self.annotated(phase, slice));
    }

    /// The contours of the annotated images of `labels`, all `source`. Images without
    /// annotation get none.
    pub fn from_labels(labels: &LabelStack, source: Source) -> ContourSet {
        let d = labels.dims();
        let mut set = ContourSet::new(d);
        for p in 0..d.phases {
            for s in 0..d.slices {
                if labels.annotated(p, s).is_empty() {
                    continue;
                }
                for (structure, c) in contours_of_image(labels.image(p, s), d.columns) {
                    set.contours
                        .insert((p, s, structure), Contour { points: c, source });
                }
            }
        }
        set
    }

    /// Replaces the automatic contours with those of `labels` (every image it annotates).
    /// Manual contours stay unless `replace_manual`: an image with a manual contour keeps
    /// all its contours, so a corrected image is never mixed with new automatic ones.
    /// Returns the images that changed.
    pub fn merge_automatic(
        &mut self,
        labels: &LabelStack,
        replace_manual: bool,
    ) -> Vec<(usize, usize)> {
        let d = self.dims;
        let mut changed = Vec::new();
        if labels.dims() != d {
            return changed;
        }
        for p in 0..d.phases {
            for s in 0..d.slices {
                if !labels.annotated(p, s).is_empty()
                    && self.merge_image(p, s, labels.image(p, s), replace_manual)
                {
                    changed.push((p, s));
                }
            }
        }
        changed
    }

    /// [`ContourSet::merge_automatic`] for one label image; returns whether it changed.
    pub fn merge_image(
        &mut self,
        phase: usize,
        slice: usize,
        labels: &[u8],
        replace_manual: bool,
    ) -> bool {
        let d = self.dims;
        if phase >= d.phases
            || slice >= d.slices
            || labels.len() != d.pixels_per_image()
            || (!replace_manual && self.edited(phase, slice))
        {
            return false;
        }
        let new: BTreeMap<Structure, Polygon> =
            contours_of_image(labels, d.columns).into_iter().collect();
        let mut changed = false;
        for st in Structure::ALL {
            let c = new.get(&st).map(|pts| Contour {
                points: pts.clone(),
                source: Source::Auto,
            });
            if self.contours.get(&(phase, slice, st)) != c.as_ref() {
                match c {
                    Some(c) => self.contours.insert((phase, slice, st), c),
                    None => self.contours.remove(&(phase, slice, st)),
                };
                changed = true;
            }
        }
        changed
    }
}

/// The contours of one Systole label image (row-major, `columns` wide).
pub fn contours_of_image(labels: &[u8], columns: usize) -> Vec<(Structure, Polygon)> {
    Structure::ALL
        .into_iter()
        .filter_map(|s| {
            let mask: Vec<bool> = labels.iter().map(|&v| s.contains(v)).collect();
            contour_of(&mask, columns).map(|c| (s, c))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring_labels(d: Dims) -> Vec<u8> {
        // LV disc radius 6 in myocardium ring to radius 9 at (20, 20); RV disc radius 6 at (34, 20).
        (0..d.rows * d.columns)
            .map(|i| {
                let (r, c) = ((i / d.columns) as f64, (i % d.columns) as f64);
                let lv = ((c - 20.0).powi(2) + (r - 20.0).powi(2)).sqrt();
                let rv = ((c - 34.0).powi(2) + (r - 20.0).powi(2)).sqrt();
                if lv <= 6.0 {
                    1
                } else if lv <= 9.0 {
                    2
                } else if rv <= 4.5 {
                    3
                } else {
                    0
                }
            })
            .collect()
    }

    #[test]
    fn labels_to_contours_and_back_keeps_each_structure() {
        let d = Dims {
            phases: 2,
            slices: 1,
            rows: 40,
            columns: 48,
        };
        let img = ring_labels(d);
        let mut data = img.clone();
        data.extend(vec![0u8; d.pixels_per_image()]);
        let mut labels = LabelStack::from_stored(d, data, crate::study::LabelOrder::Systole)
            .unwrap_or_else(|e| panic!("{e}"));
        labels.set_annotated(1, 0, Structures::NONE);
        let set = ContourSet::from_labels(&labels, Source::Auto);
        assert_eq!(
            set.len(),
            3,
            "three contours on the annotated image, none on the other"
        );
        let back = set.to_labels();
        for label in 1..=3u8 {
            let a = img.iter().filter(|v| **v == label).count();
            let both = img
                .iter()
                .zip(back.image(0, 0))
                .filter(|(x, y)| **x == label && **y == label)
                .count();
            let b = back.image(0, 0).iter().filter(|v| **v == label).count();
            let iou = both as f64 / (a + b - both) as f64;
            assert!(iou > 0.9, "label {label}: IoU {iou}");
        }
        assert!(back.annotated(1, 0).is_empty());
        assert!(back.annotated(0, 0).contains(Label::RvBloodPool));
    }

    #[test]
    fn merging_keeps_manual_images_unless_asked() {
        let d = Dims {
            phases: 1,
            slices: 2,
            rows: 40,
            columns: 48,
        };
        let img = ring_labels(d);
        let labels = LabelStack::from_stored(
            d,
            [img.clone(), img].concat(),
            crate::study::LabelOrder::Systole,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut set = ContourSet::new(d);
        let manual = Contour {
            points: vec![[1.0, 1.0], [5.0, 1.0], [5.0, 5.0]],
            source: Source::Manual,
        };
        assert!(
            set.set((0, 1, Structure::LvEndo), Some(manual.clone()))
                .is_ok()
        );
        let changed = set.merge_automatic(&labels, false);
        assert_eq!(changed, vec![(0, 0)]);
        assert_eq!(set.get((0, 1, Structure::LvEndo)), Some(&manual));
        assert!(
            set.get((0, 1, Structure::RvEndo)).is_none(),
            "a corrected image is not mixed with new automatic contours"
        );
        assert!(set.edited(0, 1) && !set.edited(0, 0));
        assert_eq!(
            set.merge_automatic(&labels, false),
            Vec::<(usize, usize)>::new(),
            "nothing new the second time"
        );
        let changed = set.merge_automatic(&labels, true);
        assert_eq!(changed, vec![(0, 1)]);
        assert!(!set.edited(0, 1));
    }

    #[test]
    fn bad_keys_and_polygons_are_refused() {
        let d = Dims {
            phases: 1,
            slices: 1,
            rows: 8,
            columns: 8,
        };
        let mut set = ContourSet::new(d);
        let tri = Contour {
            points: vec![[1.0, 1.0], [5.0, 1.0], [5.0, 5.0]],
            source: Source::Manual,
        };
        assert!(
            set.set((1, 0, Structure::LvEndo), Some(tri.clone()))
                .is_err()
        );
        assert!(
            set.set(
                (0, 0, Structure::LvEndo),
                Some(Contour {
                    points: vec![[1.0, 1.0], [2.0, 2.0]],
                    source: Source::Manual
                })
            )
            .is_err()
        );
        assert!(
            set.set(
                (0, 0, Structure::LvEndo),
                Some(Contour {
                    points: vec![[f64::NAN, 1.0], [5.0, 1.0], [5.0, 5.0]],
                    source: Source::Manual
                })
            )
            .is_err()
        );
        assert!(set.is_empty());
        assert!(set.set((0, 0, Structure::LvEndo), Some(tri)).is_ok());
        assert_eq!(
            set.rasterise(0, 0).iter().filter(|v| **v == 1).count(),
            4 + 3 + 2 + 1
        );
    }
}
