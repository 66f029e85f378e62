//! Names of the four sub-bands on dim 2 of a [`dwt2d`](crate::dwt2d) output.

/// One sub-band of a one-level 2-D Haar DWT, in the order the bands lie on dim 2.
///
/// For a 2x2 block `a = x[2i, 2j]`, `b = x[2i, 2j+1]`, `c = x[2i+1, 2j]`, `d = x[2i+1, 2j+1]`:
///
/// | band | index | value | pywt | pytorch_wavelets |
/// |------|-------|-------|------|------------------|
/// | LL   | 0 | `(a + b + c + d) / 2` | `cA` | `yl` |
/// | LH   | 1 | `(a + b - c - d) / 2` (top minus bottom) | `cH` | `yh[0][:, :, 0]` |
/// | HL   | 2 | `(a - b + c - d) / 2` (left minus right) | `cV` | `yh[0][:, :, 1]` |
/// | HH   | 3 | `(a - b - c + d) / 2` | `cD` | `yh[0][:, :, 2]` |
///
/// ```
/// use wavelet_ops::Band;
/// assert_eq!(Band::HL.index(), 2);
/// assert_eq!(Band::ALL.map(Band::name), ["LL", "LH", "HL", "HH"]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Band {
    /// Approximation: low-pass along both axes.
    LL,
    /// Horizontal detail: low-pass along width, high-pass along height.
    LH,
    /// Vertical detail: high-pass along width, low-pass along height.
    HL,
    /// Diagonal detail: high-pass along both axes.
    HH,
}

impl Band {
    /// The four bands in dim-2 order.
    pub const ALL: [Band; 4] = [Band::LL, Band::LH, Band::HL, Band::HH];

    /// Position of the band on dim 2.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Short name, as in the table above.
    pub fn name(self) -> &'static str {
        ["LL", "LH", "HL", "HH"][self.index()]
    }
}
