//! The results file: what a page exports (`pretrain-playground-results.json`) and the panel
//! imports — this visit's runs, a student's cell of a class sweep, a lecturer's runs from last
//! year. The panel also takes a bare run summary (`run.json`, what `train --out` and
//! `train --save DIR` write), so natively trained runs become rows too. Everything is checked
//! before a row is added: a file that is not one of these, comes from a newer version or holds
//! a record that does not read is refused with its name and the reason.

use serde::{Deserialize, Serialize};

use super::PanelRun;
use crate::core::error::CoreError;
use crate::core::mix::ObjectiveMix;
use crate::core::summary::{RunSummary, SCHEMA_VERSION};

/// The `format` field of a results file.
pub const RESULTS_FORMAT: &str = "pretrain-playground-results";
/// Bump when a field changes meaning.
pub const RESULTS_VERSION: u32 = 1;
/// Largest perplexity a record may hold (a uniform guess over the largest vocabulary the lab
/// trains is about 2,000; a diverged-looking run stays far below this).
pub const MAX_PERPLEXITY: f64 = 1e6;
/// Longest reason or source a row may give.
const MAX_TEXT_CHARS: usize = 2_000;
/// Largest file the panel reads (a run with its curve and replies is tens of kilobytes).
pub const MAX_RESULTS_BYTES: usize = 32 * 1024 * 1024;

/// A results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultsFile {
    pub format: String,
    pub version: u32,
    /// The program that wrote the file.
    pub app_version: String,
    pub runs: Vec<PanelRun>,
}

impl ResultsFile {
    pub fn new(runs: Vec<PanelRun>) -> Self {
        Self {
            format: RESULTS_FORMAT.into(),
            version: RESULTS_VERSION,
            app_version: env!("CARGO_PKG_VERSION").into(),
            runs,
        }
    }

    /// A file to hand on: the runs without where this browser keeps their models.
    pub fn for_export(runs: Vec<PanelRun>) -> Self {
        Self::new(
            runs.into_iter()
                .map(|r| PanelRun { model: None, ..r })
                .collect(),
        )
    }

    /// The file as pretty JSON.
    pub fn to_json(&self) -> Result<String, CoreError> {
        serde_json::to_string_pretty(self)
            .map(|j| j + "\n")
            .map_err(|e| CoreError::Results(format!("could not write the results: {e}")))
    }
}

/// Reads `bytes` (a file named `name`) as rows for the panel: a results file, or one run
/// summary (`run.json`), whose rows get `name` as their source. Refuses, with the reason, what
/// is neither, what a newer version wrote, and a record whose mix or figures do not read.
pub fn import(name: &str, bytes: &[u8]) -> Result<Vec<PanelRun>, CoreError> {
    let refuse = |why: String| CoreError::Results(format!("{name} was not added: {why}"));
    if bytes.len() > MAX_RESULTS_BYTES {
        return Err(refuse(format!(
            "it is {} MB, more than the {} MB a results file can be",
            bytes.len() / (1024 * 1024),
            MAX_RESULTS_BYTES / (1024 * 1024)
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| refuse("it is not text (UTF-8)".into()))?;
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| refuse(format!("it is not JSON ({e})")))?;
    let runs = if value.get("format").is_some() {
        let format = value.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format != RESULTS_FORMAT {
            return Err(refuse(format!(
                "its format is `{format}`, not `{RESULTS_FORMAT}`"
            )));
        }
        let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        if version > u64::from(RESULTS_VERSION) {
            return Err(refuse(format!(
                "a newer version of the app wrote it (results version {version}; this page reads up to {RESULTS_VERSION}): open it there, or update this page"
            )));
        }
        let file: ResultsFile = serde_json::from_value(value)
            .map_err(|e| refuse(format!("a run in it does not read ({e})")))?;
        file.runs
    } else if value.get("schema_version").is_some() {
        let summary: RunSummary = serde_json::from_value(value).map_err(|e| {
            refuse(format!(
                "it looks like a run summary but does not read ({e})"
            ))
        })?;
        vec![PanelRun::finished(name, summary)]
    } else {
        return Err(refuse(
            "it is neither a results file exported from the panel nor a run summary (run.json)"
                .into(),
        ));
    };
    if runs.is_empty() {
        return Err(refuse("it holds no runs".into()));
    }
    for (i, run) in runs.iter().enumerate() {
        check(run).map_err(|why| refuse(format!("run {} ({}): {why}", i + 1, run.mix)))?;
    }
    Ok(runs)
}

/// What a row must satisfy to be drawn: a mix the lab knows, a record of a schema this page
/// reads, figures that are numbers.
fn check(run: &PanelRun) -> Result<(), String> {
    ObjectiveMix::parse(&run.mix).map_err(|e| e.to_string())?;
    match (&run.summary, &run.error) {
        (None, None) => return Err("it has neither a record nor a reason it failed".into()),
        (Some(_), Some(_)) => return Err("it has both a record and an error".into()),
        (None, Some(e)) if e.chars().count() > MAX_TEXT_CHARS => {
            return Err(format!(
                "its reason is longer than {MAX_TEXT_CHARS} characters"
            ));
        }
        _ => {}
    }
    if run.source.chars().count() > MAX_TEXT_CHARS {
        return Err(format!(
            "its source is longer than {MAX_TEXT_CHARS} characters"
        ));
    }
    let Some(s) = run.summary.as_deref() else {
        return Ok(());
    };
    if s.schema_version > SCHEMA_VERSION {
        return Err(format!(
            "its record is schema {}, newer than the {SCHEMA_VERSION} this page reads",
            s.schema_version
        ));
    }
    let (mix, _) = ObjectiveMix::parse(&s.mix).map_err(|e| e.to_string())?;
    if let Some(preset) = &s.preset {
        let (expanded, named) = ObjectiveMix::parse(preset).map_err(|e| e.to_string())?;
        if named.is_none() || expanded.canonical() != mix.canonical() {
            return Err(format!("its preset `{preset}` is not its mix `{}`", s.mix));
        }
    }
    let (row_mix, _) = ObjectiveMix::parse(&run.mix).map_err(|e| e.to_string())?;
    if row_mix.canonical() != mix.canonical() || run.seed != s.seed {
        return Err(format!(
            "the row says {} seed {}, its record {} seed {}",
            run.mix, run.seed, s.mix, s.seed
        ));
    }
    for (what, v) in [
        ("wall time", s.wall_s),
        ("training time", s.train_s),
        ("FLOPs per step", s.flops_per_step),
    ] {
        if v.is_finite() && v < 0.0 {
            return Err(format!("its {what} is negative ({v})"));
        }
    }
    if s.budget_tokens == 0 || s.tokens > s.budget_tokens.saturating_mul(2) {
        return Err(format!(
            "its budget ({}) and the tokens it used ({}) do not fit together",
            s.budget_tokens, s.tokens
        ));
    }
    let e = &s.evaluation;
    let reply_sets = e.replies.iter().chain(&e.reply_baselines).flat_map(|r| {
        [
            Some(r.greedy.compliance),
            Some(r.greedy.compliance_se),
            r.greedy.distinct2,
        ]
    });
    let shares = [
        e.compliance,
        e.compliance_se,
        e.compliance_common,
        e.compliance_common_se,
        e.distinct2,
    ]
    .into_iter()
    .chain(reply_sets)
    .chain(
        crate::core::corpus::PairKind::ALL
            .into_iter()
            .flat_map(|k| {
                [
                    e.probe_acc.get(k),
                    e.probe_acc_se.get(k),
                    e.probe_auc.get(k),
                    e.probe_auc_se.get(k),
                    e.zeroshot_acc.get(k),
                    e.zeroshot_acc_se.get(k),
                    e.zeroshot_auc.get(k),
                    e.random_init_acc.get(k),
                    e.random_init_auc.get(k),
                ]
            }),
    );
    for v in shares.flatten() {
        if !(0.0..=1.0).contains(&v) {
            return Err(format!(
                "a share, accuracy or its error reads {v}, outside 0 to 1"
            ));
        }
    }
    for (what, value, se) in [
        ("perplexity", e.gen_ppl, e.gen_ppl_se),
        ("pseudo-perplexity", e.gen_pppl, e.gen_pppl_se),
    ] {
        if let Some(p) = value
            && !(p.is_finite() && (1.0..=MAX_PERPLEXITY).contains(&p))
        {
            return Err(format!(
                "its {what} reads {p}, outside 1 to {MAX_PERPLEXITY}"
            ));
        }
        if let Some(se) = se
            && !(se.is_finite() && (0.0..=MAX_PERPLEXITY).contains(&se))
        {
            return Err(format!("the standard error of its {what} reads {se}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{run, summary};
    use super::*;

    #[test]
    fn an_exported_file_imports_to_the_same_rows() {
        let runs = vec![
            run("gpt", 0, 0.2, 0.8),
            PanelRun::failed("trained here", "bert", 0, "the worker crashed"),
        ];
        let json = ResultsFile::new(runs.clone()).to_json().expect("json");
        assert_eq!(
            import("results.json", json.as_bytes()).expect("import"),
            runs
        );
    }

    #[test]
    fn a_native_run_summary_is_one_row_named_after_its_file() {
        let s = summary("clm", 3, 0.1, 0.7);
        let json = serde_json::to_string(&s).expect("json");
        let rows = import("run.json", json.as_bytes()).expect("import");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].source, "run.json");
        assert_eq!(rows[0].seed, 3);
        assert_eq!(rows[0].summary.as_deref(), Some(&s));
    }

    #[test]
    fn what_does_not_fit_is_refused_with_the_file_and_the_reason() {
        let refused = |bytes: &[u8]| match import("x.json", bytes) {
            Err(CoreError::Results(m)) => m,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert!(refused(b"\xff\xfe").contains("not text"));
        assert!(refused(b"{nope").contains("not JSON"));
        assert!(refused(b"{\"a\":1}").contains("neither a results file"));
        assert!(refused(b"{\"format\":\"other\",\"version\":1}").contains("`other`"));
        let newer = format!(
            "{{\"format\":\"{RESULTS_FORMAT}\",\"version\":99,\"app_version\":\"9\",\"runs\":[]}}"
        );
        assert!(refused(newer.as_bytes()).contains("newer version"));
        let empty = ResultsFile::new(Vec::new()).to_json().expect("json");
        assert!(refused(empty.as_bytes()).contains("no runs"));
        // A record from a newer schema, a mix the lab does not know, a share above 1.
        let mut s = summary("clm", 0, 0.1, 0.7);
        s.schema_version = SCHEMA_VERSION + 1;
        let file = ResultsFile::new(vec![PanelRun::finished("a", s)])
            .to_json()
            .expect("json");
        assert!(refused(file.as_bytes()).contains("newer than"));
        let mut r = run("gpt", 0, 0.1, 0.7);
        r.mix = "gpt5".into();
        let file = ResultsFile::new(vec![r]).to_json().expect("json");
        assert!(refused(file.as_bytes()).contains("run 1 (gpt5)"));
        let file = ResultsFile::new(vec![run("gpt", 0, 1.5, 0.7)])
            .to_json()
            .expect("json");
        assert!(refused(file.as_bytes()).contains("outside 0 to 1"));
        // A perplexity or its error out of all proportion (it would blow up the axis).
        for (ppl, se) in [(1e300, 1.0), (30.0, 1e300), (0.5, 0.1)] {
            let mut s = summary("clm", 0, 0.1, 0.7);
            s.evaluation.gen_ppl = Some(ppl);
            s.evaluation.gen_ppl_se = Some(se);
            let file = ResultsFile::new(vec![PanelRun::finished("a", s)])
                .to_json()
                .expect("json");
            assert!(
                refused(file.as_bytes()).contains("perplexity"),
                "{ppl} {se}"
            );
        }
        // A preset that is not the record's mix, a row that is not its record.
        let mut s = summary("clm", 0, 0.1, 0.7);
        s.preset = Some("bert".into());
        let file = ResultsFile::new(vec![PanelRun::finished("a", s)])
            .to_json()
            .expect("json");
        assert!(refused(file.as_bytes()).contains("is not its mix"));
        let mut r = run("gpt", 0, 0.1, 0.7);
        r.seed = 5;
        let file = ResultsFile::new(vec![r]).to_json().expect("json");
        assert!(refused(file.as_bytes()).contains("the row says"));
        assert!(refused(&vec![b' '; MAX_RESULTS_BYTES + 1]).contains("MB"));
    }
}
