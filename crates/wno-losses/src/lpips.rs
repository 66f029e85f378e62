//! LPIPS-VGG (v0.1), frozen.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use crate::check::image_pair;
use crate::error::Result;
use crate::vgg::{Vgg16, Vgg16Config, VggTap};

/// LPIPS's input scaling layer: `(x - shift) / scale` after mapping `[0, 1]` to `[-1, 1]`.
pub const LPIPS_SHIFT: [f64; 3] = [-0.030, -0.088, -0.188];
/// See [`LPIPS_SHIFT`].
pub const LPIPS_SCALE: [f64; 3] = [0.458, 0.448, 0.450];

/// LPIPS-VGG distance (Zhang et al. 2018, `lpips` package, `net='vgg'`, version 0.1).
///
/// For inputs in `[0, 1]`: `x -> 2x - 1`, then LPIPS's scaling layer `(x - shift) / scale`;
/// VGG16 taps relu1_2 .. relu5_3; each tap is unit-normalised over channels,
/// `f / (sqrt(sum_c f^2) + 1e-10)`; the squared difference of the two normalised taps goes
/// through the tap's 1x1 head `lin{k}.model.1.weight` (shape `(1, C_k, 1, 1)`, no bias), is
/// averaged over H and W, and the five values are summed.
///
/// One deviation that changes no value: the norm is `sqrt(sum_c f^2 + 1e-20)`, so that a pixel
/// where all channels are zero (common after ReLU) has a finite gradient instead of `0 * inf`.
///
/// Built once and frozen (weights detached); [`loss`](Self::loss) detaches the target.
#[derive(Debug, Clone)]
pub struct Lpips {
    vgg: Vgg16,
    heads: Vec<Tensor>,
    shift: Tensor,
    inv_scale: Tensor,
}

impl Lpips {
    /// `(name, shape)` of the head tensors for the given VGG widths.
    pub fn head_names(cfg: &Vgg16Config) -> Vec<(String, Vec<usize>)> {
        (0..5).map(|k| (format!("lin{k}.model.1.weight"), vec![1, cfg.widths[k], 1, 1])).collect()
    }

    /// Builds LPIPS from `features.N.*` and `lin{k}.model.1.weight` tensors of `vb`.
    /// `cfg.last_tap` must be relu5_3 (all five taps are used).
    pub fn new(cfg: &Vgg16Config, vb: VarBuilder) -> Result<Self> {
        crate::check::network_dtype("Lpips::new", vb.dtype(), vb.device())?;
        if cfg.last_tap != VggTap::Relu5_3 {
            return Err(crate::LossError::InvalidConfig {
                op: "Lpips",
                reason: format!("LPIPS uses all five taps; last_tap must be Relu5_3, got {:?}", cfg.last_tap),
            });
        }
        let vgg = Vgg16::new(cfg, vb.clone())?;
        let mut heads = Vec::with_capacity(5);
        for (name, shape) in Self::head_names(cfg) {
            // (1, C, 1, 1) -> (1, C, 1, 1) broadcast weights for a channel-weighted sum.
            heads.push(vb.get(shape, &name)?.detach());
        }
        let dev = vb.device();
        let dtype = vb.dtype();
        // 2x - 1 folded into the scaling layer: ((2x - 1) - shift) / scale.
        let shift = Tensor::new(&LPIPS_SHIFT, dev)?.to_dtype(dtype)?.reshape((1, 3, 1, 1))?;
        let inv: Vec<f64> = LPIPS_SCALE.iter().map(|s| 1.0 / s).collect();
        let inv_scale = Tensor::new(inv.as_slice(), dev)?.to_dtype(dtype)?.reshape((1, 3, 1, 1))?;
        Ok(Self { vgg, heads, shift, inv_scale })
    }

    /// Loads the VGG16 backbone and the heads from one safetensors file holding both
    /// (e.g. the project's `vgg16_lpips.safetensors`). Dtypes as [`Vgg16`]'s, checked before
    /// the file is read.
    pub fn from_safetensors(path: impl AsRef<std::path::Path>, dtype: DType, device: &Device) -> Result<Self> {
        crate::check::network_dtype("Lpips::from_safetensors", dtype, device)?;
        let cfg = Vgg16Config::default();
        let mut needed = cfg.tensor_names();
        needed.extend(Self::head_names(&cfg));
        let vb = crate::weights::checked_var_builder(path.as_ref(), &needed, dtype, device)?;
        Self::new(&cfg, vb)
    }

    /// The backbone.
    pub fn vgg(&self) -> &Vgg16 {
        &self.vgg
    }

    /// Per-tap distances of each image pair, `(B, 5)` (tap order relu1_2 .. relu5_3).
    pub fn per_tap(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        image_pair("lpips", x, y)?;
        let fx = self.taps(x)?;
        let fy = self.taps(y)?;
        let mut cols = Vec::with_capacity(5);
        for ((a, b), head) in fx.iter().zip(fy.iter()).zip(self.heads.iter()) {
            let d = (unit_normalize(a)? - unit_normalize(b)?)?.sqr()?;
            // 1x1 conv without bias = channel-weighted sum; then the spatial mean.
            let v = d.broadcast_mul(head)?.sum_keepdim(1)?.mean((1, 2, 3))?;
            cols.push(v.unsqueeze(1)?);
        }
        Ok(Tensor::cat(&cols, 1)?)
    }

    /// LPIPS of each image pair, `(B,)`.
    pub fn per_image(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        Ok(self.per_tap(x, y)?.sum(1)?)
    }

    /// Mean LPIPS over the batch (a scalar).
    pub fn forward(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        Ok(self.per_image(x, y)?.mean_all()?)
    }

    /// Training loss: mean LPIPS over the batch with the target detached.
    pub fn loss(&self, pred: &Tensor, target: &Tensor) -> Result<Tensor> {
        self.forward(pred, &target.detach())
    }

    fn taps(&self, x: &Tensor) -> Result<Vec<Tensor>> {
        let xn = x.affine(2.0, -1.0)?.broadcast_sub(&self.shift)?.broadcast_mul(&self.inv_scale)?;
        self.vgg.features_normalized(&xn, VggTap::Relu5_3)
    }
}

/// `f / (sqrt(sum_c f^2 + 1e-20) + 1e-10)` over dim 1.
fn unit_normalize(f: &Tensor) -> Result<Tensor> {
    let norm = f.sqr()?.sum_keepdim(1)?.affine(1.0, 1e-20)?.sqrt()?.affine(1.0, 1e-10)?;
    Ok(f.broadcast_div(&norm)?)
}
