//! [`LrSchedule`]: the learning rate as a function of the step.

/// A learning-rate schedule: a factor applied to the base rate at each step (0-based).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LrSchedule {
    /// The base rate throughout (the original's).
    #[default]
    Constant,
    /// Linear warm-up from `base / warmup_steps` to `base` over `warmup_steps` steps, then a
    /// half cosine from `base` down to `base * min_ratio` at `total_steps` (and flat after).
    WarmupCosine {
        /// Steps of linear warm-up (0 for none).
        warmup_steps: u64,
        /// Step at which the cosine reaches its floor.
        total_steps: u64,
        /// Floor as a fraction of the base rate.
        min_ratio: f64,
    },
}

impl LrSchedule {
    /// The factor of the base rate at `step`.
    ///
    /// ```
    /// use wno_trainer::optim::LrSchedule;
    /// let s = LrSchedule::WarmupCosine { warmup_steps: 10, total_steps: 110, min_ratio: 0.0 };
    /// assert!((s.factor(0) - 0.1).abs() < 1e-12);
    /// assert!((s.factor(9) - 1.0).abs() < 1e-12);
    /// assert!((s.factor(60) - 0.5).abs() < 1e-12); // half-way down the cosine
    /// assert!(s.factor(110).abs() < 1e-12);
    /// ```
    pub fn factor(&self, step: u64) -> f64 {
        match *self {
            LrSchedule::Constant => 1.0,
            LrSchedule::WarmupCosine {
                warmup_steps,
                total_steps,
                min_ratio,
            } => {
                if step < warmup_steps {
                    return (step + 1) as f64 / warmup_steps as f64;
                }
                let span = total_steps.saturating_sub(warmup_steps).max(1) as f64;
                let progress = ((step - warmup_steps) as f64 / span).min(1.0);
                min_ratio
                    + (1.0 - min_ratio) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
            }
        }
    }

    /// The rate at `step` for base rate `base`.
    pub fn lr(&self, base: f64, step: u64) -> f64 {
        base * self.factor(step)
    }
}
