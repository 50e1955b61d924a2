//! The review queue: which images a clinician has looked at, and the network's
//! confidence in each. Stored in the session, so the queue survives closing the viewer,
//! and summarised in the report.

use super::{ImageQc, QcFlag, review_order};
use crate::study::LabelStack;
use std::collections::BTreeMap;

/// Who marked an image reviewed, and when (seconds since 1970).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub by: Option<String>,
    pub at_secs: u64,
}

/// The review status of one study's images.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Review {
    /// The network's confidence per (phase, slice), from its last run.
    confidence: BTreeMap<(usize, usize), f64>,
    /// The images marked reviewed, per (phase, slice).
    marks: BTreeMap<(usize, usize), Mark>,
}

impl Review {
    /// The confidence the network reported for image (phase, slice), if any.
    pub fn confidence(&self, phase: usize, slice: usize) -> Option<f64> {
        self.confidence.get(&(phase, slice)).copied()
    }

    /// Sets (or with `None` forgets) the network's confidence in an image.
    pub fn set_confidence(&mut self, phase: usize, slice: usize, confidence: Option<f64>) {
        match confidence.filter(|c| c.is_finite()) {
            Some(c) => self.confidence.insert((phase, slice), c.clamp(0.0, 1.0)),
            None => self.confidence.remove(&(phase, slice)),
        };
    }

    pub fn mark(&self, phase: usize, slice: usize) -> Option<&Mark> {
        self.marks.get(&(phase, slice))
    }

    pub fn is_reviewed(&self, phase: usize, slice: usize) -> bool {
        self.marks.contains_key(&(phase, slice))
    }

    /// Marks an image reviewed (again: the latest mark counts).
    pub fn set_reviewed(&mut self, phase: usize, slice: usize, by: Option<String>, at_secs: u64) {
        self.marks.insert((phase, slice), Mark { by, at_secs });
    }

    pub fn clear_reviewed(&mut self, phase: usize, slice: usize) {
        self.marks.remove(&(phase, slice));
    }

    /// Every mark, by (phase, slice).
    pub fn marks(&self) -> impl Iterator<Item = (&(usize, usize), &Mark)> {
        self.marks.iter()
    }

    /// Every known confidence, by (phase, slice).
    pub fn confidences(&self) -> impl Iterator<Item = (&(usize, usize), &f64)> {
        self.confidence.iter()
    }

    /// The images of the queue: every image the network segmented (it has a confidence)
    /// or that carries annotations in `labels`.
    pub fn images(&self, labels: &LabelStack) -> Vec<ImageQc> {
        let d = labels.dims();
        (0..d.phases)
            .flat_map(|phase| (0..d.slices).map(move |slice| (phase, slice)))
            .filter(|&(p, s)| {
                !labels.annotated(p, s).is_empty() || self.confidence.contains_key(&(p, s))
            })
            .map(|(phase, slice)| ImageQc {
                slice,
                phase,
                confidence: self.confidence(phase, slice),
            })
            .collect()
    }

    /// The queue ([`review_order`]) without the images already reviewed, as
    /// (slice, phase) pairs.
    pub fn queue(&self, flags: &[QcFlag], labels: &LabelStack) -> Vec<(usize, usize)> {
        review_order(flags, &self.images(labels))
            .into_iter()
            .filter(|&(s, p)| !self.is_reviewed(p, s))
            .collect()
    }

    /// The image to look at next: the first of the queue other than `current`
    /// ((slice, phase)).
    pub fn next(
        &self,
        flags: &[QcFlag],
        labels: &LabelStack,
        current: Option<(usize, usize)>,
    ) -> Option<(usize, usize)> {
        self.queue(flags, labels)
            .into_iter()
            .find(|&i| Some(i) != current)
    }

    /// How many of `labels`' images are reviewed.
    pub fn reviewed_count(&self, labels: &LabelStack) -> usize {
        self.images(labels)
            .iter()
            .filter(|i| self.is_reviewed(i.phase, i.slice))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::{Dims, Structures};

    #[test]
    fn the_queue_walks_the_least_sure_unreviewed_images() {
        let d = Dims {
            phases: 2,
            slices: 3,
            rows: 4,
            columns: 4,
        };
        let mut labels = LabelStack::empty(d);
        for p in 0..2 {
            for s in 0..3 {
                labels.set_annotated(p, s, Structures::ALL);
            }
        }
        let mut r = Review::default();
        for (p, s, c) in [(0, 0, 0.9), (0, 1, 0.3), (0, 2, 0.95), (1, 0, 0.5)] {
            r.set_confidence(p, s, Some(c));
        }
        // Least sure first; images without a confidence count as sure.
        assert_eq!(r.next(&[], &labels, None), Some((1, 0)));
        assert_eq!(r.next(&[], &labels, Some((1, 0))), Some((0, 1)));
        r.set_reviewed(0, 1, Some("dr x".into()), 5);
        assert_eq!(r.next(&[], &labels, None), Some((0, 1)));
        assert_eq!(r.reviewed_count(&labels), 1);
        assert_eq!(r.queue(&[], &labels).len(), 5);
        r.clear_reviewed(0, 1);
        assert_eq!(r.reviewed_count(&labels), 0);
        // Out-of-range and non-finite confidences are clamped or dropped.
        r.set_confidence(0, 0, Some(1.7));
        assert_eq!(r.confidence(0, 0), Some(1.0));
        r.set_confidence(0, 0, Some(f64::NAN));
        assert_eq!(r.confidence(0, 0), None);
    }
}
