//! The short-axis FCN defined once with candle-nn layers (VarBuilder, Conv2d, BatchNorm),
//! layer for layer as `training/systole_train/model.py` defines it: the reference
//! implementation. It runs on any candle device (the CPU; CUDA or Metal with the `cuda` or
//! `metal` feature). Systole segments with the fast CPU path of [`super::model`] (batch
//! norm folded, channels-last gemms, the head split per side output), and
//! `tests/segment_parity.rs` checks that path against this one and against PyTorch.

use super::model::{CLASSES, CONVS, FILTERS, HEAD, SIDE};
use candle_core::{DType, Device, Module, ModuleT, Result, Tensor};
use candle_nn::{BatchNorm, BatchNormConfig, Conv2d, Conv2dConfig, VarBuilder};

/// Convolution without bias, batch norm (running statistics), ReLU.
struct ConvBnRelu {
    conv: Conv2d,
    bn: BatchNorm,
}

impl ConvBnRelu {
    fn new(vb: VarBuilder, cin: usize, cout: usize, k: usize, stride: usize) -> Result<Self> {
        let cfg = Conv2dConfig {
            padding: k / 2,
            stride,
            ..Conv2dConfig::default()
        };
        let bn = BatchNormConfig {
            // PyTorch's BatchNorm2d default.
            eps: 1e-5,
            ..BatchNormConfig::default()
        };
        Ok(ConvBnRelu {
            conv: candle_nn::conv2d_no_bias(cin, cout, k, cfg, vb.pp("conv"))?,
            bn: candle_nn::batch_norm(cout, bn, vb.pp("bn"))?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.bn.forward_t(&self.conv.forward(x)?, false)?.relu()
    }
}

/// The network with its weights on one device.
pub struct ReferenceNet {
    levels: Vec<Vec<ConvBnRelu>>,
    sides: Vec<ConvBnRelu>,
    head1: ConvBnRelu,
    head2: ConvBnRelu,
    classifier: Conv2d,
    device: Device,
}

impl ReferenceNet {
    /// Loads a safetensors weight file (parameter names as in the PyTorch state_dict) onto
    /// `device`; the input channel count comes from the first convolution's weight.
    pub fn from_safetensors(bytes: &[u8], device: &Device) -> Result<ReferenceNet> {
        let tensors = candle_core::safetensors::load_buffer(bytes, &Device::Cpu)?;
        let first = tensors
            .get("levels.0.0.conv.weight")
            .ok_or_else(|| candle_core::Error::Msg("levels.0.0.conv.weight is missing".into()))?;
        let in_channels = first.dims4()?.1;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
        let mut levels = Vec::new();
        let mut cin = in_channels;
        for (i, (&f, &n)) in FILTERS.iter().zip(&CONVS).enumerate() {
            let mut layers = Vec::new();
            for j in 0..n {
                let stride = if i > 0 && j == 0 { 2 } else { 1 };
                layers.push(ConvBnRelu::new(
                    vb.pp(format!("levels.{i}.{j}")),
                    cin,
                    f,
                    3,
                    stride,
                )?);
                cin = f;
            }
            levels.push(layers);
        }
        let sides = FILTERS
            .iter()
            .enumerate()
            .map(|(i, &f)| ConvBnRelu::new(vb.pp(format!("sides.{i}")), f, SIDE, 1, 1))
            .collect::<Result<Vec<_>>>()?;
        Ok(ReferenceNet {
            levels,
            sides,
            head1: ConvBnRelu::new(vb.pp("head1"), SIDE * FILTERS.len(), HEAD, 1, 1)?,
            head2: ConvBnRelu::new(vb.pp("head2"), HEAD, HEAD, 1, 1)?,
            classifier: candle_nn::conv2d(
                HEAD,
                CLASSES,
                1,
                Conv2dConfig::default(),
                vb.pp("classifier"),
            )?,
            device: device.clone(),
        })
    }

    /// Logits (N, 4, H, W) of images (N, C, H, W) with H and W multiples of 16, as
    /// `SaxFcn.forward` computes them (bilinear upsampling without corner alignment).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = x.to_device(&self.device)?.to_dtype(DType::F32)?;
        let (_, _, h, w) = x.dims4()?;
        let mut sides = Vec::with_capacity(self.sides.len());
        let mut x = x;
        for (level, side) in self.levels.iter().zip(&self.sides) {
            for layer in level {
                x = layer.forward(&x)?;
            }
            let s = side.forward(&x)?;
            let (_, _, sh, sw) = s.dims4()?;
            sides.push(if (sh, sw) == (h, w) {
                s
            } else {
                s.upsample_bilinear2d(h, w, false)?
            });
        }
        let y = Tensor::cat(&sides, 1)?;
        self.classifier
            .forward(&self.head2.forward(&self.head1.forward(&y)?)?)
    }
}
