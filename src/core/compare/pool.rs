//! Which runs may be pooled. A mean over seeds means something only when the runs differ in
//! the seed alone: the same corpus (fingerprint), budget and schedule, model size, evaluation
//! sets, record schema and app version, and for runs of one mix the same recipe (learning
//! rate, batch, schedule) and knobs (those of the mix's own objectives). The reference set-up
//! is the one most distinct runs share, taken as a whole (the first run's on a tie); a run
//! that differs is flagged with what differs and left out of every mean, point and best mark
//! — shown, never silently pooled. So is a second copy of the same (mix, seed) cell, a run
//! that failed, diverged or was cancelled, and a finished run that was never evaluated.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::PanelRun;
use crate::core::summary::{RunStatus, RunSummary};

/// Why a run is not pooled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    Failed,
    Unfinished,
    NotEvaluated,
    Duplicate,
    Corpus,
    Budget,
    Size,
    EvalSets,
    Recipe,
    Knobs,
    Schema,
    AppVersion,
}

/// A flag on a run, with what differs in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    pub kind: FlagKind,
    pub text: String,
}

/// The most common value of `key` over `values` (the first seen on a tie).
fn mode<T: PartialEq + Clone>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut counts: Vec<(T, usize)> = Vec::new();
    for v in values {
        match counts.iter_mut().find(|(c, _)| *c == v) {
            Some((_, n)) => *n += 1,
            None => counts.push((v, 1)),
        }
    }
    let best = counts.iter().map(|(_, n)| *n).max()?;
    counts.into_iter().find(|(_, n)| *n == best).map(|(v, _)| v)
}

fn short(fingerprint: &Option<String>) -> String {
    fingerprint
        .as_deref()
        .map_or("not recorded".into(), |f| f.chars().take(12).collect())
}

type Key = fn(&RunSummary) -> String;

/// The corpus: its fingerprint, or where a record has none, its seed and description (runs
/// without a fingerprint never pool across corpora).
fn corpus_key(s: &RunSummary) -> String {
    match &s.corpus_fingerprint {
        Some(_) => short(&s.corpus_fingerprint),
        None => format!(
            "no fingerprint; corpus seed {}, {}",
            s.corpus_seed,
            s.corpus.as_deref().unwrap_or("corpus not recorded")
        ),
    }
}

/// The settings every pooled run must share, each with its flag and how it reads.
const SHARED: [(FlagKind, &str, Key); 6] = [
    (FlagKind::Corpus, "corpus", corpus_key),
    (FlagKind::Budget, "budget", |s| {
        let schedule = s.schedule_tokens.unwrap_or(s.budget_tokens);
        if schedule == s.budget_tokens {
            format!("{} tokens", s.budget_tokens)
        } else {
            format!("{} tokens (scheduled for {schedule})", s.budget_tokens)
        }
    }),
    (FlagKind::Size, "model size", |s| s.size.to_string()),
    (FlagKind::EvalSets, "evaluation sets", |s| {
        match &s.evaluation.sizes {
            None => "not recorded".into(),
            Some(z) => format!(
                "{} replies scored, {} written, probe {} + {} pairs per kind",
                z.gen_examples, z.replies, z.probe_fit, z.probe_test
            ),
        }
    }),
    (FlagKind::Schema, "record schema", |s| {
        s.schema_version.to_string()
    }),
    (FlagKind::AppVersion, "app version", |s| {
        s.app_version
            .clone()
            .unwrap_or_else(|| "not recorded".into())
    }),
];

/// Settings that may differ between mixes but not between the seeds of one mix.
const PER_MIX: [(FlagKind, &str, Key); 2] = [
    (FlagKind::Recipe, "recipe", |s| {
        format!(
            "peak lr {} · batch {} · {}",
            s.peak_lr.map_or("?".into(), |l| format!("{l}")),
            s.batch_size,
            s.schedule
                .map_or("?".into(), |x| format!("{x:?}").to_lowercase())
        )
    }),
    (FlagKind::Knobs, "knobs", |s| match &s.knobs {
        None => "not recorded".into(),
        Some(k) => {
            // Only the knobs of the mix's own objectives: a leftover mask rate changes nothing
            // a causal LM trains.
            let own = own_knobs(&s.mix);
            let changed: Vec<String> = k
                .changed()
                .filter(|(key, _)| own.contains(key))
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            if changed.is_empty() {
                "the papers' defaults".into()
            } else {
                changed.join(", ")
            }
        }
    }),
];

/// The keys of the knobs the objectives of `mix` read (all knobs if it does not parse).
fn own_knobs(mix: &str) -> Vec<&'static str> {
    match crate::core::mix::ObjectiveMix::parse(mix) {
        Ok((m, _)) => [Some(m.primary), m.auxiliary]
            .into_iter()
            .flatten()
            .flat_map(|o| o.spec().knobs.iter().map(|k| k.key))
            .collect(),
        Err(_) => crate::core::objective::spec::all_knobs()
            .map(|k| k.key)
            .collect(),
    }
}

/// The identity of a cell of the comparison: two runs with the same key are the same run
/// counted twice.
fn cell_key(s: &RunSummary) -> String {
    let mut key = format!("{}|{}|{}|", s.mix, s.seed, s.corpus_seed);
    for (_, _, of) in SHARED.iter().chain(&PER_MIX) {
        key.push_str(&of(s));
        key.push('|');
    }
    key
}

/// The flags of each run of `runs`, in order (empty: the run is pooled).
pub fn flags(runs: &[PanelRun]) -> Vec<Vec<Flag>> {
    let summaries: Vec<Option<&RunSummary>> = runs.iter().map(|r| r.summary.as_deref()).collect();
    // Each distinct finished run once: a file imported twice does not outvote the others.
    let mut distinct: Vec<&RunSummary> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    for s in summaries
        .iter()
        .flatten()
        .filter(|s| s.status == RunStatus::Finished)
    {
        let key = cell_key(s);
        if !keys.contains(&key) {
            keys.push(key);
            distinct.push(s);
        }
    }
    let finished = || distinct.iter().copied();
    // The reference is the set-up most runs share as a whole, not a mode per setting (which
    // could be a combination no run has).
    let shared: Vec<Option<String>> = match mode(finished().map(|s| {
        SHARED
            .iter()
            .map(|(_, _, of)| of(s))
            .collect::<Vec<String>>()
    })) {
        Some(reference) => reference.into_iter().map(Some).collect(),
        None => vec![None; SHARED.len()],
    };
    let mut per_mix: BTreeMap<(String, usize), String> = BTreeMap::new();
    for (i, (_, _, of)) in PER_MIX.iter().enumerate() {
        let mixes: Vec<&str> = finished().map(|s| s.mix.as_str()).collect();
        for mix in mixes {
            if per_mix.contains_key(&(mix.to_string(), i)) {
                continue;
            }
            if let Some(v) = mode(finished().filter(|s| s.mix == mix).map(of)) {
                per_mix.insert((mix.to_string(), i), v);
            }
        }
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(runs.len());
    for (i, run) in runs.iter().enumerate() {
        let mut flags = Vec::new();
        let Some(s) = summaries[i] else {
            flags.push(Flag {
                kind: FlagKind::Failed,
                text: format!("failed: {}", run.error.as_deref().unwrap_or("no record")),
            });
            out.push(flags);
            continue;
        };
        match s.status {
            RunStatus::Finished if s.evaluation.is_empty() => flags.push(Flag {
                kind: FlagKind::NotEvaluated,
                text: "not evaluated (its evaluation was stopped or never ran)".into(),
            }),
            RunStatus::Finished => {}
            RunStatus::Diverged => flags.push(Flag {
                kind: FlagKind::Unfinished,
                text: format!("diverged at step {}", s.diverged_at_step.unwrap_or(s.steps)),
            }),
            RunStatus::Cancelled => flags.push(Flag {
                kind: FlagKind::Unfinished,
                text: format!("stopped at {} of {} tokens", s.tokens, s.budget_tokens),
            }),
        }
        for ((kind, what, of), reference) in SHARED.iter().zip(&shared) {
            let value = of(s);
            if let Some(r) = reference
                && *r != value
            {
                flags.push(Flag {
                    kind: *kind,
                    text: format!("{what} differs: {value}, where the other runs have {r}"),
                });
            }
        }
        for (k, (kind, what, of)) in PER_MIX.iter().enumerate() {
            let value = of(s);
            if let Some(r) = per_mix.get(&(s.mix.clone(), k))
                && *r != value
            {
                flags.push(Flag {
                    kind: *kind,
                    text: format!(
                        "{what} differs from the other {} runs: {value}, where they have {r}",
                        s.mix
                    ),
                });
            }
        }
        if flags.is_empty() {
            let key = cell_key(s);
            match seen.get(&key) {
                Some(&first) => flags.push(Flag {
                    kind: FlagKind::Duplicate,
                    text: format!(
                        "the same mix, seed and set-up as row {} ({}): counted once",
                        first + 1,
                        runs[first].source
                    ),
                }),
                None => {
                    seen.insert(key, i);
                }
            }
        }
        out.push(flags);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;
    use crate::core::config::ModelSize;

    fn kinds(flags: &[Flag]) -> Vec<FlagKind> {
        flags.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn runs_that_differ_only_in_seed_and_mix_pool() {
        let runs = vec![
            run("gpt", 0, 0.1, 0.7),
            run("gpt", 1, 0.2, 0.8),
            run("bert", 0, 0.0, 0.9),
        ];
        assert!(flags(&runs).iter().all(Vec::is_empty));
    }

    #[test]
    fn another_corpus_budget_size_or_version_is_flagged_with_what_differs() {
        let mut runs = vec![
            run("gpt", 0, 0.1, 0.7),
            run("gpt", 1, 0.2, 0.8),
            run("bert", 0, 0.0, 0.9),
        ];
        let mut other = run("bert", 1, 0.0, 0.9);
        if let Some(s) = other.summary.as_deref_mut() {
            s.corpus_fingerprint = Some("ffffffffffffffff".into());
            s.size = ModelSize::Default;
            s.app_version = Some("0.0.9".into());
        }
        runs.push(other);
        let mut budget = run("gpt", 2, 0.1, 0.7);
        if let Some(s) = budget.summary.as_deref_mut() {
            s.budget_tokens = 40_000;
        }
        runs.push(budget);
        let f = flags(&runs);
        assert!(f[..3].iter().all(Vec::is_empty));
        assert_eq!(
            kinds(&f[3]),
            [FlagKind::Corpus, FlagKind::Size, FlagKind::AppVersion]
        );
        assert!(f[3][0].text.contains("ffffffffffff"), "{}", f[3][0].text);
        assert!(f[3][0].text.contains("abc"), "{}", f[3][0].text);
        assert_eq!(kinds(&f[4]), [FlagKind::Budget]);
    }

    #[test]
    fn knobs_and_recipe_must_match_within_a_mix_only() {
        let mut a = run("bert", 0, 0.0, 0.9);
        let mut b = run("bert", 1, 0.0, 0.9);
        let c = run("bert", 2, 0.0, 0.9);
        let mut d = run("gpt", 0, 0.1, 0.7);
        if let Some(s) = a.summary.as_deref_mut() {
            s.knobs = serde_json::from_str(r#"{"mask_rate":0.3}"#).ok();
        }
        if let Some(s) = b.summary.as_deref_mut() {
            s.peak_lr = Some(0.01);
        }
        // Another mix with another recipe is fine: recipes are per objective.
        if let Some(s) = d.summary.as_deref_mut() {
            s.peak_lr = Some(0.0005);
        }
        let f = flags(&[a, b, c, d]);
        assert_eq!(kinds(&f[0]), [FlagKind::Knobs]);
        assert!(f[0][0].text.contains("mask_rate=0.3"), "{}", f[0][0].text);
        assert_eq!(kinds(&f[1]), [FlagKind::Recipe]);
        assert!(f[2].is_empty() && f[3].is_empty());
    }

    #[test]
    fn a_second_copy_of_a_cell_and_failed_or_unfinished_runs_are_not_pooled() {
        let mut cancelled = run("gpt", 5, 0.1, 0.7);
        if let Some(s) = cancelled.summary.as_deref_mut() {
            s.status = RunStatus::Cancelled;
        }
        let runs = vec![
            run("gpt", 0, 0.1, 0.7),
            PanelRun::finished(
                "class-3.json",
                super::super::test_support::summary("gpt", 0, 0.1, 0.7),
            ),
            PanelRun::failed("trained here", "bert", 0, "out of memory"),
            cancelled,
        ];
        let f = flags(&runs);
        assert!(f[0].is_empty());
        assert_eq!(kinds(&f[1]), [FlagKind::Duplicate]);
        assert!(f[1][0].text.contains("row 1"), "{}", f[1][0].text);
        assert_eq!(kinds(&f[2]), [FlagKind::Failed]);
        assert!(f[2][0].text.contains("out of memory"));
        assert_eq!(kinds(&f[3]), [FlagKind::Unfinished]);
    }
}
