//! Latency samples and the figures drawn from them.

use std::time::Duration;

/// Latencies of individual calls.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    samples: Vec<Duration>,
}

impl Latencies {
    /// Wraps samples (any order).
    pub fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Latencies { samples }
    }

    /// Adds `other`'s samples.
    pub fn absorb(&mut self, other: &Latencies) {
        self.samples.extend_from_slice(&other.samples);
        self.samples.sort_unstable();
    }

    /// The `q` quantile (0 ≤ q ≤ 1), nearest rank; zero when there are no samples.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.samples.is_empty() {
            return Duration::ZERO;
        }
        let last = self.samples.len() - 1;
        // Nearest rank: the smallest sample with at least q of the samples at or below it.
        let rank = (q.clamp(0.0, 1.0) * self.samples.len() as f64).ceil() as usize;
        self.samples[rank.saturating_sub(1).min(last)]
    }

    /// Median.
    pub fn p50(&self) -> Duration {
        self.quantile(0.50)
    }

    /// 99th percentile.
    pub fn p99(&self) -> Duration {
        self.quantile(0.99)
    }
}

/// Median of a few durations (zero when empty).
pub fn median(values: &[Duration]) -> Duration {
    Latencies::new(values.to_vec()).p50()
}

/// Milliseconds as a float.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let l = Latencies::new((1..=100).rev().map(Duration::from_millis).collect());
        assert_eq!(l.p50(), Duration::from_millis(50));
        assert_eq!(l.p99(), Duration::from_millis(99));
        assert_eq!(l.quantile(1.0), Duration::from_millis(100));
        assert_eq!(Latencies::default().p50(), Duration::ZERO);
        assert_eq!(
            median(&[Duration::from_millis(3)]),
            Duration::from_millis(3)
        );
    }
}
