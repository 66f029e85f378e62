//! Differentiable multi-level passes for training: teacher-forced (each level from the ground
//! truth of the level below) and free-running (each level from the previous prediction).

use crate::error::{OperatorError, Result};
use crate::generator::Generator;
use candle_core::Tensor;
use rand::Rng;

impl Generator {
    /// Teacher-forced predictions: `out[l] = step(inputs[l], noises[l], root)` for every level,
    /// all in one graph (gradients reach the shared weights from every level).
    ///
    /// `inputs` are the ground truth images of the levels below the targets, coarsest first
    /// (e.g. the 4, 8, 16, 32 levels of a pyramid; each `(B, 3, s, s)`). `noises` is empty (zeros
    /// everywhere) or holds one entry per level (`None` = zeros at that level), each
    /// `(B, noise_channels, 2s, 2s)`. `root` feeds the skip channels (`None` = zeros).
    ///
    /// # Errors
    /// [`OperatorError::Mismatch`] when `noises` has another length; as [`Generator::step`].
    pub fn teacher_forced(&self, inputs: &[Tensor], noises: &[Option<Tensor>], root: Option<&Tensor>) -> Result<Vec<Tensor>> {
        check_noises("Generator::teacher_forced", inputs.len(), noises)?;
        inputs.iter().enumerate().map(|(l, x)| self.step(x, noise_at(noises, l), root)).collect()
    }

    /// Free-running predictions from `start` `(B, 3, s, s)` over `levels` transitions, each taking
    /// the previous prediction as input; returns the `levels` predictions (sizes `2s, 4s, ...`),
    /// not `start`. With `detach_between` the gradient is cut between levels (each level is
    /// trained on its own, on the model's own inputs); without it gradients flow through the
    /// whole chain. `noises` and `root` as in [`Generator::teacher_forced`].
    ///
    /// # Errors
    /// [`OperatorError::Mismatch`] when `noises` has another length; as [`Generator::step`].
    pub fn free_run(
        &self,
        start: &Tensor,
        levels: usize,
        noises: &[Option<Tensor>],
        root: Option<&Tensor>,
        detach_between: bool,
    ) -> Result<Vec<Tensor>> {
        check_noises("Generator::free_run", levels, noises)?;
        let mut out: Vec<Tensor> = Vec::with_capacity(levels);
        for l in 0..levels {
            let prev = match out.last() {
                Some(p) if detach_between => p.detach(),
                Some(p) => p.clone(),
                None => start.clone(),
            };
            out.push(self.step(&prev, noise_at(noises, l), root)?);
        }
        Ok(out)
    }

    /// Noise for `sigmas.len()` transitions starting from side `start_side`: entry `l` is
    /// `(b, noise_channels, s_l, s_l)` with `s_l = start_side * 2^(l+1)` and standard deviation
    /// `sigmas[l]` (`None` where sigma is 0 or there are no noise channels), drawn on the CPU
    /// from `rng` and moved to the generator's device. Pass the result to
    /// [`Generator::teacher_forced`] or [`Generator::free_run`].
    ///
    /// # Errors
    /// Only candle errors (device transfer).
    pub fn level_noises<R: Rng + ?Sized>(&self, b: usize, start_side: usize, sigmas: &[f64], rng: &mut R) -> Result<Vec<Option<Tensor>>> {
        sigmas
            .iter()
            .enumerate()
            .map(|(l, &s)| {
                let side = start_side << (l + 1);
                self.noise(b, side, side, s, rng)
            })
            .collect()
    }
}

fn check_noises(op: &'static str, levels: usize, noises: &[Option<Tensor>]) -> Result<()> {
    if !noises.is_empty() && noises.len() != levels {
        return Err(OperatorError::Mismatch { op, detail: format!("{} noise entries for {levels} levels (pass none or one per level)", noises.len()) });
    }
    Ok(())
}

fn noise_at(noises: &[Option<Tensor>], l: usize) -> Option<&Tensor> {
    noises.get(l).and_then(|n| n.as_ref())
}
