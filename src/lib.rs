//! Umbrella crate of the wno-imagegen workspace: re-exports the member crates so that the
//! examples, benches and end-to-end tests in this package can reach them under one name.

pub use wavelet_ops;
pub use wno_critic;
pub use wno_losses;
pub use wno_operator;
pub use wno_trainer;
