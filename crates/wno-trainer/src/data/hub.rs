//! The Hugging Face Hub parquet copy of CIFAR-10, through `candle_datasets::vision::cifar::load`.
//!
//! candle-datasets 0.11.1 decodes each PNG with the `image` crate, whose raw buffer is
//! `(height, width, channel)`, then reshapes it to `(N, 32, 32, 3)` and permutes it with
//! `(0, 3, 2, 1)`: the result is `(N, C, W, H)`, each image transposed (rows and columns swapped).
//! [`load_hub_cifar10`] swaps the last two dimensions back, giving `(N, C, H, W)`; the unit test
//! below builds candle-datasets' tensor from an asymmetric image exactly as `load()` does and
//! checks the orientation.
//!
//! `load()` reads the cache first (`HF_HUB_CACHE`, else `$HF_HOME/hub`, else
//! `~/.cache/huggingface/hub`) and downloads only what is missing. It panics (an `unwrap` in
//! candle-datasets) on a corrupt PNG inside a cached parquet file; delete the cache entry and
//! download again in that case, or read the files with [`open_source`](super::open_source).

use super::cifar_bin::CIFAR_CLASSES;
use super::memory::MemorySource;
use crate::error::{Result, TrainerError};
use candle_core::{DType, Tensor};

/// Hub dataset id that candle-datasets reads.
pub const HUB_CIFAR10_REPO: &str = "cifar10";

/// Converts candle-datasets' `(N, C, W, H)` f32 images and `(N,)` u8 labels into a store of
/// correctly oriented images.
fn to_store(images: &Tensor, labels: &Tensor, split: &str) -> Result<MemorySource> {
    let dims = images.dims().to_vec();
    if dims.len() != 4 || dims[1] != 3 {
        return Err(TrainerError::Shape {
            op: "load_hub_cifar10",
            expected: "candle-datasets images (N, 3, W, H)".into(),
            got: dims,
            dtype: images.dtype(),
        });
    }
    let (n, h, w) = (dims[0], dims[3], dims[2]);
    let bytes = (images.transpose(2, 3)? * 255.0)?
        .round()?
        .clamp(0.0, 255.0)?
        .to_dtype(DType::U8)?
        .flatten_all()?
        .to_vec1::<u8>()?;
    let labels = labels.to_dtype(DType::U32)?.to_vec1::<u32>()?;
    if labels.len() != n {
        return Err(TrainerError::Hub {
            repo: HUB_CIFAR10_REPO.into(),
            reason: format!("{split}: {} labels for {n} images", labels.len()),
        });
    }
    let classes = CIFAR_CLASSES.iter().map(|s| s.to_string()).collect();
    let mut store = MemorySource::new(
        format!("Hub `{HUB_CIFAR10_REPO}` parquet, {split}"),
        classes,
    );
    let per = 3 * h * w;
    for (i, label) in labels.into_iter().enumerate() {
        store
            .push_planar(h, w, &bytes[i * per..(i + 1) * per], Some(label))
            .map_err(|e| TrainerError::Hub {
                repo: HUB_CIFAR10_REPO.into(),
                reason: format!("{split} image {i}: {e}"),
            })?;
    }
    Ok(store)
}

/// Loads CIFAR-10 from the Hub parquet copy (cache first, network if missing) and returns
/// `(train, test)` with images in the correct `(3, H, W)` orientation.
///
/// # Errors
/// No cached copy and no network, or files that candle-datasets cannot parse.
pub fn load_hub_cifar10() -> Result<(MemorySource, MemorySource)> {
    let ds = candle_datasets::vision::cifar::load().map_err(|e| TrainerError::Hub {
        repo: HUB_CIFAR10_REPO.into(),
        reason: format!(
            "{e} (candle-datasets reads the Hub cache at HF_HUB_CACHE or $HF_HOME/hub first; \
             offline, pass a local path instead)"
        ),
    })?;
    let train = to_store(&ds.train_images, &ds.train_labels, "train")?;
    let test = to_store(&ds.test_images, &ds.test_labels, "test")?;
    Ok((train, test))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::source::ImageSource;
    use candle_core::Device;

    #[test]
    fn undoes_candle_datasets_transpose() {
        // 32x32 image, red encodes the column, green the row.
        let img =
            image::RgbImage::from_fn(32, 32, |x, y| image::Rgb([x as u8 * 7, y as u8 * 3, 9]));
        // What candle-datasets 0.11.1 does in `load_parquet`.
        let images = (Tensor::from_vec(img.as_raw().clone(), (1, 32, 32, 3), &Device::Cpu)
            .unwrap()
            .to_dtype(DType::F32)
            .unwrap()
            .permute((0, 3, 2, 1))
            .unwrap()
            / 255.)
            .unwrap();
        let labels = Tensor::new(&[4u8], &Device::Cpu).unwrap();
        let store = to_store(&images, &labels, "test").unwrap();
        let mut direct = MemorySource::new("direct", vec![]);
        direct.push_rgb8(&img, None).unwrap();
        let got = store.get(0).unwrap();
        assert_eq!(got.label, Some(4));
        assert_eq!(got.image, direct.get(0).unwrap().image);
        assert_eq!(store.class_names()[4], "deer");
    }
}
