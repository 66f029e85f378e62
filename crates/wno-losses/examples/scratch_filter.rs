use candle_core::{DType, Device, Tensor, Var, D};
use std::time::Instant;

fn window() -> Vec<f32> {
    let g: Vec<f32> = (0..11).map(|i| { let c = i as f32 - 5.0; (-(c * c) / 4.5f32).exp() }).collect();
    let s: f32 = g.iter().sum();
    g.iter().map(|v| v / s).collect()
}
fn band(n: usize, g: &[f32], dev: &Device) -> Tensor {
    let no = n - g.len() + 1;
    let mut m = vec![0f32; n * no];
    for j in 0..no { for (k, v) in g.iter().enumerate() { m[(j + k) * no + j] = *v; } }
    Tensor::from_vec(m, (n, no), dev).unwrap()
}
fn a(x: &Tensor, gw: &Tensor, gh: &Tensor) -> Tensor {
    let (n, h, w) = x.dims3().unwrap();
    let wo = gw.dim(1).unwrap(); let ho = gh.dim(1).unwrap();
    let t = x.reshape((n * h, w)).unwrap().matmul(gw).unwrap().reshape((n, h, wo)).unwrap();
    let t = t.transpose(1, 2).unwrap().contiguous().unwrap().reshape((n * wo, h)).unwrap();
    t.matmul(gh).unwrap().reshape((n, wo, ho)).unwrap()
}
fn b(x: &Tensor, gw: &Tensor, ght: &Tensor) -> Tensor {
    let (n, _h, w) = x.dims3().unwrap();
    let wo = gw.dim(1).unwrap(); let ho = ght.dim(0).unwrap();
    let t = ght.broadcast_left(n).unwrap().matmul(x).unwrap();
    t.reshape((n * ho, w)).unwrap().matmul(gw).unwrap().reshape((n, ho, wo)).unwrap()
}
fn c(x: &Tensor, kv: &Tensor, kh: &Tensor) -> Tensor {
    let (n, h, w) = x.dims3().unwrap();
    let x = x.reshape((n, 1, h, w)).unwrap();
    x.conv2d(kv, 0, 1, 1, 1).unwrap().conv2d(kh, 0, 1, 1, 1).unwrap().squeeze(1).unwrap()
}
fn main() {
    let dev = Device::Cpu;
    let g = window();
    for &(n, s) in &[(240usize, 64usize), (240, 32), (15, 256)] {
        let x = Var::from_tensor(&Tensor::randn(0f32, 1., (n, s, s), &dev).unwrap()).unwrap();
        let gw = band(s, &g, &dev); let gh = gw.clone(); let ght = gw.t().unwrap().contiguous().unwrap();
        let kv = Tensor::from_vec(g.clone(), (1, 1, 11, 1), &dev).unwrap();
        let kh = Tensor::from_vec(g.clone(), (1, 1, 1, 11), &dev).unwrap();
        let ra = a(x.as_tensor(), &gw, &gh).transpose(1,2).unwrap();
        let rb = b(x.as_tensor(), &gw, &ght);
        let rc = c(x.as_tensor(), &kv, &kh);
        let e1 = (&ra - &rb).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        let e2 = (&ra - &rc).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        println!("n={n} s={s} diff a-b {e1:e} a-c {e2:e}");
        for (name, f) in [("A matmul+transpose", 0), ("B bcast matmul", 1), ("C conv2d", 2)] {
            let run = || { let y = match f { 0 => a(x.as_tensor(), &gw, &gh), 1 => b(x.as_tensor(), &gw, &ght), _ => c(x.as_tensor(), &kv, &kh) };
                let l = y.sqr().unwrap().sum_all().unwrap(); let _g = l.backward().unwrap(); };
            let fwd = || { let y = match f { 0 => a(x.as_tensor(), &gw, &gh), 1 => b(x.as_tensor(), &gw, &ght), _ => c(x.as_tensor(), &kv, &kh) }; y.sum(D::Minus1).unwrap(); };
            for _ in 0..2 { run(); }
            let t = Instant::now(); let reps = 5; for _ in 0..reps { fwd(); } let tf = t.elapsed().as_secs_f64() / reps as f64;
            let t = Instant::now(); for _ in 0..reps { run(); } let tb = t.elapsed().as_secs_f64() / reps as f64;
            println!("  {name}: fwd {:.2} ms, fwd+bwd {:.2} ms", tf * 1e3, tb * 1e3);
        }
    }
    let _ = DType::F32;
}
