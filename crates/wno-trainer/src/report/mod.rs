//! Run reporting: the JSON-lines metrics file, loss and PSNR curves as PNG, sample grids,
//! and the terminal progress bar.
//!
//! - [`MetricsLog`] appends one JSON object per line to `metrics.jsonl` (flushed each time);
//!   [`read_metrics`] reads it back, skipping a line cut short by a crash, and
//!   [`truncate_metrics_after`] rewinds it when a run resumes from an older checkpoint.
//! - [`plot_curves`] draws the training loss (log scale) and the evaluation PSNRs from those
//!   records into one PNG; [`render_panels`] is the generic plot beneath it, drawn with the
//!   `image` crate and a built-in bitmap font.
//! - [`grid_image`] / [`save_grid`] lay image tensors out as a grid (nearest upscaling, white
//!   gaps); [`scale_rows`] turns the per-scale batches of a sampling run into grid rows.
//! - [`Progress`] is an indicatif bar over optimisation steps (hidden off a terminal).
//!
//! PNG files are written atomically (temp file + rename) through
//! [`crate::checkpoint::write_atomic`].

mod font;
mod grid;
mod metrics;
mod plot;
mod progress;

pub use grid::{grid_image, save_grid, scale_rows};
pub use metrics::{read_metrics, truncate_metrics_after, MetricsLog};
pub use plot::{plot_curves, render_panels, Panel, Series, PALETTE};
pub use progress::Progress;
