//! The learning-rate schedule: a linear warm-up, then cosine decay or warm-up–stable–decay
//! ([`Schedule`]), both ending at 10% of the peak on the last planned step.

use crate::core::config::{Schedule, WSD_DECAY_FRACTION};

/// Learning rate at 1-based `step` of `total_steps`, after `warmup_steps` of linear warm-up.
///
/// - Cosine (Loshchilov & Hutter 2017; the GPT-2/3 recipe): from the peak down a half cosine to
///   10% of it at `total_steps`.
/// - WSD (Hu et al. 2024, MiniCPM §4): the peak held until the last [`WSD_DECAY_FRACTION`] of
///   the steps, then a straight line down to 10% of it.
pub fn learning_rate(
    step: usize,
    total_steps: usize,
    warmup_steps: usize,
    peak: f64,
    schedule: Schedule,
) -> f64 {
    let warmup = warmup_steps.max(1);
    if step <= warmup {
        return peak * step as f64 / warmup as f64;
    }
    let floor = 0.1 * peak;
    match schedule {
        Schedule::Cosine => {
            let span = total_steps.saturating_sub(warmup).max(1) as f64;
            let progress = ((step - warmup) as f64 / span).min(1.0);
            floor + (peak - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
        }
        Schedule::Wsd => {
            let decay = ((total_steps as f64 * WSD_DECAY_FRACTION).round() as usize).max(1);
            let decay_start = total_steps.saturating_sub(decay).max(warmup);
            if step <= decay_start {
                return peak;
            }
            let span = total_steps.saturating_sub(decay_start).max(1) as f64;
            let progress = ((step - decay_start) as f64 / span).min(1.0);
            peak - (peak - floor) * progress
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_schedules_warm_up_then_end_at_a_tenth_of_the_peak() {
        for schedule in [Schedule::Cosine, Schedule::Wsd] {
            let lr = |s| learning_rate(s, 100, 10, 1.0, schedule);
            assert!((lr(1) - 0.1).abs() < 1e-12);
            assert!((lr(10) - 1.0).abs() < 1e-12);
            assert!((lr(100) - 0.1).abs() < 1e-12, "{schedule:?}");
            assert!(
                (lr(150) - 0.1).abs() < 1e-12,
                "past the end it stays at the floor"
            );
            for s in 11..100 {
                assert!(
                    lr(s + 1) <= lr(s) + 1e-12,
                    "{schedule:?} never rises after warm-up"
                );
            }
        }
        // WSD holds the peak until the last 20% of the steps.
        assert_eq!(learning_rate(80, 100, 10, 1.0, Schedule::Wsd), 1.0);
        assert!(learning_rate(81, 100, 10, 1.0, Schedule::Wsd) < 1.0);
        assert!((learning_rate(90, 100, 10, 1.0, Schedule::Wsd) - 0.55).abs() < 1e-12);
        // Cosine is halfway down halfway through the decay.
        assert!((learning_rate(55, 100, 10, 1.0, Schedule::Cosine) - 0.55).abs() < 1e-12);
    }
}
