//! Full-jitter exponential backoff, and the tiny random source behind it.
//!
//! Writers that lost a push race all retry at about the same moment; with a
//! fixed delay (the hand-written `sleep 1` loop) they collide again on every
//! round. "Full jitter" draws each wait uniformly from `[0, min(cap, base·2ⁿ)]`,
//! which spreads the retries out and, in AWS's measurements ("Exponential
//! Backoff And Jitter", 2015), finishes contended work in the fewest calls.
//!
//! The randomness only has to differ between processes started in the same
//! millisecond, so a xorshift seeded from the clock and the pid is enough;
//! nothing here is security-relevant, and it saves a dependency.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A xorshift64* generator: fast, tiny, and good enough for jitter.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from the clock and the process id, so that parallel
    /// jobs started together still draw different waits.
    pub fn from_entropy() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Self::seeded(nanos ^ (u64::from(std::process::id()) << 32))
    }

    /// A generator with a fixed seed (tests, and threads that derive their own).
    pub fn seeded(seed: u64) -> Self {
        // splitmix64 spreads nearby seeds (consecutive pids) over the whole
        // state space; xorshift must never start at 0.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Self((z ^ (z >> 31)) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A duration drawn uniformly from `[0, max]`.
    pub fn duration_up_to(&mut self, max: Duration) -> Duration {
        let nanos = max.as_nanos().min(u128::from(u64::MAX)) as u64;
        Duration::from_nanos(self.next_u64() % nanos.saturating_add(1))
    }
}

/// The backoff schedule: waits grow from `base` and never exceed `cap`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The ceiling of the first wait.
    pub base: Duration,
    /// The largest ceiling any wait can have.
    pub cap: Duration,
}

impl Default for Backoff {
    /// 200 ms doubling to 4 s: one round of fetch, reapply and push takes a
    /// few hundred milliseconds, so the first retries come quickly, and 4 s
    /// keeps 40 writers from hammering the server without stretching a CI job.
    fn default() -> Self {
        Self {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(4),
        }
    }
}

impl Backoff {
    /// The ceiling before the `retry`-th retry (1-based): `min(cap, base·2^(retry-1))`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32 << retry.saturating_sub(1).min(20);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// How long to wait before the `retry`-th retry: full jitter under [`Self::ceiling`].
    pub fn delay(&self, retry: u32, rng: &mut Rng) -> Duration {
        rng.duration_up_to(self.ceiling(retry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_then_caps() {
        let b = Backoff::default();
        let ms: Vec<u128> = (1..=7).map(|r| b.ceiling(r).as_millis()).collect();
        assert_eq!(ms, [200, 400, 800, 1600, 3200, 4000, 4000]);
        assert_eq!(b.ceiling(u32::MAX), b.cap);
    }

    #[test]
    fn delays_stay_under_the_ceiling_and_spread_out() {
        let b = Backoff::default();
        let mut rng = Rng::seeded(7);
        let waits: Vec<Duration> = (0..2000).map(|_| b.delay(3, &mut rng)).collect();
        assert!(waits.iter().all(|w| *w <= Duration::from_millis(800)));
        // Full jitter is uniform: both halves of the range are used.
        let low = waits
            .iter()
            .filter(|w| **w < Duration::from_millis(400))
            .count();
        assert!(
            (800..1200).contains(&low),
            "{low} of 2000 below the midpoint"
        );
    }

    #[test]
    fn neighbouring_seeds_diverge() {
        // Parallel jobs differ only in pid and a few nanoseconds.
        let a = Rng::seeded(1000).next_u64();
        let b = Rng::seeded(1001).next_u64();
        assert_ne!(a, b);
        assert_ne!(a >> 32, b >> 32);
    }

    #[test]
    fn zero_ceiling_means_no_wait() {
        assert_eq!(
            Rng::seeded(3).duration_up_to(Duration::ZERO),
            Duration::ZERO
        );
    }
}
