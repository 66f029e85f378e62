//! One W-NO block: the shared wavelet conv plus a pointwise and two depthwise paths,
//! residual, GroupNorm, GELU.

use crate::error::Result;
use crate::ops::{depthwise_conv3x3_packed, residual_norm_gelu, Conv1x1, DepthwiseConv3x3, GroupNorm};
use crate::wavelet_conv::WaveletConv2d;
use candle_core::Tensor;
use candle_nn::VarBuilder;

/// Block `b` of the stack (parameter names `dense`, `local1`, `local2`, `norm` under
/// `layers.{b}`):
/// `h = gelu(norm(h + s * (spec(h) + dense(h) + local1(h) + local2(h))))` with the residual
/// scale `s` and the wavelet conv `spec` shared by all blocks.
#[derive(Clone, Debug)]
pub struct WnoBlock {
    dense: Conv1x1,
    local1: DepthwiseConv3x3,
    local2: DepthwiseConv3x3,
    norm: GroupNorm,
}

impl WnoBlock {
    /// Loads (or creates, with PyTorch's default initialisation) a block of `width` channels
    /// with a GroupNorm of `groups` groups and epsilon `eps`.
    pub fn new(width: usize, groups: usize, eps: f64, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            dense: Conv1x1::new(width, width, vb.pp("dense"))?,
            local1: DepthwiseConv3x3::new(width, vb.pp("local1"))?,
            local2: DepthwiseConv3x3::new(width, vb.pp("local2"))?,
            norm: GroupNorm::new(width, groups, eps, vb.pp("norm"))?,
        })
    }

    /// Applies the block to `h` `(B, width, H, W)` with the shared `spec` and residual scale.
    pub fn forward(&self, h: &Tensor, spec: &WaveletConv2d, residual_scale: f64) -> Result<Tensor> {
        // local1(h) + local2(h) is one depthwise conv with the summed taps and biases: half the
        // work, and each of the two parameter sets still receives the full gradient.
        let local = depthwise_conv3x3_packed(h, &(self.local1.packed()? + self.local2.packed()?)?)?;
        // spec(h) + dense(h) is one wavelet-domain pass (see `WaveletConv2d::forward_plus_pointwise`).
        let paths = (spec.forward_plus_pointwise(h, Some(&self.dense))? + local)?;
        let (gamma, beta) = self.norm.parameters();
        residual_norm_gelu(h, &paths, gamma, beta, residual_scale, self.norm.groups(), self.norm.eps())
    }

    /// The pointwise path.
    pub fn dense(&self) -> &Conv1x1 {
        &self.dense
    }

    /// The first depthwise path.
    pub fn local1(&self) -> &DepthwiseConv3x3 {
        &self.local1
    }

    /// The second depthwise path.
    pub fn local2(&self) -> &DepthwiseConv3x3 {
        &self.local2
    }

    /// The block's GroupNorm.
    pub fn norm(&self) -> &GroupNorm {
        &self.norm
    }
}
