//! Checkpoint files: atomic writes, keep last/best, and a bit-for-bit resume of a small
//! optimisation with Adam, EMA and the run RNG.

use candle_core::{DType, Device, Tensor, Var};
use rand::Rng;
use wno_trainer::checkpoint::{
    load_checkpoint, read_metadata, save_checkpoint, CheckpointDir, TrainState,
};
use wno_trainer::optim::{Adam, AdamConfig, Ema, EmaConfig};
use wno_trainer::rng::TrainRng;

struct Run {
    w: Var,
    opt: Adam,
    ema: Ema,
    rng: TrainRng,
    step: u64,
}

impl Run {
    fn new(seed: u64) -> Self {
        let mut rng = TrainRng::seed_from_u64(seed);
        let init: Vec<f32> = (0..6).map(|_| rng.random::<f32>()).collect();
        let w = Var::from_vec(init, (2, 3), &Device::Cpu).unwrap();
        let named = vec![("w".to_string(), w.clone())];
        let cfg = AdamConfig {
            lr: 0.01,
            weight_decay: 1e-4,
            ..Default::default()
        };
        let opt = Adam::new(named.clone(), cfg).unwrap();
        let ema = Ema::new(&named, EmaConfig::default()).unwrap();
        Self {
            w,
            opt,
            ema,
            rng,
            step: 0,
        }
    }

    fn step(&mut self) {
        // A noisy regression target drawn from the run RNG, as the trainer draws its noise.
        let noise: Vec<f32> = (0..6).map(|_| self.rng.random::<f32>()).collect();
        let target = Tensor::from_vec(noise, (2, 3), &Device::Cpu).unwrap();
        let loss = (self.w.as_tensor() - target)
            .unwrap()
            .sqr()
            .unwrap()
            .mean_all()
            .unwrap();
        self.opt.backward_step(&loss).unwrap();
        self.ema
            .update(&[("w".to_string(), self.w.clone())])
            .unwrap();
        self.step += 1;
    }

    fn tensors(&self) -> Vec<(String, Tensor)> {
        let mut t = vec![("gen.w".to_string(), self.w.as_tensor().clone())];
        t.extend(self.opt.state_tensors("opt.").unwrap());
        t.extend(self.ema.state_tensors("ema.").unwrap());
        t
    }

    fn state(&self) -> TrainState {
        TrainState {
            step: self.step,
            rng: self.rng.state(),
            ..TrainState::new(0)
        }
    }

    fn restore(path: &std::path::Path) -> Self {
        let (t, state) = load_checkpoint(path, &Device::Cpu).unwrap();
        let mut run = Run::new(999); // different init: everything must come from the file
        run.w.set(&t["gen.w"]).unwrap();
        run.opt.load_state(&t, "opt.").unwrap();
        run.ema.load_state(&t, "ema.").unwrap();
        run.rng = TrainRng::from_state(state.rng).unwrap();
        run.step = state.step;
        run
    }

    fn bits(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .w
            .as_tensor()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
            .iter()
            .map(|x| x.to_bits())
            .collect();
        v.extend(
            self.ema
                .get("w")
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
                .iter()
                .map(|x| x.to_bits()),
        );
        v
    }
}

#[test]
fn resume_is_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let ck = CheckpointDir::new(dir.path().join("ck"));
    let mut full = Run::new(3);
    for _ in 0..5 {
        full.step();
    }
    let mut state = full.state();
    ck.save(&full.tensors(), &mut state, None).unwrap();
    for _ in 0..7 {
        full.step();
    }
    let mut resumed = Run::restore(&ck.last_path());
    assert_eq!(resumed.step, 5);
    for _ in 0..7 {
        resumed.step();
    }
    assert_eq!(full.bits(), resumed.bits());
    assert_eq!(full.rng.state(), resumed.rng.state());
    assert_eq!(read_metadata(&ck.last_path()).unwrap().step, 5);
}

#[test]
fn best_is_kept_and_last_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let ck = CheckpointDir::new(dir.path());
    let t = |v: f32| vec![("w".to_string(), Tensor::new(&[v], &Device::Cpu).unwrap())];
    let mut s = TrainState::new(1);
    s.step = 1;
    assert!(ck.save(&t(1.0), &mut s, Some(10.0)).unwrap());
    s.step = 2;
    assert!(ck.save(&t(2.0), &mut s, Some(12.0)).unwrap());
    s.step = 3;
    assert!(!ck.save(&t(3.0), &mut s, Some(11.0)).unwrap());
    s.step = 4;
    assert!(!ck.save(&t(4.0), &mut s, Some(f64::NAN)).unwrap());
    let (last, ls) = load_checkpoint(&ck.last_path(), &Device::Cpu).unwrap();
    let (best, bs) = load_checkpoint(&ck.best_path(), &Device::Cpu).unwrap();
    assert_eq!(last["w"].to_vec1::<f32>().unwrap(), vec![4.0]);
    assert_eq!(best["w"].to_vec1::<f32>().unwrap(), vec![2.0]);
    assert_eq!((ls.step, ls.best), (4, Some((12.0, 2))));
    assert_eq!(bs.step, 2);
    // Only the two checkpoint files remain (no temporary files).
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["best.safetensors", "last.safetensors"]);
}

#[test]
fn dtypes_survive_and_bad_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.safetensors");
    let tensors = vec![
        (
            "a".to_string(),
            Tensor::new(&[1.5f64, -2.0], &Device::Cpu).unwrap(),
        ),
        ("b".to_string(), Tensor::new(&[3i64], &Device::Cpu).unwrap()),
        (
            "c".to_string(),
            Tensor::ones((2, 2), DType::F32, &Device::Cpu)
                .unwrap()
                .t()
                .unwrap(),
        ),
    ];
    save_checkpoint(&p, &tensors, &TrainState::new(0)).unwrap();
    let (t, _) = load_checkpoint(&p, &Device::Cpu).unwrap();
    assert_eq!(t["a"].dtype(), DType::F64);
    assert_eq!(t["b"].to_vec1::<i64>().unwrap(), vec![3]);
    let dup = vec![tensors[0].clone(), tensors[0].clone()];
    assert!(save_checkpoint(&p, &dup, &TrainState::new(0)).is_err());

    // A plain safetensors file without the training state.
    let plain = dir.path().join("plain.safetensors");
    candle_core::safetensors::save(
        &std::collections::HashMap::from([("x".to_string(), tensors[0].1.clone())]),
        &plain,
    )
    .unwrap();
    let err = load_checkpoint(&plain, &Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("plain.safetensors") && err.contains("not a training checkpoint"),
        "{err}"
    );
    // A truncated file.
    let bytes = std::fs::read(&p).unwrap();
    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() - 5]).unwrap();
    let err = load_checkpoint(&cut, &Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("cut.safetensors"), "{err}");
    let err = load_checkpoint(&dir.path().join("none.safetensors"), &Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("none.safetensors"), "{err}");
}
