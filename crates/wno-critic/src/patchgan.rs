//! The PatchGAN critic of DESIGN.md §2.

use candle_core::{DType, Module, Tensor};
use wno_losses::conv2d;
use candle_nn::{Conv2d, Conv2dConfig, VarBuilder};

use crate::error::{CriticError, Result};

/// PatchGAN configuration. The default is DESIGN.md's critic: 3 input channels,
/// 4 x [conv 4x4 stride 2 padding 1 -> LeakyReLU(0.2)] with 64, 128, 256, 512 channels, then a
/// 1x1 conv to one logit per patch; no normalisation.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchGanConfig {
    /// Input channels (3 for RGB).
    pub in_channels: usize,
    /// Output channels of the stride-2 convs (each one halves H and W).
    pub widths: Vec<usize>,
    /// Negative slope of the LeakyReLUs.
    pub negative_slope: f64,
}

impl Default for PatchGanConfig {
    fn default() -> Self {
        Self { in_channels: 3, widths: vec![64, 128, 256, 512], negative_slope: 0.2 }
    }
}

/// PatchGAN critic: `(B, C, H, W)` -> `(B, 1, H / 2^n, W / 2^n)` logits, n = `widths.len()`
/// (64x64 -> 4x4 with the defaults).
///
/// Parameters are named as the `nn.Sequential` PyTorch builds for it:
/// `net.{2k}.weight` / `net.{2k}.bias` for the k-th stride-2 conv (the LeakyReLUs sit at the
/// odd indices) and `net.{2n}.{weight,bias}` for the final 1x1 conv, e.g. `net.0`, `net.2`,
/// `net.4`, `net.6`, `net.8` for the default.
///
/// ```
/// # use candle_core::{DType, Device, Tensor};
/// use candle_nn::{VarBuilder, VarMap};
/// use wno_critic::{PatchGan, PatchGanConfig};
/// let vm = VarMap::new();
/// let cfg = PatchGanConfig { widths: vec![8, 8, 8, 8], ..Default::default() };
/// let d = PatchGan::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu))?;
/// let x = Tensor::rand(0f32, 1., (2, 3, 64, 64), &Device::Cpu)?;
/// assert_eq!(d.forward(&x)?.dims(), &[2, 1, 4, 4]);
/// assert!(vm.data().lock().unwrap().contains_key("net.8.weight"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct PatchGan {
    cfg: PatchGanConfig,
    downs: Vec<Conv2d>,
    head: Conv2d,
}

impl PatchGan {
    /// Builds the critic from `vb` (PyTorch's default initialisation when `vb` is backed by a
    /// fresh `VarMap`: uniform with bound `1/sqrt(fan_in)`, weights and biases alike).
    pub fn new(cfg: &PatchGanConfig, vb: VarBuilder) -> Result<Self> {
        if cfg.in_channels == 0 || cfg.widths.is_empty() || cfg.widths.contains(&0) {
            return Err(CriticError::InvalidConfig(format!(
                "in_channels and widths must be positive and widths non-empty, got {} and {:?}",
                cfg.in_channels, cfg.widths
            )));
        }
        if !(cfg.negative_slope.is_finite() && (0.0..1.0).contains(&cfg.negative_slope)) {
            return Err(CriticError::InvalidConfig(format!(
                "negative_slope must be in [0, 1), got {}",
                cfg.negative_slope
            )));
        }
        let vb = vb.pp("net");
        let down_cfg = Conv2dConfig { padding: 1, stride: 2, ..Default::default() };
        let mut downs = Vec::with_capacity(cfg.widths.len());
        let mut cin = cfg.in_channels;
        for (k, &cout) in cfg.widths.iter().enumerate() {
            downs.push(torch_conv(cin, cout, 4, down_cfg, vb.pp(2 * k))?);
            cin = cout;
        }
        let head = torch_conv(cin, 1, 1, Conv2dConfig::default(), vb.pp(2 * cfg.widths.len()))?;
        Ok(Self { cfg: cfg.clone(), downs, head })
    }

    /// The configuration.
    pub fn config(&self) -> &PatchGanConfig {
        &self.cfg
    }

    /// Logits `(B, 1, H / 2^n, W / 2^n)` for a `(B, in_channels, H, W)` batch; H and W must be
    /// multiples of `2^n` (n = number of stride-2 convs).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.run(x, false)
    }

    /// As [`PatchGan::forward`], with the critic's weights detached: the gradient flows to `x`
    /// only (the generator's adversarial term), and none is computed for the critic.
    ///
    /// # Errors
    /// As [`PatchGan::forward`].
    pub fn forward_frozen(&self, x: &Tensor) -> Result<Tensor> {
        self.run(x, true)
    }

    fn run(&self, x: &Tensor, frozen: bool) -> Result<Tensor> {
        let f = 1usize << self.downs.len();
        match (x.dtype(), x.dims()) {
            (DType::F32 | DType::F64 | DType::F16 | DType::BF16, &[_, c, h, w])
                if c == self.cfg.in_channels && h >= f && w >= f && h % f == 0 && w % f == 0 => {}
            (DType::F32 | DType::F64 | DType::F16 | DType::BF16, dims) => {
                return Err(CriticError::BadShape {
                    op: "PatchGan::forward",
                    expected: format!(
                        "(B, {}, H, W) with H and W positive multiples of {f}",
                        self.cfg.in_channels
                    ),
                    got: dims.to_vec(),
                })
            }
            (dtype, _) => return Err(CriticError::UnsupportedDType { op: "PatchGan::forward", dtype }),
        }
        let mut h = x.clone();
        for conv in &self.downs {
            let (w, b) = weights(conv, frozen);
            h = candle_nn::ops::leaky_relu(&conv2d(&h, &w, b.as_ref(), 2, 1)?, self.cfg.negative_slope)?;
        }
        let (w, b) = weights(&self.head, frozen);
        Ok(conv2d(&h, &w, b.as_ref(), 1, 0)?)
    }
}

impl Module for PatchGan {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        Ok(PatchGan::forward(self, xs)?)
    }
}

/// A conv with PyTorch's default `nn.Conv2d` initialisation (kaiming_uniform a = sqrt(5), i.e.
/// uniform in +-1/sqrt(fan_in), for the weight and the bias).
fn torch_conv(cin: usize, cout: usize, k: usize, cfg: Conv2dConfig, vb: VarBuilder) -> Result<Conv2d> {
    let bound = 1.0 / ((cin * k * k) as f64).sqrt();
    let init = candle_nn::Init::Uniform { lo: -bound, up: bound };
    let w = vb.get_with_hints((cout, cin, k, k), "weight", init)?;
    let b = vb.get_with_hints(cout, "bias", init)?;
    Ok(Conv2d::new(w, Some(b), cfg))
}

/// A conv's weight and bias, detached when `frozen`.
fn weights(conv: &Conv2d, frozen: bool) -> (Tensor, Option<Tensor>) {
    let w = if frozen { conv.weight().detach() } else { conv.weight().clone() };
    let b = conv.bias().map(|b| if frozen { b.detach() } else { b.clone() });
    (w, b)
}
