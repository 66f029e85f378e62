//! VGG16 perceptual loss: L1 between relu3_3 features.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use crate::check::image_pair;
use crate::error::Result;
use crate::vgg::{Vgg16, Vgg16Config, VggTap};

/// Perceptual loss `mean(|vgg_relu3_3(pred) - vgg_relu3_3(target)|)` on ImageNet-normalised
/// `[0, 1]` images (DESIGN.md §2). Only the first three VGG16 stages are loaded and run.
///
/// The target branch runs on a detached input and builds no graph; gradients flow to `pred`
/// only, and the VGG weights are frozen. Dtypes as [`Vgg16`]'s: the constructors reject one the
/// device cannot run with [`crate::LossError::UnsupportedNetworkDType`].
///
/// ```
/// # use candle_core::{DType, Device, Tensor};
/// use candle_nn::{VarBuilder, VarMap};
/// use wno_losses::{Perceptual, Vgg16Config};
/// let cfg = Vgg16Config { widths: [4, 4, 4, 4, 4], ..Perceptual::config() };
/// let vm = VarMap::new();
/// let p = Perceptual::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu))?;
/// let x = Tensor::rand(0f32, 1., (1, 3, 8, 8), &Device::Cpu)?;
/// assert_eq!(p.loss(&x, &x)?.to_scalar::<f32>()?, 0.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Perceptual {
    vgg: Vgg16,
}

impl Perceptual {
    /// The standard VGG16 configuration truncated at relu3_3.
    pub fn config() -> Vgg16Config {
        Vgg16Config::up_to(VggTap::Relu3_3)
    }

    /// Builds the loss from `features.N.*` tensors (`cfg.last_tap` must be at least relu3_3).
    pub fn new(cfg: &Vgg16Config, vb: VarBuilder) -> Result<Self> {
        crate::check::network_dtype("Perceptual::new", vb.dtype(), vb.device())?;
        Self::from_vgg(Vgg16::new(cfg, vb)?)
    }

    /// Wraps an existing network (built at least up to relu3_3).
    pub fn from_vgg(vgg: Vgg16) -> Result<Self> {
        if vgg.config().last_tap < VggTap::Relu3_3 {
            return Err(crate::LossError::InvalidConfig {
                op: "Perceptual",
                reason: format!("needs VGG16 up to Relu3_3, got {:?}", vgg.config().last_tap),
            });
        }
        Ok(Self { vgg })
    }

    /// Loads torchvision VGG16 weights (up to relu3_3) from a local safetensors file.
    pub fn from_safetensors(path: impl AsRef<std::path::Path>, dtype: DType, device: &Device) -> Result<Self> {
        crate::check::network_dtype("Perceptual::from_safetensors", dtype, device)?;
        Self::from_vgg(Vgg16::from_safetensors(path, &Self::config(), dtype, device)?)
    }

    /// Loads torchvision VGG16 weights from the Hub (`timm/vgg16.tv_in1k` by default).
    pub fn from_hub(hub: &crate::HubWeights, dtype: DType, device: &Device) -> Result<Self> {
        crate::check::network_dtype("Perceptual::from_hub", dtype, device)?;
        Self::from_vgg(Vgg16::from_hub(hub, &Self::config(), dtype, device)?)
    }

    /// The underlying network.
    pub fn vgg(&self) -> &Vgg16 {
        &self.vgg
    }

    /// The loss (a scalar). `pred` and `target` are `(B, 3, H, W)` in `[0, 1]`, H, W >= 4.
    pub fn loss(&self, pred: &Tensor, target: &Tensor) -> Result<Tensor> {
        image_pair("Perceptual::loss", pred, target)?;
        let fp = self.vgg.tap(pred, VggTap::Relu3_3)?;
        let ft = self.vgg.tap(&target.detach(), VggTap::Relu3_3)?.detach();
        Ok((fp - ft)?.abs()?.mean_all()?)
    }
}
