//! [`PlanarImage`]: an RGB image as three f32 planes, the layout of one candle image tensor.

use crate::error::{Result, TrainerError};
use candle_core::{DType, Device, Tensor};

/// An RGB image stored as three planes (R, G, B), each `height x width`, row-major, values
/// nominally in `[0, 1]`: the memory layout of a `(3, H, W)` tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanarImage {
    height: usize,
    width: usize,
    data: Vec<f32>,
}

impl PlanarImage {
    /// Wraps planar data of length `3 * height * width`.
    ///
    /// # Errors
    /// A zero size or a data length that does not match.
    pub fn new(height: usize, width: usize, data: Vec<f32>) -> Result<Self> {
        if height == 0 || width == 0 || data.len() != 3 * height * width {
            return Err(TrainerError::invalid(
                "PlanarImage::new",
                format!(
                    "{height}x{width} image needs {} values (3 planes), got {}",
                    3 * height * width,
                    data.len()
                ),
            ));
        }
        Ok(Self {
            height,
            width,
            data,
        })
    }

    /// A black image.
    pub fn zeros(height: usize, width: usize) -> Self {
        Self {
            height,
            width,
            data: vec![0.0; 3 * height * width],
        }
    }

    /// Converts planar bytes (`R` plane, `G` plane, `B` plane) to `[0, 1]` floats.
    ///
    /// # Errors
    /// A byte count that is not `3 * height * width`.
    pub fn from_planar_u8(height: usize, width: usize, bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 3 * height * width {
            return Err(TrainerError::invalid(
                "PlanarImage::from_planar_u8",
                format!(
                    "{height}x{width} image needs {} bytes, got {}",
                    3 * height * width,
                    bytes.len()
                ),
            ));
        }
        Self::new(
            height,
            width,
            bytes.iter().map(|&b| f32::from(b) / 255.0).collect(),
        )
    }

    /// Converts an interleaved `image` crate RGB image to planes in `[0, 1]`.
    ///
    /// ```
    /// use wno_trainer::data::PlanarImage;
    /// let rgb = image::RgbImage::from_raw(2, 1, vec![255, 0, 0, 0, 0, 255]).unwrap();
    /// let p = PlanarImage::from_rgb8(&rgb);
    /// assert_eq!((p.height(), p.width()), (1, 2));
    /// assert_eq!(p.data(), &[1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
    /// ```
    pub fn from_rgb8(img: &image::RgbImage) -> Self {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let mut data = vec![0.0f32; 3 * h * w];
        for (i, px) in img.pixels().enumerate() {
            for c in 0..3 {
                data[c * h * w + i] = f32::from(px[c]) / 255.0;
            }
        }
        Self {
            height: h,
            width: w,
            data,
        }
    }

    /// Converts to an interleaved 8-bit RGB image, clamping to `[0, 1]` and rounding.
    pub fn to_rgb8(&self) -> image::RgbImage {
        let plane = self.height * self.width;
        let mut raw = Vec::with_capacity(3 * plane);
        for i in 0..plane {
            for c in 0..3 {
                raw.push(to_byte(self.data[c * plane + i]));
            }
        }
        // The buffer has exactly 3 * width * height bytes, so from_raw cannot fail.
        image::RgbImage::from_raw(self.width as u32, self.height as u32, raw)
            .unwrap_or_else(|| image::RgbImage::new(self.width as u32, self.height as u32))
    }

    /// Converts to planar bytes, clamping to `[0, 1]` and rounding.
    pub fn to_planar_u8(&self) -> Vec<u8> {
        self.data.iter().map(|&v| to_byte(v)).collect()
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The planar data, `3 * height * width` values.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Mutable planar data.
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Consumes the image and returns its planar data.
    pub fn into_data(self) -> Vec<f32> {
        self.data
    }

    /// One colour plane (`c` in 0..3), `height * width` values.
    ///
    /// # Panics
    /// If `c >= 3` (a programming error, not user input).
    pub fn plane(&self, c: usize) -> &[f32] {
        let n = self.height * self.width;
        &self.data[c * n..(c + 1) * n]
    }

    /// Clamps every value into `[0, 1]` (NaN becomes 0).
    pub fn clamp01(&mut self) {
        for v in &mut self.data {
            *v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
        }
    }

    /// A `(3, H, W)` f32 tensor on `device`.
    pub fn to_tensor(&self, device: &Device) -> Result<Tensor> {
        Ok(Tensor::from_slice(
            &self.data,
            (3, self.height, self.width),
            device,
        )?)
    }

    /// Reads a `(3, H, W)` tensor of any float dtype on any device.
    ///
    /// # Errors
    /// Another rank or channel count, or an integer dtype.
    pub fn from_tensor(t: &Tensor) -> Result<Self> {
        let dims = t.dims();
        if dims.len() != 3 || dims[0] != 3 || dims[1] == 0 || dims[2] == 0 || !t.dtype().is_float()
        {
            return Err(TrainerError::Shape {
                op: "PlanarImage::from_tensor",
                expected: "a (3, H, W) float tensor".into(),
                got: dims.to_vec(),
                dtype: t.dtype(),
            });
        }
        let data = t
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_device(&Device::Cpu)?
            .to_vec1::<f32>()?;
        Self::new(dims[1], dims[2], data)
    }
}

fn to_byte(v: f32) -> u8 {
    if v.is_nan() {
        0
    } else {
        (v.clamp(0.0, 1.0) * 255.0).round() as u8
    }
}

/// Stacks same-sized images into a `(B, 3, H, W)` f32 tensor on `device`.
///
/// # Errors
/// An empty list or images of different sizes.
pub fn stack_images(images: &[PlanarImage], device: &Device) -> Result<Tensor> {
    let first = images
        .first()
        .ok_or_else(|| TrainerError::invalid("stack_images", "no images to stack"))?;
    let (h, w) = (first.height, first.width);
    let mut data = Vec::with_capacity(images.len() * 3 * h * w);
    for (i, img) in images.iter().enumerate() {
        if (img.height, img.width) != (h, w) {
            return Err(TrainerError::invalid(
                "stack_images",
                format!(
                    "image {i} is {}x{}, image 0 is {h}x{w}",
                    img.height, img.width
                ),
            ));
        }
        data.extend_from_slice(&img.data);
    }
    Ok(Tensor::from_vec(data, (images.len(), 3, h, w), device)?)
}

/// Splits a `(B, 3, H, W)` tensor (any float dtype, any device) into images.
///
/// # Errors
/// Another rank or channel count, or an integer dtype.
pub fn unstack_images(batch: &Tensor) -> Result<Vec<PlanarImage>> {
    let dims = batch.dims();
    if dims.len() != 4 || dims[1] != 3 || !batch.dtype().is_float() {
        return Err(TrainerError::Shape {
            op: "unstack_images",
            expected: "a (B, 3, H, W) float tensor".into(),
            got: dims.to_vec(),
            dtype: batch.dtype(),
        });
    }
    (0..dims[0])
        .map(|i| PlanarImage::from_tensor(&batch.get(i)?))
        .collect()
}
