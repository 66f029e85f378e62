//! [`Ema`]: an exponential moving average of the generator's weights.

use crate::error::{Result, TrainerError};
use candle_core::{Tensor, Var};
use std::collections::HashMap;

/// How the average is updated.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EmaConfig {
    /// Decay per update (e.g. 0.999).
    pub decay: f64,
    /// Ramp the decay as `min(decay, (1 + n) / (10 + n))` after `n` updates, so that the
    /// average does not remember the random initialisation for thousands of steps.
    pub warmup: bool,
}

impl Default for EmaConfig {
    fn default() -> Self {
        Self {
            decay: 0.999,
            warmup: true,
        }
    }
}

/// Shadow copies of named weights, updated as `s = d s + (1 - d) p` after each optimiser step.
///
/// ```
/// use candle_core::{Device, Var};
/// use wno_trainer::optim::{Ema, EmaConfig};
/// let w = Var::new(&[0.0f32], &Device::Cpu)?;
/// let mut ema = Ema::new(&[("w".to_string(), w.clone())], EmaConfig { decay: 0.5, warmup: false })?;
/// w.set(&candle_core::Tensor::new(&[4.0f32], &Device::Cpu)?)?;
/// ema.update(&[("w".to_string(), w.clone())])?;
/// assert_eq!(ema.get("w").unwrap().to_vec1::<f32>()?, vec![2.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Ema {
    cfg: EmaConfig,
    updates: u64,
    shadow: Vec<(String, Tensor)>,
}

impl Ema {
    /// Starts the average at the current values of `params`.
    ///
    /// # Errors
    /// A decay outside `[0, 1]`, or candle errors.
    pub fn new(params: &[(String, Var)], cfg: EmaConfig) -> Result<Self> {
        if !(0.0..=1.0).contains(&cfg.decay) {
            return Err(TrainerError::invalid(
                "Ema::new",
                format!("decay {} not in [0, 1]", cfg.decay),
            ));
        }
        let shadow = params
            .iter()
            .map(|(n, v)| Ok((n.clone(), v.as_tensor().copy()?.detach())))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            cfg,
            updates: 0,
            shadow,
        })
    }

    /// The decay the next update uses.
    pub fn current_decay(&self) -> f64 {
        if self.cfg.warmup {
            let n = self.updates as f64;
            self.cfg.decay.min((1.0 + n) / (10.0 + n))
        } else {
            self.cfg.decay
        }
    }

    /// Number of updates so far.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// Moves the average towards the current values of `params` (same names and order as at
    /// construction).
    ///
    /// # Errors
    /// Names that differ from the construction's, or candle errors.
    pub fn update(&mut self, params: &[(String, Var)]) -> Result<()> {
        if params.len() != self.shadow.len() {
            return Err(TrainerError::invalid(
                "Ema::update",
                format!(
                    "{} parameters, the average holds {}",
                    params.len(),
                    self.shadow.len()
                ),
            ));
        }
        let d = self.current_decay();
        for ((name, s), (pname, p)) in self.shadow.iter_mut().zip(params) {
            if name != pname {
                return Err(TrainerError::invalid(
                    "Ema::update",
                    format!("parameter `{pname}` where `{name}` was expected"),
                ));
            }
            *s = ((&*s * d)? + (p.as_tensor().detach() * (1.0 - d))?)?;
        }
        self.updates += 1;
        Ok(())
    }

    /// The averaged value of one weight.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.shadow.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// Every averaged weight with its name.
    pub fn tensors(&self) -> &[(String, Tensor)] {
        &self.shadow
    }

    /// Copies the averaged weights into `params` (e.g. into an evaluation copy of the model).
    ///
    /// # Errors
    /// A name without a shadow, or a shape mismatch.
    pub fn copy_to(&self, params: &[(String, Var)]) -> Result<()> {
        for (name, var) in params {
            let s = self.get(name).ok_or_else(|| {
                TrainerError::invalid("Ema::copy_to", format!("no average for `{name}`"))
            })?;
            var.set(s)?;
        }
        Ok(())
    }

    /// The state as named tensors `{prefix}{name}` plus `{prefix}__updates` (`i64`, `(1,)`).
    ///
    /// # Errors
    /// candle errors.
    pub fn state_tensors(&self, prefix: &str) -> Result<Vec<(String, Tensor)>> {
        let mut out: Vec<(String, Tensor)> = self
            .shadow
            .iter()
            .map(|(n, t)| (format!("{prefix}{n}"), t.clone()))
            .collect();
        out.push((
            format!("{prefix}__updates"),
            Tensor::new(&[self.updates as i64], &candle_core::Device::Cpu)?,
        ));
        Ok(out)
    }

    /// Restores the state of [`Ema::state_tensors`], keeping each shadow's device and dtype.
    ///
    /// # Errors
    /// A missing or mis-shaped entry, named in the error.
    pub fn load_state(&mut self, tensors: &HashMap<String, Tensor>, prefix: &str) -> Result<()> {
        let mut new = Vec::with_capacity(self.shadow.len());
        for (name, s) in &self.shadow {
            let key = format!("{prefix}{name}");
            let t = tensors.get(&key).ok_or_else(|| {
                TrainerError::invalid("Ema::load_state", format!("missing `{key}`"))
            })?;
            if t.dims() != s.dims() {
                return Err(TrainerError::Shape {
                    op: "Ema::load_state",
                    expected: format!("`{key}` with shape {:?}", s.dims()),
                    got: t.dims().to_vec(),
                    dtype: t.dtype(),
                });
            }
            new.push((name.clone(), t.to_dtype(s.dtype())?.to_device(s.device())?));
        }
        let key = format!("{prefix}__updates");
        let updates = tensors
            .get(&key)
            .ok_or_else(|| TrainerError::invalid("Ema::load_state", format!("missing `{key}`")))?
            .to_dtype(candle_core::DType::I64)?
            .flatten_all()?
            .to_vec1::<i64>()?;
        self.updates = match updates.as_slice() {
            [u] if *u >= 0 => *u as u64,
            _ => {
                return Err(TrainerError::invalid(
                    "Ema::load_state",
                    format!("bad `{key}`: {updates:?}"),
                ))
            }
        };
        self.shadow = new;
        Ok(())
    }
}
