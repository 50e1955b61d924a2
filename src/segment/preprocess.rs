//! Input preprocessing, mirroring `training/systole_train/data.py` (`normalise`) and
//! `infer.py` (padding): per volume (all slices of one phase), intensities are clipped to
//! the 1st and 99th percentiles (numpy's default linear interpolation between order
//! statistics) and rescaled to [0, 1]; each slice is zero-padded at the bottom and right.

use super::Window;

/// The percentiles of Bai et al. (2018)'s intensity normalisation.
pub const PERCENTILES: (f64, f64) = (1.0, 99.0);

/// numpy's `percentile(values, q)` with the default "linear" method, over the finite values.
pub fn percentile(sorted_or_not: &[f32], q: f64) -> Option<f32> {
    let mut v: Vec<f32> = sorted_or_not
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    percentile_in_place(&mut v, q)
}

fn percentile_in_place(v: &mut [f32], q: f64) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    let pos = q / 100.0 * (v.len() - 1) as f64;
    let below = pos.floor() as usize;
    let frac = pos - below as f64;
    let (_, &mut lo, rest) = v.select_nth_unstable_by(below, f32::total_cmp);
    let lo = lo as f64;
    let hi = if frac > 0.0 && !rest.is_empty() {
        rest.iter().copied().fold(f32::INFINITY, f32::min) as f64
    } else {
        lo
    };
    Some((lo + (hi - lo) * frac) as f32)
}

/// The (1st, 99th) percentile pair of a volume; (0, 0) when it has no finite value.
pub fn percentile_range(volume: &[f32]) -> (f32, f32) {
    let mut v: Vec<f32> = volume.iter().copied().filter(|x| x.is_finite()).collect();
    let lo = percentile_in_place(&mut v, PERCENTILES.0).unwrap_or(0.0);
    let hi = percentile_in_place(&mut v, PERCENTILES.1).unwrap_or(0.0);
    (lo, hi)
}

/// Appends the `window` of one image (`columns` wide), normalised and zero-padded to
/// `padded_rows x padded_cols`, to `out`; `channels` holds that image and, for a network
/// with neighbour context, its neighbours (slice k-1, k, k+1), interleaved per pixel
/// (channels-last). A volume with `hi <= lo` normalises to zeros (as in training); a value
/// that is not finite counts as the lower bound.
#[allow(clippy::too_many_arguments)]
pub fn normalise_padded(
    channels: &[&[f32]],
    columns: usize,
    window: Window,
    lo: f32,
    hi: f32,
    padded_rows: usize,
    padded_cols: usize,
    out: &mut Vec<f32>,
) {
    let nc = channels.len();
    let start = out.len();
    out.resize(start + padded_rows * padded_cols * nc, 0.0);
    if hi <= lo {
        return;
    }
    let range = hi - lo;
    for (ch, image) in channels.iter().enumerate() {
        for r in 0..window.rows.min(padded_rows) {
            let o = (window.row + r) * columns + window.col;
            let Some(src) = image.get(o..o + window.cols) else {
                break;
            };
            let row = start + r * padded_cols * nc;
            let dst = &mut out[row..row + window.cols * nc];
            for (d, &v) in dst.iter_mut().skip(ch).step_by(nc).zip(src) {
                let v = if v.is_finite() { v.clamp(lo, hi) } else { lo };
                *d = (v - lo) / range;
            }
        }
    }
}

/// The slices whose images make the input channels of slice `slice` of a `slices`-deep
/// stack for a network of `in_channels` channels: k - c, ..., k + c in stack order, the
/// first or last slice repeated beyond the ends (as `data.with_context` in training/).
pub fn context_slices(
    slice: usize,
    slices: usize,
    in_channels: usize,
) -> impl Iterator<Item = usize> {
    let c = (in_channels / 2) as isize;
    let last = slices.saturating_sub(1) as isize;
    (-c..=c).map(move |o| (slice as isize + o).clamp(0, last) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values worked out by hand with numpy's linear rule: for 1..=5 (n = 5), the 1st
    /// percentile sits at position 0.04 -> 1.04, the 99th at 3.96 -> 4.96, the median at 2 -> 3.
    #[test]
    fn percentile_matches_numpy_linear() {
        let v = [5.0f32, 1.0, 4.0, 2.0, 3.0];
        assert!((percentile(&v, 1.0).unwrap_or(0.0) - 1.04).abs() < 1e-6);
        assert!((percentile(&v, 99.0).unwrap_or(0.0) - 4.96).abs() < 1e-6);
        assert_eq!(percentile(&v, 50.0), Some(3.0));
        assert_eq!(percentile(&[f32::NAN], 50.0), None);
    }

    #[test]
    fn normalise_clips_rescales_and_pads() {
        let img = [0.0f32, 10.0, 20.0, 30.0]; // 2 x 2
        let mut out = Vec::new();
        let whole = Window {
            row: 0,
            col: 0,
            rows: 2,
            cols: 2,
        };
        normalise_padded(&[&img], 2, whole, 10.0, 20.0, 3, 4, &mut out);
        assert_eq!(
            out,
            vec![0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        );
        let mut flat = Vec::new();
        normalise_padded(&[&img], 2, whole, 5.0, 5.0, 2, 2, &mut flat);
        assert_eq!(flat, vec![0.0; 4]);
        // The lower-right pixel alone.
        let mut one = Vec::new();
        normalise_padded(
            &[&img],
            2,
            Window {
                row: 1,
                col: 1,
                rows: 1,
                cols: 1,
            },
            0.0,
            30.0,
            1,
            2,
            &mut one,
        );
        assert_eq!(one, vec![1.0, 0.0]);
    }

    #[test]
    fn context_channels_interleave_per_pixel() {
        let (a, b, c) = ([0.0f32, 10.0, 20.0, 30.0], [30.0f32; 4], [0.0f32; 4]);
        let mut out = Vec::new();
        let whole = Window {
            row: 0,
            col: 0,
            rows: 2,
            cols: 2,
        };
        normalise_padded(&[&a, &b, &c], 2, whole, 0.0, 30.0, 2, 3, &mut out);
        let third = 1.0 / 3.0;
        #[rustfmt::skip]
        let want = [
            0.0, 1.0, 0.0,   third, 1.0, 0.0,   0.0, 0.0, 0.0,
            2.0 * third, 1.0, 0.0,   1.0, 1.0, 0.0,   0.0, 0.0, 0.0,
        ];
        assert_eq!(out.len(), want.len());
        assert!(
            out.iter().zip(&want).all(|(g, w)| (g - w).abs() < 1e-6),
            "{out:?}"
        );
    }

    #[test]
    fn context_slices_repeat_the_ends() {
        let of = |k, n, c| context_slices(k, n, c).collect::<Vec<_>>();
        assert_eq!(of(0, 4, 3), vec![0, 0, 1]);
        assert_eq!(of(2, 4, 3), vec![1, 2, 3]);
        assert_eq!(of(3, 4, 3), vec![2, 3, 3]);
        assert_eq!(of(0, 1, 3), vec![0, 0, 0]);
        assert_eq!(of(5, 9, 1), vec![5]);
    }
}
