//! Peak signal-to-noise ratio per image.

use candle_core::Tensor;

use crate::check::image_pair;
use crate::error::{LossError, Result};

/// PSNR of each image of a `(B, C, H, W)` batch, in dB, as a `(B,)` tensor.
///
/// `psnr_b = -10 log10(mse_b / data_range^2 + 1e-8)`, with `mse_b` the mean squared error over
/// the `C*H*W` values of image `b`. With `data_range = 1` this is the original project's
/// `-10*log10(F.mse_loss(pred, target) + 1e-8)` applied per image; identical images give 80 dB.
/// Average the result over images to get the dataset PSNR of DESIGN.md §3.
///
/// ```
/// # use candle_core::{DType, Device, Tensor};
/// let p = Tensor::full(0.1f32, (2, 3, 4, 4), &Device::Cpu)?;
/// let t = Tensor::zeros((2, 3, 4, 4), DType::F32, &Device::Cpu)?;
/// let v = wno_losses::psnr(&p, &t, 1.0)?.to_vec1::<f32>()?;
/// assert!((v[0] - 20.0).abs() < 1e-4); // mse 0.01 -> 20 dB
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn psnr(pred: &Tensor, target: &Tensor, data_range: f64) -> Result<Tensor> {
    if !(data_range.is_finite() && data_range > 0.0) {
        return Err(LossError::InvalidConfig {
            op: "psnr",
            reason: format!("data_range must be positive and finite, got {data_range}"),
        });
    }
    let (b, _, _, _) = image_pair("psnr", pred, target)?;
    let mse = (pred - target)?.sqr()?.reshape((b, ()))?.mean(1)?;
    let ratio = mse.affine(1.0 / (data_range * data_range), 1e-8)?;
    Ok(ratio.log()?.affine(-10.0 / std::f64::consts::LN_10, 0.0)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    #[test]
    fn per_image_values_and_data_range() {
        let dev = Device::Cpu;
        let t = Tensor::zeros((2, 1, 2, 2), DType::F64, &dev).unwrap();
        // image 0: error 0.1 everywhere (mse 1e-2); image 1: identical.
        let p = Tensor::new(&[0.1f64, 0.1, 0.1, 0.1, 0.0, 0.0, 0.0, 0.0], &dev)
            .unwrap()
            .reshape((2, 1, 2, 2))
            .unwrap();
        let v = psnr(&p, &t, 1.0).unwrap().to_vec1::<f64>().unwrap();
        assert!((v[0] + 10.0 * (1e-2f64 + 1e-8).log10()).abs() < 1e-10);
        assert!((v[1] - 80.0).abs() < 1e-10);
        // Scaling images and range together leaves the PSNR unchanged.
        let v255 = psnr(&(p * 255.0).unwrap(), &t, 255.0).unwrap().to_vec1::<f64>().unwrap();
        assert!((v255[0] - v[0]).abs() < 1e-9 && (v255[1] - 80.0).abs() < 1e-9);
        assert!(psnr(&t, &t, 0.0).is_err());
    }
}
