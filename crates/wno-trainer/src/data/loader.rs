//! [`DataLoader`]: batches built on worker threads behind a bounded prefetch queue,
//! deterministic per seed and epoch.
//!
//! Every random choice is a pure function of the configuration: the epoch's order comes from a
//! generator seeded with `(seed, epoch, u64::MAX)`, and sample `i`'s augmentation from one
//! seeded with `(seed, epoch, i)`. Worker `w` of `W` builds batches `w, w + W, ...` into its own
//! bounded channel and the iterator reads the channels round-robin, so the batches arrive in
//! order and are identical whatever the number of workers and the thread timing.

use super::augment::Pipeline;
use super::planar::{stack_images, PlanarImage};
use super::source::ImageSource;
use crate::error::{Result, TrainerError};
use crate::rng::TrainRng;
use candle_core::{Device, Tensor};
use rand::Rng;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

/// How a [`DataLoader`] batches, shuffles and prefetches.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoaderConfig {
    /// Images per batch.
    pub batch_size: usize,
    /// Draw a new order each epoch (otherwise the source order).
    pub shuffle: bool,
    /// Drop the last incomplete batch of an epoch.
    pub drop_last: bool,
    /// Seed of the order and of the augmentation.
    pub seed: u64,
    /// Worker threads; 0 builds batches on the calling thread.
    pub workers: usize,
    /// Batches prepared ahead of the consumer (at least one per worker).
    pub prefetch: usize,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        Self {
            batch_size: 128,
            shuffle: true,
            drop_last: true,
            seed: 0,
            workers: 2,
            prefetch: 4,
        }
    }
}

/// One batch of preprocessed images.
#[derive(Clone, Debug)]
pub struct Batch {
    /// `(B, 3, target, target)` f32 on the CPU, values in `[0, 1]`.
    pub images: Tensor,
    /// Labels of the images, in batch order.
    pub labels: Vec<Option<u32>>,
    /// Source indices of the images, in batch order.
    pub indices: Vec<usize>,
    /// The epoch the batch belongs to.
    pub epoch: u64,
    /// Position of the batch within its epoch.
    pub index: usize,
}

/// Produces the batches of an epoch from an [`ImageSource`] and a [`Pipeline`].
///
/// ```
/// use std::sync::Arc;
/// use wno_trainer::data::{DataLoader, LoaderConfig, MemorySource, Pipeline};
/// let mut src = MemorySource::new("grey squares", vec![]);
/// for v in 0..10u8 {
///     src.push_planar(8, 8, &[v * 20; 3 * 64], None).unwrap();
/// }
/// let cfg = LoaderConfig { batch_size: 4, drop_last: false, ..Default::default() };
/// let loader = DataLoader::new(Arc::new(src), Pipeline::train(16), cfg).unwrap();
/// let batches: Vec<_> = loader.epoch(0).unwrap().collect::<Result<_, _>>().unwrap();
/// assert_eq!(batches.len(), 3);
/// assert_eq!(batches[2].images.dims(), &[2, 3, 16, 16]);
/// ```
#[derive(Clone)]
pub struct DataLoader {
    source: Arc<dyn ImageSource>,
    pipeline: Arc<Pipeline>,
    cfg: LoaderConfig,
}

impl DataLoader {
    /// Checks the configuration against the source.
    ///
    /// # Errors
    /// A zero batch size, an invalid pipeline, or a source too small for one batch.
    pub fn new(
        source: Arc<dyn ImageSource>,
        pipeline: Pipeline,
        cfg: LoaderConfig,
    ) -> Result<Self> {
        pipeline.validate()?;
        if cfg.batch_size == 0 {
            return Err(TrainerError::invalid(
                "DataLoader::new",
                "batch_size must be positive",
            ));
        }
        let loader = Self {
            source,
            pipeline: Arc::new(pipeline),
            cfg,
        };
        if loader.batches_per_epoch() == 0 {
            return Err(TrainerError::invalid(
                "DataLoader::new",
                format!(
                    "{} holds {} images, fewer than one batch of {} (drop_last = {})",
                    loader.source.description(),
                    loader.source.len(),
                    loader.cfg.batch_size,
                    loader.cfg.drop_last
                ),
            ));
        }
        Ok(loader)
    }

    /// The configuration.
    pub fn config(&self) -> &LoaderConfig {
        &self.cfg
    }

    /// The source.
    pub fn source(&self) -> &Arc<dyn ImageSource> {
        &self.source
    }

    /// The per-sample pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Batches in one epoch.
    pub fn batches_per_epoch(&self) -> usize {
        let (n, b) = (self.source.len(), self.cfg.batch_size);
        if self.cfg.drop_last {
            n / b
        } else {
            n.div_ceil(b)
        }
    }

    /// The order in which epoch `epoch` visits the source (a permutation of `0..len`).
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        epoch_order(self.source.len(), self.cfg.shuffle, self.cfg.seed, epoch)
    }

    /// Iterates over the batches of `epoch`.
    ///
    /// # Errors
    /// As [`DataLoader::epoch_from`].
    pub fn epoch(&self, epoch: u64) -> Result<EpochBatches> {
        self.epoch_from(epoch, 0)
    }

    /// Iterates over the batches of `epoch` starting at batch `first` (to resume a run mid-epoch
    /// with exactly the batches it would have seen).
    ///
    /// # Errors
    /// `first` beyond the epoch, or a worker thread that cannot be spawned.
    pub fn epoch_from(&self, epoch: u64, first: usize) -> Result<EpochBatches> {
        let end = self.batches_per_epoch();
        if first > end {
            return Err(TrainerError::invalid(
                "DataLoader::epoch_from",
                format!("first batch {first} beyond the {end} batches of an epoch"),
            ));
        }
        let job = Arc::new(EpochJob {
            source: self.source.clone(),
            pipeline: self.pipeline.clone(),
            order: self.order(epoch),
            batch_size: self.cfg.batch_size,
            seed: self.cfg.seed,
            epoch,
        });
        let workers = self.cfg.workers.min(end - first);
        let capacity = self.cfg.prefetch.div_ceil(workers.max(1)).max(1);
        let mut receivers = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for w in 0..workers {
            let (tx, rx) = sync_channel(capacity);
            let job = job.clone();
            let handle = std::thread::Builder::new()
                .name(format!("wno-loader-{w}"))
                .spawn(move || {
                    for k in (first + w..end).step_by(workers) {
                        if tx.send(job.batch(k)).is_err() {
                            return; // the consumer is gone
                        }
                    }
                })
                .map_err(|e| TrainerError::Loader {
                    reason: format!("cannot spawn worker thread {w}: {e}"),
                })?;
            receivers.push(rx);
            handles.push(handle);
        }
        Ok(EpochBatches {
            job,
            next: first,
            first,
            end,
            receivers,
            handles,
        })
    }
}

/// The permutation of `0..n` visited by one epoch.
fn epoch_order(n: usize, shuffle: bool, seed: u64, epoch: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if shuffle {
        let mut rng = TrainRng::for_stream(&[seed, epoch, u64::MAX]);
        for i in (1..n).rev() {
            let j = rng.random_range(0..=i);
            order.swap(i, j);
        }
    }
    order
}

/// Everything a worker needs to build any batch of one epoch.
struct EpochJob {
    source: Arc<dyn ImageSource>,
    pipeline: Arc<Pipeline>,
    order: Vec<usize>,
    batch_size: usize,
    seed: u64,
    epoch: u64,
}

impl EpochJob {
    fn batch(&self, k: usize) -> Result<Batch> {
        let start = k * self.batch_size;
        let end = (start + self.batch_size).min(self.order.len());
        let indices = self.order[start..end].to_vec();
        let mut images: Vec<PlanarImage> = Vec::with_capacity(indices.len());
        let mut labels = Vec::with_capacity(indices.len());
        for &i in &indices {
            let sample = self.source.get(i)?;
            let mut rng = TrainRng::for_stream(&[self.seed, self.epoch, i as u64]);
            images.push(self.pipeline.apply(&sample.image, &mut rng)?);
            labels.push(sample.label);
        }
        Ok(Batch {
            images: stack_images(&images, &Device::Cpu)?,
            labels,
            indices,
            epoch: self.epoch,
            index: k,
        })
    }
}

/// The batches of one epoch, in order; see [`DataLoader::epoch_from`]. Dropping it stops the
/// workers.
pub struct EpochBatches {
    job: Arc<EpochJob>,
    next: usize,
    first: usize,
    end: usize,
    receivers: Vec<Receiver<Result<Batch>>>,
    handles: Vec<JoinHandle<()>>,
}

impl EpochBatches {
    /// Batches not yet returned.
    pub fn remaining(&self) -> usize {
        self.end - self.next
    }
}

impl Iterator for EpochBatches {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.end {
            return None;
        }
        let k = self.next;
        self.next += 1;
        if self.receivers.is_empty() {
            return Some(self.job.batch(k));
        }
        let rx = &self.receivers[(k - self.first) % self.receivers.len()];
        Some(rx.recv().unwrap_or_else(|_| {
            Err(TrainerError::Loader {
                reason: format!(
                    "worker for batch {k} of epoch {} stopped before delivering it (it panicked)",
                    self.job.epoch
                ),
            })
        }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining(), Some(self.remaining()))
    }
}

impl ExactSizeIterator for EpochBatches {}

impl Drop for EpochBatches {
    fn drop(&mut self) {
        // Closing the channels makes every blocked `send` fail, so the workers return.
        self.receivers.clear();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}
