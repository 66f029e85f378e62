//! Per-sample image processing: bicubic resize, affine warp, flip, and the [`Pipeline`] that
//! chains them.

mod affine;
mod bicubic;
mod pipeline;

pub use affine::Affine;
pub use bicubic::{bicubic_weights, resize_bicubic, BICUBIC_A};
pub use pipeline::{flip_horizontal, AugmentConfig, Pipeline};
