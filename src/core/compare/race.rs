//! Race mode: several mixes queued on one budget and trained one after another in the
//! worker, each evaluated as it finishes; the panel fills in row by row. This is the queue's
//! bookkeeping — which mix is next, overall progress and the ETA — as plain data; the shell
//! drives the worker through it.

use serde::{Deserialize, Serialize};

/// A queue of mixes and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Race {
    pub mixes: Vec<String>,
    pub seed: u64,
    /// Index of the mix running now (`mixes.len()` when all are done).
    pub current: usize,
    /// Seconds each finished (or failed) entry took.
    pub took_s: Vec<f64>,
    /// When the current entry started.
    pub started_s: f64,
    pub cancelled: bool,
}

impl Race {
    pub fn new(mixes: Vec<String>, seed: u64, now_s: f64) -> Self {
        Self {
            mixes,
            seed,
            current: 0,
            took_s: Vec::new(),
            started_s: now_s,
            cancelled: false,
        }
    }

    /// The mix to run now, unless the race is over.
    pub fn running(&self) -> Option<&str> {
        (!self.cancelled)
            .then(|| self.mixes.get(self.current).map(String::as_str))
            .flatten()
    }

    /// Marks the current entry done (finished or failed) and moves on; returns the next mix.
    pub fn advance(&mut self, now_s: f64) -> Option<&str> {
        if self.current < self.mixes.len() {
            self.took_s.push((now_s - self.started_s).max(0.0));
            self.current += 1;
            self.started_s = now_s;
        }
        self.running()
    }

    pub fn is_over(&self) -> bool {
        self.running().is_none()
    }

    /// Share of the race done, counting the current entry's own progress `within` (0–1).
    pub fn progress(&self, within: f64) -> f64 {
        if self.mixes.is_empty() {
            return 1.0;
        }
        let done = self.current.min(self.mixes.len()) as f64;
        let within = if self.is_over() {
            0.0
        } else {
            within.clamp(0.0, 1.0)
        };
        ((done + within) / self.mixes.len() as f64).min(1.0)
    }

    /// Seconds left: the entries to go at the mean time of those done, or — before any is
    /// done — at the pace of the current one (`within` of it in the time since it started).
    pub fn eta_s(&self, now_s: f64, within: f64) -> Option<f64> {
        if self.is_over() {
            return Some(0.0);
        }
        let left = (self.mixes.len() - self.current) as f64;
        if !self.took_s.is_empty() {
            let mean = self.took_s.iter().sum::<f64>() / self.took_s.len() as f64;
            let spent = (now_s - self.started_s).max(0.0);
            return Some((left * mean - spent).max(0.0));
        }
        let within = within.clamp(0.0, 1.0);
        (within > 0.02).then(|| {
            let per = (now_s - self.started_s).max(0.0) / within;
            left * per - (now_s - self.started_s)
        })
    }

    /// `Race: 2 of 7 done, now bert · 31% · ETA 4:10`.
    pub fn text(&self, now_s: f64, within: f64) -> String {
        let eta = self.eta_s(now_s, within).map_or("ETA –".into(), |s| {
            let s = s.round() as u64;
            format!("ETA {}:{:02}", s / 60, s % 60)
        });
        let done = self.took_s.len();
        match (self.cancelled, self.running()) {
            (true, _) => format!(
                "Race cancelled: {done} of {} done, kept below.",
                self.mixes.len()
            ),
            (false, None) => format!("Race over: all {} runs done.", self.mixes.len()),
            (false, Some(mix)) => format!(
                "Race: {done} of {} done, now {mix} · {:.0}% · {eta}",
                self.mixes.len(),
                100.0 * self.progress(within)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_runs_in_order_and_counts_progress_and_eta() {
        let mut r = Race::new(vec!["gpt".into(), "bert".into(), "t5".into()], 0, 100.0);
        assert_eq!(r.running(), Some("gpt"));
        assert_eq!(r.progress(0.5), 0.5 / 3.0);
        // Before anything finished: the current run's pace.
        assert_eq!(r.eta_s(110.0, 0.5), Some(50.0));
        assert_eq!(r.advance(120.0), Some("bert"));
        // After: the mean time of those done.
        assert_eq!(r.eta_s(125.0, 0.1), Some(35.0));
        assert!(
            r.text(125.0, 0.1)
                .starts_with("Race: 1 of 3 done, now bert")
        );
        r.advance(140.0);
        assert_eq!(r.advance(160.0), None);
        assert!(r.is_over());
        assert_eq!(r.progress(0.3), 1.0);
        assert_eq!(
            r.advance(170.0),
            None,
            "advancing past the end changes nothing"
        );
        assert_eq!(r.took_s, [20.0, 20.0, 20.0]);
    }

    #[test]
    fn a_cancelled_race_runs_nothing_more() {
        let mut r = Race::new(vec!["gpt".into(), "bert".into()], 0, 0.0);
        r.advance(10.0);
        r.cancelled = true;
        assert_eq!(r.running(), None);
        assert!(r.text(11.0, 0.0).contains("1 of 2 done"));
    }
}
