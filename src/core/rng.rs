//! A small, portable pseudo-random generator for everything the lab decides by chance:
//! initialisation, batch order, sampling. It is SplitMix64 (Steele, Lea & Flood 2014), chosen
//! because it gives the same stream on every platform and backend — a run seeded natively and
//! one seeded in the browser start from identical weights and see identical batches — and
//! because it is a dozen lines with no dependency.

/// SplitMix64: 64-bit state, one multiply-xorshift finaliser per draw.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

/// What a sub-stream is used for, so that changing how many numbers one consumer draws never
/// shifts another consumer's stream.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Init = 1,
    Batches = 2,
    Sampling = 4,
    Corpus = 5,
    /// Evaluation pair sets and the negatives they are made of.
    Pairs = 6,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// An independent generator for one purpose, derived from a run seed.
    pub fn for_stream(seed: u64, stream: Stream) -> Self {
        let mut mixer = Self::new(seed ^ (stream as u64).wrapping_mul(0xA076_1D64_78BD_642F));
        Self::new(mixer.next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 bits of precision.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `0..n` (Lemire's multiply-shift; the bias is below 2^-32 for the
    /// sizes used here). Returns 0 when `n == 0`.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 32).wrapping_mul(n as u64) >> 32) as usize
    }

    /// Standard normal draw (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // (0, 1], so the log is finite
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_streams_differ() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut init = Rng::for_stream(7, Stream::Init);
        let mut batches = Rng::for_stream(7, Stream::Batches);
        assert_ne!(init.next_u64(), batches.next_u64());
    }

    #[test]
    fn below_stays_in_range_and_normal_has_unit_scale() {
        let mut rng = Rng::new(3);
        assert!((0..10_000).all(|_| rng.below(17) < 17));
        let draws: Vec<f64> = (0..20_000).map(|_| rng.normal()).collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / draws.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "mean {mean} var {var}"
        );
    }
}
