//! VGG16 feature extractor (torchvision layout), frozen.

use candle_core::{DType, Device, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, VarBuilder};

use crate::check::rgb4;
use crate::error::{LossError, Result};

/// ImageNet channel means of torchvision's VGG16 preprocessing.
pub const IMAGENET_MEAN: [f64; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations of torchvision's VGG16 preprocessing.
pub const IMAGENET_STD: [f64; 3] = [0.229, 0.224, 0.225];

/// A VGG16 activation that can be tapped: the ReLU closing each of the five conv stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VggTap {
    /// After `features.3` (64 channels, full resolution).
    Relu1_2,
    /// After `features.8` (128 channels, 1/2 resolution).
    Relu2_2,
    /// After `features.15` (256 channels, 1/4 resolution).
    Relu3_3,
    /// After `features.22` (512 channels, 1/8 resolution).
    Relu4_3,
    /// After `features.29` (512 channels, 1/16 resolution).
    Relu5_3,
}

impl VggTap {
    /// All five taps, shallowest first.
    pub const ALL: [VggTap; 5] =
        [VggTap::Relu1_2, VggTap::Relu2_2, VggTap::Relu3_3, VggTap::Relu4_3, VggTap::Relu5_3];

    /// Stage index 0..5 (the tap closes stage `index`).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Index of the ReLU in torchvision's `vgg16().features` (3, 8, 15, 22, 29).
    pub fn feature_index(self) -> usize {
        [3, 8, 15, 22, 29][self.index()]
    }
}

/// Convolutions per stage and their `features.N` indices in torchvision's VGG16.
const STAGES: [&[usize]; 5] = [&[0, 2], &[5, 7], &[10, 12, 14], &[17, 19, 21], &[24, 26, 28]];

/// VGG16 configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vgg16Config {
    /// Output channels of the five stages; torchvision's VGG16 is `[64, 128, 256, 512, 512]`.
    /// Smaller widths give cheap random networks for tests.
    pub widths: [usize; 5],
    /// The deepest tap that will be used: later layers are neither loaded nor run.
    pub last_tap: VggTap,
}

impl Default for Vgg16Config {
    fn default() -> Self {
        Self { widths: [64, 128, 256, 512, 512], last_tap: VggTap::Relu5_3 }
    }
}

impl Vgg16Config {
    /// The standard widths, truncated after `last_tap`.
    pub fn up_to(last_tap: VggTap) -> Self {
        Self { last_tap, ..Self::default() }
    }

    /// `(name, shape)` of every tensor the network loads, `features.N.weight` / `.bias`.
    pub fn tensor_names(&self) -> Vec<(String, Vec<usize>)> {
        let mut out = Vec::new();
        let mut cin = 3;
        for (stage, idxs) in STAGES.iter().enumerate().take(self.last_tap.index() + 1) {
            let cout = self.widths[stage];
            for &i in idxs.iter() {
                out.push((format!("features.{i}.weight"), vec![cout, cin, 3, 3]));
                out.push((format!("features.{i}.bias"), vec![cout]));
                cin = cout;
            }
        }
        out
    }
}

/// VGG16 `features` up to a chosen tap: 3x3 convs (padding 1) + ReLU, 2x2 max-pools between
/// stages, parameters named `features.N.{weight,bias}` exactly as torchvision (and timm's
/// `vgg16.tv_in1k`, which keeps torchvision's `features` indices).
///
/// The network is frozen: its weights are detached when built, so they never receive or
/// accumulate gradients even if the `VarBuilder` is backed by a `VarMap`; gradients still flow
/// to the input.
///
/// Dtypes: f32, f64 and f16 on the CPU, bf16 too on CUDA (candle's CPU backend has no bf16
/// matmul); the constructors reject anything else with [`LossError::UnsupportedNetworkDType`]
/// before reading weights.
///
/// ```
/// # use candle_core::{DType, Device, Tensor};
/// use candle_nn::{VarBuilder, VarMap};
/// use wno_losses::{Vgg16, Vgg16Config, VggTap};
/// let cfg = Vgg16Config { widths: [4, 4, 4, 4, 4], last_tap: VggTap::Relu3_3 };
/// let vm = VarMap::new();
/// let vgg = Vgg16::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu))?;
/// let x = Tensor::rand(0f32, 1., (2, 3, 16, 16), &Device::Cpu)?;
/// let taps = vgg.features(&x)?;
/// assert_eq!(taps.len(), 3);
/// assert_eq!(taps[2].dims(), &[2, 4, 4, 4]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Vgg16 {
    cfg: Vgg16Config,
    stages: Vec<Vec<Conv2d>>,
    mean: Tensor,
    inv_std: Tensor,
}

impl Vgg16 {
    /// Builds the network from `features.N.{weight,bias}` tensors of `vb`, in its dtype on its
    /// device ([`LossError::UnsupportedNetworkDType`] for one that cannot run there, see the
    /// type docs).
    pub fn new(cfg: &Vgg16Config, vb: VarBuilder) -> Result<Self> {
        crate::check::network_dtype("Vgg16::new", vb.dtype(), vb.device())?;
        if cfg.widths.iter().any(|w| *w == 0) {
            return Err(LossError::InvalidConfig {
                op: "Vgg16Config",
                reason: format!("widths must be positive, got {:?}", cfg.widths),
            });
        }
        let conv_cfg = Conv2dConfig { padding: 1, ..Default::default() };
        let mut stages = Vec::new();
        let mut cin = 3;
        let fv = vb.pp("features");
        for (stage, idxs) in STAGES.iter().enumerate().take(cfg.last_tap.index() + 1) {
            let cout = cfg.widths[stage];
            let mut convs = Vec::new();
            for &i in idxs.iter() {
                let w = fv.get((cout, cin, 3, 3), &format!("{i}.weight"))?.detach();
                let b = fv.get(cout, &format!("{i}.bias"))?.detach();
                convs.push(Conv2d::new(w, Some(b), conv_cfg));
                cin = cout;
            }
            stages.push(convs);
        }
        let dev = vb.device();
        let dtype = vb.dtype();
        let mean = Tensor::new(&IMAGENET_MEAN, dev)?.to_dtype(dtype)?.reshape((1, 3, 1, 1))?;
        let inv: Vec<f64> = IMAGENET_STD.iter().map(|s| 1.0 / s).collect();
        let inv_std = Tensor::new(inv.as_slice(), dev)?.to_dtype(dtype)?.reshape((1, 3, 1, 1))?;
        Ok(Self { cfg: cfg.clone(), stages, mean, inv_std })
    }

    /// Loads the network from a local safetensors file (torchvision or timm `vgg16` names;
    /// extra tensors such as the classifier or LPIPS heads are ignored). Missing or mis-shaped
    /// tensors are reported by name.
    pub fn from_safetensors(
        path: impl AsRef<std::path::Path>,
        cfg: &Vgg16Config,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        crate::check::network_dtype("Vgg16::from_safetensors", dtype, device)?;
        let vb = crate::weights::checked_var_builder(path.as_ref(), &cfg.tensor_names(), dtype, device)?;
        Self::new(cfg, vb)
    }

    /// Loads torchvision's ImageNet VGG16 from the Hugging Face Hub (default
    /// `timm/vgg16.tv_in1k`, see [`crate::HubWeights`]), from the local cache when it is there.
    pub fn from_hub(
        hub: &crate::HubWeights,
        cfg: &Vgg16Config,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        crate::check::network_dtype("Vgg16::from_hub", dtype, device)?;
        Self::from_safetensors(hub.resolve()?, cfg, dtype, device)
    }

    /// The configuration.
    pub fn config(&self) -> &Vgg16Config {
        &self.cfg
    }

    /// Taps `relu1_2 ..= last_tap` of images in `[0, 1]`, `(B, 3, H, W)`: ImageNet mean/std
    /// normalisation first, as torchvision's VGG16 expects.
    pub fn features(&self, x: &Tensor) -> Result<Vec<Tensor>> {
        rgb4("Vgg16::features", x)?;
        let xn = x.broadcast_sub(&self.mean)?.broadcast_mul(&self.inv_std)?;
        self.features_normalized(&xn, self.cfg.last_tap)
    }

    /// Taps `relu1_2 ..= up_to` of an already normalised `(B, 3, H, W)` input (no preprocessing).
    /// `up_to` must not be deeper than the configured `last_tap`. H and W should be at least
    /// `2^(stages - 1)` so that no stage is empty.
    pub fn features_normalized(&self, x: &Tensor, up_to: VggTap) -> Result<Vec<Tensor>> {
        let (_, _, h, w) = rgb4("Vgg16::features", x)?;
        if up_to > self.cfg.last_tap {
            return Err(LossError::InvalidConfig {
                op: "Vgg16::features",
                reason: format!(
                    "tap {up_to:?} requested but the network was built up to {:?}",
                    self.cfg.last_tap
                ),
            });
        }
        let need = 1usize << up_to.index();
        if h < need || w < need {
            return Err(LossError::ImageTooSmall {
                op: "Vgg16::features",
                height: h,
                width: w,
                needed: format!("tap {up_to:?} needs height and width of at least {need}"),
            });
        }
        let mut taps = Vec::with_capacity(up_to.index() + 1);
        let mut h = x.clone();
        for (stage, convs) in self.stages.iter().enumerate().take(up_to.index() + 1) {
            if stage > 0 {
                h = h.max_pool2d(2)?;
            }
            for conv in convs {
                h = crate::conv2d(&h, conv.weight(), conv.bias(), 1, 1)?.relu()?;
            }
            taps.push(h.clone());
        }
        Ok(taps)
    }

    /// One tap of images in `[0, 1]` (runs the network only as deep as needed).
    pub fn tap(&self, x: &Tensor, tap: VggTap) -> Result<Tensor> {
        rgb4("Vgg16::tap", x)?;
        let xn = x.broadcast_sub(&self.mean)?.broadcast_mul(&self.inv_std)?;
        let mut taps = self.features_normalized(&xn, tap)?;
        taps.pop().ok_or(LossError::InvalidConfig { op: "Vgg16::tap", reason: "no tap".into() })
    }
}
