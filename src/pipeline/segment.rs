//! Segmentation of a cine, phase by phase.
//!
//! The order is fixed by the study, not by the caller: the first phase asked for (the
//! reference phase) runs on whole images, the heart's window is taken from it, and every
//! other phase runs inside that window, each phase cleaned up as one volume once all its
//! slices are done. A caller may only say which phase it wants next after the reference
//! (the viewer's current phase); that changes when a phase is delivered, never its labels.

use super::orientation::{self, Orientation};
use crate::contour::set::{ContourSet, Source};
use crate::segment::{
    Progress, SegmentError, SegmentOptions, Segmenter, Uncertainty, heart_window,
};
use crate::study::{CineStack, LabelStack};
use std::sync::atomic::AtomicBool;

/// One finished phase: its label images in slice order (Systole labels, row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseLabels {
    pub phase: usize,
    pub images: Vec<Vec<u8>>,
    /// The network's doubt about each image, in slice order ([`Uncertainty`]).
    pub uncertainty_mm2: Vec<Option<[f64; 3]>>,
}

/// A finished segmentation: the labels, the orientation the network saw the images in
/// and its doubt about each image.
#[derive(Debug, Clone, PartialEq)]
pub struct Segmentation {
    pub labels: LabelStack,
    pub orientation: Orientation,
    pub uncertainty: Uncertainty,
}

/// The order in which `phases` are segmented: the first one (the reference, which finds
/// the heart), then `next` if it is among them, then the rest as given. Duplicates and
/// phases outside `0..n_phases` are dropped.
pub fn phase_order(phases: &[usize], n_phases: usize, next: Option<usize>) -> Vec<usize> {
    let mut order: Vec<usize> = Vec::with_capacity(phases.len());
    let push = |p: usize, order: &mut Vec<usize>| {
        if p < n_phases && !order.contains(&p) {
            order.push(p);
        }
    };
    if let Some(&first) = phases.iter().find(|&&p| p < n_phases) {
        push(first, &mut order);
    }
    if let Some(n) = next.filter(|n| phases.contains(n)) {
        push(n, &mut order);
    }
    for &p in phases {
        push(p, &mut order);
    }
    order
}

/// Segments every slice of `phases` in the order of [`phase_order`]. `on_phase` receives
/// each phase as soon as it is final (cleaned up); `progress` counts images over the
/// whole run. With `options.heart_margin_px` set (and no fixed `options.window`), the
/// phases after the reference run inside the heart's window found in the reference.
/// With `options.find_orientation`, the network first picks the in-plane orientation it
/// knows from the reference phase ([`orientation::choose`]). On cancellation the phases
/// already delivered stay delivered.
#[allow(clippy::too_many_arguments)]
pub fn segment_phases(
    segmenter: &Segmenter,
    cine: &CineStack,
    phases: &[usize],
    next: Option<usize>,
    options: &SegmentOptions,
    on_phase: &mut dyn FnMut(PhaseLabels),
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<LabelStack, SegmentError> {
    segment_phases_oriented(
        segmenter, cine, phases, next, options, on_phase, progress, cancel,
    )
    .map(|s| s.labels)
}

/// [`segment_phases`], also saying in which orientation the network saw the images and
/// how sure it is of each image.
#[allow(clippy::too_many_arguments)]
pub fn segment_phases_oriented(
    segmenter: &Segmenter,
    cine: &CineStack,
    phases: &[usize],
    next: Option<usize>,
    options: &SegmentOptions,
    on_phase: &mut dyn FnMut(PhaseLabels),
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<Segmentation, SegmentError> {
    let d = cine.dims();
    let order = phase_order(phases, d.phases, next);
    let orientation = match order.first() {
        // A fixed window is in the stored images' coordinates: no turning then.
        Some(&reference) if options.find_orientation && options.window.is_none() => {
            orientation::choose(segmenter, cine, reference)?
        }
        _ => Orientation::IDENTITY,
    };
    if orientation == Orientation::IDENTITY {
        let (labels, uncertainty) =
            run(segmenter, cine, &order, options, on_phase, progress, cancel)?;
        return Ok(Segmentation {
            labels,
            orientation,
            uncertainty,
        });
    }
    // Segment the turned cine; every phase and the result are turned back.
    let turned = orientation.apply_cine(cine)?;
    let td = turned.dims();
    let back = |img: &[u8]| orientation.undo(img, d.rows, d.columns);
    let (turned_labels, uncertainty) = run(
        segmenter,
        &turned,
        &order,
        options,
        &mut |ph: PhaseLabels| {
            on_phase(PhaseLabels {
                phase: ph.phase,
                images: ph.images.iter().map(|i| back(i)).collect(),
                uncertainty_mm2: ph.uncertainty_mm2,
            })
        },
        progress,
        cancel,
    )?;
    let mut labels = LabelStack::empty(d);
    for p in 0..td.phases {
        for s in 0..td.slices {
            let a = turned_labels.annotated(p, s);
            if a.is_empty() {
                continue;
            }
            let img = back(turned_labels.image(p, s));
            labels
                .image_mut(p, s)
                .ok_or(SegmentError::Shape)?
                .copy_from_slice(&img);
            labels.set_annotated(p, s, a);
        }
    }
    Ok(Segmentation {
        labels,
        orientation,
        uncertainty,
    })
}

/// The phases of `order` one call each, the reference first on whole images.
fn run(
    segmenter: &Segmenter,
    cine: &CineStack,
    order: &[usize],
    options: &SegmentOptions,
    on_phase: &mut dyn FnMut(PhaseLabels),
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<(LabelStack, Uncertainty), SegmentError> {
    let d = cine.dims();
    let mut labels = LabelStack::empty(d);
    let mut uncertainty = Uncertainty::new(d);
    let total = order.len() * d.slices;
    let mut window = options.window;
    for (i, &p) in order.iter().enumerate() {
        let images: Vec<(usize, usize)> = (0..d.slices).map(|s| (p, s)).collect();
        // One phase per call: the window is decided here, once, from the reference.
        let opts = SegmentOptions {
            heart_margin_px: None,
            window,
            ..options.clone()
        };
        let base = i * d.slices;
        segmenter.segment_into_with(
            cine,
            &images,
            &opts,
            &mut labels,
            &mut uncertainty,
            &mut |pr| {
                progress(Progress {
                    done: base + pr.done,
                    total,
                })
            },
            cancel,
        )?;
        if i == 0 && options.window.is_none() {
            window = options
                .heart_margin_px
                .and_then(|margin| heart_window(&labels, p, margin));
        }
        on_phase(PhaseLabels {
            phase: p,
            images: (0..d.slices).map(|s| labels.image(p, s).to_vec()).collect(),
            uncertainty_mm2: uncertainty.phase(p),
        });
    }
    Ok((labels, uncertainty))
}

/// The editable automatic contours of the network's labels and the labels rasterised
/// from them: what the viewer shows, what sessions store and what every command measures.
pub fn auto_contours(network: &LabelStack) -> (ContourSet, LabelStack) {
    let set = ContourSet::from_labels(network, Source::Auto);
    let labels = set.to_labels();
    (set, labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_first_then_the_callers_phase_then_the_rest() {
        assert_eq!(phase_order(&[0, 1, 2, 3, 4], 5, None), vec![0, 1, 2, 3, 4]);
        assert_eq!(
            phase_order(&[0, 1, 2, 3, 4], 5, Some(3)),
            vec![0, 3, 1, 2, 4]
        );
        // The reference stays first even when the caller's phase is it.
        assert_eq!(phase_order(&[0, 1, 2], 3, Some(0)), vec![0, 1, 2]);
        // ED/ES only: ED is the reference; a current phase outside them changes nothing.
        assert_eq!(phase_order(&[11, 3], 20, Some(7)), vec![11, 3]);
        assert_eq!(phase_order(&[11, 3], 20, Some(3)), vec![11, 3]);
        // Out of range and repeated phases are dropped.
        assert_eq!(phase_order(&[5, 1, 1, 9], 6, None), vec![5, 1]);
        assert_eq!(phase_order(&[], 6, Some(2)), Vec::<usize>::new());
    }
}
