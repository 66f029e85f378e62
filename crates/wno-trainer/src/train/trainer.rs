//! [`Trainer`]: the generator (and critic) with their optimisers, one optimisation step at a
//! time, and the tensors of a checkpoint.

use super::config::{Rollout, TrainConfig};
use super::init::reinit_uniform;
use super::objective::{total, LossNets, Objective};
use crate::data::area_pyramid;
use crate::error::{Result, TrainerError};
use crate::optim::{clip_grad_norm, grad_norm, Adam, Ema};
use crate::rng::TrainRng;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use std::collections::HashMap;
use wno_critic::{critic_hinge_loss, PatchGan, PatchGanConfig};
use wno_operator::{Generator, SkipMode};

/// Checkpoint name prefixes.
const GEN: &str = "gen.";
const EMA: &str = "ema.";
const OPT_G: &str = "opt_g.";
const CRITIC: &str = "critic.";
const OPT_D: &str = "opt_d.";

/// What one step measured.
#[derive(Clone, Debug, PartialEq)]
pub struct StepReport {
    /// The total generator loss.
    pub loss: f64,
    /// Every weighted term, by name (see [`Objective::terms`]).
    pub terms: Vec<(String, f64)>,
    /// The critic's hinge loss, when the critic trains.
    pub critic_loss: Option<f64>,
    /// The generator's global gradient norm before clipping.
    pub grad_norm: f64,
    /// The generator learning rate of this step.
    pub lr: f64,
}

struct Critic {
    net: PatchGan,
    params: Vec<(String, Var)>,
    opt: Adam,
}

/// The trainable state of a run: generator, optional critic and EMA, optimisers, the objective
/// and the random generator every training-time draw comes from.
pub struct Trainer {
    cfg: TrainConfig,
    device: Device,
    generator: Generator,
    params: Vec<(String, Var)>,
    opt: Adam,
    critic: Option<Critic>,
    ema: Option<Ema>,
    objective: Objective,
    sigmas: Vec<f64>,
    steps: u64,
}

/// The variables of a `VarMap` in sorted name order (a deterministic order for the
/// optimiser and the seeded initialisation).
fn sorted_vars(vm: &VarMap) -> Vec<(String, Var)> {
    let mut v: Vec<(String, Var)> = match vm.data().lock() {
        Ok(d) => d.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Err(poisoned) => poisoned.into_inner().iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    };
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

impl Trainer {
    /// A fresh run: the generator (and the critic when the adversarial weight is above 0)
    /// initialised as PyTorch does, drawn from `rng` so that a seed fixes the initialisation.
    ///
    /// # Errors
    /// An invalid configuration, a perceptual/LPIPS weight without its network, or candle
    /// errors.
    pub fn new(cfg: TrainConfig, nets: LossNets, device: &Device, rng: &mut TrainRng) -> Result<Self> {
        cfg.validate()?;
        let vm = VarMap::new();
        let generator = Generator::new(&cfg.model, VarBuilder::from_varmap(&vm, DType::F32, device))?;
        let params = sorted_vars(&vm);
        reinit_uniform(&params, rng)?;
        let opt = Adam::new(params.clone(), cfg.generator_optim.clone())?;
        let critic = if cfg.losses.adversarial > 0.0 {
            let cvm = VarMap::new();
            let pcfg = PatchGanConfig { widths: cfg.critic_widths.clone(), ..Default::default() };
            let net = PatchGan::new(&pcfg, VarBuilder::from_varmap(&cvm, DType::F32, device))?;
            let cparams = sorted_vars(&cvm);
            reinit_uniform(&cparams, rng)?;
            let copt = Adam::new(cparams.clone(), cfg.critic_optim.clone())?;
            Some(Critic { net, params: cparams, opt: copt })
        } else {
            None
        };
        let ema = cfg.ema.map(|e| Ema::new(&params, e)).transpose()?;
        let sigmas = cfg.model.sigmas.sigmas(cfg.model.levels()?)?;
        let objective = Objective::new(cfg.losses.clone(), nets)?;
        Ok(Self { cfg, device: device.clone(), generator, params, opt, critic, ema, objective, sigmas, steps: 0 })
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.cfg
    }

    /// The generator being trained (its weights change with every step).
    pub fn generator(&self) -> &Generator {
        &self.generator
    }

    /// Steps taken (including those before a resume).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// A detached copy of the generator to evaluate and export: the EMA weights when the EMA is
    /// on, the current weights otherwise.
    ///
    /// # Errors
    /// candle errors.
    pub fn eval_generator(&self) -> Result<Generator> {
        let tensors: HashMap<String, Tensor> = match &self.ema {
            Some(ema) => ema.tensors().iter().map(|(n, t)| Ok((n.clone(), t.copy()?))).collect::<Result<_>>()?,
            None => self.params.iter().map(|(n, v)| Ok((n.clone(), v.as_tensor().copy()?))).collect::<Result<_>>()?,
        };
        Ok(Generator::new(&self.cfg.model, VarBuilder::from_tensors(tensors, DType::F32, &self.device))?)
    }

    /// One optimisation step on a batch of ground-truth images `(B, 3, S, S)` in `[0, 1]`
    /// (`S` the configured target size): the predictions of every level under the configured
    /// rollout, the objective, backward, optional clipping, the Adam step, the critic step and
    /// the EMA update.
    ///
    /// # Errors
    /// [`TrainerError::NonFinite`] when the loss is NaN or infinite (nothing is updated);
    /// shape errors for a batch of the wrong size; candle errors.
    pub fn step(&mut self, images: &Tensor, rng: &mut TrainRng) -> Result<StepReport> {
        let m = &self.cfg.model;
        let dims = images.dims();
        if dims.len() != 4 || dims[1] != 3 || dims[2] != m.target_size || dims[3] != m.target_size {
            return Err(TrainerError::Shape {
                op: "Trainer::step",
                expected: format!("(B, 3, {0}, {0}) images", m.target_size),
                got: dims.to_vec(),
                dtype: images.dtype(),
            });
        }
        let images = images.to_dtype(DType::F32)?.to_device(&self.device)?;
        let b = dims[0];
        let pyramid = area_pyramid(&images, m.root_size)?;
        let levels = pyramid.len() - 1;
        let root = match m.skip_mode {
            SkipMode::Root => Some(pyramid[0].clone()),
            SkipMode::Zeros => None,
        };
        let noises = if m.train_noise { self.generator.level_noises(b, m.root_size, &self.sigmas, rng)? } else { Vec::new() };
        let mut preds: Vec<Tensor> = Vec::with_capacity(levels);
        for l in 0..levels {
            let input = match (&self.cfg.rollout, preds.last()) {
                (Rollout::Free { detach }, Some(p)) => if *detach { p.detach() } else { p.clone() },
                (Rollout::Mixed { p }, Some(prev)) if rng.random::<f64>() < *p => prev.detach(),
                _ => pyramid[l].clone(),
            };
            let input = self.condition(&input, rng)?;
            let noise = noises.get(l).and_then(|n| n.as_ref());
            preds.push(self.generator.step(&input, noise, root.as_ref())?);
        }
        let terms = self.objective.terms(&preds, &pyramid[1..], self.critic.as_ref().map(|c| &c.net))?;
        let loss = total(&terms)?;
        let mut values = Vec::with_capacity(terms.len());
        for (name, t) in &terms {
            let v = t.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            if !v.is_finite() {
                return Err(TrainerError::NonFinite { step: self.steps + 1, term: name.clone(), value: v });
            }
            values.push((name.clone(), v));
        }
        let loss_value = values.iter().map(|(_, v)| v).sum::<f64>();

        // The critic's loss on the (detached) prediction, with the critic as it was for the
        // generator term; checked before anything is updated.
        let critic_loss = match &self.critic {
            Some(c) => {
                let fake = preds[levels - 1].detach();
                let d_loss = critic_hinge_loss(&c.net.forward(&pyramid[levels].detach())?, &c.net.forward(&fake)?)?;
                let v = d_loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
                if !v.is_finite() {
                    return Err(TrainerError::NonFinite { step: self.steps + 1, term: "critic".into(), value: v });
                }
                Some((d_loss, v))
            }
            None => None,
        };

        let lr = self.cfg.schedule.lr(self.cfg.generator_optim.lr, self.steps);
        self.opt.set_lr(lr);
        let mut grads = loss.backward()?;
        let vars = self.params.iter().map(|(_, v)| v);
        let norm = match self.cfg.clip_grad_norm {
            Some(max) => clip_grad_norm(&mut grads, vars, max)?,
            None => grad_norm(&grads, vars)?,
        };
        if !norm.is_finite() {
            return Err(TrainerError::NonFinite { step: self.steps + 1, term: "gradient norm".into(), value: norm });
        }
        self.opt.step(&grads)?;
        drop(grads);
        let critic_loss = match (&mut self.critic, critic_loss) {
            (Some(c), Some((d_loss, v))) => {
                c.opt.set_lr(self.cfg.schedule.lr(self.cfg.critic_optim.lr, self.steps));
                c.opt.backward_step(&d_loss)?;
                Some(v)
            }
            _ => None,
        };
        if let Some(ema) = &mut self.ema {
            ema.update(&self.params)?;
        }
        self.steps += 1;
        Ok(StepReport { loss: loss_value, terms: values, critic_loss, grad_norm: norm, lr })
    }

    /// The conditioning augmentation of one input canvas (noise, then blur), a no-op when off.
    fn condition(&self, x: &Tensor, rng: &mut TrainRng) -> Result<Tensor> {
        let c = &self.cfg.conditioning;
        let mut x = x.clone();
        if c.noise_std > 0.0 {
            let n = x.elem_count();
            let v: Vec<f32> = (0..n)
                .map(|_| {
                    let z: f32 = StandardNormal.sample(rng);
                    z * c.noise_std as f32
                })
                .collect();
            let noise = Tensor::from_vec(v, x.dims(), &Device::Cpu)?.to_device(x.device())?;
            x = (x + noise)?.clamp(0f32, 1f32)?;
        }
        if c.blur_prob > 0.0 && rng.random::<f64>() < c.blur_prob {
            x = box_blur3(&x)?;
        }
        Ok(x)
    }

    /// Every tensor of a checkpoint: generator (`gen.`), EMA (`ema.`), generator optimiser
    /// (`opt_g.`), critic (`critic.`) and its optimiser (`opt_d.`).
    ///
    /// # Errors
    /// candle errors.
    pub fn checkpoint_tensors(&self) -> Result<Vec<(String, Tensor)>> {
        let mut out: Vec<(String, Tensor)> = self.params.iter().map(|(n, v)| (format!("{GEN}{n}"), v.as_tensor().clone())).collect();
        if let Some(ema) = &self.ema {
            out.extend(ema.state_tensors(EMA)?);
        }
        out.extend(self.opt.state_tensors(OPT_G)?);
        if let Some(c) = &self.critic {
            out.extend(c.params.iter().map(|(n, v)| (format!("{CRITIC}{n}"), v.as_tensor().clone())));
            out.extend(c.opt.state_tensors(OPT_D)?);
        }
        Ok(out)
    }

    /// Restores the state of [`Trainer::checkpoint_tensors`] and the step count.
    ///
    /// # Errors
    /// A missing or mis-shaped tensor, named in the error.
    pub fn restore(&mut self, tensors: &HashMap<String, Tensor>, steps: u64) -> Result<()> {
        let set = |prefix: &str, params: &[(String, Var)]| -> Result<()> {
            for (n, v) in params {
                let key = format!("{prefix}{n}");
                let t = tensors.get(&key).ok_or_else(|| TrainerError::invalid("Trainer::restore", format!("checkpoint lacks `{key}`")))?;
                if t.dims() != v.dims() {
                    return Err(TrainerError::Shape {
                        op: "Trainer::restore",
                        expected: format!("`{key}` with shape {:?}", v.dims()),
                        got: t.dims().to_vec(),
                        dtype: t.dtype(),
                    });
                }
                v.set(&t.to_dtype(v.dtype())?.to_device(v.device())?)?;
            }
            Ok(())
        };
        set(GEN, &self.params)?;
        self.opt.load_state(tensors, OPT_G)?;
        if let Some(ema) = &mut self.ema {
            ema.load_state(tensors, EMA)?;
        }
        if let Some(c) = &mut self.critic {
            set(CRITIC, &c.params)?;
            c.opt.load_state(tensors, OPT_D)?;
        }
        self.steps = steps;
        Ok(())
    }
}

/// 3x3 box blur with replicated borders, per channel.
fn box_blur3(x: &Tensor) -> Result<Tensor> {
    let (h, w) = (x.dim(2)?, x.dim(3)?);
    let p = x.pad_with_same(2, 1, 1)?.pad_with_same(3, 1, 1)?;
    let mut acc = p.narrow(2, 0, h)?.narrow(3, 0, w)?;
    for (dy, dx) in (0..3).flat_map(|dy| (0..3).map(move |dx| (dy, dx))).skip(1) {
        acc = (acc + p.narrow(2, dy, h)?.narrow(3, dx, w)?)?;
    }
    Ok((acc / 9.0)?)
}
