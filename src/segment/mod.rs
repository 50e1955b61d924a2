//! Automatic short-axis segmentation: the FCN of Bai et al. (2018) run with candle on the
//! CPU, with the preprocessing of `training/systole_train/data.py` and `infer.py` mirrored
//! exactly (per-volume percentile normalisation, neighbour slices as channels for a network
//! that takes them, resampling to the pixel size a network works at and its logits back,
//! zero padding to a multiple of 16, argmax).
//!
//! [`Segmenter`] is the API for the command line and the viewer's background thread: it
//! takes the images in the order the caller wants them (the current image first, say),
//! reports progress after every batch and stops between batches when the cancel flag is set.

pub mod model;
pub mod postprocess;
pub mod preprocess;
pub mod reference;
pub mod resample;

use crate::study::{CineStack, LabelStack, Structures};
use model::{CLASSES, SIZE_MULTIPLE, SaxNet, WeightError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// The shipped weights (trained on ACDC: CC BY-NC-SA 4.0, non-commercial research only).
static BUILTIN_WEIGHTS: &[u8] = include_bytes!("../../assets/models/sax.safetensors");
/// The shipped model card.
pub static BUILTIN_CARD: &str = include_str!("../../assets/models/sax.json");

#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    #[error("cannot read model weights {path}: {source}")]
    ReadWeights {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("model weights {origin} are unusable: {source}")]
    Weights { origin: String, source: WeightError },
    #[error("image ({phase}, {slice}) is outside the {phases} x {slices} cine")]
    OutOfRange {
        phase: usize,
        slice: usize,
        phases: usize,
        slices: usize,
    },
    #[error("the label stack does not match the cine's shape")]
    Shape,
    #[error("segmentation cancelled after {done} of {total} images")]
    Cancelled { done: usize, total: usize },
    #[error(
        "the cine's pixel spacing {0:?} mm is unusable; the network needs it to resample the images to its {1} mm pixels"
    )]
    Spacing([f64; 2], f64),
    #[error("network failure: {0}")]
    Network(#[from] candle_core::Error),
}

/// What the caller can tune.
#[derive(Debug, Clone)]
pub struct SegmentOptions {
    /// Keep only the largest 3-D connected component (26-neighbourhood) of each structure
    /// in each phase, once all of that phase's requested slices are done.
    pub largest_component: bool,
    /// Images per network call.
    pub batch: usize,
    /// Crop to the heart after the first phase: that phase is segmented on whole images,
    /// the bounding box of everything it finds (all slices), widened by this many pixels
    /// on each side, is where the network runs for the other phases; outside it is
    /// background. `None`: whole images throughout.
    pub heart_margin_px: Option<usize>,
    /// Run every image inside this window (e.g. one found earlier with [`heart_window`]);
    /// overrides `heart_margin_px`.
    pub window: Option<Window>,
    /// Let the network pick the in-plane orientation it knows before segmenting
    /// (`pipeline::orientation`); used by `pipeline::segment_phases`, not by
    /// [`Segmenter::segment_into`].
    pub find_orientation: bool,
}

impl Default for SegmentOptions {
    fn default() -> Self {
        SegmentOptions {
            largest_component: true,
            batch: 4,
            heart_margin_px: Some(DEFAULT_HEART_MARGIN_PX),
            window: None,
            find_orientation: true,
        }
    }
}

/// Margin around the heart found in the first phase: 32 px is 44-50 mm at typical cine
/// pixel spacings (1.37-1.56 mm), more than the heart moves during the cycle. 48 px was
/// the first choice; 32 px segments the windowed phases in about two thirds of the time
/// with the same validation Dice (LV / myocardium / RV 0.932 / 0.881 / 0.877 at 48 px,
/// 0.934 / 0.881 / 0.876 at 32 px, 0.930 / 0.881 / 0.878 at 24 px; Sunnybrook LV 0.926 /
/// 0.949, 0.927 / 0.949, 0.927 / 0.947).
pub const DEFAULT_HEART_MARGIN_PX: usize = 32;

/// A rectangle of an image: first row and column, size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub row: usize,
    pub col: usize,
    pub rows: usize,
    pub cols: usize,
}

/// Progress after a batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

/// The loaded network and where it came from.
pub struct Segmenter {
    net: SaxNet,
    origin: String,
}

impl Segmenter {
    /// The weights built into the binary.
    pub fn builtin() -> Result<Segmenter, SegmentError> {
        Self::from_bytes(BUILTIN_WEIGHTS, "built-in sax.safetensors")
    }

    /// A safetensors file with the same parameter names (e.g. a retrained model).
    pub fn from_file(path: &Path) -> Result<Segmenter, SegmentError> {
        let bytes = std::fs::read(path).map_err(|source| SegmentError::ReadWeights {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, &path.display().to_string())
    }

    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<Segmenter, SegmentError> {
        let net = SaxNet::from_safetensors(bytes).map_err(|source| SegmentError::Weights {
            origin: origin.to_string(),
            source,
        })?;
        Ok(Segmenter {
            net,
            origin: origin.to_string(),
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn net(&self) -> &SaxNet {
        &self.net
    }

    /// Segments every image of the cine, phase by phase.
    pub fn segment_all(
        &self,
        cine: &CineStack,
        options: &SegmentOptions,
        progress: &mut dyn FnMut(Progress),
        cancel: &AtomicBool,
    ) -> Result<LabelStack, SegmentError> {
        let d = cine.dims();
        let order: Vec<(usize, usize)> = (0..d.phases)
            .flat_map(|p| (0..d.slices).map(move |s| (p, s)))
            .collect();
        let mut labels = LabelStack::empty(d);
        self.segment_into(cine, &order, options, &mut labels, progress, cancel)?;
        Ok(labels)
    }

    /// Segments the images `order` lists ((phase, slice) pairs), writing
    /// each result into `labels` (marked annotated for all three structures) as soon as
    /// its batch is done. The images of the first listed image's phase go first (with a
    /// heart margin set, they locate the heart for the rest), then the others; each group
    /// keeps the order given. On cancellation the images finished so far stay written.
    pub fn segment_into(
        &self,
        cine: &CineStack,
        order: &[(usize, usize)],
        options: &SegmentOptions,
        labels: &mut LabelStack,
        progress: &mut dyn FnMut(Progress),
        cancel: &AtomicBool,
    ) -> Result<(), SegmentError> {
        let mut uncertainty = Uncertainty::new(cine.dims());
        self.segment_into_with(
            cine,
            order,
            options,
            labels,
            &mut uncertainty,
            progress,
            cancel,
        )
    }

    /// [`Segmenter::segment_into`], also writing each image's [`Uncertainty`].
    #[allow(clippy::too_many_arguments)]
    pub fn segment_into_with(
        &self,
        cine: &CineStack,
        order: &[(usize, usize)],
        options: &SegmentOptions,
        labels: &mut LabelStack,
        uncertainty: &mut Uncertainty,
        progress: &mut dyn FnMut(Progress),
        cancel: &AtomicBool,
    ) -> Result<(), SegmentError> {
        let d = cine.dims();
        if labels.dims() != d || uncertainty.dims() != (d.phases, d.slices) {
            return Err(SegmentError::Shape);
        }
        let net_pixel_mm2 = match self.net.pixel_mm() {
            Some(px) => px * px,
            None => cine.geometry.pixel_spacing_mm[0] * cine.geometry.pixel_spacing_mm[1],
        };
        let full = whole_image(d, order)?;
        let scale = self.scale(cine)?;
        let mut ranges: Vec<Option<(f32, f32)>> = vec![None; d.phases];
        // Slices still to do per phase, for the connected-component clean-up.
        let mut pending = vec![0usize; d.phases];
        for &(p, _) in order {
            pending[p] += 1;
        }
        let total = order.len();
        let mut done = 0;
        let batch = options.batch.max(1);
        // First the images of the first phase asked for, on whole images; then the rest,
        // inside the heart's window when one was found.
        let first_phase = order.first().map(|o| o.0);
        let (first, rest): (Vec<_>, Vec<_>) = order
            .iter()
            .copied()
            .partition(|o| Some(o.0) == first_phase);
        let fixed = options.window.filter(|w| {
            w.rows > 0 && w.cols > 0 && w.row + w.rows <= d.rows && w.col + w.cols <= d.columns
        });
        let mut window = fixed.unwrap_or(full);
        for (stage, list) in [first, rest].iter().enumerate() {
            if stage == 1 && fixed.is_none() {
                if let (Some(margin), Some(p)) = (options.heart_margin_px, first_phase) {
                    window = heart_window(labels, p, margin).unwrap_or(full);
                }
            }
            let grid = Grid::new(window, scale);
            let mut out = vec![0u8; window.rows * window.cols];
            self.run_batches(
                cine,
                list,
                &grid,
                batch,
                &mut ranges,
                &mut |(p, s), one| {
                    let px = expected_error_px(one, grid.nr, grid.nc, grid.pw);
                    uncertainty.set(p, s, px.map(|v| v * net_pixel_mm2));
                    if grid.resampled {
                        resample::argmax_resampled(
                            one,
                            CLASSES,
                            grid.pw,
                            (grid.nr, grid.nc),
                            (window.rows, window.cols),
                            &mut out,
                        );
                    } else {
                        postprocess::argmax_cropped(
                            one,
                            grid.pw,
                            window.rows,
                            window.cols,
                            &mut out,
                        );
                    }
                    let img = labels.image_mut(p, s).ok_or(SegmentError::Shape)?;
                    img.fill(0);
                    for (r, src) in out.chunks_exact(window.cols).enumerate() {
                        let o = (window.row + r) * d.columns + window.col;
                        img[o..o + window.cols].copy_from_slice(src);
                    }
                    labels.set_annotated(p, s, Structures::ALL);
                    pending[p] -= 1;
                    if pending[p] == 0 && options.largest_component {
                        let slices: Vec<usize> =
                            order.iter().filter(|o| o.0 == p).map(|o| o.1).collect();
                        postprocess::keep_largest_components(labels, p, &slices);
                    }
                    Ok(())
                },
                &mut |n, more| {
                    done += n;
                    if n > 0 {
                        progress(Progress { done, total });
                    }
                    if more && cancel.load(Ordering::Relaxed) {
                        return Err(SegmentError::Cancelled { done, total });
                    }
                    Ok(())
                },
            )?;
        }
        Ok(())
    }

    /// The (row, column) spacing over the network's pixel size, checked.
    fn scale(&self, cine: &CineStack) -> Result<Option<(f64, f64, f64)>, SegmentError> {
        match self.net.pixel_mm() {
            Some(px) => {
                let sp = cine.geometry.pixel_spacing_mm;
                // Only pixel sizes an MR image can have: 100 mm pixels resampled to the
                // network's size would ask for gigabytes, 0.01 mm ones leave nothing.
                if !sp.iter().all(|v| crate::study::plausible_pixel_mm(*v)) {
                    return Err(SegmentError::Spacing(sp, px));
                }
                Ok(Some((sp[0], sp[1], px)))
            }
            None => Ok(None),
        }
    }

    /// Runs the network on `list` ((phase, slice) pairs) inside `grid`'s window, `batch`
    /// images per call. `between(n, more)` runs before each call and after the last with
    /// the images done since the last (0 first; `more`: another call follows; an error
    /// stops the run), `image` receives each image's logits
    /// (channels last, `grid.ph x grid.pw`).
    #[allow(clippy::too_many_arguments)]
    fn run_batches(
        &self,
        cine: &CineStack,
        list: &[(usize, usize)],
        grid: &Grid,
        batch: usize,
        ranges: &mut [Option<(f32, f32)>],
        image: &mut ImageSink<'_>,
        between: &mut dyn FnMut(usize, bool) -> Result<(), SegmentError>,
    ) -> Result<(), SegmentError> {
        let d = cine.dims();
        let window = grid.window;
        let channels = self.net.in_channels();
        let (ph, pw) = (grid.ph, grid.pw);
        let mut input = Vec::with_capacity(batch * ph * pw * channels);
        let mut native = Vec::new();
        let mut images: Vec<&[f32]> = Vec::with_capacity(channels);
        let mut last = 0;
        for chunk in list.chunks(batch.max(1)) {
            between(last, true)?;
            input.clear();
            for &(p, s) in chunk {
                let (lo, hi) = *ranges[p]
                    .get_or_insert_with(|| preprocess::percentile_range(phase_volume(cine, p)));
                images.clear();
                images.extend(
                    preprocess::context_slices(s, d.slices, channels).map(|k| cine.image(p, k)),
                );
                if grid.resampled {
                    native.clear();
                    preprocess::normalise_padded(
                        &images,
                        d.columns,
                        window,
                        lo,
                        hi,
                        window.rows,
                        window.cols,
                        &mut native,
                    );
                    resample::resize_padded(
                        &native,
                        (window.rows, window.cols, channels),
                        (grid.nr, grid.nc),
                        (ph, pw),
                        &mut input,
                    );
                } else {
                    preprocess::normalise_padded(
                        &images, d.columns, window, lo, hi, ph, pw, &mut input,
                    );
                }
            }
            let logits = self.net.forward(&input, chunk.len(), ph, pw)?;
            for (i, &ps) in chunk.iter().enumerate() {
                image(
                    ps,
                    &logits.data[i * ph * pw * CLASSES..(i + 1) * ph * pw * CLASSES],
                )?;
            }
            last = chunk.len();
        }
        between(last, false)
    }

    /// How sure the network is of its own answer on whole images `list` of `cine`, per
    /// structure: the soft Dice between its class probabilities and its argmax on the
    /// network's grid (1: every pixel certain; a structure it does not find scores 0),
    /// and the structure's expected area (sum of probabilities, network pixels).
    pub fn self_agreement(
        &self,
        cine: &CineStack,
        list: &[(usize, usize)],
    ) -> Result<SelfAgreement, SegmentError> {
        let d = cine.dims();
        let grid = Grid::new(whole_image(d, list)?, self.scale(cine)?);
        let mut ranges: Vec<Option<(f32, f32)>> = vec![None; d.phases];
        // Per class: sum of p * [argmax], sum of p, count of argmax.
        let mut acc = [[0f64; 3]; CLASSES];
        self.run_batches(
            cine,
            list,
            &grid,
            4,
            &mut ranges,
            &mut |_, one| {
                for_each_pixel(one, grid.nr, grid.nc, grid.pw, |k, prob| {
                    for (j, &p) in prob.iter().enumerate() {
                        let p = p as f64;
                        acc[j][1] += p;
                        if j == k {
                            acc[j][0] += p;
                            acc[j][2] += 1.0;
                        }
                    }
                });
                Ok(())
            },
            &mut |_, _| Ok(()),
        )?;
        Ok(SelfAgreement::from_sums(std::array::from_fn(|i| {
            acc[i + 1]
        })))
    }
}

/// The network's agreement with itself on some images ([`Segmenter::self_agreement`]), for
/// LV blood pool, myocardium and RV in that order.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SelfAgreement {
    pub soft_dice: [f64; 3],
    pub area_px: [f64; 3],
    /// Per structure: sums of p * [argmax], p, [argmax].
    #[serde(skip)]
    sums: [[f64; 3]; 3],
}

impl SelfAgreement {
    fn from_sums(sums: [[f64; 3]; 3]) -> SelfAgreement {
        let soft_dice = sums.map(|a| {
            let den = a[1] + a[2];
            if den > 0.0 { 2.0 * a[0] / den } else { 0.0 }
        });
        SelfAgreement {
            soft_dice,
            area_px: sums.map(|a| a[1]),
            sums,
        }
    }

    /// The agreement over the images of both, as if asked about them together.
    pub fn pooled(&self, other: &SelfAgreement) -> SelfAgreement {
        SelfAgreement::from_sums(std::array::from_fn(|i| {
            std::array::from_fn(|k| self.sums[i][k] + other.sums[i][k])
        }))
    }

    /// Mean soft Dice over the three structures.
    pub fn mean(&self) -> f64 {
        self.soft_dice.iter().sum::<f64>() / 3.0
    }
}

/// Calls `f(argmax, probabilities)` for every pixel of the `rows x cols` top-left part of
/// one image's logits (channels last, `padded_cols` wide).
fn for_each_pixel(
    logits: &[f32],
    rows: usize,
    cols: usize,
    padded_cols: usize,
    mut f: impl FnMut(usize, &[f32; CLASSES]),
) {
    let mut prob = [0f32; CLASSES];
    for r in 0..rows {
        for c in 0..cols {
            let o = (r * padded_cols + c) * CLASSES;
            let px = &logits[o..o + CLASSES];
            let k = postprocess::argmax(px) as usize;
            let m = px[k];
            let mut z = 0.0;
            for (q, v) in prob.iter_mut().zip(px) {
                *q = (v - m).exp();
                z += *q;
            }
            for q in &mut prob {
                *q /= z;
            }
            f(k, &prob);
        }
    }
}

/// Per structure (LV blood pool, myocardium, RV), the number of pixels where the network
/// expects its own argmax to be wrong about that structure: the sum over pixels of
/// `1 - p` where it labels the structure and `p` elsewhere (the expected size of the
/// symmetric difference between its answer and the truth, were its probabilities exact).
pub fn expected_error_px(logits: &[f32], rows: usize, cols: usize, padded_cols: usize) -> [f64; 3] {
    let mut e = [0f64; 3];
    for_each_pixel(logits, rows, cols, padded_cols, |k, prob| {
        for (j, v) in e.iter_mut().enumerate() {
            let p = prob[j + 1] as f64;
            *v += if k == j + 1 { 1.0 - p } else { p };
        }
    });
    e
}

/// The network's doubt about each image it segmented: per structure (LV blood pool,
/// myocardium, RV), the area in mm² of [`expected_error_px`] (on the network's grid).
/// `systole::qc::confidence` turns it into a calibrated per-image confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncertainty {
    phases: usize,
    slices: usize,
    mm2: Vec<Option<[f64; 3]>>,
}

impl Uncertainty {
    /// Nothing known yet for any image of a cine of `dims`.
    pub fn new(dims: crate::study::Dims) -> Uncertainty {
        Uncertainty {
            phases: dims.phases,
            slices: dims.slices,
            mm2: vec![None; dims.phases * dims.slices],
        }
    }

    /// (phases, slices).
    pub fn dims(&self) -> (usize, usize) {
        (self.phases, self.slices)
    }

    /// Image (phase, slice)'s expected error areas, if it was segmented.
    pub fn get(&self, phase: usize, slice: usize) -> Option<[f64; 3]> {
        (phase < self.phases && slice < self.slices)
            .then(|| self.mm2[phase * self.slices + slice])
            .flatten()
    }

    pub fn set(&mut self, phase: usize, slice: usize, mm2: [f64; 3]) {
        if phase < self.phases && slice < self.slices {
            self.mm2[phase * self.slices + slice] = Some(mm2);
        }
    }

    /// One phase, in slice order.
    pub fn phase(&self, phase: usize) -> Vec<Option<[f64; 3]>> {
        (0..self.slices).map(|s| self.get(phase, s)).collect()
    }
}

/// The whole image as a window, once every (phase, slice) of `list` is in the cine.
fn whole_image(d: crate::study::Dims, list: &[(usize, usize)]) -> Result<Window, SegmentError> {
    if let Some(&(phase, slice)) = list.iter().find(|&&(p, s)| p >= d.phases || s >= d.slices) {
        return Err(SegmentError::OutOfRange {
            phase,
            slice,
            phases: d.phases,
            slices: d.slices,
        });
    }
    Ok(Window {
        row: 0,
        col: 0,
        rows: d.rows,
        cols: d.columns,
    })
}

/// Receives one image's ((phase, slice), logits) from [`Segmenter::run_batches`].
type ImageSink<'a> = dyn FnMut((usize, usize), &[f32]) -> Result<(), SegmentError> + 'a;

/// Where the network runs: a window of the image, its size on the network's grid and
/// that size padded to a multiple of 16.
struct Grid {
    window: Window,
    nr: usize,
    nc: usize,
    ph: usize,
    pw: usize,
    resampled: bool,
}

impl Grid {
    fn new(window: Window, scale: Option<(f64, f64, f64)>) -> Grid {
        let (nr, nc) = match scale {
            Some((sr, sc, px)) => (
                resample::resampled_size(window.rows, sr, px),
                resample::resampled_size(window.cols, sc, px),
            ),
            None => (window.rows, window.cols),
        };
        Grid {
            window,
            nr,
            nc,
            ph: pad_to(nr),
            pw: pad_to(nc),
            resampled: (nr, nc) != (window.rows, window.cols),
        }
    }
}

/// The bounding box of all labelled pixels of `phase`, widened by `margin` and grown to a
/// multiple of 16 on each side where the image allows; `None` when nothing is labelled.
pub fn heart_window(labels: &LabelStack, phase: usize, margin: usize) -> Option<Window> {
    let d = labels.dims();
    let (mut r0, mut r1, mut c0, mut c1) = (usize::MAX, 0, usize::MAX, 0);
    for s in 0..d.slices {
        for (i, &v) in labels.image(phase, s).iter().enumerate() {
            if v != 0 {
                let (r, c) = (i / d.columns, i % d.columns);
                r0 = r0.min(r);
                r1 = r1.max(r);
                c0 = c0.min(c);
                c1 = c1.max(c);
            }
        }
    }
    if r0 == usize::MAX {
        return None;
    }
    let span = |lo: usize, hi: usize, n: usize| {
        let lo = lo.saturating_sub(margin);
        let hi = (hi + margin + 1).min(n);
        // Grow to a multiple of 16 (downwards first, then upwards) while it fits.
        let want = pad_to(hi - lo).min(n);
        let hi2 = (lo + want).min(n);
        let lo2 = hi2.saturating_sub(want);
        (lo2, hi2 - lo2)
    };
    let (row, rows) = span(r0, r1, d.rows);
    let (col, cols) = span(c0, c1, d.columns);
    Some(Window {
        row,
        col,
        rows,
        cols,
    })
}

fn pad_to(n: usize) -> usize {
    n.div_ceil(SIZE_MULTIPLE) * SIZE_MULTIPLE
}

/// All slices of one phase, as one contiguous slice of the cine's data.
fn phase_volume(cine: &CineStack, phase: usize) -> &[f32] {
    let d = cine.dims();
    let n = d.slices * d.pixels_per_image();
    &cine.data()[phase * n..(phase + 1) * n]
}
