//! [`Adam`]: PyTorch's `torch.optim.Adam` / `AdamW` update with saveable moments.

use crate::error::{Result, TrainerError};
use candle_core::backprop::GradStore;
use candle_core::{DType, Tensor, Var};
use std::collections::HashMap;

/// Hyper-parameters of [`Adam`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamConfig {
    /// Learning rate (the base rate; a schedule scales it through [`Adam::set_lr`]).
    pub lr: f64,
    /// `beta1`, the decay of the first moment.
    pub beta1: f64,
    /// `beta2`, the decay of the second moment.
    pub beta2: f64,
    /// Added to the bias-corrected root of the second moment.
    pub eps: f64,
    /// Weight decay factor (0 disables it).
    pub weight_decay: f64,
    /// `false`: coupled L2, `grad += weight_decay * param` before the moments (PyTorch
    /// `Adam(weight_decay=...)`, the original's). `true`: decoupled, `param *= 1 - lr *
    /// weight_decay` before the update (`AdamW`).
    pub decoupled: bool,
}

impl Default for AdamConfig {
    /// PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay.
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
        }
    }
}

impl AdamConfig {
    /// Checks that every value is finite and in range.
    ///
    /// # Errors
    /// A negative or non-finite rate, eps or decay, or a beta outside `[0, 1)`.
    pub fn validate(&self) -> Result<()> {
        let ok = self.lr.is_finite()
            && self.lr >= 0.0
            && (0.0..1.0).contains(&self.beta1)
            && (0.0..1.0).contains(&self.beta2)
            && self.eps.is_finite()
            && self.eps >= 0.0
            && self.weight_decay.is_finite()
            && self.weight_decay >= 0.0;
        if ok {
            Ok(())
        } else {
            Err(TrainerError::invalid(
                "AdamConfig",
                format!("invalid hyper-parameters {self:?}"),
            ))
        }
    }
}

struct ParamState {
    name: String,
    var: Var,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    step: u64,
}

/// Adam over named variables, with the exact update of PyTorch's single-tensor `Adam`/`AdamW`
/// (no AMSGrad) and a state ([`Adam::state_tensors`]) that round-trips through safetensors.
///
/// For each parameter `p` with gradient `g`, at its step `t` (counted per parameter; a
/// parameter without a gradient is left alone, as in PyTorch):
/// `g += wd p` (coupled) or `p *= 1 - lr wd` (decoupled); `m = b1 m + (1 - b1) g`;
/// `v = b2 v + (1 - b2) g^2`; `p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use wno_trainer::optim::{Adam, AdamConfig};
/// let w = Var::new(&[1.0f32, -2.0], &Device::Cpu)?;
/// let mut opt = Adam::new(vec![("w".into(), w.clone())], AdamConfig { lr: 0.1, ..Default::default() })?;
/// let loss = w.as_tensor().sqr()?.sum_all()?;
/// opt.backward_step(&loss)?;
/// // The first Adam step moves each weight by lr against the sign of its gradient.
/// let got = w.as_tensor().to_vec1::<f32>()?;
/// assert!((got[0] - 0.9).abs() < 1e-6 && (got[1] + 1.9).abs() < 1e-6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Adam {
    cfg: AdamConfig,
    lr: f64,
    params: Vec<ParamState>,
}

impl Adam {
    /// An optimiser over `params` (name, variable), with zero moments.
    ///
    /// # Errors
    /// Invalid hyper-parameters, duplicate names, or a non-float variable.
    pub fn new(params: Vec<(String, Var)>, cfg: AdamConfig) -> Result<Self> {
        cfg.validate()?;
        let mut seen = std::collections::HashSet::new();
        let mut states = Vec::with_capacity(params.len());
        for (name, var) in params {
            if !seen.insert(name.clone()) {
                return Err(TrainerError::invalid(
                    "Adam::new",
                    format!("duplicate parameter name `{name}`"),
                ));
            }
            if !var.dtype().is_float() {
                return Err(TrainerError::Shape {
                    op: "Adam::new",
                    expected: format!("a float parameter `{name}`"),
                    got: var.dims().to_vec(),
                    dtype: var.dtype(),
                });
            }
            let exp_avg = var.zeros_like()?;
            let exp_avg_sq = var.zeros_like()?;
            states.push(ParamState {
                name,
                var,
                exp_avg,
                exp_avg_sq,
                step: 0,
            });
        }
        Ok(Self {
            lr: cfg.lr,
            cfg,
            params: states,
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &AdamConfig {
        &self.cfg
    }

    /// The current learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// Sets the learning rate of the next steps (e.g. from an [`LrSchedule`](super::LrSchedule)).
    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// The optimised variables, with their names.
    pub fn vars(&self) -> impl Iterator<Item = (&str, &Var)> {
        self.params.iter().map(|p| (p.name.as_str(), &p.var))
    }

    /// Steps taken by the first parameter (all parameters share it when every step gives each
    /// of them a gradient).
    pub fn step_count(&self) -> u64 {
        self.params.first().map_or(0, |p| p.step)
    }

    /// Backpropagates `loss` and takes one step.
    ///
    /// # Errors
    /// candle errors from the backward pass or the update.
    pub fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        let grads = loss.backward()?;
        self.step(&grads)
    }

    /// One update from the gradients in `grads` (computed in f32 or f64 as the parameters).
    ///
    /// # Errors
    /// A gradient whose shape differs from its parameter, or candle errors.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        let (b1, b2, eps, wd, lr) = (
            self.cfg.beta1,
            self.cfg.beta2,
            self.cfg.eps,
            self.cfg.weight_decay,
            self.lr,
        );
        for p in &mut self.params {
            let Some(g) = grads.get(p.var.as_tensor()) else {
                continue;
            };
            if g.dims() != p.var.dims() {
                return Err(TrainerError::Shape {
                    op: "Adam::step",
                    expected: format!("gradient of `{}` with shape {:?}", p.name, p.var.dims()),
                    got: g.dims().to_vec(),
                    dtype: g.dtype(),
                });
            }
            p.step += 1;
            let t = p.step as i32;
            let mut param = p.var.as_tensor().detach();
            let mut g = g.detach();
            if wd != 0.0 {
                if self.cfg.decoupled {
                    param = (param * (1.0 - lr * wd))?;
                } else {
                    g = (g + (&param * wd)?)?;
                }
            }
            p.exp_avg = ((&p.exp_avg * b1)? + (&g * (1.0 - b1))?)?;
            p.exp_avg_sq = ((&p.exp_avg_sq * b2)? + (g.sqr()? * (1.0 - b2))?)?;
            let bias1 = 1.0 - b1.powi(t);
            let bias2_sqrt = (1.0 - b2.powi(t)).sqrt();
            let denom = ((p.exp_avg_sq.sqrt()? / bias2_sqrt)? + eps)?;
            let update = ((&p.exp_avg / &denom)? * (lr / bias1))?;
            p.var.set(&(param - update)?)?;
        }
        Ok(())
    }

    /// The state as named tensors: `{name}.exp_avg`, `{name}.exp_avg_sq` (the parameter's
    /// dtype) and `{name}.step` (an `i64` scalar in a `(1,)` tensor), each prefixed by `prefix`.
    ///
    /// # Errors
    /// candle errors.
    pub fn state_tensors(&self, prefix: &str) -> Result<Vec<(String, Tensor)>> {
        let mut out = Vec::with_capacity(3 * self.params.len());
        for p in &self.params {
            out.push((format!("{prefix}{}.exp_avg", p.name), p.exp_avg.clone()));
            out.push((
                format!("{prefix}{}.exp_avg_sq", p.name),
                p.exp_avg_sq.clone(),
            ));
            let step = Tensor::new(&[p.step as i64], &candle_core::Device::Cpu)?;
            out.push((format!("{prefix}{}.step", p.name), step));
        }
        Ok(out)
    }

    /// Restores the state written by [`Adam::state_tensors`] with the same `prefix`, moving the
    /// moments to each parameter's device and dtype.
    ///
    /// # Errors
    /// A missing entry or one whose shape does not match its parameter, named in the error.
    pub fn load_state(&mut self, tensors: &HashMap<String, Tensor>, prefix: &str) -> Result<()> {
        let get = |key: String| {
            tensors.get(&key).ok_or_else(|| {
                TrainerError::invalid(
                    "Adam::load_state",
                    format!("missing optimiser state `{key}`"),
                )
            })
        };
        let mut loaded = Vec::with_capacity(self.params.len());
        for p in &self.params {
            let mut moments = Vec::with_capacity(2);
            for what in ["exp_avg", "exp_avg_sq"] {
                let key = format!("{prefix}{}.{what}", p.name);
                let t = get(key.clone())?;
                if t.dims() != p.var.dims() {
                    return Err(TrainerError::Shape {
                        op: "Adam::load_state",
                        expected: format!("`{key}` with shape {:?}", p.var.dims()),
                        got: t.dims().to_vec(),
                        dtype: t.dtype(),
                    });
                }
                moments.push(t.to_dtype(p.var.dtype())?.to_device(p.var.device())?);
            }
            let step_key = format!("{prefix}{}.step", p.name);
            let step = get(step_key.clone())?
                .to_dtype(DType::I64)?
                .flatten_all()?
                .to_vec1::<i64>()?;
            let step = match step.as_slice() {
                [s] if *s >= 0 => *s as u64,
                _ => {
                    return Err(TrainerError::invalid(
                        "Adam::load_state",
                        format!("`{step_key}` must hold one non-negative step, got {step:?}"),
                    ))
                }
            };
            let exp_avg_sq = moments
                .pop()
                .ok_or_else(|| TrainerError::invalid("Adam::load_state", "internal"))?;
            let exp_avg = moments
                .pop()
                .ok_or_else(|| TrainerError::invalid("Adam::load_state", "internal"))?;
            loaded.push((exp_avg, exp_avg_sq, step));
        }
        for (p, (m, v, s)) in self.params.iter_mut().zip(loaded) {
            p.exp_avg = m;
            p.exp_avg_sq = v;
            p.step = s;
        }
        Ok(())
    }
}
