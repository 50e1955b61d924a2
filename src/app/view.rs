//! What the viewport shows and how navigation changes it: pure state, no drawing, so the
//! conventions (keys, wheel, drags, playback timing) are testable on their own.

use crate::study::CineStack;

/// Position in the cine and display settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewState {
    pub slice: usize,
    pub phase: usize,
    /// Display magnification relative to "fit to the viewport".
    pub zoom: f32,
    /// Offset of the image centre from the viewport centre, in points.
    pub pan: [f32; 2],
    pub window_center: f32,
    pub window_width: f32,
    /// Bilinear interpolation (true) or nearest pixel.
    pub linear: bool,
    pub show_labels: bool,
    pub show_contours: bool,
    /// Draw the study's expert contours (ACDC, Sunnybrook, a label file) over the
    /// automatic or edited ones.
    pub show_reference: bool,
    pub label_opacity: f32,
    pub playing: bool,
    /// Playback speed as a multiple of the acquired temporal resolution.
    pub speed: f32,
    /// Default window for `reset`.
    default_window: (f32, f32),
    /// The slices as listed (matrix rows, Up/Down): base to apex where the geometry says
    /// which end is which, else the stack's order.
    pub slice_order: Vec<usize>,
}

impl ViewState {
    /// Mid-ventricular slice, first phase, window from the 1st-99th intensity percentiles.
    pub fn for_cine(cine: &CineStack) -> ViewState {
        let d = cine.dims();
        let (lo, hi) = display_range(cine);
        ViewState {
            slice: d.slices / 2,
            phase: 0,
            zoom: 1.0,
            pan: [0.0, 0.0],
            window_center: 0.5 * (lo + hi),
            window_width: (hi - lo).max(1e-3),
            linear: true,
            show_labels: true,
            show_contours: true,
            show_reference: false,
            label_opacity: 0.25,
            playing: false,
            speed: 1.0,
            default_window: (0.5 * (lo + hi), (hi - lo).max(1e-3)),
            slice_order: (0..d.slices).collect(),
        }
    }

    /// R: zoom to fit, no pan, default window.
    pub fn reset(&mut self) {
        self.zoom = 1.0;
        self.pan = [0.0, 0.0];
        (self.window_center, self.window_width) = self.default_window;
    }

    /// Up/Down arrow or mouse wheel: next or previous slice, stopping at the ends.
    pub fn step_slice(&mut self, delta: isize, slices: usize) {
        if self.slice_order.len() != slices {
            self.slice_order = (0..slices).collect();
        }
        let row = self
            .slice_order
            .iter()
            .position(|&s| s == self.slice)
            .unwrap_or(0);
        let row = (row as isize + delta).clamp(0, slices.saturating_sub(1) as isize) as usize;
        self.slice = self.slice_order.get(row).copied().unwrap_or(0);
    }

    /// Lists the slices base to apex: reversed when the stack runs apex to base.
    pub fn list_base_to_apex(&mut self, index_runs_base_to_apex: Option<bool>) {
        let n = self.slice_order.len();
        self.slice_order = if index_runs_base_to_apex == Some(false) {
            (0..n).rev().collect()
        } else {
            (0..n).collect()
        };
    }

    /// Matrix row of `slice`.
    pub fn row_of(&self, slice: usize) -> usize {
        self.slice_order
            .iter()
            .position(|&s| s == slice)
            .unwrap_or(slice)
    }

    /// Left/Right arrow: previous or next phase, wrapping around the cycle.
    pub fn step_phase(&mut self, delta: isize, phases: usize) {
        if phases > 0 {
            self.phase = (self.phase as isize + delta).rem_euclid(phases as isize) as usize;
        }
    }

    /// Right-drag: horizontal changes the width, vertical the level (centre), in
    /// proportion to the default width per 400 points of drag.
    pub fn drag_window(&mut self, dx: f32, dy: f32) {
        let unit = self.default_window.1 / 400.0;
        self.window_width = (self.window_width + dx * unit).max(unit);
        self.window_center += dy * unit;
    }

    /// Ctrl+wheel: zoom by a factor, between 0.25 and 16.
    pub fn zoom_by(&mut self, factor: f32) {
        self.zoom = (self.zoom * factor).clamp(0.25, 16.0);
    }
}

/// The 1st and 99th percentiles of (a sample of) the cine: the default window.
fn display_range(cine: &CineStack) -> (f32, f32) {
    let data = cine.data();
    let step = (data.len() / 200_000).max(1);
    let sample: Vec<f32> = data.iter().step_by(step).copied().collect();
    let (lo, hi) = crate::segment::preprocess::percentile_range(&sample);
    if hi > lo { (lo, hi) } else { (lo, lo + 1.0) }
}

/// Time between phases for playback at `speed`: the median step of the trigger times
/// (the acquired temporal resolution), else 40 ms.
pub fn phase_interval_s(cine: &CineStack, speed: f32) -> f64 {
    let t: Vec<f64> = cine.trigger_times_ms().into_iter().flatten().collect();
    let mut steps: Vec<f64> = t
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0.0 && d.is_finite())
        .collect();
    steps.sort_by(f64::total_cmp);
    let ms = steps.get(steps.len() / 2).copied().unwrap_or(40.0);
    ms / 1000.0 / f64::from(speed.max(0.05))
}

/// Playback by the clock: the phases to advance at `now_s` when the last step was due at
/// `last_s`, and when the next count starts. Frames drawn late skip phases instead of
/// slowing the cine down; after a pause longer than two cycles (playback just started)
/// the clock restarts without a jump.
pub fn playback_steps(now_s: f64, last_s: f64, interval_s: f64, phases: usize) -> (usize, f64) {
    if interval_s.is_nan() || interval_s <= 0.0 || phases == 0 {
        return (0, now_s);
    }
    let elapsed = now_s - last_s;
    if !(0.0..=2.0 * phases as f64 * interval_s).contains(&elapsed) {
        return (0, now_s);
    }
    let n = (elapsed / interval_s).floor();
    (n as usize % phases, last_s + n * interval_s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phantom::{PhantomConfig, phantom};

    #[test]
    fn slices_step_in_the_listed_order() {
        let p = phantom(&PhantomConfig::default());
        let d = p.study.cine.dims();
        let mut v = ViewState::for_cine(&p.study.cine);
        v.list_base_to_apex(Some(false));
        assert_eq!(v.slice_order.first(), Some(&(d.slices - 1)));
        v.slice = 4;
        v.step_slice(1, d.slices);
        assert_eq!(
            v.slice, 3,
            "Down goes one row down the list: towards the apex"
        );
        assert_eq!(v.row_of(3), d.slices - 1 - 3);
        v.step_slice(-100, d.slices);
        assert_eq!(v.slice, d.slices - 1, "the top of the list is the base");
        v.list_base_to_apex(None);
        v.step_slice(1, d.slices);
        assert_eq!(
            v.slice,
            d.slices - 1,
            "stack order: the last slice is the end"
        );
    }

    #[test]
    fn playback_follows_the_clock() {
        // 50 ms per phase, 20 phases: a frame 170 ms after the last step moves 3 phases and
        // keeps the remaining 20 ms for the next.
        let (n, next) = playback_steps(0.17, 0.0, 0.05, 20);
        assert_eq!(n, 3);
        assert!((next - 0.15).abs() < 1e-12);
        assert_eq!(playback_steps(0.04, 0.0, 0.05, 20), (0, 0.0));
        // A whole cycle and a bit (1.07 s = 21 phases) lands one phase on.
        assert_eq!(playback_steps(1.07, 0.0, 0.05, 20).0, 1);
        // Starting after a long pause: no jump, the clock restarts.
        assert_eq!(playback_steps(100.0, 0.0, 0.05, 20), (0, 100.0));
        assert_eq!(playback_steps(1.0, 0.0, 0.0, 20), (0, 1.0));
    }

    #[test]
    fn navigation_conventions() {
        let p = phantom(&PhantomConfig::default());
        let d = p.study.cine.dims();
        let mut v = ViewState::for_cine(&p.study.cine);
        assert_eq!(v.slice, d.slices / 2);
        v.step_slice(100, d.slices);
        assert_eq!(v.slice, d.slices - 1);
        v.step_slice(-1000, d.slices);
        assert_eq!(v.slice, 0);
        v.step_phase(-1, d.phases);
        assert_eq!(v.phase, d.phases - 1, "phases wrap around the cycle");
        v.step_phase(1, d.phases);
        assert_eq!(v.phase, 0);
        let (c, w) = (v.window_center, v.window_width);
        v.drag_window(40.0, -20.0);
        assert!(v.window_width > w && v.window_center < c);
        v.zoom_by(100.0);
        assert_eq!(v.zoom, 16.0);
        v.pan = [3.0, 4.0];
        v.reset();
        assert_eq!(
            (v.zoom, v.pan, v.window_center, v.window_width),
            (1.0, [0.0, 0.0], c, w)
        );
    }

    #[test]
    fn playback_runs_at_the_acquired_temporal_resolution() {
        let p = phantom(&PhantomConfig::default());
        let t: Vec<f64> = p
            .study
            .cine
            .trigger_times_ms()
            .into_iter()
            .flatten()
            .collect();
        assert!(t.len() > 2, "the phantom states trigger times");
        let step = (t[1] - t[0]) / 1000.0;
        assert!((phase_interval_s(&p.study.cine, 1.0) - step).abs() < 1e-9);
        assert!((phase_interval_s(&p.study.cine, 2.0) - step / 2.0).abs() < 1e-9);
    }
}
