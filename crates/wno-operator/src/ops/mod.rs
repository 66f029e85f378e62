//! The differentiable building blocks of the generator: fused CPU kernels (and a CUDA kernel
//! for the depthwise convolution) exposed as plain functions on candle tensors.

mod band_conv;
mod channel_bias;
mod clamp;
mod conv1x1;
mod depthwise;
mod depthwise_cpu;
#[cfg(feature = "cuda")]
mod depthwise_cuda;
mod gelu;
mod gelu_cpu;
mod group_norm;
mod group_norm_cpu;
mod norm_gelu;
mod real;
mod simd;
mod upsample;

pub(crate) use band_conv::band_conv;
pub use channel_bias::add_channel_bias;
pub use clamp::clamp01;
pub use conv1x1::Conv1x1;
pub(crate) use conv1x1::pointwise;
pub use depthwise::{depthwise_conv3x3, DepthwiseConv3x3};
pub(crate) use depthwise::depthwise_conv3x3_packed;
pub use gelu::gelu;
pub use group_norm::{group_norm, GroupNorm};
pub use norm_gelu::residual_norm_gelu;
pub use upsample::{resize_nearest, upsample_nearest};
