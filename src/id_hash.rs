//! A map keyed by our own counters (task ids, job ids), with a hash of one
//! multiplication (Fibonacci hashing).
//!
//! std's `HashMap` hashes with SipHash, which protects a map from keys chosen by an
//! attacker to collide. These keys are small integers the runtime hands out itself,
//! so that protection buys nothing, and SipHash costs several times more per lookup.
//! Python's `dict` makes the same choice for its ints: `hash(7) == 7`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` whose keys are ids the program counts out itself.
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// The hasher of an [`IdMap`]: each word is mixed in with one multiplication by
/// 2^64 / φ, which spreads consecutive ids over the table.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}
