//! The short-axis FCN of Bai et al. (J Cardiovasc Magn Reson 20:65, 2018) for inference on
//! the CPU with candle: weights named as in `training/systole_train/model.py`'s state_dict.
//!
//! How it runs (the arithmetic is the PyTorch model's; the order of work is not):
//! - Activations stay channels-last, (image, row, column, channel), so every convolution
//!   is one candle `matmul` (gemm) of an im2col matrix by a weight matrix and its result is
//!   already the next layer's layout: no transposes anywhere.
//! - Batch norm is folded into the convolution weights and biases at load time.
//! - Bias and ReLU are applied in one pass over the gemm result.
//! - The head's first 1x1 convolution is linear, and so is bilinear upsampling, so
//!   `W · concat(up(s_1), ..., up(s_5))` is computed as `W_1 s_1 + sum up(W_i s_i)`: each
//!   side output is multiplied by its 32 x 64 block of the head weight at its own
//!   resolution, and only the 64-channel sums are interpolated at full resolution. This
//!   removes the 160-channel full-resolution concatenation and about a fifth of the
//!   multiply-adds; the result equals the original up to float rounding.
//! - Upsampling mirrors PyTorch's `F.interpolate(mode="bilinear", align_corners=False)`.

use candle_core::{DType, Device, Storage, Tensor};
use rayon::prelude::*;
use std::collections::HashMap;

/// Filters per encoder level, convolutions per level (Bai et al. 2018, Fig. 1).
pub const FILTERS: [usize; 5] = [16, 32, 64, 128, 256];
pub const CONVS: [usize; 5] = [2, 2, 3, 3, 3];
pub(crate) const SIDE: usize = 32;
pub(crate) const HEAD: usize = 64;
/// Output classes: 0 background, 1 LV blood pool, 2 myocardium, 3 RV blood pool.
pub const CLASSES: usize = 4;
/// PyTorch's `BatchNorm2d` default epsilon.
const BN_EPS: f32 = 1e-5;
/// The most input channels a weight file may ask for (the slice and three neighbours on
/// either side).
const MAX_IN_CHANNELS: usize = 7;
/// Input height and width must be multiples of this (four stride-2 levels).
pub const SIZE_MULTIPLE: usize = 16;

/// Why a weight file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum WeightError {
    #[error("not a readable safetensors file: {0}")]
    Format(String),
    #[error("weight `{0}` is missing")]
    Missing(String),
    #[error("weight `{name}` has shape {got:?}, expected {want:?}")]
    Shape {
        name: String,
        got: Vec<usize>,
        want: Vec<usize>,
    },
    #[error("weight `{0}` holds a value that is not finite")]
    NotFinite(String),
    #[error("batch-norm variance of `{0}` is negative")]
    Variance(String),
    #[error("metadata pixel_mm = {0:?} is not a pixel size in millimetres (0.1 to 10)")]
    PixelSize(String),
}

/// A layer as a matrix: `x (pixels, k) @ w (k, n) + bias`.
struct Dense {
    w: Tensor,
    bias: Vec<f32>,
}

struct Conv3 {
    dense: Dense,
    cin: usize,
    stride: usize,
}

/// Channels-last activations: `data[((image * h + row) * w + col) * c + channel]`.
pub struct Act {
    pub data: Vec<f32>,
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
}

/// The loaded network, batch norm folded.
pub struct SaxNet {
    /// 1 (one slice) or 1 + 2 * context (the slice and its neighbours in the stack).
    in_channels: usize,
    /// The pixel size (mm) the network works at, from the file's metadata (`pixel_mm`:
    /// the size it was trained at, or one chosen for inference); `None`: images are used
    /// at their own pixel size.
    pixel_mm: Option<f64>,
    levels: Vec<Vec<Conv3>>,
    sides: Vec<Dense>,
    /// The head's first 1x1 convolution split per side output: (32, 64) each.
    head1: Vec<Tensor>,
    head1_bias: Vec<f32>,
    head2: Dense,
    classifier: Dense,
}

struct Weights(HashMap<String, Tensor>);

impl Weights {
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, WeightError> {
        let t = self
            .0
            .get(name)
            .ok_or_else(|| WeightError::Missing(name.to_string()))?;
        if t.dims() != shape {
            return Err(WeightError::Shape {
                name: name.to_string(),
                got: t.dims().to_vec(),
                want: shape.to_vec(),
            });
        }
        let v = t
            .to_dtype(DType::F32)
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(|e| WeightError::Format(format!("{name}: {e}")))?;
        if v.iter().any(|x| !x.is_finite()) {
            return Err(WeightError::NotFinite(name.to_string()));
        }
        Ok(v)
    }

    /// A bias-free convolution followed by batch norm, folded into (k*k*cin, cout) weights
    /// in im2col order (kernel row, kernel column, input channel) and a bias.
    fn conv_bn(
        &self,
        prefix: &str,
        cin: usize,
        cout: usize,
        k: usize,
    ) -> Result<(Vec<f32>, Vec<f32>), WeightError> {
        let w = self.get(&format!("{prefix}.conv.weight"), &[cout, cin, k, k])?;
        let gamma = self.get(&format!("{prefix}.bn.weight"), &[cout])?;
        let beta = self.get(&format!("{prefix}.bn.bias"), &[cout])?;
        let mean = self.get(&format!("{prefix}.bn.running_mean"), &[cout])?;
        let var = self.get(&format!("{prefix}.bn.running_var"), &[cout])?;
        if var.iter().any(|&v| v < 0.0) {
            return Err(WeightError::Variance(prefix.to_string()));
        }
        let scale: Vec<f32> = gamma
            .iter()
            .zip(&var)
            .map(|(g, v)| g / (v + BN_EPS).sqrt())
            .collect();
        let bias = (0..cout).map(|o| beta[o] - mean[o] * scale[o]).collect();
        let mut m = vec![0f32; k * k * cin * cout];
        for o in 0..cout {
            for c in 0..cin {
                for ky in 0..k {
                    for kx in 0..k {
                        m[((ky * k + kx) * cin + c) * cout + o] =
                            w[((o * cin + c) * k + ky) * k + kx] * scale[o];
                    }
                }
            }
        }
        Ok((m, bias))
    }
}

/// The `pixel_mm` entry of a safetensors file's metadata (written by training/export.py for
/// a network that works at a fixed pixel size), if present.
fn pixel_size(bytes: &[u8]) -> Result<Option<f64>, WeightError> {
    let (_, meta) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| WeightError::Format(e.to_string()))?;
    let Some(text) = meta.metadata().as_ref().and_then(|m| m.get("pixel_mm")) else {
        return Ok(None);
    };
    match text.trim().parse::<f64>() {
        Ok(v) if (0.1..=10.0).contains(&v) => Ok(Some(v)),
        _ => Err(WeightError::PixelSize(text.clone())),
    }
}

fn matrix(data: Vec<f32>, rows: usize, cols: usize) -> Result<Tensor, WeightError> {
    Tensor::from_vec(data, (rows, cols), &Device::Cpu)
        .map_err(|e| WeightError::Format(e.to_string()))
}

impl SaxNet {
    /// Loads a safetensors state_dict (f32, f16 or bf16).
    pub fn from_safetensors(bytes: &[u8]) -> Result<SaxNet, WeightError> {
        let map = candle_core::safetensors::load_buffer(bytes, &Device::Cpu)
            .map_err(|e| WeightError::Format(e.to_string()))?;
        let pixel_mm = pixel_size(bytes)?;
        let wts = Weights(map);
        // The input channel count is the first convolution's: 1, or an odd number for a
        // network that also sees its neighbour slices (training/systole_train/data.py).
        let first = "levels.0.0.conv.weight";
        let dims = wts
            .0
            .get(first)
            .ok_or_else(|| WeightError::Missing(first.to_string()))?
            .dims()
            .to_vec();
        let in_channels = match dims.get(1) {
            Some(&c) if c % 2 == 1 && c <= MAX_IN_CHANNELS => c,
            _ => {
                return Err(WeightError::Shape {
                    name: first.to_string(),
                    got: dims,
                    want: vec![FILTERS[0], 1, 3, 3],
                });
            }
        };
        let mut levels = Vec::new();
        let mut cin = in_channels;
        for (i, (&f, &n)) in FILTERS.iter().zip(&CONVS).enumerate() {
            let mut level = Vec::new();
            for j in 0..n {
                let (w, bias) = wts.conv_bn(&format!("levels.{i}.{j}"), cin, f, 3)?;
                let stride = if i > 0 && j == 0 { 2 } else { 1 };
                level.push(Conv3 {
                    dense: Dense {
                        w: matrix(w, 9 * cin, f)?,
                        bias,
                    },
                    cin,
                    stride,
                });
                cin = f;
            }
            levels.push(level);
        }
        let mut sides = Vec::new();
        for (i, &f) in FILTERS.iter().enumerate() {
            let (w, bias) = wts.conv_bn(&format!("sides.{i}"), f, SIDE, 1)?;
            sides.push(Dense {
                w: matrix(w, f, SIDE)?,
                bias,
            });
        }
        let (h1, head1_bias) = wts.conv_bn("head1", SIDE * FILTERS.len(), HEAD, 1)?;
        // Rows of the (160, 64) matrix belong to the side outputs in concatenation order.
        let head1 = h1
            .chunks(SIDE * HEAD)
            .map(|block| matrix(block.to_vec(), SIDE, HEAD))
            .collect::<Result<Vec<_>, _>>()?;
        let (h2, b2) = wts.conv_bn("head2", HEAD, HEAD, 1)?;
        let cw = wts.get("classifier.weight", &[CLASSES, HEAD, 1, 1])?;
        let cb = wts.get("classifier.bias", &[CLASSES])?;
        let mut cwt = vec![0f32; HEAD * CLASSES];
        for o in 0..CLASSES {
            for c in 0..HEAD {
                cwt[c * CLASSES + o] = cw[o * HEAD + c];
            }
        }
        Ok(SaxNet {
            in_channels,
            pixel_mm,
            levels,
            sides,
            head1,
            head1_bias,
            head2: Dense {
                w: matrix(h2, HEAD, HEAD)?,
                bias: b2,
            },
            classifier: Dense {
                w: matrix(cwt, HEAD, CLASSES)?,
                bias: cb,
            },
        })
    }

    /// The pixel size (mm) the network expects its images resampled to, if any.
    pub fn pixel_mm(&self) -> Option<f64> {
        self.pixel_mm
    }

    /// Input channels per pixel: 1, or 3 for a slice with its two neighbours.
    pub fn in_channels(&self) -> usize {
        self.in_channels
    }

    /// Logits, channels-last `(n, h, w, 4)`, of `n` images of `h x w` (already normalised),
    /// channels-last `(n, h, w, in_channels)`; `h` and `w` must be multiples of 16.
    pub fn forward(
        &self,
        images: &[f32],
        n: usize,
        h: usize,
        w: usize,
    ) -> candle_core::Result<Act> {
        let c = self.in_channels;
        if h % SIZE_MULTIPLE != 0
            || w % SIZE_MULTIPLE != 0
            || h == 0
            || w == 0
            || images.len() != n * h * w * c
        {
            candle_core::bail!(
                "input {n} x {h} x {w} x {c} ({} values): sides must be non-zero multiples of 16",
                images.len()
            );
        }
        let mut x = Act {
            data: images.to_vec(),
            n,
            h,
            w,
            c,
        };
        let mut sides: Vec<Product> = Vec::with_capacity(FILTERS.len());
        for (level, (side, head1)) in self.levels.iter().zip(self.sides.iter().zip(&self.head1)) {
            for conv in level {
                debug_assert_eq!(conv.cin, x.c);
                let col = im2col3(&x, conv.stride);
                x = dense(col, &conv.dense, true)?;
            }
            // Side output (1x1 conv + BN + ReLU), then its block of the head's first layer.
            let s = dense(
                Act {
                    data: x.data.clone(),
                    ..x
                },
                side,
                true,
            )?;
            sides.push(matmul(s, head1)?);
        }
        let mut y = upsample_sum(&sides, &self.head1_bias)?;
        y = dense(y, &self.head2, true)?;
        dense(y, &self.classifier, false)
    }

    /// Logits in PyTorch's layout `(n, 4, h, w)` of input in PyTorch's layout
    /// `(n, in_channels, h, w)` (for the parity test).
    pub fn forward_nchw(
        &self,
        images: &[f32],
        n: usize,
        h: usize,
        w: usize,
    ) -> candle_core::Result<Vec<f32>> {
        let y = self.forward(&nchw_to_nhwc(images, n, self.in_channels, h, w), n, h, w)?;
        let mut out = vec![0f32; y.data.len()];
        for (src, dst) in y
            .data
            .chunks_exact(h * w * CLASSES)
            .zip(out.chunks_exact_mut(h * w * CLASSES))
        {
            for (p, px) in src.chunks_exact(CLASSES).enumerate() {
                for (c, &v) in px.iter().enumerate() {
                    dst[c * h * w + p] = v;
                }
            }
        }
        Ok(out)
    }
}

/// `(n, c, h, w)` -> `(n, h, w, c)`: `n` images of `h x w` (a shorter input is padded
/// with zeros).
pub fn nchw_to_nhwc(x: &[f32], n: usize, c: usize, h: usize, w: usize) -> Vec<f32> {
    let mut out = vec![0f32; n * c * h * w];
    for (src, dst) in x
        .chunks_exact(c * h * w)
        .zip(out.chunks_exact_mut(c * h * w))
    {
        for (ch, plane) in src.chunks_exact(h * w).enumerate() {
            for (d, &v) in dst.iter_mut().skip(ch).step_by(c).zip(plane) {
                *d = v;
            }
        }
    }
    out
}

/// im2col for a 3x3 convolution with zero padding 1: a (pixels_out, 9 * c) matrix.
fn im2col3(x: &Act, stride: usize) -> Act {
    let (ho, wo, c) = (x.h / stride, x.w / stride, x.c);
    let row_len = wo * 9 * c;
    let mut col = vec![0f32; x.n * ho * row_len];
    col.par_chunks_mut(row_len)
        .enumerate()
        .for_each(|(r, out)| {
            let (img, oy) = (r / ho, r % ho);
            let base = img * x.h * x.w * c;
            for ox in 0..wo {
                let dst = &mut out[ox * 9 * c..(ox + 1) * 9 * c];
                for ky in 0..3 {
                    let iy = (oy * stride + ky) as isize - 1;
                    if iy < 0 || iy >= x.h as isize {
                        continue;
                    }
                    for kx in 0..3 {
                        let ix = (ox * stride + kx) as isize - 1;
                        if ix < 0 || ix >= x.w as isize {
                            continue;
                        }
                        let src = base + (iy as usize * x.w + ix as usize) * c;
                        let k = (ky * 3 + kx) * c;
                        dst[k..k + c].copy_from_slice(&x.data[src..src + c]);
                    }
                }
            }
        });
    Act {
        data: col,
        n: x.n,
        h: ho,
        w: wo,
        c: 9 * c,
    }
}

/// A gemm result kept as candle returned it (channels-last, no bias, no ReLU), read in
/// place by [`upsample_sum`] instead of being copied out.
struct Product {
    t: Tensor,
    h: usize,
    w: usize,
}

/// `x @ w`, left in candle's buffer.
fn matmul(x: Act, w: &Tensor) -> candle_core::Result<Product> {
    let (k, _) = w.dims2()?;
    let pixels = x.n * x.h * x.w;
    if x.c != k {
        candle_core::bail!("matmul: {} input channels for a {k}-row weight", x.c);
    }
    let t = Tensor::from_vec(x.data, (pixels, k), &Device::Cpu)?.matmul(w)?;
    Ok(Product { t, h: x.h, w: x.w })
}

/// `relu?(x @ w + bias)`, bias and ReLU in one pass over the gemm result.
fn dense(x: Act, layer: &Dense, relu: bool) -> candle_core::Result<Act> {
    let (k, n_out) = layer.w.dims2()?;
    let pixels = x.n * x.h * x.w;
    if x.c != k {
        candle_core::bail!("dense: {} input channels for a {k}-row weight", x.c);
    }
    let y = Tensor::from_vec(x.data, (pixels, k), &Device::Cpu)?.matmul(&layer.w)?;
    let mut data = vec![0f32; pixels * n_out];
    with_slice(&y, |s| {
        data.par_chunks_mut(n_out * 256)
            .zip(s.par_chunks(n_out * 256))
            .for_each(|(d, s)| {
                for (dp, sp) in d.chunks_exact_mut(n_out).zip(s.chunks_exact(n_out)) {
                    for ((o, &v), &b) in dp.iter_mut().zip(sp).zip(&layer.bias) {
                        let z = v + b;
                        *o = if relu { z.max(0.0) } else { z };
                    }
                }
            })
    })?;
    Ok(Act {
        data,
        n: x.n,
        h: x.h,
        w: x.w,
        c: n_out,
    })
}

/// Runs `f` on the f32 contents of a contiguous CPU tensor without copying it.
fn with_slice<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> candle_core::Result<R> {
    let (storage, layout) = t.storage_and_layout();
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("expected a contiguous tensor");
    };
    match &*storage {
        Storage::Cpu(cpu) => Ok(f(&cpu.as_slice::<f32>()?[start..end])),
        _ => candle_core::bail!("expected a CPU tensor"),
    }
}

/// Source index pair and weight of each output coordinate for PyTorch's bilinear
/// interpolation with `align_corners=False` and an output size: the source coordinate is
/// `(dst + 0.5) * in / out - 0.5`, clamped at 0; the upper neighbour is clamped to the edge.
pub(crate) fn taps(n_in: usize, n_out: usize) -> Vec<(usize, usize, f32)> {
    let scale = n_in as f32 / n_out as f32;
    (0..n_out)
        .map(|d| {
            let src = (scale * (d as f32 + 0.5) - 0.5).max(0.0);
            let i0 = (src as usize).min(n_in - 1);
            let i1 = if i0 + 1 < n_in { i0 + 1 } else { i0 };
            (i0, i1, src - i0 as f32)
        })
        .collect()
}

/// The head's first layer: bias + the full-resolution term + every lower-resolution term
/// interpolated bilinearly to full resolution, then ReLU.
fn upsample_sum(parts: &[Product], bias: &[f32]) -> candle_core::Result<Act> {
    // Borrow every product's buffer for the whole pass.
    let guards: Vec<_> = parts.iter().map(|p| p.t.storage_and_layout()).collect();
    let mut data: Vec<&[f32]> = Vec::with_capacity(parts.len());
    for (storage, layout) in &guards {
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("expected a contiguous tensor");
        };
        match &**storage {
            Storage::Cpu(cpu) => data.push(&cpu.as_slice::<f32>()?[start..end]),
            _ => candle_core::bail!("expected a CPU tensor"),
        }
    }
    let Some(full) = parts.first() else {
        candle_core::bail!("no side outputs")
    };
    let (h, w) = (full.h, full.w);
    let c = bias.len();
    let n = data[0].len() / (h * w * c).max(1);
    let row_taps: Vec<Vec<(usize, usize, f32)>> = parts[1..].iter().map(|p| taps(p.h, h)).collect();
    let col_taps: Vec<Vec<(usize, usize, f32)>> = parts[1..].iter().map(|p| taps(p.w, w)).collect();
    let mut out = vec![0f32; n * h * w * c];
    out.par_chunks_mut(w * c).enumerate().for_each(|(r, row)| {
        let (img, y) = (r / h, r % h);
        let src_row = &data[0][(img * h + y) * w * c..(img * h + y + 1) * w * c];
        for (o, (&a, &b)) in row.iter_mut().zip(src_row.iter().zip(bias.iter().cycle())) {
            *o = a + b;
        }
        // For each lower level: blend its two source rows once, then the columns per pixel.
        let mut blended = Vec::new();
        for (((p, pd), rt), ct) in parts[1..]
            .iter()
            .zip(&data[1..])
            .zip(&row_taps)
            .zip(&col_taps)
        {
            let (y0, y1, ly) = rt[y];
            let stride = p.w * c;
            let base = img * p.h * stride;
            let r0 = &pd[base + y0 * stride..base + (y0 + 1) * stride];
            let r1 = &pd[base + y1 * stride..base + (y1 + 1) * stride];
            blended.clear();
            blended.extend(r0.iter().zip(r1).map(|(&a, &b)| (1.0 - ly) * a + ly * b));
            for (x, px) in row.chunks_exact_mut(c).enumerate() {
                let (x0, x1, lx) = ct[x];
                let a = &blended[x0 * c..(x0 + 1) * c];
                let b = &blended[x1 * c..(x1 + 1) * c];
                for ((o, &va), &vb) in px.iter_mut().zip(a).zip(b) {
                    *o += (1.0 - lx) * va + lx * vb;
                }
            }
        }
        for o in row.iter_mut() {
            *o = o.max(0.0);
        }
    });
    Ok(Act {
        data: out,
        n,
        h,
        w,
        c,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Interpolation weights checked against values worked out by hand from PyTorch's
    /// definition (align_corners=False): 2 -> 4 samples at source -0.25 (clamped to 0),
    /// 0.25, 0.75, 1.25 (upper neighbour clamped).
    #[test]
    fn taps_match_the_definition() {
        let t = taps(2, 4);
        assert_eq!((t[0].0, t[0].1), (0, 1));
        assert!(t[0].2.abs() < 1e-7);
        assert!((t[1].2 - 0.25).abs() < 1e-7 && t[1].0 == 0);
        assert!((t[2].2 - 0.75).abs() < 1e-7 && t[2].0 == 0);
        assert_eq!((t[3].0, t[3].1), (1, 1));
    }

    #[test]
    fn im2col_pads_with_zeros_and_strides() {
        // One 4x4 single-channel image holding 1..=16.
        let x = Act {
            data: (1..=16).map(|v| v as f32).collect(),
            n: 1,
            h: 4,
            w: 4,
            c: 1,
        };
        let col = im2col3(&x, 2);
        assert_eq!((col.h, col.w, col.c), (2, 2, 9));
        // Output (0, 0) looks at input rows -1..=1, columns -1..=1.
        assert_eq!(
            &col.data[0..9],
            &[0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 5.0, 6.0]
        );
        // Output (1, 1) looks at rows 1..=3, columns 1..=3.
        assert_eq!(
            &col.data[27..36],
            &[6.0, 7.0, 8.0, 10.0, 11.0, 12.0, 14.0, 15.0, 16.0]
        );
    }
}
