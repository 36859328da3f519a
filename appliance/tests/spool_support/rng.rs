//! Seeds, case counts and a small deterministic generator for the reliability suite.
//!
//! Every randomised test prints its seed; `ICSFWD_SEED=<n>` replays it. `ICSFWD_CASES=<n>`
//! sets the number of cases; `ICSFWD_RELIABILITY_LONG=1` selects the long variant's count.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

/// SplitMix64: tiny, fast, good enough to drive test cases.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// An index in `0..n` (`n > 0`).
    pub fn index(&mut self, n: usize) -> usize {
        usize::try_from(self.below(n as u64)).unwrap()
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// A derived generator (for case `i` of a run).
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.next())
    }
}

/// The run's seed: `ICSFWD_SEED` if set, else a fresh one; printed so a failure replays.
pub fn seed(test: &str) -> u64 {
    let seed = std::env::var("ICSFWD_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
        });
    eprintln!("{test}: seed {seed} (replay with ICSFWD_SEED={seed})");
    seed
}

/// Whether the long variant was asked for.
pub fn long() -> bool {
    std::env::var("ICSFWD_RELIABILITY_LONG").is_ok_and(|v| v == "1")
}

/// The number of cases: `ICSFWD_CASES`, else `long` with `ICSFWD_RELIABILITY_LONG=1`, else
/// `ci`.
pub fn cases(ci: u64, long_cases: u64) -> u64 {
    std::env::var("ICSFWD_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if long() { long_cases } else { ci })
}
