//! scratch
mod check;
mod error;
mod gradient;
mod l1;
mod laplacian;
mod psnr;
pub use error::{LossError, Result};
pub use gradient::gradient_l1;
pub use l1::{charbonnier, l1};
pub use laplacian::{laplacian_l1, laplacian_pyramid};
pub use psnr::psnr;
