//! The FID Inception-v3 of pytorch-fid (frozen, inference only), and its pool3 features.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use crate::bilinear::resize_bilinear;
use crate::check::rgb4;
use crate::error::{LossError, Result};

/// Side of the network's input: images are bilinearly resized to 299x299 first.
pub const FID_INCEPTION_SIZE: usize = 299;
/// Dimension of the pool3 features (the final average pool) that FID compares.
pub const FID_INCEPTION_FEATURES: usize = 2048;
/// `eps` of every BatchNorm of the network (torchvision's `BasicConv2d`).
const BN_EPS: f64 = 1e-3;

/// The pooling that opens a branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pool {
    /// `F.max_pool2d(x, 3, stride=2)` (InceptionB / InceptionD, and between the stem convs).
    Max3Stride2,
    /// `F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)`: the FID blocks'
    /// average over the pixels inside the image only (TensorFlow's behaviour).
    AvgSame,
    /// `F.max_pool2d(x, 3, stride=1, padding=1)` (FIDInceptionE_2, `Mixed_7c`).
    MaxSame,
}

impl Pool {
    fn forward(self, x: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Pool::Max3Stride2 => x.max_pool2d_with_stride(3, 2)?,
            Pool::AvgSame => {
                let (_, _, h, w) = x.dims4()?;
                let sum9 = x.pad_with_zeros(2, 1, 1)?.pad_with_zeros(3, 1, 1)?.avg_pool2d_with_stride(3, 1)?;
                // avg_pool2d divides by 9; rescale each pixel to the number of pixels its
                // window holds inside the image.
                let axis = |n: usize| -> Vec<f64> {
                    (0..n).map(|i| (i.saturating_sub(1)..(i + 2).min(n)).len() as f64).collect()
                };
                let (rows, cols) = (axis(h), axis(w));
                let scale: Vec<f64> = rows.iter().flat_map(|r| cols.iter().map(move |c| 9.0 / (r * c))).collect();
                let scale = Tensor::from_vec(scale, (1, 1, h, w), &Device::Cpu)?.to_dtype(x.dtype())?.to_device(x.device())?;
                sum9.broadcast_mul(&scale)?
            }
            // Padding by replicating the border equals padding with -inf for a 3x3 window: the
            // replicated pixel is already in the window, so it never changes the maximum.
            Pool::MaxSame => x.pad_with_same(2, 1, 1)?.pad_with_same(3, 1, 1)?.max_pool2d_with_stride(3, 1)?,
        })
    }
}

/// A `BasicConv2d` of the architecture: its state-dict prefix and geometry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ConvSpec {
    name: String,
    cin: usize,
    cout: usize,
    kernel: (usize, usize),
    stride: usize,
    padding: (usize, usize),
}

fn conv(prefix: &str, name: &str, cin: usize, cout: usize, kernel: (usize, usize), stride: usize, padding: (usize, usize)) -> ConvSpec {
    let name = if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") };
    ConvSpec { name, cin, cout, kernel, stride, padding }
}

/// One branch of a mixed block: an optional pool, a chain of convs, then optionally a fork of
/// parallel convs whose outputs are concatenated (InceptionE's 1x3 / 3x1 pairs).
#[derive(Debug, Clone)]
struct BranchSpec {
    pool: Option<Pool>,
    chain: Vec<ConvSpec>,
    fork: Vec<ConvSpec>,
}

fn chain(convs: Vec<ConvSpec>) -> BranchSpec {
    BranchSpec { pool: None, chain: convs, fork: vec![] }
}

/// torchvision's `InceptionA` as `FIDInceptionA` runs it (average pool without the padding).
fn block_a(p: &str, cin: usize, pool_features: usize) -> Vec<BranchSpec> {
    vec![
        chain(vec![conv(p, "branch1x1", cin, 64, (1, 1), 1, (0, 0))]),
        chain(vec![conv(p, "branch5x5_1", cin, 48, (1, 1), 1, (0, 0)), conv(p, "branch5x5_2", 48, 64, (5, 5), 1, (2, 2))]),
        chain(vec![
            conv(p, "branch3x3dbl_1", cin, 64, (1, 1), 1, (0, 0)),
            conv(p, "branch3x3dbl_2", 64, 96, (3, 3), 1, (1, 1)),
            conv(p, "branch3x3dbl_3", 96, 96, (3, 3), 1, (1, 1)),
        ]),
        BranchSpec { pool: Some(Pool::AvgSame), chain: vec![conv(p, "branch_pool", cin, pool_features, (1, 1), 1, (0, 0))], fork: vec![] },
    ]
}

/// torchvision's `InceptionB` (`Mixed_6a`, unchanged by pytorch-fid).
fn block_b(p: &str, cin: usize) -> Vec<BranchSpec> {
    vec![
        chain(vec![conv(p, "branch3x3", cin, 384, (3, 3), 2, (0, 0))]),
        chain(vec![
            conv(p, "branch3x3dbl_1", cin, 64, (1, 1), 1, (0, 0)),
            conv(p, "branch3x3dbl_2", 64, 96, (3, 3), 1, (1, 1)),
            conv(p, "branch3x3dbl_3", 96, 96, (3, 3), 2, (0, 0)),
        ]),
        BranchSpec { pool: Some(Pool::Max3Stride2), chain: vec![], fork: vec![] },
    ]
}

/// torchvision's `InceptionC` as `FIDInceptionC` runs it.
fn block_c(p: &str, cin: usize, c7: usize) -> Vec<BranchSpec> {
    let (row, col) = (((1, 7), (0, 3)), ((7, 1), (3, 0)));
    vec![
        chain(vec![conv(p, "branch1x1", cin, 192, (1, 1), 1, (0, 0))]),
        chain(vec![
            conv(p, "branch7x7_1", cin, c7, (1, 1), 1, (0, 0)),
            conv(p, "branch7x7_2", c7, c7, row.0, 1, row.1),
            conv(p, "branch7x7_3", c7, 192, col.0, 1, col.1),
        ]),
        chain(vec![
            conv(p, "branch7x7dbl_1", cin, c7, (1, 1), 1, (0, 0)),
            conv(p, "branch7x7dbl_2", c7, c7, col.0, 1, col.1),
            conv(p, "branch7x7dbl_3", c7, c7, row.0, 1, row.1),
            conv(p, "branch7x7dbl_4", c7, c7, col.0, 1, col.1),
            conv(p, "branch7x7dbl_5", c7, 192, row.0, 1, row.1),
        ]),
        BranchSpec { pool: Some(Pool::AvgSame), chain: vec![conv(p, "branch_pool", cin, 192, (1, 1), 1, (0, 0))], fork: vec![] },
    ]
}

/// torchvision's `InceptionD` (`Mixed_7a`, unchanged by pytorch-fid).
fn block_d(p: &str, cin: usize) -> Vec<BranchSpec> {
    vec![
        chain(vec![conv(p, "branch3x3_1", cin, 192, (1, 1), 1, (0, 0)), conv(p, "branch3x3_2", 192, 320, (3, 3), 2, (0, 0))]),
        chain(vec![
            conv(p, "branch7x7x3_1", cin, 192, (1, 1), 1, (0, 0)),
            conv(p, "branch7x7x3_2", 192, 192, (1, 7), 1, (0, 3)),
            conv(p, "branch7x7x3_3", 192, 192, (7, 1), 1, (3, 0)),
            conv(p, "branch7x7x3_4", 192, 192, (3, 3), 2, (0, 0)),
        ]),
        BranchSpec { pool: Some(Pool::Max3Stride2), chain: vec![], fork: vec![] },
    ]
}

/// torchvision's `InceptionE` as `FIDInceptionE_1` (`pool = AvgSame`) or `FIDInceptionE_2`
/// (`pool = MaxSame`) runs it.
fn block_e(p: &str, cin: usize, pool: Pool) -> Vec<BranchSpec> {
    let pair = |a: &str, b: &str| vec![conv(p, a, 384, 384, (1, 3), 1, (0, 1)), conv(p, b, 384, 384, (3, 1), 1, (1, 0))];
    vec![
        chain(vec![conv(p, "branch1x1", cin, 320, (1, 1), 1, (0, 0))]),
        BranchSpec { pool: None, chain: vec![conv(p, "branch3x3_1", cin, 384, (1, 1), 1, (0, 0))], fork: pair("branch3x3_2a", "branch3x3_2b") },
        BranchSpec {
            pool: None,
            chain: vec![conv(p, "branch3x3dbl_1", cin, 448, (1, 1), 1, (0, 0)), conv(p, "branch3x3dbl_2", 448, 384, (3, 3), 1, (1, 1))],
            fork: pair("branch3x3dbl_3a", "branch3x3dbl_3b"),
        },
        BranchSpec { pool: Some(pool), chain: vec![conv(p, "branch_pool", cin, 192, (1, 1), 1, (0, 0))], fork: vec![] },
    ]
}

/// The five stem convs `Conv2d_1a_3x3 .. Conv2d_4a_3x3`.
fn stem_specs() -> Vec<ConvSpec> {
    vec![
        conv("", "Conv2d_1a_3x3", 3, 32, (3, 3), 2, (0, 0)),
        conv("", "Conv2d_2a_3x3", 32, 32, (3, 3), 1, (0, 0)),
        conv("", "Conv2d_2b_3x3", 32, 64, (3, 3), 1, (1, 1)),
        conv("", "Conv2d_3b_1x1", 64, 80, (1, 1), 1, (0, 0)),
        conv("", "Conv2d_4a_3x3", 80, 192, (3, 3), 1, (0, 0)),
    ]
}

/// The eleven mixed blocks `Mixed_5b .. Mixed_7c` with the FID replacements of
/// `pytorch_fid.inception.fid_inception_v3`.
fn mixed_specs() -> Vec<Vec<BranchSpec>> {
    vec![
        block_a("Mixed_5b", 192, 32),
        block_a("Mixed_5c", 256, 64),
        block_a("Mixed_5d", 288, 64),
        block_b("Mixed_6a", 288),
        block_c("Mixed_6b", 768, 128),
        block_c("Mixed_6c", 768, 160),
        block_c("Mixed_6d", 768, 160),
        block_c("Mixed_6e", 768, 192),
        block_d("Mixed_7a", 768),
        block_e("Mixed_7b", 1280, Pool::AvgSame),
        block_e("Mixed_7c", 2048, Pool::MaxSame),
    ]
}

/// Mixed blocks up to `Mixed_6e` (pytorch-fid's block 2 ends there).
const MIXED_TO_6E: usize = 8;

/// Every conv spec, in network order.
fn all_specs() -> Vec<ConvSpec> {
    let mut out = stem_specs();
    for branch in mixed_specs().into_iter().flatten() {
        out.extend(branch.chain);
        out.extend(branch.fork);
    }
    out
}

/// A `BasicConv2d` (conv without bias, BatchNorm in eval mode, ReLU) with the BatchNorm folded
/// into the conv: `w * g / sqrt(v + eps)` and bias `b - m * g / sqrt(v + eps)`.
#[derive(Debug, Clone)]
struct Conv {
    weight: Tensor,
    bias: Tensor,
    stride: usize,
    padding: (usize, usize),
}

impl Conv {
    fn load(spec: &ConvSpec, vb: &VarBuilder) -> Result<Self> {
        let vb = vb.pp(&spec.name);
        let (kh, kw) = spec.kernel;
        let f64_of = |t: Tensor| t.to_dtype(DType::F64);
        let w = f64_of(vb.get((spec.cout, spec.cin, kh, kw), "conv.weight")?)?;
        let bn = vb.pp("bn");
        let gamma = f64_of(bn.get(spec.cout, "weight")?)?;
        let beta = f64_of(bn.get(spec.cout, "bias")?)?;
        let mean = f64_of(bn.get(spec.cout, "running_mean")?)?;
        let var = f64_of(bn.get(spec.cout, "running_var")?)?;
        let scale = (gamma / (var + BN_EPS)?.sqrt()?)?;
        let weight = w.broadcast_mul(&scale.reshape((spec.cout, 1, 1, 1))?)?.to_dtype(vb.dtype())?.detach();
        let bias = (beta - (mean * &scale)?)?.reshape((1, spec.cout, 1, 1))?.to_dtype(vb.dtype())?.detach();
        Ok(Self { weight, bias, stride: spec.stride, padding: spec.padding })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (ph, pw) = self.padding;
        let y = if ph == pw {
            x.conv2d(&self.weight, ph, self.stride, 1, 1)?
        } else {
            // candle pads both axes alike: pad the asymmetric (1x7, 7x1, ...) kernels here.
            let mut p = x.clone();
            if ph > 0 {
                p = p.pad_with_zeros(2, ph, ph)?;
            }
            if pw > 0 {
                p = p.pad_with_zeros(3, pw, pw)?;
            }
            p.conv2d(&self.weight, 0, self.stride, 1, 1)?
        };
        Ok(y.broadcast_add(&self.bias)?.relu()?)
    }
}

#[derive(Debug, Clone)]
struct Branch {
    pool: Option<Pool>,
    chain: Vec<Conv>,
    fork: Vec<Conv>,
}

impl Branch {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = match self.pool {
            Some(pool) => pool.forward(x)?,
            None => x.clone(),
        };
        for c in &self.chain {
            h = c.forward(&h)?;
        }
        if self.fork.is_empty() {
            return Ok(h);
        }
        let parts = self.fork.iter().map(|c| c.forward(&h)).collect::<Result<Vec<_>>>()?;
        Ok(Tensor::cat(&parts, 1)?)
    }
}

/// The FID Inception-v3 of pytorch-fid (`pytorch_fid.inception.InceptionV3`, the network behind
/// the `python -m pytorch_fid` FID): torchvision's `Inception3` with 1008 classes and no
/// auxiliary head, whose mixed blocks are replaced by `FIDInceptionA` (`Mixed_5b..5d`),
/// `FIDInceptionC` (`Mixed_6b..6e`), `FIDInceptionE_1` (`Mixed_7b`) and `FIDInceptionE_2`
/// (`Mixed_7c`): their average pools ignore the zero padding (`count_include_pad=False`) and
/// `Mixed_7c` max-pools its pool branch, as TensorFlow's 2015 Inception graph that FID was
/// defined with. Every `BasicConv2d` is a conv without bias, a BatchNorm (eps 0.001, running
/// statistics) and a ReLU; the BatchNorm is folded into the conv when the network is built.
///
/// Input: `(B, 3, H, W)` images in `[0, 1]`, any size; they are resized to 299x299
/// (`F.interpolate(mode="bilinear", align_corners=False)`) and mapped to `[-1, 1]`, as
/// pytorch-fid does with its defaults. [`pool3`](Self::pool3) returns the `(B, 2048)`
/// features of the final average pool that FID compares ([`fid_inception_features`] batches
/// them; [`crate::frechet_distance`] of two such sets is the FID).
///
/// Parameters carry the names of pytorch-fid's weight file `pt_inception-2015-12-05-6726825d.pth`
/// (`Conv2d_1a_3x3.conv.weight`, `Mixed_5b.branch1x1.bn.running_var`, ..., see
/// [`tensor_names`](Self::tensor_names); `fc.*` and `num_batches_tracked` are not used), so the
/// file loads as it is ([`from_file`](Self::from_file), `.pth` or a safetensors conversion) or
/// from the Hub ([`from_hub`](Self::from_hub) with [`crate::HubWeights::fid_inception`]). No
/// weights ship with this crate and none are downloaded unless asked: the metric needs them, it
/// is never computed offline without the file. The network is frozen: inputs and weights are
/// detached, and no gradient flows.
///
/// Dtypes: f32 (the reference), f64 and f16 on the CPU; bf16 too on CUDA (candle's CPU backend
/// has no bf16 matmul). The constructors reject anything else up front with
/// [`LossError::UnsupportedNetworkDType`] (before reading or downloading weights) instead of
/// failing at the first forward pass.
///
/// Cost: about 5.7 G multiply-adds per image whatever its size (it always runs at 299x299),
/// roughly 0.8 s per image on a 2-core CPU. Memory grows with the batch (the largest im2col
/// buffer, `Conv2d_2b_3x3`'s, is 25 MB per image in f32).
///
/// ```
/// # use candle_core::{DType, Device, Tensor};
/// use candle_nn::VarBuilder;
/// use wno_losses::InceptionV3Fid;
/// // All-zero weights (the real ones come from `from_file` / `from_hub`): every feature is 0.
/// let net = InceptionV3Fid::new(VarBuilder::zeros(DType::F32, &Device::Cpu))?;
/// let x = Tensor::rand(0f32, 1., (1, 3, 32, 32), &Device::Cpu)?;
/// let f = net.pool3(&x)?;
/// assert_eq!(f.dims(), &[1, 2048]);
/// assert_eq!(f.abs()?.sum_all()?.to_scalar::<f32>()?, 0.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct InceptionV3Fid {
    stem: Vec<Conv>,
    mixed: Vec<Vec<Branch>>,
    dtype: DType,
}

impl InceptionV3Fid {
    /// `(name, shape)` of the 470 tensors the network loads: for each of its 94 `BasicConv2d`
    /// `P`, `P.conv.weight` `(out, in, kh, kw)` and `P.bn.{weight, bias, running_mean,
    /// running_var}` `(out,)`, in network order.
    ///
    /// ```
    /// let names = wno_losses::InceptionV3Fid::tensor_names();
    /// assert_eq!(names.len(), 470);
    /// assert_eq!(names[0], ("Conv2d_1a_3x3.conv.weight".to_string(), vec![32, 3, 3, 3]));
    /// assert!(names.iter().any(|(n, s)| n == "Mixed_7c.branch_pool.bn.running_var" && s == &[192]));
    /// ```
    pub fn tensor_names() -> Vec<(String, Vec<usize>)> {
        let mut out = Vec::new();
        for spec in all_specs() {
            let (kh, kw) = spec.kernel;
            out.push((format!("{}.conv.weight", spec.name), vec![spec.cout, spec.cin, kh, kw]));
            for t in ["weight", "bias", "running_mean", "running_var"] {
                out.push((format!("{}.bn.{t}", spec.name), vec![spec.cout]));
            }
        }
        out
    }

    /// Builds the network from the tensors of `vb` (names as in [`tensor_names`](Self::tensor_names)),
    /// computing in `vb`'s dtype on its device.
    ///
    /// # Errors
    /// [`LossError::UnsupportedNetworkDType`] for a dtype the device cannot run (see the type
    /// docs), then missing tensors and candle errors.
    pub fn new(vb: VarBuilder) -> Result<Self> {
        crate::check::network_dtype("InceptionV3Fid::new", vb.dtype(), vb.device())?;
        let stem = stem_specs().iter().map(|s| Conv::load(s, &vb)).collect::<Result<Vec<_>>>()?;
        let mut mixed = Vec::new();
        for block in mixed_specs() {
            let mut branches = Vec::with_capacity(block.len());
            for b in block {
                let load = |specs: &[ConvSpec]| specs.iter().map(|s| Conv::load(s, &vb)).collect::<Result<Vec<_>>>();
                branches.push(Branch { pool: b.pool, chain: load(&b.chain)?, fork: load(&b.fork)? });
            }
            mixed.push(branches);
        }
        Ok(Self { stem, mixed, dtype: vb.dtype() })
    }

    /// Loads the network from a local weight file: pytorch-fid's
    /// `pt_inception-2015-12-05-6726825d.pth` as downloaded (the legacy and the zip `torch.save`
    /// formats are both read), or a safetensors file with the same tensor names. The format is
    /// recognised from the content; extra tensors (`fc.*`, `num_batches_tracked`) are ignored,
    /// and a missing or mis-shaped tensor is reported by name with both shapes.
    /// An unsupported `dtype` is rejected before the file is read.
    pub fn from_file(path: impl AsRef<Path>, dtype: DType, device: &Device) -> Result<Self> {
        crate::check::network_dtype("InceptionV3Fid::from_file", dtype, device)?;
        let vb = crate::weights::checked_var_builder(path.as_ref(), &Self::tensor_names(), dtype, device)?;
        Self::new(vb)
    }

    /// Loads the weights through the Hugging Face Hub (cache first; see
    /// [`crate::HubWeights::fid_inception`] for the default copy and
    /// [`crate::HubWeights::resolve`] for the offline behaviour). An unsupported `dtype` is
    /// rejected before anything is looked up or downloaded.
    pub fn from_hub(hub: &crate::HubWeights, dtype: DType, device: &Device) -> Result<Self> {
        crate::check::network_dtype("InceptionV3Fid::from_hub", dtype, device)?;
        Self::from_file(hub.resolve()?, dtype, device)
    }

    /// The dtype the network computes in.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// pytorch-fid's four output blocks for `[0, 1]` images `(B, 3, H, W)`: after the first max
    /// pool `(B, 64, 73, 73)`, after the second `(B, 192, 35, 35)`, after `Mixed_6e`
    /// `(B, 768, 17, 17)`, and the final average pool `(B, 2048, 1, 1)` (its `--dims` 64, 192,
    /// 768 and 2048). The input is detached and converted to the network's dtype.
    pub fn blocks(&self, images: &Tensor) -> Result<Vec<Tensor>> {
        rgb4("InceptionV3Fid::blocks", images)?;
        crate::check::finite("InceptionV3Fid::blocks", "images", images)?;
        let x = images.detach().to_dtype(self.dtype)?;
        let x = resize_bilinear(&x, FID_INCEPTION_SIZE, FID_INCEPTION_SIZE)?.affine(2.0, -1.0)?;
        let mut out = Vec::with_capacity(4);
        let mut h = x;
        for (i, c) in self.stem.iter().enumerate() {
            h = c.forward(&h)?;
            // Max pools after Conv2d_2b_3x3 and after Conv2d_4a_3x3 close blocks 0 and 1.
            if i == 2 || i == 4 {
                h = Pool::Max3Stride2.forward(&h)?;
                out.push(h.clone());
            }
        }
        for (i, block) in self.mixed.iter().enumerate() {
            let parts = block.iter().map(|b| b.forward(&h)).collect::<Result<Vec<_>>>()?;
            h = Tensor::cat(&parts, 1)?;
            if i + 1 == MIXED_TO_6E {
                out.push(h.clone());
            }
        }
        out.push(h.mean_keepdim(3)?.mean_keepdim(2)?);
        Ok(out)
    }

    /// The `(B, 2048)` pool3 features of `[0, 1]` images `(B, 3, H, W)` (any size). NaN or
    /// infinite pixels are a [`LossError::NonFinite`], not features.
    pub fn pool3(&self, images: &Tensor) -> Result<Tensor> {
        let b = rgb4("InceptionV3Fid::pool3", images)?.0;
        let mut blocks = self.blocks(images)?;
        let last = blocks.pop().ok_or(LossError::InvalidConfig { op: "InceptionV3Fid::pool3", reason: "no output block".into() })?;
        Ok(last.reshape((b, FID_INCEPTION_FEATURES))?)
    }
}

/// FID features of a set of `[0, 1]` images `(N, 3, H, W)`: [`InceptionV3Fid::pool3`] in
/// chunks of `batch` images (memory only; the values do not depend on it), `(N, 2048)` in the
/// network's dtype, detached. The FID of two sets is [`crate::frechet_distance`] of their
/// features (it needs at least 2 images per set; the usual figure uses 10,000 or more).
///
/// ```
/// # use candle_core::{DType, Device, Tensor};
/// use candle_nn::VarBuilder;
/// use wno_losses::{fid_inception_features, InceptionV3Fid};
/// let net = InceptionV3Fid::new(VarBuilder::zeros(DType::F32, &Device::Cpu))?;
/// let x = Tensor::rand(0f32, 1., (2, 3, 8, 8), &Device::Cpu)?;
/// let f = fid_inception_features(&net, &x, 1)?;
/// assert_eq!(f.dims(), &[2, 2048]);
/// // Identical sets are at distance 0.
/// assert!(wno_losses::frechet_distance(&f, &f)?.abs() < 1e-9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`LossError::InvalidConfig`] for `batch == 0`, [`LossError::BadShape`] /
/// [`LossError::UnsupportedDType`] for anything but a non-empty float RGB batch.
pub fn fid_inception_features(net: &InceptionV3Fid, images: &Tensor, batch: usize) -> Result<Tensor> {
    const OP: &str = "fid_inception_features";
    if batch == 0 {
        return Err(LossError::InvalidConfig { op: OP, reason: "batch must be at least 1".into() });
    }
    let n = rgb4(OP, images)?.0;
    let mut parts = Vec::with_capacity(n.div_ceil(batch));
    let mut start = 0;
    while start < n {
        let len = batch.min(n - start);
        parts.push(net.pool3(&images.narrow(0, start, len)?)?);
        start += len;
    }
    Ok(Tensor::cat(&parts, 0)?.detach())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn non_finite_images_are_an_error_not_features() {
        let net = InceptionV3Fid::new(VarBuilder::zeros(DType::F32, &Device::Cpu)).unwrap();
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut v = vec![0.5f32; 3 * 8 * 8];
            v[17] = bad;
            let x = Tensor::from_vec(v, (1, 3, 8, 8), &Device::Cpu).unwrap();
            let err = net.pool3(&x).unwrap_err();
            assert!(matches!(err, LossError::NonFinite { what: "images", .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn architecture_has_the_torchvision_channel_counts() {
        // Each mixed block's branches must concatenate to the next block's input width.
        let blocks = mixed_specs();
        let widths = [256, 288, 288, 768, 768, 768, 768, 768, 1280, 2048, 2048];
        let mut cin = 192;
        for (block, want) in blocks.iter().zip(widths) {
            let mut out = 0;
            for b in block {
                let first = b.chain.first().map_or(cin, |c| c.cin);
                assert_eq!(first, cin, "{:?}", b.chain.first().map(|c| &c.name));
                let last = b.chain.last().map_or(cin, |c| c.cout);
                out += if b.fork.is_empty() { last } else { b.fork.iter().map(|c| c.cout).sum() };
                for w in b.chain.windows(2) {
                    assert_eq!(w[0].cout, w[1].cin, "{} -> {}", w[0].name, w[1].name);
                }
                assert!(b.fork.iter().all(|c| c.cin == last));
            }
            assert_eq!(out, want);
            cin = out;
        }
        let specs = all_specs();
        assert_eq!(specs.len(), 94);
        let names: HashSet<_> = specs.iter().map(|s| s.name.clone()).collect();
        assert_eq!(names.len(), 94, "duplicate conv names");
        // torchvision's inception_v3 has 27,161,264 parameters; without the auxiliary head
        // (3,326,696) and the 1000-class fc (2,049,000) that leaves 21,785,568, plus the two
        // BatchNorm buffers per output channel.
        let values: usize = InceptionV3Fid::tensor_names().iter().map(|(_, s)| s.iter().product::<usize>()).sum();
        assert_eq!(values, 21_785_568 + 2 * specs.iter().map(|s| s.cout).sum::<usize>());
    }

    #[test]
    fn average_pool_ignores_the_padding_and_max_pool_pads_with_minus_infinity() {
        let dev = Device::Cpu;
        let x = Tensor::new(&[[[[1f64, 2., 3.], [4., 5., 6.]]]], &dev).unwrap();
        let avg = Pool::AvgSame.forward(&x).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
        // Corner (0, 0): mean of 1, 2, 4, 5; centre top (0, 1): mean of all six (to rounding:
        // candle's pool divides by 9, then each pixel is rescaled by 9 / count).
        for (got, want) in avg.iter().zip([3.0, 3.5, 4.0, 3.0, 3.5, 4.0]) {
            assert!((got - want).abs() < 1e-15, "{avg:?}");
        }
        let neg = x.neg().unwrap();
        let max = Pool::MaxSame.forward(&neg).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
        assert_eq!(max, vec![-1.0, -1.0, -2.0, -1.0, -1.0, -2.0]);
        let big = Tensor::zeros((1, 2, 35, 35), DType::F32, &dev).unwrap();
        assert_eq!(Pool::Max3Stride2.forward(&big).unwrap().dims(), &[1, 2, 17, 17]);
    }
}
