//! A small seeded random number generator, SplitMix64: the same seed gives the same
//! numbers on every system and every run.
//!
//! Two parts of clearloop draw numbers: `schedule`'s `every(1).to(5)` jobs (how long
//! until the next run) and the simulation runtime ([`crate::sim`]: which ready task
//! runs next). Neither needs a cryptographic generator, and both need to be replayed
//! from a seed, so one plain generator serves both: Python's `random.seed(n)` plays
//! the same part for `schedule` and for a hand-made simulation.
//!
//! ```text
//!   state += 0x9E3779B97F4A7C15          (a Weyl sequence: every u64 once)
//!   z = state, then mix it three times:  z ^= z >> 30; z *= C1
//!                                        z ^= z >> 27; z *= C2
//!                                        z ^= z >> 31       -> the number
//! ```
//!
//! Sebastiano Vigna's SplitMix64 (the generator Java's `SplittableRandom` uses):
//! one addition and a few shifts and multiplications a number, statistically good
//! enough to shuffle tasks, and too simple to hide a bug in.

/// SplitMix64's state: the next number is a function of it alone.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// The generator whose numbers `seed` decides.
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next number, and the state moves on.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0.0..1.0`, from the top 53 bits (an `f64`'s precision).
    pub(crate) fn chance(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A number in `0..n` (`n` > 0), each about equally likely: the high half of
    /// a 128-bit product (Lemire's method, without the rejection step; the bias is
    /// below one in four billion for the queue lengths a simulation meets).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0, "below(0): no number is below 0");
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_gives_one_sequence_and_another_seed_another() {
        let draw = |seed| {
            let mut rng = SplitMix64::new(seed);
            (0..4).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        // The published first output for seed 0 (Vigna's reference code).
        assert_eq!(draw(0)[0], 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn below_stays_below_and_reaches_every_value() {
        let mut rng = SplitMix64::new(42);
        let mut seen = [0u32; 5];
        for _ in 0..1000 {
            seen[rng.below(5)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 150), "{seen:?}");
    }
}
