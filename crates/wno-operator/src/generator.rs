//! The scale-recursive W-NO generator: one set of weights applied at every 2x transition.

use crate::block::WnoBlock;
use crate::config::Config;
use crate::coords::coordinate_channels;
use crate::error::{OperatorError, Result};
use crate::ops::{clamp01, gelu, resize_nearest, upsample_nearest, Conv1x1};
use crate::wavelet_conv::WaveletConv2d;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

/// The W-NO generator `T` of DESIGN.md section 1. One transition maps an upsampled image
/// `up` `(B, 3, H, W)` to `clamp(up + out_proj(h), 0, 1)` where `h` runs through `in_proj`,
/// GELU and the block stack.
///
/// Parameter names are PyTorch's: `in_proj`, `spec.conv_ll`, `spec.conv_hp`,
/// `layers.{i}.{dense,local1,local2,norm}`, `out_proj` (each `.weight` and `.bias`).
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_nn::{VarBuilder, VarMap};
/// use wno_operator::{Config, Generator};
/// let cfg = Config { width: 16, layers: 1, ..Default::default() };
/// let vm = VarMap::new();
/// let g = Generator::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu))?;
/// let x4 = Tensor::rand(0f32, 1., (2, 3, 4, 4), &Device::Cpu)?;
/// let x8 = g.step(&x4, None, Some(&x4))?; // 4x4 -> 8x8, zero noise, skip = root
/// assert_eq!(x8.dims(), &[2, 3, 8, 8]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Generator {
    cfg: Config,
    in_proj: Conv1x1,
    spec: WaveletConv2d,
    layers: Vec<WnoBlock>,
    out_proj: Conv1x1,
    dtype: DType,
    device: Device,
}

impl Generator {
    /// Builds the generator from `vb`: loads the parameters of a checkpoint, or creates them
    /// (PyTorch's default initialisation) when `vb` is backed by a `VarMap`.
    ///
    /// # Errors
    /// [`OperatorError::Config`] for an invalid configuration; candle's errors for missing or
    /// mis-shaped parameters (use [`crate::checkpoint`] for a checked load with clear messages).
    pub fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        cfg.validate()?;
        let w = cfg.width;
        let layers = (0..cfg.layers)
            .map(|i| WnoBlock::new(w, cfg.groups(), cfg.norm_eps, vb.pp("layers").pp(i)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            cfg: cfg.clone(),
            in_proj: Conv1x1::new(cfg.in_channels(), w, vb.pp("in_proj"))?,
            spec: WaveletConv2d::new(w, w, vb.pp("spec"))?,
            layers,
            out_proj: Conv1x1::new(w, 3, vb.pp("out_proj"))?,
            dtype: vb.dtype(),
            device: vb.device().clone(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The dtype of the parameters (inputs must have it too).
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The device of the parameters.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The shared wavelet convolution.
    pub fn spec(&self) -> &WaveletConv2d {
        &self.spec
    }

    /// The blocks.
    pub fn layers(&self) -> &[WnoBlock] {
        &self.layers
    }

    /// Every parameter with its PyTorch name, in PyTorch's `named_parameters()` order.
    pub fn named_parameters(&self) -> Vec<(String, Tensor)> {
        fn conv(v: &mut Vec<(String, Tensor)>, name: &str, c: &Conv1x1) {
            v.push((format!("{name}.weight"), c.weight().clone()));
            v.push((format!("{name}.bias"), c.bias().clone()));
        }
        let mut v = Vec::new();
        conv(&mut v, "in_proj", &self.in_proj);
        conv(&mut v, "spec.conv_ll", self.spec.conv_ll());
        conv(&mut v, "spec.conv_hp", self.spec.conv_hp());
        for (i, l) in self.layers.iter().enumerate() {
            conv(&mut v, &format!("layers.{i}.dense"), l.dense());
            for (name, d) in [("local1", l.local1()), ("local2", l.local2())] {
                v.push((format!("layers.{i}.{name}.weight"), d.weight().clone()));
                v.push((format!("layers.{i}.{name}.bias"), d.bias().clone()));
            }
            let (w, b) = l.norm().parameters();
            v.push((format!("layers.{i}.norm.weight"), w.clone()));
            v.push((format!("layers.{i}.norm.bias"), b.clone()));
        }
        conv(&mut v, "out_proj", &self.out_proj);
        v
    }

    fn check_image(&self, op: &'static str, name: &str, t: &Tensor, c: usize, b: Option<usize>) -> Result<()> {
        let ok = t.rank() == 4 && t.dim(1)? == c && b.is_none_or(|b| t.dim(0).is_ok_and(|d| d == b));
        if !ok {
            let batch = b.map_or("B".to_string(), |b| b.to_string());
            return Err(OperatorError::shape(op, format!("{name} ({batch}, {c}, H, W)"), t));
        }
        if t.dtype() != self.dtype || !t.device().same_device(&self.device) {
            return Err(OperatorError::Mismatch {
                op,
                detail: format!(
                    "{name} is {:?} on {:?}, the generator's parameters are {:?} on {:?}",
                    t.dtype(),
                    t.device().location(),
                    self.dtype,
                    self.device.location()
                ),
            });
        }
        Ok(())
    }

    /// The `in_proj` input `(B, C_in, H, W)`: `up` (3), noise, coordinates (x, y), skip (3)
    /// in this order (DESIGN.md section 1). `noise` `None` = zeros; `root` `None` = zeros in the
    /// skip channels, otherwise `root` `(B, 3, r, r)` is nearest-resized to `(H, W)`.
    ///
    /// # Errors
    /// [`OperatorError::Shape`] / [`OperatorError::Mismatch`] for inputs of the wrong shape,
    /// dtype or device; [`OperatorError::Size`] when `H, W` are not a multiple of the root's side.
    pub fn features(&self, up: &Tensor, noise: Option<&Tensor>, root: Option<&Tensor>) -> Result<Tensor> {
        const OP: &str = "Generator::features";
        self.check_image(OP, "upsampled image", up, 3, None)?;
        let (b, _, h, w) = up.dims4()?;
        let mut parts = vec![up.clone()];
        let nc = self.cfg.noise_channels;
        if nc > 0 {
            parts.push(match noise {
                Some(n) => {
                    self.check_image(OP, "noise", n, nc, Some(b))?;
                    if n.dims()[2..] != [h, w] {
                        return Err(OperatorError::shape(OP, format!("noise ({b}, {nc}, {h}, {w})"), n));
                    }
                    n.clone()
                }
                None => Tensor::zeros((b, nc, h, w), self.dtype, &self.device)?,
            });
        }
        if self.cfg.coords {
            parts.push(coordinate_channels(b, h, w, self.dtype, &self.device)?);
        }
        if self.cfg.skip {
            parts.push(match root {
                Some(r) => {
                    self.check_image(OP, "root canvas", r, 3, Some(b))?;
                    resize_nearest(r, h, w)?
                }
                None => Tensor::zeros((b, 3, h, w), self.dtype, &self.device)?,
            });
        }
        Ok(Tensor::cat(&parts, 1)?)
    }

    /// One transition at the size of `up` `(B, 3, H, W)` (already upsampled), returning the
    /// clamped output and the `out_proj` residual (before the add and clamp).
    ///
    /// # Errors
    /// As [`Generator::features`].
    pub fn transition_with_residual(&self, up: &Tensor, noise: Option<&Tensor>, root: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        let feats = self.features(up, noise, root)?;
        let mut h = gelu(&self.in_proj.forward(&feats)?)?;
        for layer in &self.layers {
            h = layer.forward(&h, &self.spec, self.cfg.residual_scale)?;
        }
        let residual = self.out_proj.forward(&h)?;
        let out = clamp01(&(up + &residual)?)?;
        Ok((out, residual))
    }

    /// One transition at the size of `up` (already upsampled): `clamp(up + out_proj(h), 0, 1)`.
    ///
    /// # Errors
    /// As [`Generator::features`].
    pub fn transition(&self, up: &Tensor, noise: Option<&Tensor>, root: Option<&Tensor>) -> Result<Tensor> {
        Ok(self.transition_with_residual(up, noise, root)?.0)
    }

    /// One scale step: nearest 2x upsampling of `x` `(B, 3, h, w)`, then [`Generator::transition`]
    /// at `(2h, 2w)`.
    ///
    /// # Errors
    /// As [`Generator::features`].
    pub fn step(&self, x: &Tensor, noise: Option<&Tensor>, root: Option<&Tensor>) -> Result<Tensor> {
        self.check_image("Generator::step", "image", x, 3, None)?;
        self.transition(&upsample_nearest(x, 2)?, noise, root)
    }
}
