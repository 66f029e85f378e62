//! [`run`]: a whole training run in a run folder, with evaluation, samples, curves,
//! checkpoints and resume.
//!
//! Run folder layout:
//!
//! | file | what |
//! |---|---|
//! | `config.json` | the [`TrainConfig`], the data sources and the device |
//! | `metrics.jsonl` | one line per logged step (`"kind": "train"`) and per evaluation (`"eval"`) |
//! | `samples/step_NNNNNNN.png` | sample grid at each evaluation: upscale rows (4x4 input, each scale, ground truth) then `generate` rows |
//! | `curves.png` | training loss and PSNR curves |
//! | `checkpoints/{last,best}.safetensors` | full training state (weights, EMA, optimisers, RNG, position) |
//! | `model_{last,best}.safetensors` + `.json` | the exported generator (EMA weights when on) with its 4x4 prior, loadable by `wno_operator::model_file::load_model` |
//! | `prior.safetensors` | the 4x4 prior fitted on the training set |

use super::config::TrainConfig;
use super::objective::LossNets;
use super::trainer::{StepReport, Trainer};
use crate::checkpoint::{CheckpointDir, TrainState};
use crate::data::{area_pyramid, stack_images, DataLoader, ImageSource, LoaderConfig, Pipeline};
use crate::error::{Result, TrainerError};
use crate::eval::{evaluate, EvalNets, EvalOptions, EvalReport};
use crate::report::{plot_curves, read_metrics, save_grid, scale_rows, truncate_metrics_after, MetricsLog, Progress};
use crate::optim::LrSchedule;
use crate::rng::TrainRng;
use candle_core::{Device, Tensor};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use wno_operator::{model_file, Generator, Prior4x4, SampleOptions};

/// Rows of upscale and of generate samples in each grid.
const GRID_ROWS: usize = 6;
/// Pixel side of a grid cell.
const GRID_CELL: usize = 64;

/// How to run.
pub struct RunOptions {
    /// The run configuration (ignored in favour of the stored one when resuming, except the
    /// stopping limits `epochs`, `max_steps` and `max_seconds`).
    pub config: TrainConfig,
    /// The run folder.
    pub out_dir: PathBuf,
    /// Continue the run in `out_dir` from its last checkpoint.
    pub resume: bool,
    /// Where the models run.
    pub device: Device,
    /// Draw a progress bar (when stderr is a terminal).
    pub progress: bool,
}

/// The images of a run.
pub struct RunData {
    /// Training images.
    pub train: Arc<dyn ImageSource>,
    /// Evaluation images (the first `eval_images` are used in training); `None` skips evaluation.
    pub eval: Option<Arc<dyn ImageSource>>,
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Every epoch done.
    Epochs,
    /// `max_steps` reached.
    MaxSteps,
    /// `max_seconds` reached.
    Time,
}

/// What a run did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunSummary {
    /// Steps in all (across resumes).
    pub steps: u64,
    /// Epochs completed.
    pub epochs: u64,
    /// Why it stopped.
    pub stopped: StopReason,
    /// The best score (free-running PSNR at the target size) and its step.
    pub best: Option<(f64, u64)>,
    /// The last evaluation.
    pub last_eval: Option<EvalReport>,
    /// Training seconds in all (across resumes).
    pub seconds: f64,
    /// The last logged loss.
    pub last_loss: Option<f64>,
}

/// The paths of a run folder.
#[derive(Clone, Debug)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// The run folder at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    /// `config.json`.
    pub fn config(&self) -> PathBuf {
        self.root.join("config.json")
    }
    /// `metrics.jsonl`.
    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }
    /// `curves.png`.
    pub fn curves(&self) -> PathBuf {
        self.root.join("curves.png")
    }
    /// `prior.safetensors`.
    pub fn prior(&self) -> PathBuf {
        self.root.join("prior.safetensors")
    }
    /// The sample grid of `step`.
    pub fn samples(&self, step: u64) -> PathBuf {
        self.root.join("samples").join(format!("step_{step:07}.png"))
    }
    /// The checkpoints folder.
    pub fn checkpoints(&self) -> CheckpointDir {
        CheckpointDir::new(self.root.join("checkpoints"))
    }
    /// The exported model, `which` = `last` or `best`.
    pub fn model(&self, which: &str) -> PathBuf {
        self.root.join(format!("model_{which}.safetensors"))
    }
}

/// Fits the 4x4 prior on the thumbnails of every image of `source` (preprocessed without
/// augmentation as in training: resize to `target`, then area-average down to 4x4).
///
/// # Errors
/// Unreadable images, or a prior that cannot be fitted.
pub fn fit_prior(source: &dyn ImageSource, target: usize, root: usize) -> Result<Prior4x4> {
    let pipeline = Pipeline::eval(target);
    let mut rng = TrainRng::seed_from_u64(0);
    let mut thumbs = Vec::new();
    let chunk = 512;
    for start in (0..source.len()).step_by(chunk) {
        let imgs = (start..(start + chunk).min(source.len()))
            .map(|i| pipeline.apply(&source.get(i)?.image, &mut rng))
            .collect::<Result<Vec<_>>>()?;
        let batch = stack_images(&imgs, &Device::Cpu)?;
        thumbs.push(area_pyramid(&batch, root)?.remove(0));
    }
    Ok(Prior4x4::fit(&Tensor::cat(&thumbs, 0)?)?)
}

/// The first `n` images of `source`, preprocessed for evaluation, as one batch on `device`.
fn first_images(source: &dyn ImageSource, n: usize, target: usize, device: &Device) -> Result<Tensor> {
    let pipeline = Pipeline::eval(target);
    let mut rng = TrainRng::seed_from_u64(0);
    let imgs = (0..n.min(source.len())).map(|i| pipeline.apply(&source.get(i)?.image, &mut rng)).collect::<Result<Vec<_>>>()?;
    stack_images(&imgs, device)
}

/// Writes the sample grid of a generator: upscale rows from the 4x4 thumbnails of `truth`
/// (with the ground truth as last column), then `generate` rows from the prior.
///
/// # Errors
/// Sampling or image-writing errors.
pub fn write_sample_grid(generator: &Generator, prior: &Prior4x4, truth: &Tensor, path: &Path, seed: u64) -> Result<()> {
    let cfg = generator.config();
    let opts = SampleOptions { seed, ..Default::default() };
    let mut rows = Vec::new();
    if truth.dim(0)? > 0 {
        let truth = truth.to_device(generator.device())?;
        let low = area_pyramid(&truth, cfg.root_size)?.remove(0);
        rows.extend(scale_rows(&generator.upscale(&low, cfg.target_size, &opts)?, Some(&truth))?);
    }
    if cfg.root_size == 4 {
        rows.extend(scale_rows(&generator.generate(GRID_ROWS, prior, &opts)?, None)?);
    }
    save_grid(path, &rows, GRID_CELL)
}

fn train_record(step: u64, epoch: u64, r: &StepReport, images_per_s: f64, elapsed: f64) -> Value {
    let terms: serde_json::Map<String, Value> = r.terms.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    json!({
        "kind": "train", "step": step, "epoch": epoch, "loss": r.loss, "terms": terms,
        "critic_loss": r.critic_loss, "grad_norm": r.grad_norm, "lr": r.lr,
        "images_per_s": images_per_s, "elapsed_s": elapsed,
    })
}

fn eval_record(step: u64, epoch: u64, r: &EvalReport) -> Result<Value> {
    let mut v = serde_json::to_value(r).map_err(|e| TrainerError::invalid("run", format!("eval report to JSON: {e}")))?;
    if let Value::Object(m) = &mut v {
        m.insert("kind".into(), json!("eval"));
        m.insert("step".into(), json!(step));
        m.insert("epoch".into(), json!(epoch));
    }
    Ok(v)
}

fn write_json(path: &Path, value: &Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| TrainerError::Json { op: "write config", path: path.to_path_buf(), source: e })?;
    crate::checkpoint::write_atomic(path, text.as_bytes())
}

/// State of a run between steps.
struct Ctx<'a> {
    trainer: Trainer,
    state: TrainState,
    rng: TrainRng,
    dir: RunDir,
    metrics: MetricsLog,
    prior: Prior4x4,
    data: &'a RunData,
    eval_nets: &'a EvalNets,
    truth: Tensor,
    last_eval: Option<EvalReport>,
    last_checkpoint_step: Option<u64>,
}

impl Ctx<'_> {
    /// Evaluates, writes samples, curves, checkpoints and the exported models.
    fn checkpoint(&mut self, progress: &Progress) -> Result<()> {
        if self.last_checkpoint_step == Some(self.state.step) {
            return Ok(());
        }
        let cfg = self.trainer.config().clone();
        let generator = self.trainer.eval_generator()?;
        let mut score = None;
        if let Some(eval) = &self.data.eval {
            let opts = EvalOptions { limit: Some(cfg.eval_images), generate: 0, seed: cfg.seed, ..Default::default() };
            let report = evaluate(&generator, Some(&self.prior), eval.as_ref(), &opts, self.eval_nets)?;
            self.metrics.write(&eval_record(self.state.step, self.state.epoch, &report)?)?;
            progress.println(&format!(
                "step {}: teacher-forced {:.2} dB, free-running {:.2} dB (bicubic {:.2} dB), SSIM {:.4}",
                self.state.step, report.teacher_psnr_mean, report.free_psnr, report.bicubic_psnr, report.free_ssim
            ));
            score = Some(report.free_psnr);
            self.last_eval = Some(report);
        }
        write_sample_grid(&generator, &self.prior, &self.truth, &self.dir.samples(self.state.step), cfg.seed)?;
        self.state.rng = self.rng.state();
        let is_best = self.dir.checkpoints().save(&self.trainer.checkpoint_tensors()?, &mut self.state, score)?;
        model_file::save_model(&generator, Some(&self.prior), &self.dir.model("last"))?;
        if is_best {
            model_file::save_model(&generator, Some(&self.prior), &self.dir.model("best"))?;
        }
        plot_curves(&read_metrics(&self.dir.metrics())?, &self.dir.curves())?;
        self.last_checkpoint_step = Some(self.state.step);
        Ok(())
    }
}

/// Runs (or resumes) training in `opts.out_dir` until the epochs, `max_steps` or `max_seconds`
/// run out, evaluating and checkpointing at every epoch end and every `eval_every` steps.
/// A NaN or infinite loss stops the run with [`TrainerError::NonFinite`]; the checkpoints
/// written before stay as they were.
///
/// # Errors
/// Data, I/O, configuration or numeric errors, each naming what failed.
pub fn run(opts: RunOptions, data: RunData, loss_nets: LossNets, eval_nets: &EvalNets) -> Result<RunSummary> {
    let dir = RunDir::new(&opts.out_dir);
    std::fs::create_dir_all(&opts.out_dir).map_err(|e| TrainerError::io("create run folder", &opts.out_dir, e))?;
    let ckpt = dir.checkpoints();
    let (mut cfg, resumed) = if opts.resume {
        let state = crate::checkpoint::read_metadata(&ckpt.last_path())?;
        let stored: TrainConfig = serde_json::from_value(state.config.clone())
            .map_err(|e| TrainerError::Json { op: "resume", path: ckpt.last_path(), source: e })?;
        (stored, Some(state))
    } else {
        if ckpt.last_path().exists() {
            return Err(TrainerError::invalid(
                "run",
                format!("{} already holds a run; resume it, or choose another output folder", opts.out_dir.display()),
            ));
        }
        (opts.config.clone(), None)
    };
    // The stopping limits may change on resume.
    cfg.epochs = opts.config.epochs;
    cfg.max_steps = opts.config.max_steps;
    cfg.max_seconds = opts.config.max_seconds;
    cfg.validate()?;

    let loader_cfg = LoaderConfig {
        batch_size: cfg.batch_size,
        shuffle: true,
        drop_last: true,
        seed: cfg.seed,
        workers: cfg.workers,
        prefetch: 2 * cfg.workers.max(1),
    };
    let loader = DataLoader::new(data.train.clone(), Pipeline::train(cfg.model.target_size), loader_cfg)?;
    let per_epoch = loader.batches_per_epoch() as u64;

    let total = cfg.max_steps.unwrap_or(u64::MAX).min(cfg.epochs.saturating_mul(per_epoch));
    // The configuration the trainer runs with: a run-long schedule resolved to this run's length
    // (the stored configuration keeps `total_steps: 0`, so that a resume resolves it again).
    let mut run_cfg = cfg.clone();
    if let LrSchedule::WarmupCosine { total_steps: t @ 0, .. } = &mut run_cfg.schedule {
        *t = total;
    }
    let mut init_rng = TrainRng::for_stream(&[cfg.seed, 0x696e_6974]);
    let mut trainer = Trainer::new(run_cfg.clone(), loss_nets, &opts.device, &mut init_rng)?;
    let (state, rng, prior) = match resumed {
        Some(_) => {
            let (tensors, state) = ckpt.load_last(&Device::Cpu)?;
            trainer.restore(&tensors, state.step)?;
            let rng = TrainRng::from_state(state.rng)?;
            truncate_metrics_after(&dir.metrics(), state.step)?;
            (state, rng, Prior4x4::load(dir.prior())?)
        }
        None => {
            let prior = fit_prior(data.train.as_ref(), cfg.model.target_size, cfg.model.root_size)?;
            prior.save(dir.prior())?;
            let mut state = TrainState::new(cfg.seed);
            state.config = serde_json::to_value(&cfg).map_err(|e| TrainerError::invalid("run", e.to_string()))?;
            let rng = TrainRng::from_state(state.rng)?;
            (state, rng, prior)
        }
    };
    write_json(
        &dir.config(),
        &json!({
            "train": run_cfg,
            "data": { "train": data.train.description(), "eval": data.eval.as_ref().map(|e| e.description()) },
            "device": format!("{:?}", opts.device),
            "batches_per_epoch": per_epoch,
            "parameters": trainer.generator().named_parameters().iter().map(|(_, t)| t.elem_count()).sum::<usize>(),
        }),
    )?;
    let truth = match &data.eval {
        Some(e) => first_images(e.as_ref(), GRID_ROWS, cfg.model.target_size, &Device::Cpu)?,
        None => first_images(data.train.as_ref(), GRID_ROWS, cfg.model.target_size, &Device::Cpu)?,
    };
    let metrics = MetricsLog::open(&dir.metrics(), resumed.is_some())?;
    let mut ctx = Ctx {
        trainer,
        state,
        rng,
        dir,
        metrics,
        prior,
        data: &data,
        eval_nets,
        truth,
        last_eval: None,
        last_checkpoint_step: resumed.as_ref().map(|s| s.step),
    };


    let progress = Progress::new(total, ctx.state.step, !opts.progress);
    // Without a visible bar (none asked for, or stderr is not a terminal), log lines instead.
    let log_lines = !opts.progress || !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let started = Instant::now();
    let elapsed_before = ctx.state.elapsed_s;
    let mut window = (Instant::now(), 0u64);
    let mut last_loss = None;
    let mut stopped = StopReason::Epochs;
    'epochs: while ctx.state.epoch < cfg.epochs {
        if ctx.state.step >= total {
            stopped = if cfg.max_steps.is_some_and(|m| ctx.state.step >= m) { StopReason::MaxSteps } else { StopReason::Epochs };
            break;
        }
        let batches = loader.epoch_from(ctx.state.epoch, ctx.state.batch_in_epoch)?;
        for batch in batches {
            let batch = batch?;
            let n = batch.images.dim(0)? as u64;
            let report = match ctx.trainer.step(&batch.images, &mut ctx.rng) {
                Ok(r) => r,
                Err(e) => {
                    let _ = ctx.metrics.write(&json!({ "kind": "error", "step": ctx.state.step + 1, "error": e.to_string() }));
                    progress.finish();
                    return Err(e);
                }
            };
            ctx.state.step += 1;
            ctx.state.batch_in_epoch = batch.index + 1;
            ctx.state.images_seen += n;
            ctx.state.elapsed_s = elapsed_before + started.elapsed().as_secs_f64();
            window.1 += n;
            last_loss = Some(report.loss);
            let ips = window.1 as f64 / window.0.elapsed().as_secs_f64().max(1e-9);
            progress.update(ctx.state.step, report.loss, ips);
            if ctx.state.step % cfg.log_every == 0 {
                ctx.metrics.write(&train_record(ctx.state.step, ctx.state.epoch, &report, ips, ctx.state.elapsed_s))?;
                if log_lines {
                    progress.println(&format!("step {}/{total} epoch {} loss {:.5} {:.1} img/s", ctx.state.step, ctx.state.epoch, report.loss, ips));
                }
                window = (Instant::now(), 0);
            }
            let time_up = cfg.max_seconds.is_some_and(|s| started.elapsed().as_secs_f64() >= s);
            if time_up || ctx.state.step >= total {
                stopped = if time_up {
                    StopReason::Time
                } else if cfg.max_steps.is_some_and(|m| ctx.state.step >= m) {
                    StopReason::MaxSteps
                } else {
                    StopReason::Epochs
                };
                if ctx.state.batch_in_epoch as u64 == per_epoch {
                    ctx.state.epoch += 1;
                    ctx.state.batch_in_epoch = 0;
                }
                ctx.checkpoint(&progress)?;
                break 'epochs;
            }
            if cfg.eval_every > 0 && ctx.state.step % cfg.eval_every == 0 && (ctx.state.batch_in_epoch as u64) < per_epoch {
                ctx.checkpoint(&progress)?;
            }
        }
        ctx.state.epoch += 1;
        ctx.state.batch_in_epoch = 0;
        ctx.checkpoint(&progress)?;
    }
    progress.finish();
    Ok(RunSummary {
        steps: ctx.state.step,
        epochs: ctx.state.epoch,
        stopped,
        best: ctx.state.best,
        last_eval: ctx.last_eval,
        seconds: ctx.state.elapsed_s,
        last_loss,
    })
}
