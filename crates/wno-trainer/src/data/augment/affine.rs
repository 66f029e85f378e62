//! Rotation about the image centre plus translation, bilinear sampling, border replicate.

use crate::data::planar::PlanarImage;

/// A rigid 2-D transform of the image content: rotate by `angle_deg` (counter-clockwise on
/// screen, i.e. with y pointing down it turns +x towards -y) about the centre
/// `((W-1)/2, (H-1)/2)`, then shift by `(tx, ty)` pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Affine {
    /// Rotation in degrees.
    pub angle_deg: f32,
    /// Shift along x (columns), pixels.
    pub tx: f32,
    /// Shift along y (rows), pixels.
    pub ty: f32,
}

impl Affine {
    /// Applies the transform: each output pixel `p` samples the input at
    /// `R^-1 (p - c - t) + c` with bilinear interpolation; coordinates outside the image are
    /// clamped to the border (replicate padding). The identity transform returns the input
    /// exactly, and integer shifts are exact.
    ///
    /// ```
    /// use wno_trainer::data::{Affine, PlanarImage};
    /// let mut data = vec![0.0f32; 3 * 2 * 3];
    /// data[..6].copy_from_slice(&[1., 2., 3., 4., 5., 6.]); // red plane, 2 rows x 3 columns
    /// let img = PlanarImage::new(2, 3, data).unwrap();
    /// let shifted = Affine { angle_deg: 0.0, tx: 1.0, ty: 0.0 }.apply(&img);
    /// assert_eq!(&shifted.plane(0)[..], &[1., 1., 2., 4., 4., 5.]);
    /// ```
    pub fn apply(&self, img: &PlanarImage) -> PlanarImage {
        let (h, w) = (img.height(), img.width());
        let (sin, cos) = self.angle_deg.to_radians().sin_cos();
        let cx = (w as f32 - 1.0) / 2.0;
        let cy = (h as f32 - 1.0) / 2.0;
        let (wmax, hmax) = ((w - 1) as f32, (h - 1) as f32);
        let mut taps = Vec::with_capacity(h * w);
        for y in 0..h {
            for x in 0..w {
                let dx = x as f32 - cx - self.tx;
                let dy = y as f32 - cy - self.ty;
                // Forward (y down): d' = [[cos, sin], [-sin, cos]] d; this is its inverse.
                let sx = (cos * dx - sin * dy + cx).clamp(0.0, wmax);
                let sy = (sin * dx + cos * dy + cy).clamp(0.0, hmax);
                let (x0, y0) = (sx.floor() as usize, sy.floor() as usize);
                let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
                let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
                taps.push((y0 * w + x0, y0 * w + x1, y1 * w + x0, y1 * w + x1, fx, fy));
            }
        }
        let mut out = PlanarImage::zeros(h, w);
        let n = h * w;
        for c in 0..3 {
            let src = img.plane(c);
            let dst = &mut out.data_mut()[c * n..(c + 1) * n];
            for (d, &(i00, i01, i10, i11, fx, fy)) in dst.iter_mut().zip(&taps) {
                let top = src[i00] + fx * (src[i01] - src[i00]);
                let bottom = src[i10] + fx * (src[i11] - src[i10]);
                *d = top + fy * (bottom - top);
            }
        }
        out
    }
}
