//! The comparison table: a row per run, a `mean ± sd` row per mix with several pooled seeds,
//! the best value of each column marked among the mixes, sortable by any column; the
//! baselines — each mix's untrained twin and the model-free reply writers — as reference rows
//! that are never marked best. The same rows download as CSV.

use serde::{Deserialize, Serialize};

use super::PanelRun;
use super::pool::{Flag, flags};
use super::stat::Stat;
use crate::core::corpus::PairKind;
use crate::core::summary::RunSummary;

/// Which way a column improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
}

/// One figure column.
pub struct Column {
    /// CSV header and `data-col` on the page.
    pub key: &'static str,
    /// Header on the page.
    pub label: &'static str,
    /// The header's tooltip: what the figure is and how it was measured.
    pub help: &'static str,
    /// `None`: a fact about the run, not a quality (no best mark).
    pub better: Option<Better>,
    /// Shown as `value × scale` to `digits` decimals (100 for percent).
    pub scale: f64,
    pub digits: usize,
    pub get: fn(&RunSummary) -> Option<f64>,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

macro_rules! per_kind {
    ($key:literal, $label:literal, $help:literal, $field:ident, $kind:expr, $scale:expr, $digits:expr) => {
        Column {
            key: $key,
            label: $label,
            help: $help,
            better: Some(Better::Higher),
            scale: $scale,
            digits: $digits,
            get: |s| s.evaluation.$field.get($kind),
        }
    };
}

/// Every figure column, in order.
pub const COLUMNS: [Column; 19] = [
    Column {
        key: "steps",
        label: "steps",
        help: "optimizer steps the budget bought",
        better: None,
        scale: 1.0,
        digits: 0,
        get: |s| Some(s.steps as f64),
    },
    Column {
        key: "wall_s",
        label: "wall s",
        help: "wall time of the run, evaluation included",
        better: None,
        scale: 1.0,
        digits: 0,
        get: |s| finite(s.wall_s),
    },
    Column {
        key: "supervised_per_step",
        label: "supervised/step",
        help: "token positions that carried a loss per step: how much each step teaches",
        better: None,
        scale: 1.0,
        digits: 0,
        get: |s| finite(s.supervised_tokens_per_step),
    },
    Column {
        key: "gen_ppl",
        label: "reply perplexity",
        help: "conditional perplexity of held-out replies given their tickets (lower is better); only for networks that write left to right",
        better: Some(Better::Lower),
        scale: 1.0,
        digits: 1,
        get: |s| s.evaluation.gen_ppl,
    },
    Column {
        key: "gen_pppl",
        label: "pseudo-perplexity",
        help: "masked LM's pseudo-perplexity of the same replies: a different number, never ranked against perplexity",
        better: Some(Better::Lower),
        scale: 1.0,
        digits: 1,
        get: |s| s.evaluation.gen_pppl,
    },
    Column {
        key: "compliance",
        label: "compliance %",
        help: "share of greedy replies to held-out tickets the policy checker accepts, all writers cut to the common bound",
        better: Some(Better::Higher),
        scale: 100.0,
        digits: 1,
        get: |s| s.evaluation.compliance_common,
    },
    Column {
        key: "distinct2",
        label: "distinct-2",
        help: "share of distinct word pairs in the greedy replies cut to the common bound, as compliance is (higher: less repetitive)",
        better: Some(Better::Higher),
        scale: 1.0,
        digits: 2,
        // At the common bound: a writer that slides to longer replies repeats more pairs.
        get: |s| {
            s.evaluation
                .replies
                .as_ref()
                .and_then(|r| r.common.as_ref())
                .and_then(|c| c.greedy.distinct2)
        },
    },
    per_kind!(
        "probe_acc_random",
        "probe random %",
        "linear probe on frozen features, random negatives: held-out accuracy",
        probe_acc,
        PairKind::Random,
        100.0,
        1
    ),
    per_kind!(
        "probe_acc_hard",
        "probe hard %",
        "linear probe, hard negatives (same topic, wrong match)",
        probe_acc,
        PairKind::Hard,
        100.0,
        1
    ),
    per_kind!(
        "probe_acc_swapped",
        "probe swapped %",
        "linear probe, order-swapped negatives (B, A)",
        probe_acc,
        PairKind::Swapped,
        100.0,
        1
    ),
    per_kind!(
        "probe_auc_random",
        "probe AUC random",
        "linear probe's AUC, random negatives",
        probe_auc,
        PairKind::Random,
        1.0,
        2
    ),
    per_kind!(
        "probe_auc_hard",
        "probe AUC hard",
        "linear probe's AUC, hard negatives",
        probe_auc,
        PairKind::Hard,
        1.0,
        2
    ),
    per_kind!(
        "probe_auc_swapped",
        "probe AUC swapped",
        "linear probe's AUC, order-swapped negatives",
        probe_auc,
        PairKind::Swapped,
        1.0,
        2
    ),
    per_kind!(
        "zeroshot_acc_random",
        "zero-shot random %",
        "the NSP/SOP pair head's own verdict, nothing fitted (only mixes with a pair head), random negatives",
        zeroshot_acc,
        PairKind::Random,
        100.0,
        1
    ),
    per_kind!(
        "zeroshot_acc_hard",
        "zero-shot hard %",
        "zero-shot reading, hard negatives",
        zeroshot_acc,
        PairKind::Hard,
        100.0,
        1
    ),
    per_kind!(
        "zeroshot_acc_swapped",
        "zero-shot swapped %",
        "zero-shot reading, order-swapped negatives",
        zeroshot_acc,
        PairKind::Swapped,
        100.0,
        1
    ),
    per_kind!(
        "zeroshot_auc_random",
        "zero-shot AUC random",
        "zero-shot AUC, random negatives",
        zeroshot_auc,
        PairKind::Random,
        1.0,
        2
    ),
    per_kind!(
        "zeroshot_auc_hard",
        "zero-shot AUC hard",
        "zero-shot AUC, hard negatives",
        zeroshot_auc,
        PairKind::Hard,
        1.0,
        2
    ),
    per_kind!(
        "zeroshot_auc_swapped",
        "zero-shot AUC swapped",
        "zero-shot AUC, order-swapped negatives",
        zeroshot_auc,
        PairKind::Swapped,
        1.0,
        2
    ),
];

/// A column's head as the page draws it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnHead {
    pub key: String,
    pub label: String,
    pub help: String,
    pub better: Option<Better>,
}

/// What a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RowRole {
    /// `mean ± sd` over the pooled seeds of a mix.
    Mean,
    /// One run (pooled unless it has flags).
    Run,
    /// A reference figure that needs no pre-training.
    Baseline,
}

/// One cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub text: String,
    /// The number sorted on and marked (the mean for a mean row), unscaled.
    pub value: Option<f64>,
    pub best: bool,
}

/// One row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    pub role: RowRole,
    /// The mix (`bert (mlm+nsp)`), `· seed 3` for a run, or the baseline's name.
    pub label: String,
    pub mix: Option<String>,
    pub seed: Option<u64>,
    /// Seeds behind a mean row; 1 for a run.
    pub n: usize,
    /// Size · budget · backend of a run.
    pub setting: String,
    pub source: String,
    /// Index into the panel's runs, for a run row.
    pub run: Option<usize>,
    pub cells: Vec<Cell>,
    /// Why the run is not pooled (empty for a pooled run).
    pub flags: Vec<String>,
}

/// The table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub columns: Vec<ColumnHead>,
    pub rows: Vec<TableRow>,
}

/// Sort order: a column's index and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SortBy {
    pub column: usize,
    /// True: largest first.
    pub descending: bool,
}

impl SortBy {
    /// The first sort by `column`: its best first (smallest first where lower is better).
    pub fn best_first(column: usize) -> Self {
        let lower = COLUMNS.get(column).and_then(|c| c.better) == Some(Better::Lower);
        Self {
            column,
            descending: !lower,
        }
    }
}

fn cell_text(col: &Column, v: Option<f64>) -> String {
    v.map_or("–".into(), |v| {
        format!("{:.d$}", v * col.scale, d = col.digits)
    })
}

fn run_cells(s: Option<&RunSummary>) -> Vec<Cell> {
    COLUMNS
        .iter()
        .map(|col| {
            let value = s.and_then(|s| (col.get)(s)).filter(|v| v.is_finite());
            Cell {
                text: cell_text(col, value),
                value,
                best: false,
            }
        })
        .collect()
}

/// A reference row's cells: `value` of each column where it has one, blank elsewhere.
fn reference_cells(value: impl Fn(&Column) -> Option<f64>) -> Vec<Cell> {
    COLUMNS
        .iter()
        .map(|col| {
            let value = value(col).filter(|v| v.is_finite());
            Cell {
                text: value.map_or(String::new(), |v| cell_text(col, Some(v))),
                value,
                best: false,
            }
        })
        .collect()
}

fn setting(s: Option<&RunSummary>) -> String {
    s.map_or(String::new(), |s| {
        format!(
            "{} · {} tokens · {}",
            s.size, s.budget_tokens, s.backend_label
        )
    })
}

/// The table of `runs`, grouped by mix in the order mixes first appear, sorted by `sort`.
pub fn build(runs: &[PanelRun], sort: Option<SortBy>) -> Table {
    let flags = flags(runs);
    // Groups: the mix, then each run's index.
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let label = run.label();
        match groups.iter_mut().find(|(l, _)| *l == label) {
            Some((_, members)) => members.push(i),
            None => groups.push((label, vec![i])),
        }
    }
    struct Group {
        head: Option<TableRow>,
        members: Vec<TableRow>,
    }
    let mut built: Vec<Group> = groups
        .into_iter()
        .map(|(label, members)| {
            let rows: Vec<TableRow> = members
                .iter()
                .map(|&i| {
                    let run = &runs[i];
                    let s = run.summary.as_deref();
                    TableRow {
                        role: RowRole::Run,
                        label: format!("{label} · seed {}", run.seed),
                        mix: Some(run.mix.clone()),
                        seed: Some(run.seed),
                        n: 1,
                        setting: setting(s),
                        source: run.source.clone(),
                        run: Some(i),
                        cells: run_cells(s),
                        flags: flags[i].iter().map(|f: &Flag| f.text.clone()).collect(),
                    }
                })
                .collect();
            let pooled: Vec<&TableRow> = rows.iter().filter(|r| r.flags.is_empty()).collect();
            let head = (pooled.len() >= 2).then(|| {
                let cells = COLUMNS
                    .iter()
                    .enumerate()
                    .map(|(c, col)| {
                        let values: Vec<f64> =
                            pooled.iter().filter_map(|r| r.cells[c].value).collect();
                        let stat = Stat::of(&values);
                        Cell {
                            text: stat
                                .map_or("–".into(), |s| s.scaled(col.scale).text(col.digits)),
                            value: stat.map(|s| s.mean),
                            best: false,
                        }
                    })
                    .collect();
                let first = pooled[0];
                TableRow {
                    role: RowRole::Mean,
                    label: format!("{label} · mean ± sd of {} seeds", pooled.len()),
                    mix: first.mix.clone(),
                    seed: None,
                    n: pooled.len(),
                    setting: first.setting.clone(),
                    source: String::new(),
                    run: None,
                    cells,
                    flags: Vec::new(),
                }
            });
            Group {
                head,
                members: rows,
            }
        })
        .collect();
    // The row that stands for each group: its mean, or its one pooled run.
    let representative = |g: &Group| -> Option<(bool, usize)> {
        if g.head.is_some() {
            return Some((true, 0));
        }
        g.members
            .iter()
            .position(|r| r.flags.is_empty())
            .map(|i| (false, i))
    };
    for (c, col) in COLUMNS.iter().enumerate() {
        let Some(better) = col.better else { continue };
        let value = |g: &Group| {
            representative(g).and_then(|(head, i)| match head {
                true => g.head.as_ref().and_then(|h| h.cells[c].value),
                false => g.members[i].cells[c].value,
            })
        };
        let best = built
            .iter()
            .filter_map(value)
            .fold(None, |acc: Option<f64>, v| {
                Some(acc.map_or(v, |a| match better {
                    Better::Higher => a.max(v),
                    Better::Lower => a.min(v),
                }))
            });
        let Some(best) = best else { continue };
        // A mark means something only where it singles out: when every mix with a value ties
        // (compliance 0.0 all round), none is marked.
        let with_value = built.iter().filter(|g| value(g).is_some()).count();
        let at_best = built.iter().filter(|g| value(g) == Some(best)).count();
        if with_value > 1 && at_best == with_value {
            continue;
        }
        for g in &mut built {
            if value(g) == Some(best)
                && let Some((head, i)) = representative(g)
            {
                let row = if head {
                    g.head.as_mut()
                } else {
                    g.members.get_mut(i)
                };
                if let Some(row) = row {
                    row.cells[c].best = true;
                }
            }
        }
    }
    if let Some(sort) = sort.filter(|s| s.column < COLUMNS.len()) {
        let key = |g: &Group| {
            representative(g).and_then(|(head, i)| match head {
                true => g.head.as_ref().and_then(|h| h.cells[sort.column].value),
                false => g.members[i].cells[sort.column].value,
            })
        };
        // Groups without a value go last whichever the direction; the sort is stable.
        built.sort_by(|a, b| match (key(a), key(b)) {
            (Some(x), Some(y)) => {
                let o = x.total_cmp(&y);
                if sort.descending { o.reverse() } else { o }
            }
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
    }
    let mut rows = Vec::new();
    for g in built {
        rows.extend(g.head);
        rows.extend(g.members);
    }
    rows.extend(baselines(runs, &flags));
    Table {
        columns: COLUMNS
            .iter()
            .map(|c| ColumnHead {
                key: c.key.into(),
                label: c.label.into(),
                help: c.help.into(),
                better: c.better,
            })
            .collect(),
        rows,
    }
}

/// The reference rows: each mix's untrained twin (the same network, not pre-trained, through
/// the same probe; mean over its pooled runs), each model-free reply writer at the common
/// bound, and each word-only pair judge on the probe's pairs (both from the first pooled run
/// that has them).
fn baselines(runs: &[PanelRun], flags: &[Vec<Flag>]) -> Vec<TableRow> {
    let pooled = || {
        runs.iter()
            .zip(flags)
            .filter(|(_, f)| f.is_empty())
            .filter_map(|(r, _)| r.summary.as_deref().map(|s| (r, s)))
    };
    let mut rows: Vec<TableRow> = Vec::new();
    let mut mixes: Vec<String> = Vec::new();
    for (run, _) in pooled() {
        if !mixes.contains(&run.label()) {
            mixes.push(run.label());
        }
    }
    for mix in mixes {
        let members: Vec<&RunSummary> = pooled()
            .filter(|(r, _)| r.label() == mix)
            .map(|(_, s)| s)
            .collect();
        let cells: Vec<Cell> = COLUMNS
            .iter()
            .map(|col| {
                let kind = PairKind::ALL
                    .into_iter()
                    .find(|k| col.key == format!("probe_acc_{}", k.name()));
                let auc = PairKind::ALL
                    .into_iter()
                    .find(|k| col.key == format!("probe_auc_{}", k.name()));
                let values: Vec<f64> = members
                    .iter()
                    .filter_map(|s| match (kind, auc) {
                        (Some(k), _) => s.evaluation.random_init_acc.get(k),
                        (_, Some(k)) => s.evaluation.random_init_auc.get(k),
                        _ => None,
                    })
                    .collect();
                let stat = Stat::of(&values);
                Cell {
                    text: stat.map_or(String::new(), |s| s.scaled(col.scale).text(col.digits)),
                    value: stat.map(|s| s.mean),
                    best: false,
                }
            })
            .collect();
        if cells.iter().any(|c| c.value.is_some()) {
            rows.push(TableRow {
                role: RowRole::Baseline,
                label: format!("untrained twin of {mix}"),
                mix: None,
                seed: None,
                n: members.len(),
                setting: String::new(),
                source: "the same network before pre-training, through the same probe".into(),
                run: None,
                cells,
                flags: Vec::new(),
            });
        }
    }
    let mut writers: Vec<String> = Vec::new();
    for (_, s) in pooled() {
        let common = s.evaluation.compliance_common_cap;
        for b in &s.evaluation.reply_baselines {
            if b.cap.is_none() || b.cap != common || writers.contains(&b.writer) {
                continue;
            }
            writers.push(b.writer.clone());
            let cells = reference_cells(|col| match col.key {
                "compliance" => Some(b.greedy.compliance),
                "distinct2" => b.greedy.distinct2,
                _ => None,
            });
            rows.push(TableRow {
                role: RowRole::Baseline,
                label: format!("{} (first {} tokens)", b.writer, common.unwrap_or(0)),
                mix: None,
                seed: None,
                n: 1,
                setting: String::new(),
                source: b.how.clone(),
                run: None,
                cells,
                flags: Vec::new(),
            });
        }
    }
    // The word-only pair judges, on the pairs the pooled runs' probes read.
    let mut judges: Vec<String> = Vec::new();
    for (_, s) in pooled() {
        for b in &s.evaluation.pair_baselines {
            if judges.contains(&b.name) {
                continue;
            }
            judges.push(b.name.clone());
            let cells = reference_cells(|col| {
                PairKind::ALL.into_iter().find_map(|k| {
                    if col.key == format!("probe_acc_{}", k.name()) {
                        b.acc.get(k)
                    } else if col.key == format!("probe_auc_{}", k.name()) {
                        b.auc.get(k)
                    } else {
                        None
                    }
                })
            });
            rows.push(TableRow {
                role: RowRole::Baseline,
                label: format!("{} (no model)", b.name),
                mix: None,
                seed: None,
                n: 1,
                setting: String::new(),
                source: format!("{} — {}", b.features, b.method),
                run: None,
                cells,
                flags: Vec::new(),
            });
        }
    }
    rows
}

/// A text field of the CSV: quoted where it holds a separator, a quote or a line break, and
/// kept from reading as a formula in a spreadsheet (a leading `=`, `+`, `-`, `@` gets a `'`),
/// since names and reasons can come from imported files.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The table as CSV: a line per row, the figures unscaled (shares as 0–1), flags joined.
pub fn csv(table: &Table) -> String {
    let mut out = String::from("role,label,mix,seed,n,setting,source");
    for c in &table.columns {
        out.push(',');
        out.push_str(&c.key);
    }
    out.push_str(",flags\n");
    for r in &table.rows {
        let role = match r.role {
            RowRole::Mean => "mean",
            RowRole::Run => "run",
            RowRole::Baseline => "baseline",
        };
        let mut fields = vec![
            role.to_string(),
            csv_field(&r.label),
            csv_field(r.mix.as_deref().unwrap_or("")),
            r.seed.map_or(String::new(), |s| s.to_string()),
            r.n.to_string(),
            csv_field(&r.setting),
            csv_field(&r.source),
        ];
        fields.extend(
            r.cells
                .iter()
                .map(|c| c.value.map_or(String::new(), |v| format!("{v}"))),
        );
        fields.push(csv_field(&r.flags.join("; ")));
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    fn col(key: &str) -> usize {
        COLUMNS.iter().position(|c| c.key == key).expect("column")
    }

    #[test]
    fn the_word_only_judges_are_reference_rows_and_a_line_on_the_scatter() {
        use crate::core::compare::scatter::{self, ScatterSpec};
        let mut gpt = run("gpt", 1, 0.4, 0.6);
        let judge = serde_json::from_str(
            r#"{"name":"bow-ordered","features":"TF-IDF: A ‖ B","method":"fitted on validation pairs",
                "acc":{"random":0.7,"hard":0.55},"auc":{"random":0.8}}"#,
        )
        .expect("judge");
        if let Some(s) = gpt.summary.as_mut() {
            s.evaluation.pair_baselines = vec![judge];
        }
        let t = build(std::slice::from_ref(&gpt), None);
        let row = t
            .rows
            .iter()
            .find(|r| r.label == "bow-ordered (no model)")
            .expect("a reference row");
        assert_eq!(row.role, RowRole::Baseline);
        assert_eq!(row.cells[col("probe_acc_random")].value, Some(0.7));
        assert_eq!(row.cells[col("probe_auc_random")].value, Some(0.8));
        assert_eq!(row.cells[col("probe_acc_swapped")].value, None);
        let sc = scatter::build(
            &[gpt],
            ScatterSpec {
                kind: PairKind::Random,
                ..ScatterSpec::default()
            },
        );
        assert!(sc.svg.contains("compare-judge"), "{}", sc.svg);
        assert!(
            sc.svg
                .contains("best word-only judge (bow-ordered, no model)")
        );
    }

    #[test]
    fn several_seeds_get_a_mean_row_and_the_best_mix_is_marked() {
        let runs = vec![
            run("gpt", 0, 0.10, 0.70),
            run("gpt", 1, 0.20, 0.80),
            run("bert", 0, 0.00, 0.90),
        ];
        let t = build(&runs, None);
        let roles: Vec<RowRole> = t.rows.iter().map(|r| r.role).collect();
        assert_eq!(
            roles[..4],
            [RowRole::Mean, RowRole::Run, RowRole::Run, RowRole::Run]
        );
        let mean = &t.rows[0];
        assert_eq!(mean.n, 2);
        let c = col("compliance");
        assert_eq!(mean.cells[c].text, "15.0 ± 7.1");
        assert!(mean.cells[c].best, "gpt's mean compliance is the best");
        let p = col("probe_acc_random");
        assert!(!mean.cells[p].best);
        assert!(
            t.rows[3].cells[p].best,
            "bert's single run has the best probe"
        );
        assert!(
            !t.rows[1].cells[c].best,
            "runs inside a mean are never marked"
        );
        // The untrained twins are reference rows, never marked.
        let twin = t
            .rows
            .iter()
            .find(|r| r.label == "untrained twin of gpt (clm)")
            .expect("twin");
        assert_eq!(twin.role, RowRole::Baseline);
        assert_eq!(twin.cells[p].text, "60.0 ± 0.0");
        assert!(
            t.rows
                .iter()
                .filter(|r| r.role == RowRole::Baseline)
                .all(|r| r.cells.iter().all(|c| !c.best))
        );
    }

    #[test]
    fn sorting_moves_whole_mixes_and_empty_values_go_last() {
        let mut runs = vec![
            run("gpt", 0, 0.10, 0.70),
            run("bert", 0, 0.00, 0.90),
            run("t5", 0, 0.05, 0.75),
        ];
        runs.push(PanelRun::failed("trained here", "bart", 0, "crashed"));
        let p = col("probe_acc_random");
        let order = |t: &Table| -> Vec<String> {
            t.rows
                .iter()
                .filter(|r| r.role == RowRole::Run)
                .map(|r| r.mix.clone().unwrap_or_default())
                .collect()
        };
        let down = build(
            &runs,
            Some(SortBy {
                column: p,
                descending: true,
            }),
        );
        assert_eq!(order(&down), ["bert", "t5", "gpt", "bart"]);
        let up = build(
            &runs,
            Some(SortBy {
                column: p,
                descending: false,
            }),
        );
        assert_eq!(order(&up), ["gpt", "t5", "bert", "bart"]);
        assert_eq!(up.rows[3].flags, ["failed: crashed"]);
    }

    #[test]
    fn a_flagged_run_is_shown_but_not_pooled() {
        let mut other = run("gpt", 2, 0.9, 0.99);
        if let Some(s) = other.summary.as_deref_mut() {
            s.corpus_fingerprint = Some("other".into());
        }
        let runs = vec![run("gpt", 0, 0.10, 0.70), run("gpt", 1, 0.20, 0.80), other];
        let t = build(&runs, None);
        assert_eq!(t.rows[0].n, 2, "the mean leaves the flagged run out");
        assert_eq!(t.rows[0].cells[col("compliance")].text, "15.0 ± 7.1");
        assert!(t.rows[3].flags[0].starts_with("corpus differs"));
        assert!(!t.rows[3].cells.iter().any(|c| c.best));
    }

    #[test]
    fn the_csv_has_a_line_per_row_and_a_column_per_figure() {
        let t = build(&[run("gpt", 0, 0.1, 0.7), run("gpt", 1, 0.2, 0.8)], None);
        let csv = csv(&t);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), t.rows.len() + 1);
        let header = lines[0].split(',').count();
        assert_eq!(header, 7 + COLUMNS.len() + 1);
        assert!(lines[1].starts_with("mean,gpt (clm) · mean ± sd of 2 seeds,gpt,,2,"));
        assert!(lines[2].contains(",0.1,"), "{}", lines[2]);
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("a\rb"), "\"a\rb\"");
    }

    #[test]
    fn a_column_where_every_mix_ties_marks_none_and_lower_is_better_sorts_smallest_first() {
        let runs = vec![run("gpt", 0, 0.0, 0.7), run("bert", 0, 0.0, 0.9)];
        let t = build(&runs, None);
        let c = col("compliance");
        assert!(
            t.rows.iter().all(|r| !r.cells[c].best),
            "0.0 everywhere singles nothing out"
        );
        assert!(!SortBy::best_first(col("gen_ppl")).descending);
        assert!(SortBy::best_first(col("probe_acc_hard")).descending);
    }
}
