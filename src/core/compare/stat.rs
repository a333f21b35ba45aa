//! Mean and sample standard deviation over seeds, the statistic every table of the lab
//! reports as `mean ± sd`.

use serde::{Deserialize, Serialize};

/// Mean and sample standard deviation of `n` values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    pub mean: f64,
    pub sd: f64,
    pub n: usize,
}

impl Stat {
    /// Over the finite values of `values`; `None` when there is none.
    pub fn of(values: &[f64]) -> Option<Self> {
        let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(Self { mean, sd, n })
    }

    /// `mean ± sd` (just the mean for a single value).
    pub fn text(self, digits: usize) -> String {
        if self.n > 1 {
            format!("{:.d$} ± {:.d$}", self.mean, self.sd, d = digits)
        } else {
            format!("{:.d$}", self.mean, d = digits)
        }
    }

    /// The same statistic with every figure multiplied by `factor` (e.g. 100 for percent).
    pub fn scaled(self, factor: f64) -> Self {
        Self {
            mean: self.mean * factor,
            sd: self.sd * factor,
            n: self.n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_are_mean_and_sample_sd() {
        let s = Stat::of(&[1.0, 2.0, 3.0]).expect("stat");
        assert_eq!(s.mean, 2.0);
        assert!((s.sd - 1.0).abs() < 1e-12);
        assert_eq!(s.text(1), "2.0 ± 1.0");
        assert_eq!(Stat::of(&[f64::NAN]), None);
        assert_eq!(Stat::of(&[0.5]).expect("one").text(2), "0.50");
        assert_eq!(
            Stat::of(&[0.5, 0.7]).expect("two").scaled(100.0).text(0),
            "60 ± 14"
        );
    }
}
