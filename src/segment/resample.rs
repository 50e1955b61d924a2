//! Resampling to the network's pixel size and back, mirroring `training/systole_train/data.py`
//! (`resampled_size`, `resize`) and `infer.py`: a network that works at a fixed pixel size sees
//! every image resampled bilinearly to that size, and its logits are resampled bilinearly to
//! the image's own grid before the argmax. The interpolation is PyTorch's
//! `F.interpolate(mode="bilinear", align_corners=False)` with an output size and no
//! anti-aliasing, in its order of operations: along the columns first, then the rows.

use super::model::taps;
use super::postprocess::argmax;

/// Pixels along an axis of `n` pixels `spacing_mm` apart once resampled to `pixel_mm`:
/// `floor(n * spacing_mm / pixel_mm + 0.5)`, at least 1.
pub fn resampled_size(n: usize, spacing_mm: f64, pixel_mm: f64) -> usize {
    ((n as f64 * spacing_mm / pixel_mm + 0.5).floor() as usize).max(1)
}

/// Source pixels and weights of every output coordinate: (lower, upper, lower weight,
/// upper weight), the upper weight clamped to [0, 1] as PyTorch does.
fn weights(n_in: usize, n_out: usize) -> Vec<(usize, usize, f32, f32)> {
    taps(n_in, n_out)
        .into_iter()
        .map(|(i0, i1, l)| {
            let l = l.clamp(0.0, 1.0);
            (i0, i1, 1.0 - l, l)
        })
        .collect()
}

/// Calls `row(y, values)` for every output row `y` of a channels-last image of
/// `rows x cols x channels` (consecutive rows `stride` values apart) resampled to
/// `out_rows x out_cols`; `values` holds the row's `out_cols x channels` values.
fn for_each_row(
    src: &[f32],
    stride: usize,
    (rows, cols, channels): (usize, usize, usize),
    (out_rows, out_cols): (usize, usize),
    mut row: impl FnMut(usize, &[f32]),
) {
    if rows == 0 || cols == 0 || out_rows == 0 || out_cols == 0 {
        return;
    }
    let rw = weights(rows, out_rows);
    let cw = weights(cols, out_cols);
    let along = |y: usize, out: &mut Vec<f32>| {
        out.clear();
        let line = &src[y * stride..y * stride + cols * channels];
        for &(x0, x1, w0, w1) in &cw {
            let (a, b) = (
                &line[x0 * channels..(x0 + 1) * channels],
                &line[x1 * channels..(x1 + 1) * channels],
            );
            out.extend(a.iter().zip(b).map(|(&a, &b)| a * w0 + b * w1));
        }
    };
    let (mut upper, mut lower, mut blended) = (
        Vec::new(),
        Vec::new(),
        Vec::with_capacity(out_cols * channels),
    );
    for (y, &(y0, y1, w0, w1)) in rw.iter().enumerate() {
        along(y0, &mut upper);
        along(y1, &mut lower);
        blended.clear();
        blended.extend(upper.iter().zip(&lower).map(|(&a, &b)| a * w0 + b * w1));
        row(y, &blended);
    }
}

/// Appends a channels-last `rows x cols x channels` image resampled to
/// `out_rows x out_cols` and zero-padded at the bottom and right to
/// `padded_rows x padded_cols` to `out`.
#[allow(clippy::too_many_arguments)]
pub fn resize_padded(
    src: &[f32],
    (rows, cols, channels): (usize, usize, usize),
    (out_rows, out_cols): (usize, usize),
    (padded_rows, padded_cols): (usize, usize),
    out: &mut Vec<f32>,
) {
    let start = out.len();
    out.resize(start + padded_rows * padded_cols * channels, 0.0);
    let dst = &mut out[start..];
    for_each_row(
        src,
        cols * channels,
        (rows, cols, channels),
        (out_rows.min(padded_rows), out_cols.min(padded_cols)),
        |y, values| {
            let o = y * padded_cols * channels;
            dst[o..o + values.len()].copy_from_slice(values);
        },
    );
}

/// The class of every pixel of a `rows x cols` image from channels-last logits of
/// `classes` channels computed on a `net_rows x net_cols` grid (held in a buffer
/// `padded_cols` wide), resampled bilinearly to the image; the first maximum wins, as
/// `torch.argmax`.
pub fn argmax_resampled(
    logits: &[f32],
    classes: usize,
    padded_cols: usize,
    (net_rows, net_cols): (usize, usize),
    (rows, cols): (usize, usize),
    out: &mut [u8],
) {
    for_each_row(
        logits,
        padded_cols * classes,
        (net_rows, net_cols, classes),
        (rows, cols),
        |y, values| {
            for (o, px) in out[y * cols..(y + 1) * cols]
                .iter_mut()
                .zip(values.chunks_exact(classes))
            {
                *o = argmax(px);
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sizes as `floor(n * spacing / pixel + 0.5)`: 216 px of 1.5625 mm at 1.25 mm is
    /// 270 px exactly; 174 x 1.92 / 1.25 = 267.26 -> 267; never below 1.
    #[test]
    fn sizes_round_half_up() {
        assert_eq!(resampled_size(216, 1.5625, 1.25), 270);
        assert_eq!(resampled_size(174, 1.92, 1.25), 267);
        assert_eq!(resampled_size(3, 1.0, 2.0), 2); // 1.5 -> 2
        assert_eq!(resampled_size(1, 0.1, 10.0), 1);
    }

    /// A 2 x 2 single-channel image [[0, 1], [2, 3]] doubled: PyTorch samples the sources at
    /// -0.25 (clamped to 0), 0.25, 0.75, 1.25 (upper neighbour clamped) on each axis, so
    /// row 0 is 0, 0.25, 0.75, 1 and row 1 adds 2 * 0.25 = 0.5 to it (values by hand).
    #[test]
    fn upsampling_matches_the_definition() {
        let src = [0.0f32, 1.0, 2.0, 3.0];
        let mut out = Vec::new();
        resize_padded(&src, (2, 2, 1), (4, 4), (4, 5), &mut out);
        #[rustfmt::skip]
        let want = [
            0.0, 0.25, 0.75, 1.0, 0.0,
            0.5, 0.75, 1.25, 1.5, 0.0,
            1.5, 1.75, 2.25, 2.5, 0.0,
            2.0, 2.25, 2.75, 3.0, 0.0,
        ];
        assert_eq!(out.len(), want.len());
        assert!(
            out.iter().zip(&want).all(|(g, w)| (g - w).abs() < 1e-6),
            "{out:?}"
        );
    }

    /// Same size is the identity; halving 4 -> 2 samples at 0.5 and 2.5 (means of pairs);
    /// channels stay apart.
    #[test]
    fn identity_and_downsampling_keep_channels_apart() {
        let src: Vec<f32> = (0..8).map(|v| v as f32).collect(); // 1 x 4 x 2 channels
        let mut same = Vec::new();
        resize_padded(&src, (1, 4, 2), (1, 4), (1, 4), &mut same);
        assert_eq!(same, src);
        let mut half = Vec::new();
        resize_padded(&src, (1, 4, 2), (1, 2), (1, 2), &mut half);
        assert_eq!(half, vec![1.0, 2.0, 5.0, 6.0]);
    }

    /// Two classes whose logits cross between two network pixels: the resampled argmax
    /// changes class where the interpolated logits cross (at the image's middle), and a tie
    /// goes to the first class.
    #[test]
    fn argmax_of_resampled_logits() {
        // 1 x 2 network grid, 2 classes: pixel 0 favours class 0, pixel 1 class 1.
        let logits = [1.0f32, 0.0, 0.0, 1.0];
        let mut out = [9u8; 4];
        argmax_resampled(&logits, 2, 2, (1, 2), (1, 4), &mut out);
        assert_eq!(out, [0, 0, 1, 1]);
        let tie = [0.5f32, 0.5];
        let mut one = [9u8; 1];
        argmax_resampled(&tie, 2, 1, (1, 1), (1, 1), &mut one);
        assert_eq!(one, [0]);
    }
}
