//! [`MemorySource`]: images held in memory as planar bytes, the store behind every loader.

use super::planar::PlanarImage;
use super::source::{ImageSource, Sample};
use crate::error::{Result, TrainerError};

#[derive(Clone, Debug)]
struct Entry {
    offset: usize,
    height: usize,
    width: usize,
    label: Option<u32>,
}

/// Images kept in memory as 8-bit planar RGB (a quarter of the f32 size: CIFAR-10's 50,000
/// training images take 150 MB), converted to `[0, 1]` floats on [`ImageSource::get`].
/// Images may have different sizes.
///
/// ```
/// use wno_trainer::data::{ImageSource, MemorySource};
/// let mut src = MemorySource::new("two pixels", vec!["a".into()]);
/// src.push_planar(1, 1, &[255, 0, 0], Some(0)).unwrap();
/// src.push_planar(1, 1, &[0, 0, 255], Some(0)).unwrap();
/// assert_eq!(src.len(), 2);
/// assert_eq!(src.get(1).unwrap().image.data(), &[0.0, 0.0, 1.0]);
/// ```
#[derive(Clone, Debug)]
pub struct MemorySource {
    description: String,
    class_names: Vec<String>,
    entries: Vec<Entry>,
    pixels: Vec<u8>,
    warnings: Vec<String>,
}

impl MemorySource {
    /// An empty store with a description and class names (empty for unlabelled data).
    pub fn new(description: impl Into<String>, class_names: Vec<String>) -> Self {
        Self {
            description: description.into(),
            class_names,
            entries: Vec::new(),
            pixels: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Appends an image given as planar bytes (`R` plane, `G` plane, `B` plane).
    ///
    /// # Errors
    /// A zero size, a byte count that is not `3 * height * width`, or a label outside the
    /// class list of a labelled source.
    pub fn push_planar(
        &mut self,
        height: usize,
        width: usize,
        planar: &[u8],
        label: Option<u32>,
    ) -> Result<()> {
        if height == 0 || width == 0 || planar.len() != 3 * height * width {
            return Err(TrainerError::invalid(
                "MemorySource::push_planar",
                format!(
                    "{height}x{width} image needs {} bytes, got {}",
                    3 * height * width,
                    planar.len()
                ),
            ));
        }
        if let Some(l) = label {
            if !self.class_names.is_empty() && l as usize >= self.class_names.len() {
                return Err(TrainerError::invalid(
                    "MemorySource::push_planar",
                    format!("label {l} but only {} classes", self.class_names.len()),
                ));
            }
        }
        self.entries.push(Entry {
            offset: self.pixels.len(),
            height,
            width,
            label,
        });
        self.pixels.extend_from_slice(planar);
        Ok(())
    }

    /// Appends an interleaved 8-bit RGB image.
    ///
    /// # Errors
    /// As [`MemorySource::push_planar`].
    pub fn push_rgb8(&mut self, img: &image::RgbImage, label: Option<u32>) -> Result<()> {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let plane = w * h;
        let mut planar = vec![0u8; 3 * plane];
        for (i, px) in img.pixels().enumerate() {
            planar[i] = px[0];
            planar[plane + i] = px[1];
            planar[2 * plane + i] = px[2];
        }
        self.push_planar(h, w, &planar, label)
    }

    /// Records a non-fatal problem met while building the source (e.g. an unreadable image).
    pub fn add_warning(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }

    /// The non-fatal problems met while building the source, one line each.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Keeps only the first `n` images (e.g. `evaluate --limit N`).
    pub fn truncate(&mut self, n: usize) {
        if n < self.entries.len() {
            let end = self.entries[n].offset;
            self.entries.truncate(n);
            self.pixels.truncate(end);
        }
    }

    /// Height and width of image `index`, if it exists.
    pub fn size_of(&self, index: usize) -> Option<(usize, usize)> {
        self.entries.get(index).map(|e| (e.height, e.width))
    }

    /// The planar bytes of image `index`, if it exists.
    pub fn planar_bytes(&self, index: usize) -> Option<&[u8]> {
        self.entries
            .get(index)
            .map(|e| &self.pixels[e.offset..e.offset + 3 * e.height * e.width])
    }
}

impl ImageSource for MemorySource {
    fn len(&self) -> usize {
        self.entries.len()
    }

    fn get(&self, index: usize) -> Result<Sample> {
        let e = self.entries.get(index).ok_or_else(|| {
            TrainerError::invalid(
                "MemorySource::get",
                format!(
                    "index {index} out of range for {} images",
                    self.entries.len()
                ),
            )
        })?;
        let bytes = &self.pixels[e.offset..e.offset + 3 * e.height * e.width];
        Ok(Sample {
            image: PlanarImage::from_planar_u8(e.height, e.width, bytes)?,
            label: e.label,
        })
    }

    fn class_names(&self) -> &[String] {
        &self.class_names
    }

    fn description(&self) -> String {
        format!("{} ({} images)", self.description, self.entries.len())
    }
}
