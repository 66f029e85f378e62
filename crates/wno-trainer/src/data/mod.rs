//! Data: image sources (CIFAR-10 binary, image folders, parquet, the Hub copy), per-sample
//! augmentation, the area-average pyramid and the multi-threaded [`DataLoader`].

mod augment;
mod cifar_bin;
mod folder;
mod hub;
mod loader;
mod memory;
mod open;
mod parquet;
mod planar;
mod pyramid;
mod source;

pub use augment::{
    bicubic_weights, flip_horizontal, resize_bicubic, Affine, AugmentConfig, Pipeline, BICUBIC_A,
};
pub use cifar_bin::{
    cifar_batch_names, find_cifar_batches, open_cifar_binary, read_cifar_batches, CIFAR_CLASSES,
    CIFAR_RECORD_BYTES, CIFAR_SIDE,
};
pub use folder::{
    is_image_file, load_square_image, open_image_file, open_image_folder, FolderOptions,
};
pub use hub::{load_hub_cifar10, HUB_CIFAR10_REPO};
pub use loader::{Batch, DataLoader, EpochBatches, LoaderConfig};
pub use memory::MemorySource;
pub use open::{open_source, SourceOptions};
pub use parquet::{is_parquet_file, read_parquet_images};
pub use planar::{stack_images, unstack_images, PlanarImage};
pub use pyramid::area_pyramid;
pub use source::{ImageSource, Sample, Split};
