//! End to end on a tiny generated dataset: train a few steps from an image folder, checkpoint,
//! resume (bit for bit against an uninterrupted run), evaluate, and sample from the exported
//! model. Runs in a few seconds on CPU.

use candle_core::{DType, Device, Tensor};
use std::path::Path;
use std::sync::Arc;
use wno_imagegen::wno_operator::{model_file, Config, SampleOptions};
use wno_imagegen::wno_trainer::checkpoint::load_checkpoint;
use wno_imagegen::wno_trainer::data::{open_source, ImageSource, SourceOptions, Split};
use wno_imagegen::wno_trainer::eval::{evaluate, EvalNets, EvalOptions};
use wno_imagegen::wno_trainer::report::read_metrics;
use wno_imagegen::wno_trainer::train::{self, LossNets, LossWeights, RunData, RunDir, RunOptions, StopReason, TrainConfig};

/// Writes `n` smooth 32x32 PNG images (gradients and blobs) into `dir/{train,test}/class_k/`.
fn write_dataset(dir: &Path, n: usize) {
    for (split, offset) in [("train", 0usize), ("test", 1000)] {
        for i in 0..n {
            let class = dir.join(split).join(format!("class_{}", i % 2));
            std::fs::create_dir_all(&class).unwrap();
            let k = (i + offset) as f32;
            let img = image::RgbImage::from_fn(32, 32, |x, y| {
                let (fx, fy) = (x as f32 / 31.0, y as f32 / 31.0);
                let blob = (-((fx - 0.5 - 0.02 * (k % 7.0)).powi(2) + (fy - 0.4).powi(2)) * 8.0).exp();
                image::Rgb([
                    (255.0 * (0.3 * fx + 0.6 * blob)) as u8,
                    (255.0 * (0.5 * fy + 0.2 * (k % 3.0) / 3.0)) as u8,
                    (255.0 * (0.8 - 0.5 * blob)) as u8,
                ])
            });
            img.save(class.join(format!("{i:03}.png"))).unwrap();
        }
    }
}

fn config(max_steps: u64) -> TrainConfig {
    TrainConfig {
        model: Config { width: 8, layers: 1, target_size: 16, ..Config::default() },
        losses: LossWeights { l1_levels: vec![1.0, 2.0], perceptual: 0.0, lpips: 0.0, ..LossWeights::default() },
        critic_widths: vec![4, 4],
        batch_size: 4,
        epochs: 100,
        max_steps: Some(max_steps),
        eval_every: 2,
        eval_images: 6,
        log_every: 1,
        workers: 2,
        seed: 7,
        ..TrainConfig::default()
    }
}

fn run(out: &Path, data: &Path, max_steps: u64, resume: bool) -> train::RunSummary {
    let open = |split| -> Arc<dyn ImageSource> { Arc::new(open_source(data, &SourceOptions::new(split)).unwrap()) };
    train::run(
        RunOptions { config: config(max_steps), out_dir: out.to_path_buf(), resume, device: Device::Cpu, progress: false },
        RunData { train: open(Split::Train), eval: Some(open(Split::Test)) },
        LossNets::default(),
        &EvalNets::default(),
    )
    .unwrap()
}

fn weights(path: &Path) -> Vec<(String, Vec<f32>)> {
    let m = model_file::load_model(path, DType::F32, &Device::Cpu).unwrap();
    m.generator.named_parameters().into_iter().map(|(n, t)| (n, t.flatten_all().unwrap().to_vec1::<f32>().unwrap())).collect()
}

#[test]
fn train_checkpoint_resume_evaluate_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    write_dataset(&data, 12);

    // An interrupted run (5 steps: mid-epoch, between evaluations; then resumed to 6) and an
    // uninterrupted one (6 steps). 12 images in batches of 4: epochs end at steps 3 and 6,
    // eval_every = 2.
    let a = tmp.path().join("a");
    let first = run(&a, &data, 5, false);
    assert_eq!((first.steps, first.stopped), (5, StopReason::MaxSteps));
    // A metrics line from beyond the checkpoint (as a crash after the last checkpoint leaves
    // behind) must be dropped on resume.
    let (da, db) = (RunDir::new(&a), RunDir::new(tmp.path().join("b")));
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(da.metrics()).unwrap();
        writeln!(f, r#"{{"kind":"train","step":99,"loss":1.0}}"#).unwrap();
    }
    let resumed = run(&a, &data, 6, true);
    assert_eq!(resumed.steps, 6);
    let b = tmp.path().join("b");
    let straight = run(&b, &data, 6, false);
    assert_eq!((straight.steps, straight.stopped), (6, StopReason::MaxSteps));

    assert_eq!(weights(&da.model("last")), weights(&db.model("last")), "resume is not bit for bit (exported EMA weights)");
    let (ta, sa) = load_checkpoint(&da.checkpoints().last_path(), &Device::Cpu).unwrap();
    let (tb, sb) = load_checkpoint(&db.checkpoints().last_path(), &Device::Cpu).unwrap();
    assert_eq!((sa.step, sa.epoch, sa.batch_in_epoch, sa.rng, sa.images_seen), (sb.step, sb.epoch, sb.batch_in_epoch, sb.rng, sb.images_seen));
    let mut names: Vec<&String> = ta.keys().collect();
    names.sort();
    assert_eq!(names, { let mut n: Vec<&String> = tb.keys().collect(); n.sort(); n });
    for name in names {
        let (x, y) = (ta[name].flatten_all().unwrap(), tb[name].flatten_all().unwrap());
        let (x, y) = (x.to_dtype(DType::F64).unwrap().to_vec1::<f64>().unwrap(), y.to_dtype(DType::F64).unwrap().to_vec1::<f64>().unwrap());
        assert_eq!(x, y, "checkpoint tensor `{name}` differs after a resume");
    }

    // Every output of a run folder.
    for p in [da.config(), da.metrics(), da.curves(), da.prior(), da.samples(2), da.samples(3), da.samples(6), da.model("best")] {
        assert!(p.is_file(), "missing {}", p.display());
    }
    assert!(da.checkpoints().last_path().is_file() && da.checkpoints().best_path().is_file());
    let records = read_metrics(&da.metrics()).unwrap();
    let train_steps: Vec<u64> = records.iter().filter(|r| r["kind"] == "train").map(|r| r["step"].as_u64().unwrap()).collect();
    assert_eq!(train_steps, vec![1, 2, 3, 4, 5, 6], "metrics lines after the resume point were not rewritten once");
    // Evaluations every 2 steps, at every epoch end and at the stop (step 5), once each.
    let evals: Vec<u64> = records.iter().filter(|r| r["kind"] == "eval").map(|r| r["step"].as_u64().unwrap()).collect();
    assert_eq!(evals, vec![2, 3, 4, 5, 6], "evaluation steps");
    assert!(records.iter().filter(|r| r["kind"] == "train").all(|r| r["loss"].as_f64().unwrap().is_finite()));

    // A new run into a used folder is refused.
    let open = |split| -> Arc<dyn ImageSource> { Arc::new(open_source(&data, &SourceOptions::new(split)).unwrap()) };
    let again = train::run(
        RunOptions { config: config(2), out_dir: a.clone(), resume: false, device: Device::Cpu, progress: false },
        RunData { train: open(Split::Train), eval: None },
        LossNets::default(),
        &EvalNets::default(),
    );
    assert!(again.err().unwrap().to_string().contains("already holds a run"));

    // Evaluate and sample from the exported model.
    let model = model_file::load_model(&da.model("last"), DType::F32, &Device::Cpu).unwrap();
    let prior = model.prior.expect("the exported model carries its prior");
    let test = open(Split::Test);
    let report = evaluate(&model.generator, Some(&prior), test.as_ref(), &EvalOptions { limit: Some(8), ..Default::default() }, &EvalNets::default()).unwrap();
    assert_eq!(report.images, 8);
    assert!(report.free_psnr.is_finite() && report.bicubic_psnr.is_finite());
    let scales = model.generator.generate(3, &prior, &SampleOptions { seed: 1, ..Default::default() }).unwrap();
    assert_eq!(scales.iter().map(|t| t.dim(3).unwrap()).collect::<Vec<_>>(), vec![4, 8, 16]);
    let last: &Tensor = scales.last().unwrap();
    let (lo, hi) = (last.min_all().unwrap().to_scalar::<f32>().unwrap(), last.max_all().unwrap().to_scalar::<f32>().unwrap());
    assert!((0.0..=1.0).contains(&lo) && (0.0..=1.0).contains(&hi));
}

#[test]
fn loss_falls_on_a_fixed_batch() {
    use wno_imagegen::wno_trainer::rng::TrainRng;
    use wno_imagegen::wno_trainer::train::Trainer;
    let mut cfg = config(1);
    cfg.losses.adversarial = 0.0;
    cfg.model.train_noise = false;
    cfg.generator_optim.lr = 3e-3;
    let mut rng = TrainRng::seed_from_u64(3);
    let mut t = Trainer::new(cfg, LossNets::default(), &Device::Cpu, &mut rng).unwrap();
    // Seeded smooth images in [0.35, 0.65] (no clamping at 0 or 1).
    let v: Vec<f32> = (0..4 * 3 * 16 * 16).map(|i| 0.5 + 0.15 * ((i as f32) * 0.37).sin()).collect();
    let x = Tensor::from_vec(v, (4, 3, 16, 16), &Device::Cpu).unwrap();
    let first = t.step(&x, &mut rng).unwrap().loss;
    let mut last = first;
    for _ in 0..30 {
        last = t.step(&x, &mut rng).unwrap().loss;
    }
    assert!(last < 0.8 * first, "loss {first} -> {last}");
}

#[test]
fn non_finite_input_stops_the_step() {
    use wno_imagegen::wno_trainer::rng::TrainRng;
    use wno_imagegen::wno_trainer::train::Trainer;
    use wno_imagegen::wno_trainer::TrainerError;
    let mut rng = TrainRng::seed_from_u64(3);
    let mut t = Trainer::new(config(1), LossNets::default(), &Device::Cpu, &mut rng).unwrap();
    let before = t.checkpoint_tensors().unwrap()[0].1.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let x = Tensor::full(f32::NAN, (4, 3, 16, 16), &Device::Cpu).unwrap();
    let err = t.step(&x, &mut rng).unwrap_err();
    assert!(matches!(err, TrainerError::NonFinite { .. }), "{err}");
    let after = t.checkpoint_tensors().unwrap()[0].1.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(before, after, "a non-finite step must not update the weights");
    // A batch of the wrong size is a clear shape error.
    let err = t.step(&Tensor::zeros((4, 3, 8, 8), DType::F32, &Device::Cpu).unwrap(), &mut rng).unwrap_err();
    assert!(err.to_string().contains("(B, 3, 16, 16)"), "{err}");
}
