//! A small, seedable random number generator whose whole state can be saved in a checkpoint.
//!
//! candle's CPU backend cannot be seeded, and `rand`'s `StdRng` does not expose its state, so
//! the trainer draws every random number (shuffling, augmentation, noise) from [`TrainRng`]:
//! xoshiro256++ (Blackman and Vigna), seeded through SplitMix64. Its 256-bit state is four
//! `u64`s, stored with each checkpoint so that a resumed run continues bit for bit.

use crate::error::{Result, TrainerError};
use serde::{Deserialize, Serialize};

const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// The SplitMix64 output function applied to `x + GOLDEN_GAMMA`.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(GOLDEN_GAMMA);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hashes a sequence of words into one seed (order-sensitive), e.g. `(seed, epoch, index)`.
///
/// ```
/// use wno_trainer::rng::derive_seed;
/// assert_ne!(derive_seed(&[1, 2, 3]), derive_seed(&[1, 3, 2]));
/// assert_eq!(derive_seed(&[7, 0]), derive_seed(&[7, 0]));
/// ```
pub fn derive_seed(words: &[u64]) -> u64 {
    let mut h = 0x243f_6a88_85a3_08d3_u64; // digits of pi, an arbitrary non-zero start
    for &w in words {
        h = splitmix64(h ^ splitmix64(w));
    }
    h
}

/// xoshiro256++ with a saveable state; implements [`rand::RngCore`], so `rand` and
/// `rand_distr` distributions can draw from it.
///
/// ```
/// use rand::Rng;
/// use wno_trainer::rng::TrainRng;
/// let mut a = TrainRng::seed_from_u64(42);
/// let x: f32 = a.random();
/// let mut b = TrainRng::from_state(TrainRng::seed_from_u64(42).state()).unwrap();
/// assert_eq!(x, b.random::<f32>());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainRng {
    s: [u64; 4],
}

impl TrainRng {
    /// Seeds the generator from one `u64`, expanding it with SplitMix64 (the seeding the
    /// xoshiro authors recommend).
    pub fn seed_from_u64(seed: u64) -> Self {
        let mut x = seed;
        let mut s = [0u64; 4];
        for word in &mut s {
            *word = splitmix64(x);
            x = x.wrapping_add(GOLDEN_GAMMA);
        }
        // SplitMix64 is a bijection of its counter, so four consecutive outputs are never all 0.
        Self { s }
    }

    /// A generator for one stream identified by several words, e.g. `(seed, epoch, index)`.
    pub fn for_stream(words: &[u64]) -> Self {
        Self::seed_from_u64(derive_seed(words))
    }

    /// Rebuilds a generator from a saved state.
    ///
    /// # Errors
    /// The all-zero state, which xoshiro never leaves and never reaches.
    pub fn from_state(s: [u64; 4]) -> Result<Self> {
        if s == [0; 4] {
            return Err(TrainerError::invalid(
                "TrainRng::from_state",
                "the all-zero state is not a valid xoshiro256++ state",
            ));
        }
        Ok(Self { s })
    }

    /// The current state, to store in a checkpoint.
    pub fn state(&self) -> [u64; 4] {
        self.s
    }

    fn next(&mut self) -> u64 {
        let [s0, s1, s2, s3] = self.s;
        let result = s0.wrapping_add(s3).rotate_left(23).wrapping_add(s0);
        let t = s1 << 17;
        let mut s = [s0, s1, s2 ^ s0, s3 ^ s1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        self.s = s;
        result
    }
}

impl rand::RngCore for TrainRng {
    fn next_u32(&mut self) -> u32 {
        (self.next() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.next()
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}
