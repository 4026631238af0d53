//! Deterministic randomness: SplitMix64 to derive seeds, xorshift64* to draw.
//! No external crate, so a seed gives the same capture on every platform and
//! every version of the dependencies.

/// SplitMix64's output function: a good 64-bit mixer, used to derive
/// independent seeds from (seed, index) pairs.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A bijection on `u32` (Wellons' lowbias32: every step is invertible), so
/// distinct inputs give distinct, random-looking outputs (used for xids).
pub fn permute32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^ (x >> 16)
}

/// A bijection on the low 24 bits (multiplications by odd constants and
/// right xorshifts modulo 2^24 are invertible), used for unique MAC suffixes.
pub fn permute24(mut x: u32) -> u32 {
    const M: u32 = 0x00ff_ffff;
    x &= M;
    x ^= x >> 12;
    x = x.wrapping_mul(0x0058_5b6d) & M;
    x ^= x >> 11;
    x = x.wrapping_mul(0x00a3_c4e5) & M;
    x ^ (x >> 12)
}

/// xorshift64* (Vigna): small, fast, good enough for traffic models.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // The state must not be 0.
        Rng(mix64(seed) | 1)
    }

    /// A generator for item `index` of stream `stream` under `seed`,
    /// independent of the order in which items are drawn.
    pub fn derive(seed: u64, stream: u64, index: u64) -> Rng {
        Rng::new(mix64(
            seed ^ mix64(stream.wrapping_mul(0x632b_e59b_d9b4_e019) ^ index),
        ))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[0, n)` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[lo, hi]`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Exponentially distributed with mean `mean` (Poisson inter-arrivals).
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// Log-uniform between `lo` and `hi` nanoseconds: many short delays, a
    /// tail of long ones, as network and server latencies are.
    pub fn log_uniform_ns(&mut self, lo: i64, hi: i64) -> i64 {
        let (a, b) = ((lo.max(1) as f64).ln(), (hi.max(1) as f64).ln());
        (a + (b - a) * self.unit()).exp() as i64
    }

    /// An index into `weights`, chosen with probability proportional to each.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permute24_is_a_bijection() {
        let mut seen = vec![false; 1 << 24];
        for i in 0..(1u32 << 24) {
            let p = permute24(i) as usize;
            assert!(!seen[p], "collision at {i}");
            seen[p] = true;
        }
    }

    #[test]
    fn permute32_has_no_collisions_on_a_prefix() {
        let mut v: Vec<u32> = (0..1_000_000).map(permute32).collect();
        v.sort_unstable();
        v.dedup();
        assert_eq!(v.len(), 1_000_000);
    }

    #[test]
    fn derived_streams_differ_and_repeat() {
        let a: Vec<u64> = (0..4).map(|_| Rng::derive(1, 2, 3).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::derive(1, 2, 3).next_u64(),
            Rng::derive(1, 2, 4).next_u64()
        );
    }
}
